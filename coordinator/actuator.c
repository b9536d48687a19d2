/* Actuator core: option validation, the bounded command queue, the worker thread with its
 * retry/backoff loop, owner-epoch and duplicate filtering, and the status reported in each
 * service's state. The backends (actuator_http.c, actuator_exec.c) do one attempt each. */
#include "actuator.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "actuator_internal.h"
#include "cresc/log.h"

const char *const cresc_actuator_kind_names[] = {"none", "kubernetes", "webhook", "exec", NULL};
const char *const cresc_k8s_target_kind_names[] = {"deployment", "statefulset", NULL};

#define DEDUP_MAX    1024  /* recent decision ids remembered for duplicate detection */
#define SERVICES_MAX 65536 /* services with a remembered epoch/status */

struct cresc_actuator {
    struct cresc_act_conf conf;
    int retries;
    int64_t backoff_initial_ms, backoff_max_ms;

    pthread_mutex_t mu;
    pthread_cond_t wake;    /* worker: queue not empty, or stop */
    pthread_cond_t drained; /* drain(): queue empty and worker idle */
    bool thread_started;
    pthread_t thread;
    atomic_bool stop;

    size_t cap, head, len; /* ring of queued commands */
    struct cresc_scale_command *queue;
    bool busy; /* the worker holds a popped command */

    /* service -> {"epoch": highest owner epoch accepted, "status": last result} */
    json_t *services;
    char dedup[DEDUP_MAX][CRESC_ID_MAX + 1];
    size_t dedup_next;

    char status[CRESC_REASON_MAX];
    struct cresc_actuator_stats stats;
    uint64_t rng;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void deadline_after(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += (time_t)(ms / 1000);
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static uint64_t xorshift64(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

int64_t cresc_act_backoff_ms(int64_t initial_ms, int64_t max_ms, unsigned retry, uint64_t rand_u64)
{
    if (initial_ms < 1) {
        initial_ms = 1;
    }
    if (max_ms < initial_ms) {
        max_ms = initial_ms;
    }
    int64_t d = initial_ms;
    for (unsigned i = 0; i < retry && d < max_ms; i++) {
        d = d > max_ms / 2 ? max_ms : d * 2;
    }
    if (d > max_ms) {
        d = max_ms;
    }
    int64_t half = d / 2;
    return (d - half) + (half > 0 ? (int64_t)(rand_u64 % (uint64_t)(half + 1)) : 0);
}

static char *dup_or_null(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return NULL;
    }
    char *d = strdup(s);
    if (d == NULL) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_COORDINATOR, "out of memory");
        abort();
    }
    return d;
}

static void conf_release(struct cresc_act_conf *c)
{
    free(c->k8s_api_base);
    free(c->k8s_namespace);
    free(c->k8s_target_name);
    free(c->k8s_token_file);
    free(c->k8s_ca_file);
    free(c->webhook_url);
    free(c->webhook_token);
    free(c->webhook_ca_file);
    free(c->exec_command);
    memset(c, 0, sizeof *c);
}

/* The namespace of the service account, as in-cluster clients (client-go) default it. */
static char *read_sa_namespace(void)
{
    char buf[256];
    FILE *f = fopen(CRESC_K8S_NAMESPACE_FILE, "r");
    if (f == NULL) {
        return dup_or_null("default");
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, " \t\r\n")] = '\0';
    return dup_or_null(buf[0] != '\0' ? buf : "default");
}

static int k8s_conf_init(const struct cresc_actuator_opts *o, struct cresc_act_conf *c, char *err,
                         size_t errlen)
{
    if (o->k8s_api_url != NULL && o->k8s_api_url[0] != '\0') {
        c->k8s_api_base = dup_or_null(o->k8s_api_url);
    } else {
        const char *host = getenv("KUBERNETES_SERVICE_HOST");
        const char *port = getenv("KUBERNETES_SERVICE_PORT");
        if (host == NULL || host[0] == '\0') {
            cresc_errf(err, errlen,
                       "ACTUATOR=kubernetes needs ACTUATOR_K8S_API_URL outside a cluster "
                       "(KUBERNETES_SERVICE_HOST is not set)");
            return CRESC_EINVAL;
        }
        char url[512];
        bool v6 = strchr(host, ':') != NULL;
        int n = snprintf(url, sizeof url, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "",
                         port != NULL && port[0] != '\0' ? port : "443");
        if (n < 0 || (size_t)n >= sizeof url) {
            cresc_errf(err, errlen, "KUBERNETES_SERVICE_HOST is too long");
            return CRESC_EINVAL;
        }
        c->k8s_api_base = dup_or_null(url);
    }
    size_t blen = strlen(c->k8s_api_base);
    while (blen > 0 && c->k8s_api_base[blen - 1] == '/') {
        c->k8s_api_base[--blen] = '\0';
    }
    if (strncmp(c->k8s_api_base, "http://", 7) != 0 &&
        strncmp(c->k8s_api_base, "https://", 8) != 0) {
        cresc_errf(err, errlen, "ACTUATOR_K8S_API_URL=%s: must start with http:// or https://",
                   c->k8s_api_base);
        return CRESC_EINVAL;
    }
    c->k8s_namespace = o->k8s_namespace != NULL && o->k8s_namespace[0] != '\0'
                           ? dup_or_null(o->k8s_namespace)
                           : read_sa_namespace();
    c->k8s_target_kind =
        o->k8s_target_kind == CRESC_K8S_STATEFULSET ? CRESC_K8S_STATEFULSET : CRESC_K8S_DEPLOYMENT;
    c->k8s_target_name = dup_or_null(o->k8s_target_name);
    c->k8s_token_file = dup_or_null(o->k8s_token_file);
    c->k8s_ca_file = dup_or_null(o->k8s_ca_file);
    c->k8s_insecure = o->k8s_insecure;
    /* Check the names now with a dummy command so a typo stops the daemon at start. */
    struct cresc_scale_command probe = {0};
    snprintf(probe.service, sizeof probe.service, "%s", "probe");
    struct cresc_act_result res = {0};
    char url[4096];
    if (cresc_act_k8s_url(c, &probe, url, sizeof url, &res) != 0) {
        cresc_errf(err, errlen, "%s", res.msg);
        return CRESC_EINVAL;
    }
    return 0;
}

static int conf_init(const struct cresc_actuator_opts *o, struct cresc_act_conf *c, char *err,
                     size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (o->kind < CRESC_ACTUATOR_NONE || o->kind > CRESC_ACTUATOR_EXEC) {
        cresc_errf(err, errlen, "ACTUATOR=%d: must be none, kubernetes, webhook or exec", o->kind);
        return CRESC_EINVAL;
    }
    c->kind = (enum cresc_actuator_kind)o->kind;
    c->timeout_ms = o->timeout_ms > 0 ? (long)o->timeout_ms : 5000;
    switch (c->kind) {
    case CRESC_ACTUATOR_NONE:
        return 0;
    case CRESC_ACTUATOR_KUBERNETES:
        return k8s_conf_init(o, c, err, errlen);
    case CRESC_ACTUATOR_WEBHOOK:
        if (o->webhook_url == NULL || (strncmp(o->webhook_url, "http://", 7) != 0 &&
                                       strncmp(o->webhook_url, "https://", 8) != 0)) {
            cresc_errf(err, errlen,
                       "ACTUATOR=webhook needs ACTUATOR_WEBHOOK_URL=http(s)://... "
                       "(got %s)",
                       o->webhook_url != NULL ? o->webhook_url : "nothing");
            return CRESC_EINVAL;
        }
        c->webhook_url = dup_or_null(o->webhook_url);
        c->webhook_token = dup_or_null(o->webhook_token);
        c->webhook_ca_file = dup_or_null(o->webhook_ca_file);
        return 0;
    case CRESC_ACTUATOR_EXEC:
        if (o->exec_command == NULL || o->exec_command[0] == '\0') {
            cresc_errf(err, errlen, "ACTUATOR=exec needs ACTUATOR_EXEC_COMMAND");
            return CRESC_EINVAL;
        }
        if (access(o->exec_command, X_OK) != 0) {
            cresc_errf(err, errlen, "ACTUATOR_EXEC_COMMAND=%s: not an executable file (%s)",
                       o->exec_command, strerror(errno));
            return CRESC_EINVAL;
        }
        c->exec_command = dup_or_null(o->exec_command);
        return 0;
    }
    return CRESC_EINVAL;
}

/* ---- per-service memory (caller holds mu) --------------------------------------------- */

static json_t *service_entry(struct cresc_actuator *a, const char *service)
{
    json_t *e = json_object_get(a->services, service);
    if (e != NULL) {
        return e;
    }
    if (json_object_size(a->services) >= SERVICES_MAX) {
        /* Forgetting is safe: an old epoch then gets applied once more, which the next
         * command from the real owner corrects. Unbounded growth is not. */
        static struct cresc_log_once once = CRESC_LOG_ONCE_INIT;
        cresc_log_once(&once, CRESC_LOG_WARNING, CRESC_LOGGER_COORDINATOR,
                       "actuator: more than %d services, forgetting their epochs", SERVICES_MAX);
        json_object_clear(a->services);
    }
    e = json_pack("{s:I,s:s}", "epoch", (json_int_t)INT64_MIN, "status", "ok");
    if (e == NULL || json_object_set_new(a->services, service, e) != 0) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_COORDINATOR, "out of memory");
        abort();
    }
    return e;
}

static void set_status(struct cresc_actuator *a, const char *service, const char *status)
{
    snprintf(a->status, sizeof a->status, "%s", status);
    json_t *e = service_entry(a, service);
    json_object_set_new(e, "status", json_string(status));
}

static bool dedup_seen(const struct cresc_actuator *a, const char *id)
{
    if (id[0] == '\0') {
        return false;
    }
    for (size_t i = 0; i < DEDUP_MAX; i++) {
        if (strcmp(a->dedup[i], id) == 0) {
            return true;
        }
    }
    return false;
}

/* Decide under mu whether the command is stale or a duplicate; if not, remember it. */
static bool accept_command(struct cresc_actuator *a, const struct cresc_scale_command *cmd,
                           char *why, size_t cap)
{
    json_t *e = service_entry(a, cmd->service);
    int64_t seen = (int64_t)json_integer_value(json_object_get(e, "epoch"));
    if (cmd->owner_epoch < seen) {
        snprintf(why, cap, "owner epoch %lld is older than %lld already applied",
                 (long long)cmd->owner_epoch, (long long)seen);
        return false;
    }
    if (dedup_seen(a, cmd->decision_id)) {
        snprintf(why, cap, "decision already applied");
        return false;
    }
    json_object_set_new(e, "epoch", json_integer((json_int_t)cmd->owner_epoch));
    snprintf(a->dedup[a->dedup_next], sizeof a->dedup[0], "%s", cmd->decision_id);
    a->dedup_next = (a->dedup_next + 1) % DEDUP_MAX;
    return true;
}

/* A command for the same service waits in the queue: retrying this one is pointless. */
static bool superseded(const struct cresc_actuator *a, const char *service)
{
    for (size_t i = 0; i < a->len; i++) {
        if (strcmp(a->queue[(a->head + i) % a->cap].service, service) == 0) {
            return true;
        }
    }
    return false;
}

/* ---- worker ----------------------------------------------------------------------------- */

static int attempt(struct cresc_actuator *a, struct cresc_act_http *http,
                   const struct cresc_scale_command *cmd, struct cresc_act_result *res)
{
    switch (a->conf.kind) {
    case CRESC_ACTUATOR_KUBERNETES:
        return cresc_act_k8s_apply(http, &a->conf, cmd, &a->stop, res);
    case CRESC_ACTUATOR_WEBHOOK:
        return cresc_act_webhook_apply(http, &a->conf, cmd, &a->stop, res);
    case CRESC_ACTUATOR_EXEC:
        return cresc_act_exec_apply(&a->conf, cmd, &a->stop, res);
    case CRESC_ACTUATOR_NONE:
        break;
    }
    return 0;
}

static void apply_one(struct cresc_actuator *a, struct cresc_act_http *http,
                      const struct cresc_scale_command *cmd)
{
    const char *kind = cresc_actuator_kind_names[a->conf.kind];
    char why[CRESC_REASON_MAX];
    pthread_mutex_lock(&a->mu);
    bool ok = accept_command(a, cmd, why, sizeof why);
    if (!ok) {
        a->stats.ignored++;
        a->stats.results++;
    }
    pthread_mutex_unlock(&a->mu);
    if (!ok) {
        cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_COORDINATOR,
                  "actuator %s: ignoring scale command %s for %s: %s", kind, cmd->decision_id,
                  cmd->service, why);
        return;
    }

    int64_t started = mono_ms();
    for (unsigned n = 0;; n++) {
        struct cresc_act_result res = {0};
        pthread_mutex_lock(&a->mu);
        a->stats.attempts++;
        pthread_mutex_unlock(&a->mu);
        int rc = attempt(a, http, cmd, &res);
        char status[CRESC_REASON_MAX];
        pthread_mutex_lock(&a->mu);
        if (rc == 0) {
            set_status(a, cmd->service, "ok");
            a->stats.applied++;
            a->stats.results++;
            pthread_mutex_unlock(&a->mu);
            cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_COORDINATOR,
                      "actuator %s: applied scale command %s: %s from %d to %d instances "
                      "(%u attempt%s, %lld ms)",
                      kind, cmd->decision_id, cmd->service, cmd->from, cmd->to, n + 1,
                      n == 0 ? "" : "s", (long long)(mono_ms() - started));
            return;
        }
        bool stopping = atomic_load(&a->stop);
        bool last = res.permanent || n >= (unsigned)a->retries || stopping;
        bool newer = !last && superseded(a, cmd->service);
        if (last || newer) {
            snprintf(status, sizeof status, "%s: %.200s (%s %u attempt%s)", kind, res.msg,
                     newer ? "superseded after" : "gave up after", n + 1, n == 0 ? "" : "s");
            set_status(a, cmd->service, status);
            a->stats.failed++;
            a->stats.results++;
            pthread_mutex_unlock(&a->mu);
            cresc_log(newer ? CRESC_LOG_WARNING : CRESC_LOG_ERROR, CRESC_LOGGER_COORDINATOR,
                      "actuator %s: scale command %s (%s to %d) not applied: %s", kind,
                      cmd->decision_id, cmd->service, cmd->to, status);
            return;
        }
        int64_t delay =
            cresc_act_backoff_ms(a->backoff_initial_ms, a->backoff_max_ms, n, xorshift64(&a->rng));
        snprintf(status, sizeof status, "%s: %.200s (retrying)", kind, res.msg);
        set_status(a, cmd->service, status);
        pthread_mutex_unlock(&a->mu);
        cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_COORDINATOR,
                  "actuator %s: attempt %u for %s failed: %s; retrying in %lld ms", kind, n + 1,
                  cmd->decision_id, res.msg, (long long)delay);
        struct timespec until;
        deadline_after(&until, delay);
        pthread_mutex_lock(&a->mu);
        while (!atomic_load(&a->stop) &&
               pthread_cond_timedwait(&a->wake, &a->mu, &until) != ETIMEDOUT) {
        }
        pthread_mutex_unlock(&a->mu);
    }
}

static void *worker_main(void *arg)
{
    struct cresc_actuator *a = arg;
    /* Signals belong to the loop thread (flags set by its handlers). */
    sigset_t all;
    sigfillset(&all);
    /* ...except the synchronous ones: blocking them would hide a crash in this thread. */
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_BLOCK, &all, NULL);

    struct cresc_act_http *http = NULL;
    if (a->conf.kind == CRESC_ACTUATOR_KUBERNETES || a->conf.kind == CRESC_ACTUATOR_WEBHOOK) {
        if (cresc_act_http_new(&http) != 0) {
            cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_COORDINATOR,
                      "actuator: cannot create an HTTP client");
            abort();
        }
    }
    pthread_mutex_lock(&a->mu);
    for (;;) {
        if (atomic_load(&a->stop)) {
            break;
        }
        if (a->len == 0) {
            a->busy = false;
            pthread_cond_broadcast(&a->drained);
            pthread_cond_wait(&a->wake, &a->mu);
            continue;
        }
        struct cresc_scale_command cmd = a->queue[a->head];
        a->head = (a->head + 1) % a->cap;
        a->len--;
        a->busy = true;
        pthread_mutex_unlock(&a->mu);
        apply_one(a, http, &cmd);
        pthread_mutex_lock(&a->mu);
    }
    a->busy = false;
    pthread_cond_broadcast(&a->drained);
    pthread_mutex_unlock(&a->mu);
    cresc_act_http_free(http);
    return NULL;
}

/* ---- public API ----------------------------------------------------------------------- */

int cresc_actuator_new(const struct cresc_actuator_opts *opts, struct cresc_actuator **out,
                       char *err, size_t errlen)
{
    *out = NULL;
    if (opts == NULL) {
        cresc_errf(err, errlen, "no actuator options");
        return CRESC_EINVAL;
    }
    if (opts->backoff_max_ms < opts->backoff_initial_ms) {
        cresc_errf(err, errlen,
                   "ACTUATOR_BACKOFF_MAX=%lldms is below ACTUATOR_BACKOFF_INITIAL=%lldms",
                   (long long)opts->backoff_max_ms, (long long)opts->backoff_initial_ms);
        return CRESC_EINVAL;
    }
    if (opts->queue_max < 1 || opts->queue_max > 4096 || opts->retries < 0 || opts->retries > 100) {
        cresc_errf(err, errlen,
                   "ACTUATOR_QUEUE_MAX (1..4096) or ACTUATOR_RETRIES (0..100) out of range");
        return CRESC_EINVAL;
    }
    struct cresc_actuator *a = calloc(1, sizeof *a);
    if (a == NULL) {
        return CRESC_ENOMEM;
    }
    int rc = conf_init(opts, &a->conf, err, errlen);
    if (rc != 0) {
        goto fail;
    }
    a->retries = (int)opts->retries;
    a->backoff_initial_ms = opts->backoff_initial_ms > 0 ? opts->backoff_initial_ms : 1;
    a->backoff_max_ms = opts->backoff_max_ms;
    a->cap = (size_t)opts->queue_max;
    a->queue = calloc(a->cap, sizeof *a->queue);
    a->services = json_object();
    if (a->queue == NULL || a->services == NULL) {
        rc = CRESC_ENOMEM;
        goto fail;
    }
    snprintf(a->status, sizeof a->status, "ok");
    a->rng = (uint64_t)mono_ms() ^ (uint64_t)(uintptr_t)a ^ 0x9e3779b97f4a7c15ULL;
    if (a->rng == 0) {
        a->rng = 1;
    }
    atomic_init(&a->stop, false);

    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->wake, &ca);
    pthread_cond_init(&a->drained, &ca);
    pthread_condattr_destroy(&ca);

    if (a->conf.kind != CRESC_ACTUATOR_NONE) {
        int prc = pthread_create(&a->thread, NULL, worker_main, a);
        if (prc != 0) {
            cresc_errf(err, errlen, "cannot start the actuator thread: %s", strerror(prc));
            pthread_cond_destroy(&a->drained);
            pthread_cond_destroy(&a->wake);
            pthread_mutex_destroy(&a->mu);
            rc = CRESC_EIO;
            goto fail;
        }
        a->thread_started = true;
        cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_COORDINATOR,
                  "actuator %s ready (timeout %ld ms, %d retries)",
                  cresc_actuator_kind_names[a->conf.kind], a->conf.timeout_ms, a->retries);
    }
    *out = a;
    return 0;
fail:
    json_decref(a->services);
    free(a->queue);
    conf_release(&a->conf);
    free(a);
    return rc;
}

int cresc_actuator_submit(struct cresc_actuator *act, const struct cresc_scale_command *cmd)
{
    if (act == NULL || cmd == NULL || !cresc_id_valid(cmd->service)) {
        return CRESC_EINVAL;
    }
    if (act->conf.kind == CRESC_ACTUATOR_NONE) {
        return 0;
    }
    int rc = 0;
    pthread_mutex_lock(&act->mu);
    if (act->len >= act->cap) {
        act->stats.dropped++;
        char status[CRESC_REASON_MAX];
        snprintf(status, sizeof status, "%s: queue full (%zu commands), dropped %s",
                 cresc_actuator_kind_names[act->conf.kind], act->cap, cmd->decision_id);
        set_status(act, cmd->service, status);
        rc = CRESC_EFULL;
    } else {
        act->queue[(act->head + act->len) % act->cap] = *cmd;
        act->len++;
        act->stats.submitted++;
        pthread_cond_signal(&act->wake);
    }
    pthread_mutex_unlock(&act->mu);
    if (rc != 0) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_COORDINATOR,
                  "actuator: queue full, scale command %s for %s dropped", cmd->decision_id,
                  cmd->service);
    }
    return rc;
}

const char *cresc_actuator_kind_name(const struct cresc_actuator *act)
{
    if (act == NULL) {
        return "none";
    }
    return cresc_actuator_kind_names[act->conf.kind];
}

void cresc_actuator_status(struct cresc_actuator *act, char *buf, size_t cap)
{
    if (buf == NULL || cap == 0) {
        return;
    }
    if (act == NULL) {
        snprintf(buf, cap, "ok");
        return;
    }
    pthread_mutex_lock(&act->mu);
    snprintf(buf, cap, "%s", act->status);
    pthread_mutex_unlock(&act->mu);
}

void cresc_actuator_service_status(struct cresc_actuator *act, const char *service, char *buf,
                                   size_t cap)
{
    if (buf == NULL || cap == 0) {
        return;
    }
    snprintf(buf, cap, "ok");
    if (act == NULL || service == NULL) {
        return;
    }
    pthread_mutex_lock(&act->mu);
    const char *s =
        json_string_value(json_object_get(json_object_get(act->services, service), "status"));
    if (s != NULL) {
        snprintf(buf, cap, "%s", s);
    }
    pthread_mutex_unlock(&act->mu);
}

struct cresc_actuator_stats cresc_actuator_stats(struct cresc_actuator *act)
{
    struct cresc_actuator_stats s = {0};
    if (act == NULL) {
        return s;
    }
    pthread_mutex_lock(&act->mu);
    s = act->stats;
    pthread_mutex_unlock(&act->mu);
    return s;
}

int cresc_actuator_drain(struct cresc_actuator *act, int timeout_ms)
{
    if (act == NULL || !act->thread_started) {
        return 0;
    }
    struct timespec until;
    deadline_after(&until, timeout_ms < 0 ? 0 : timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&act->mu);
    while (act->len > 0 || act->busy) {
        if (pthread_cond_timedwait(&act->drained, &act->mu, &until) == ETIMEDOUT) {
            rc = act->len > 0 || act->busy ? CRESC_ETIMEDOUT : 0;
            break;
        }
    }
    pthread_mutex_unlock(&act->mu);
    return rc;
}

void cresc_actuator_free(struct cresc_actuator *act)
{
    if (act == NULL) {
        return;
    }
    if (act->thread_started) {
        pthread_mutex_lock(&act->mu);
        atomic_store(&act->stop, true);
        pthread_cond_broadcast(&act->wake);
        pthread_mutex_unlock(&act->mu);
        pthread_join(act->thread, NULL);
    }
    pthread_cond_destroy(&act->drained);
    pthread_cond_destroy(&act->wake);
    pthread_mutex_destroy(&act->mu);
    json_decref(act->services);
    free(act->queue);
    conf_release(&act->conf);
    free(act);
}
