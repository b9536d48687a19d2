/* Unit tests for coordinator/actuator*.c: the kubernetes and webhook backends against a local
 * HTTP stand-in (libmicrohttpd on 127.0.0.1, ephemeral port) that records method, path,
 * headers and body and answers with a scripted status sequence; retries with backoff, owner
 * epoch and duplicate filtering, the exec backend with a shell script, timeouts, shutdown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "actuator.h"
#include "actuator_internal.h"
#include "cresc/log.h"

#define RECS_MAX 32

struct rec {
    char method[16];
    char url[512];
    char auth[256];
    char ctype[128];
    char idem[160];
    char body[4096];
    int64_t at_ms;
};

struct stand_in {
    struct MHD_Daemon *d;
    uint16_t port;
    pthread_mutex_t mu;
    struct rec recs[RECS_MAX];
    int n;
    int statuses[16]; /* answered in turn; 200 once used up (or `always` if set) */
    int n_statuses, next;
    int always; /* non-zero: answer this status to everything after the script */
};

struct upload {
    char body[4096];
    size_t len;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy_hdr(struct MHD_Connection *c, const char *name, char *dst, size_t cap)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    snprintf(dst, cap, "%s", v != NULL ? v : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct stand_in *s = cls;
    struct upload *u = *con_cls;
    if (u == NULL) {
        u = calloc(1, sizeof *u);
        if (u == NULL)
            return MHD_NO;
        *con_cls = u;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        size_t room = sizeof u->body - 1 - u->len;
        size_t n = *upload_data_size < room ? *upload_data_size : room;
        memcpy(u->body + u->len, upload_data, n);
        u->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    int status = 200;
    pthread_mutex_lock(&s->mu);
    if (s->n < RECS_MAX) {
        struct rec *r = &s->recs[s->n++];
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->url, sizeof r->url, "%s", url);
        copy_hdr(conn, "Authorization", r->auth, sizeof r->auth);
        copy_hdr(conn, "Content-Type", r->ctype, sizeof r->ctype);
        copy_hdr(conn, "Idempotency-Key", r->idem, sizeof r->idem);
        memcpy(r->body, u->body, u->len);
        r->body[u->len] = '\0';
        r->at_ms = mono_ms();
    }
    if (s->next < s->n_statuses)
        status = s->statuses[s->next++];
    else if (s->always != 0)
        status = s->always;
    pthread_mutex_unlock(&s->mu);

    char answer[256];
    if (status == 200)
        snprintf(answer, sizeof answer, "{\"kind\":\"Scale\"}");
    else
        snprintf(answer, sizeof answer,
                 "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":\"stand-in says "
                 "%d\",\"code\":%d}",
                 status, status);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(answer), answer, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(resp, "Content-Type", "application/json");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static struct stand_in *stand_in_start(void)
{
    struct stand_in *s = calloc(1, sizeof *s);
    assert_non_null(s);
    pthread_mutex_init(&s->mu, NULL);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
    assert_non_null(s->d);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    assert_non_null(info);
    s->port = info->port;
    assert_true(s->port > 0);
    return s;
}

static void stand_in_stop(struct stand_in *s)
{
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static int stand_in_count(struct stand_in *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->n;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void base_opts(struct cresc_actuator_opts *o, enum cresc_actuator_kind kind)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->timeout_ms = 2000;
    o->retries = 3;
    o->backoff_initial_ms = 20;
    o->backoff_max_ms = 40;
    o->queue_max = 16;
    o->k8s_namespace = (char *)(uintptr_t) "prod";
    o->k8s_token_file = (char *)(uintptr_t) "";
    o->k8s_ca_file = (char *)(uintptr_t) "";
}

static void make_cmd(struct cresc_scale_command *c, const char *service, int64_t epoch, int seq,
                     int from, int to)
{
    memset(c, 0, sizeof *c);
    snprintf(c->service, sizeof c->service, "%s", service);
    snprintf(c->decision_id, sizeof c->decision_id, "%s:%lld:%d", service, (long long)epoch, seq);
    c->from = from;
    c->to = to;
    snprintf(c->reason, sizeof c->reason, "Scaling up based on cpu-based-scaling");
    c->config_version = 7;
    c->owner_epoch = epoch;
    c->issued_at_ms = 1764400000000;
}

static char tmpdir[64];

static int group_setup(void **state)
{
    (void)state;
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_WARNING, NULL);
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cresc_act_XXXXXX");
    return mkdtemp(tmpdir) != NULL ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
}

static int replicas_of(const char *body)
{
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    assert_non_null(j);
    /* exactly {"spec":{"replicas":N}} */
    assert_int_equal(json_object_size(j), 1);
    json_t *spec = json_object_get(j, "spec");
    assert_true(json_is_object(spec));
    assert_int_equal(json_object_size(spec), 1);
    json_t *r = json_object_get(spec, "replicas");
    assert_true(json_is_integer(r));
    int n = (int)json_integer_value(r);
    json_decref(j);
    return n;
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_backoff_schedule(void **state)
{
    (void)state;
    for (uint64_t r = 0; r < 1000; r += 37) {
        int64_t d0 = cresc_act_backoff_ms(100, 1000, 0, r);
        assert_in_range(d0, 50, 100);
        int64_t d1 = cresc_act_backoff_ms(100, 1000, 1, r);
        assert_in_range(d1, 100, 200);
        int64_t d3 = cresc_act_backoff_ms(100, 1000, 3, r);
        assert_in_range(d3, 400, 800);
        int64_t d9 = cresc_act_backoff_ms(100, 1000, 9, r);
        assert_in_range(d9, 500, 1000);
        int64_t huge = cresc_act_backoff_ms(100, 1000, 4000000000u, UINT64_MAX - r);
        assert_in_range(huge, 500, 1000);
    }
    /* jitter really varies */
    assert_int_not_equal(cresc_act_backoff_ms(100, 1000, 2, 1),
                         cresc_act_backoff_ms(100, 1000, 2, 77));
}

static void test_k8s_patch(void **state)
{
    (void)state;
    struct stand_in *s = stand_in_start();
    char url[64], tok[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", s->port);
    snprintf(tok, sizeof tok, "%s/token", tmpdir);
    write_file(tok, "tok-123.abc\n", 0600);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_KUBERNETES);
    o.k8s_api_url = url;
    o.k8s_token_file = tok;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    assert_string_equal(cresc_actuator_kind_name(a), "kubernetes");
    struct cresc_scale_command c;
    make_cmd(&c, "music-generator", 1, 1, 2, 3);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);

    assert_int_equal(stand_in_count(s), 1);
    struct rec *r = &s->recs[0];
    assert_string_equal(r->method, "PATCH");
    assert_string_equal(r->url, "/apis/apps/v1/namespaces/prod/deployments/music-generator/scale");
    assert_string_equal(r->auth, "Bearer tok-123.abc");
    assert_string_equal(r->ctype, "application/merge-patch+json");
    assert_int_equal(replicas_of(r->body), 3);
    char st[CRESC_REASON_MAX];
    cresc_actuator_status(a, st, sizeof st);
    assert_string_equal(st, "ok");
    cresc_actuator_service_status(a, "music-generator", st, sizeof st);
    assert_string_equal(st, "ok");
    struct cresc_actuator_stats stats = cresc_actuator_stats(a);
    assert_int_equal(stats.applied, 1);
    assert_int_equal(stats.attempts, 1);
    assert_int_equal(stats.failed, 0);
    cresc_actuator_free(a);
    stand_in_stop(s);
}

static void test_k8s_retry_then_success(void **state)
{
    (void)state;
    struct stand_in *s = stand_in_start();
    s->statuses[0] = 503;
    s->statuses[1] = 500;
    s->n_statuses = 2;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", s->port);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_KUBERNETES);
    o.k8s_api_url = url;
    o.k8s_target_kind = CRESC_K8S_STATEFULSET;
    o.k8s_target_name = (char *)(uintptr_t) "db-shard";
    o.backoff_initial_ms = 60;
    o.backoff_max_ms = 1000;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "Music_Gen", 3, 1, 4, 6); /* not a k8s name: the target name is used */
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);

    assert_int_equal(stand_in_count(s), 3);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(s->recs[i].url,
                            "/apis/apps/v1/namespaces/prod/statefulsets/db-shard/scale");
        assert_string_equal(s->recs[i].auth, ""); /* token file "" = no Authorization */
        assert_int_equal(replicas_of(s->recs[i].body), 6);
    }
    /* backoff observed: first retry after >= 30 ms (60 with half jitter), second >= 60 */
    int64_t gap1 = s->recs[1].at_ms - s->recs[0].at_ms;
    int64_t gap2 = s->recs[2].at_ms - s->recs[1].at_ms;
    assert_true(gap1 >= 29);
    assert_true(gap2 >= 59);
    struct cresc_actuator_stats stats = cresc_actuator_stats(a);
    assert_int_equal(stats.attempts, 3);
    assert_int_equal(stats.applied, 1);
    char st[CRESC_REASON_MAX];
    cresc_actuator_service_status(a, "Music_Gen", st, sizeof st);
    assert_string_equal(st, "ok");
    cresc_actuator_free(a);
    stand_in_stop(s);
}

static void test_k8s_gives_up_and_reports(void **state)
{
    (void)state;
    struct stand_in *s = stand_in_start();
    s->always = 503;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", s->port);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_KUBERNETES);
    o.k8s_api_url = url;
    o.retries = 2;
    o.backoff_initial_ms = 5;
    o.backoff_max_ms = 10;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "api", 1, 1, 2, 5);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    assert_int_equal(stand_in_count(s), 3);
    char st[CRESC_REASON_MAX];
    cresc_actuator_service_status(a, "api", st, sizeof st);
    assert_non_null(strstr(st, "HTTP 503"));
    assert_non_null(strstr(st, "stand-in says 503"));
    assert_non_null(strstr(st, "gave up after 3 attempts"));
    cresc_actuator_status(a, st, sizeof st);
    assert_non_null(strstr(st, "kubernetes: HTTP 503"));
    cresc_actuator_service_status(a, "other", st, sizeof st);
    assert_string_equal(st, "ok");
    assert_int_equal(cresc_actuator_stats(a).failed, 1);
    cresc_actuator_free(a);
    stand_in_stop(s);
}

static void permanent_once(int status)
{
    struct stand_in *s = stand_in_start();
    s->always = status;
    char url[96];
    snprintf(url, sizeof url, "http://user:pw@127.0.0.1:%u/hook?key=s3cr3t", s->port);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_WEBHOOK);
    o.webhook_url = url;
    o.retries = 5;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "api", 1, 1, 2, 5);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    assert_int_equal(stand_in_count(s), 1);
    assert_int_equal(cresc_actuator_stats(a).failed, 1);
    /* the reported URL keeps no secret: neither the query string nor the user info */
    char st[CRESC_REASON_MAX], want[96];
    cresc_actuator_status(a, st, sizeof st);
    snprintf(want, sizeof want, "from POST http://127.0.0.1:%u/hook?...:", s->port);
    assert_non_null(strstr(st, want));
    assert_null(strstr(st, "s3cr3t"));
    assert_null(strstr(st, "pw@"));
    cresc_actuator_free(a);
    stand_in_stop(s);
}

static void test_k8s_permanent_error_not_retried(void **state)
{
    (void)state;
    permanent_once(404); /* webhook: no such hook */
    permanent_once(302); /* redirects are not followed (the token would go along) */
    struct stand_in *s = stand_in_start();
    s->always = 403;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", s->port);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_KUBERNETES);
    o.k8s_api_url = url;
    o.retries = 5;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "api", 1, 1, 2, 5);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    assert_int_equal(stand_in_count(s), 1);
    char st[CRESC_REASON_MAX];
    cresc_actuator_status(a, st, sizeof st);
    assert_non_null(strstr(st, "HTTP 403"));
    assert_non_null(strstr(st, "gave up after 1 attempt"));
    cresc_actuator_free(a);
    stand_in_stop(s);
}

static void test_epoch_ordering_and_duplicates(void **state)
{
    (void)state;
    struct stand_in *s = stand_in_start();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", s->port);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_KUBERNETES);
    o.k8s_api_url = url;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "svc", 5, 1, 2, 4);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    make_cmd(&c, "svc", 4, 9, 4, 2); /* a deposed owner's late command */
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    make_cmd(&c, "svc", 5, 1, 2, 4); /* the same decision again */
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    make_cmd(&c, "other", 1, 1, 2, 3); /* epochs are per service */
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    make_cmd(&c, "svc", 5, 2, 4, 5); /* same owner, next decision */
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    make_cmd(&c, "svc", 6, 1, 5, 7); /* newer owner */
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);

    assert_int_equal(stand_in_count(s), 4);
    assert_int_equal(replicas_of(s->recs[0].body), 4);
    assert_non_null(strstr(s->recs[1].url, "/deployments/other/scale"));
    assert_int_equal(replicas_of(s->recs[2].body), 5);
    assert_int_equal(replicas_of(s->recs[3].body), 7);
    struct cresc_actuator_stats stats = cresc_actuator_stats(a);
    assert_int_equal(stats.ignored, 2);
    assert_int_equal(stats.applied, 4);
    assert_int_equal(stats.submitted, 6);
    /* after epoch 6, epoch 5 is stale too */
    make_cmd(&c, "svc", 5, 3, 7, 3);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    assert_int_equal(stand_in_count(s), 4);
    assert_int_equal(cresc_actuator_stats(a).ignored, 3);
    cresc_actuator_free(a);
    stand_in_stop(s);
}

static void test_superseded_retry_abandoned(void **state)
{
    (void)state;
    struct stand_in *s = stand_in_start();
    s->statuses[0] = 503;
    s->n_statuses = 1;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", s->port);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_KUBERNETES);
    o.k8s_api_url = url;
    o.retries = 10;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "svc", 1, 1, 2, 4);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    make_cmd(&c, "svc", 1, 2, 4, 6);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    /* the first failed, and was not retried since the second was already waiting */
    assert_int_equal(stand_in_count(s), 2);
    assert_int_equal(replicas_of(s->recs[0].body), 4);
    assert_int_equal(replicas_of(s->recs[1].body), 6);
    struct cresc_actuator_stats stats = cresc_actuator_stats(a);
    assert_int_equal(stats.failed, 1);
    assert_int_equal(stats.applied, 1);
    char st[CRESC_REASON_MAX];
    cresc_actuator_service_status(a, "svc", st, sizeof st);
    assert_string_equal(st, "ok");
    cresc_actuator_free(a);
    stand_in_stop(s);
}

static void test_k8s_in_cluster_url(void **state)
{
    (void)state;
    /* In-cluster: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT. Nothing listens
     * there with TLS, so the attempt fails, and the status names the URL it used. */
    struct stand_in *s = stand_in_start();
    char port[16];
    snprintf(port, sizeof port, "%u", s->port);
    setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", port, 1);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_KUBERNETES);
    o.retries = 0;
    o.k8s_namespace = (char *)(uintptr_t) "team-a";
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "web", 1, 1, 2, 3);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    char st[CRESC_REASON_MAX], want[160];
    cresc_actuator_status(a, st, sizeof st);
    snprintf(want, sizeof want,
             "https://127.0.0.1:%u/apis/apps/v1/namespaces/team-a/deployments/web/scale", s->port);
    assert_non_null(strstr(st, want));
    assert_int_equal(cresc_actuator_stats(a).failed, 1);
    cresc_actuator_free(a);
    unsetenv("KUBERNETES_SERVICE_HOST");
    unsetenv("KUBERNETES_SERVICE_PORT");
    stand_in_stop(s);
}

static void test_webhook_post(void **state)
{
    (void)state;
    struct stand_in *s = stand_in_start();
    s->statuses[0] = 502;
    s->n_statuses = 1;
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hooks/scale?src=crescendo", s->port);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_WEBHOOK);
    o.webhook_url = url;
    o.webhook_token = (char *)(uintptr_t) "s3cret";
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    assert_string_equal(cresc_actuator_kind_name(a), "webhook");
    struct cresc_scale_command c;
    make_cmd(&c, "music-generator", 2, 17, 2, 3);
    c.manual = true;
    snprintf(c.request_id, sizeof c.request_id, "req-42");
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);

    assert_int_equal(stand_in_count(s), 2); /* 502, then 200 */
    for (int i = 0; i < 2; i++) {
        struct rec *r = &s->recs[i];
        assert_string_equal(r->method, "POST");
        assert_string_equal(r->url, "/hooks/scale");
        assert_string_equal(r->auth, "Bearer s3cret");
        assert_string_equal(r->ctype, "application/json");
        assert_string_equal(r->idem, "music-generator:2:17");
        struct cresc_scale_command got;
        struct cresc_msg_error me;
        assert_int_equal(cresc_command_decode(r->body, strlen(r->body), &got, &me), 0);
        assert_string_equal(got.service, c.service);
        assert_string_equal(got.decision_id, c.decision_id);
        assert_int_equal(got.from, 2);
        assert_int_equal(got.to, 3);
        assert_int_equal(got.owner_epoch, 2);
        assert_int_equal(got.config_version, 7);
        assert_true(got.manual);
        assert_string_equal(got.request_id, "req-42");
        assert_string_equal(got.reason, c.reason);
    }
    assert_int_equal(cresc_actuator_stats(a).applied, 1);
    cresc_actuator_free(a);
    stand_in_stop(s);
}

static void test_exec_env(void **state)
{
    (void)state;
    char script[128], out[128], text[1024];
    snprintf(script, sizeof script, "%s/scale.sh", tmpdir);
    snprintf(out, sizeof out, "%s/exec.out", tmpdir);
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "{ env | grep '^CRESC_' | grep -v '^CRESC_COMMAND_JSON' | sort; "
             "echo \"ARGV1=$1\"; echo \"HOME_SET=${HOME:+yes}\"; } > '%s.tmp'\n"
             "mv '%s.tmp' '%s'\n",
             out, out, out);
    write_file(script, text, 0755);
    setenv("CRESC_TO", "999", 1); /* an inherited CRESC_ variable must not shadow ours */
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_EXEC);
    o.exec_command = script;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "music-generator", 3, 8, 2, 5);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    unsetenv("CRESC_TO");

    FILE *f = fopen(out, "r");
    assert_non_null(f);
    char got[2048];
    size_t n = fread(got, 1, sizeof got - 1, f);
    got[n] = '\0';
    fclose(f);
    assert_non_null(strstr(got, "CRESC_SERVICE=music-generator\n"));
    assert_non_null(strstr(got, "CRESC_FROM=2\n"));
    assert_non_null(strstr(got, "CRESC_TO=5\n"));
    assert_null(strstr(got, "CRESC_TO=999"));
    assert_non_null(strstr(got, "CRESC_TARGET=5\n"));
    assert_non_null(strstr(got, "CRESC_REASON=Scaling up based on cpu-based-scaling\n"));
    assert_non_null(strstr(got, "CRESC_DECISION_ID=music-generator:3:8\n"));
    assert_non_null(strstr(got, "CRESC_OWNER_EPOCH=3\n"));
    assert_non_null(strstr(got, "CRESC_CONFIG_VERSION=7\n"));
    assert_non_null(strstr(got, "CRESC_MANUAL=false\n"));
    assert_non_null(strstr(got, "ARGV1=5\n"));
    assert_non_null(strstr(got, "HOME_SET=yes\n")); /* the rest of the environment is kept */
    assert_int_equal(cresc_actuator_stats(a).applied, 1);
    cresc_actuator_free(a);
}

static void test_exec_failures_then_success(void **state)
{
    (void)state;
    char script[128], counter[128], text[1024];
    snprintf(script, sizeof script, "%s/flaky.sh", tmpdir);
    snprintf(counter, sizeof counter, "%s/flaky.count", tmpdir);
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
             "if [ $n -lt 3 ]; then echo \"kubectl: connection refused ($n)\" >&2; exit 3; "
             "fi\nexit 0\n",
             counter, counter);
    write_file(script, text, 0755);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_EXEC);
    o.exec_command = script;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "svc", 1, 1, 2, 3);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    struct cresc_actuator_stats stats = cresc_actuator_stats(a);
    assert_int_equal(stats.attempts, 3);
    assert_int_equal(stats.applied, 1);
    cresc_actuator_free(a);

    /* now it always fails: the status carries the exit status and the last output line */
    snprintf(text, sizeof text, "#!/bin/sh\necho first line\necho 'no quota left' >&2\nexit 4\n");
    write_file(script, text, 0755);
    o.retries = 1;
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    make_cmd(&c, "svc", 1, 2, 3, 4);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    char st[CRESC_REASON_MAX];
    cresc_actuator_service_status(a, "svc", st, sizeof st);
    assert_non_null(strstr(st, "exited with status 4: no quota left"));
    assert_non_null(strstr(st, "gave up after 2 attempts"));
    cresc_actuator_free(a);
}

static void test_exec_timeout_and_shutdown(void **state)
{
    (void)state;
    char script[128];
    snprintf(script, sizeof script, "%s/slow.sh", tmpdir);
    write_file(script, "#!/bin/sh\nsleep 30\n", 0755);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_EXEC);
    o.exec_command = script;
    o.timeout_ms = 200;
    o.retries = 0;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    make_cmd(&c, "svc", 1, 1, 2, 3);
    int64_t t0 = mono_ms();
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 30000), 0);
    assert_true(mono_ms() - t0 < 2000);
    char st[CRESC_REASON_MAX];
    cresc_actuator_status(a, st, sizeof st);
    assert_non_null(strstr(st, "timed out after 200 ms"));
    cresc_actuator_free(a);

    /* free() aborts a long attempt instead of waiting for it */
    o.timeout_ms = 60000;
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 150), CRESC_ETIMEDOUT);
    t0 = mono_ms();
    cresc_actuator_free(a);
    assert_true(mono_ms() - t0 < 2000);
}

static void test_queue_full(void **state)
{
    (void)state;
    char script[128];
    snprintf(script, sizeof script, "%s/slow2.sh", tmpdir);
    write_file(script, "#!/bin/sh\nsleep 0.3\n", 0755);
    struct cresc_actuator_opts o;
    base_opts(&o, CRESC_ACTUATOR_EXEC);
    o.exec_command = script;
    o.queue_max = 1;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    struct cresc_scale_command c;
    int full = 0;
    for (int i = 0; i < 3; i++) {
        make_cmd(&c, "svc", 1, i + 1, 2, 3 + i);
        int rc = cresc_actuator_submit(a, &c);
        assert_true(rc == 0 || rc == CRESC_EFULL);
        full += rc == CRESC_EFULL;
    }
    assert_true(full >= 1);
    assert_int_equal(cresc_actuator_stats(a).dropped, (uint64_t)full);
    char st[CRESC_REASON_MAX];
    cresc_actuator_status(a, st, sizeof st);
    assert_non_null(strstr(st, "queue full"));
    cresc_actuator_free(a);
}

static void test_none_and_validation(void **state)
{
    (void)state;
    struct cresc_actuator_opts o;
    struct cresc_actuator *a = NULL;
    char err[256] = "";
    base_opts(&o, CRESC_ACTUATOR_NONE);
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), 0);
    assert_string_equal(cresc_actuator_kind_name(a), "none");
    struct cresc_scale_command c;
    make_cmd(&c, "svc", 1, 1, 2, 3);
    assert_int_equal(cresc_actuator_submit(a, &c), 0);
    assert_int_equal(cresc_actuator_drain(a, 100), 0);
    char st[CRESC_REASON_MAX];
    cresc_actuator_status(a, st, sizeof st);
    assert_string_equal(st, "ok");
    c.service[0] = '\0';
    assert_int_equal(cresc_actuator_submit(a, &c), CRESC_EINVAL);
    cresc_actuator_free(a);
    cresc_actuator_free(NULL);

    base_opts(&o, CRESC_ACTUATOR_WEBHOOK);
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), CRESC_EINVAL);
    assert_non_null(strstr(err, "ACTUATOR_WEBHOOK_URL"));
    o.webhook_url = (char *)(uintptr_t) "ftp://example.com/x";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), CRESC_EINVAL);

    base_opts(&o, CRESC_ACTUATOR_KUBERNETES);
    unsetenv("KUBERNETES_SERVICE_HOST");
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), CRESC_EINVAL);
    assert_non_null(strstr(err, "ACTUATOR_K8S_API_URL"));
    o.k8s_api_url = (char *)(uintptr_t) "http://127.0.0.1:1";
    o.k8s_namespace = (char *)(uintptr_t) "Bad_Namespace";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), CRESC_EINVAL);
    assert_non_null(strstr(err, "ACTUATOR_K8S_NAMESPACE"));
    o.k8s_namespace = (char *)(uintptr_t) "ok";
    o.k8s_target_name = (char *)(uintptr_t) "has/slash";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), CRESC_EINVAL);
    o.k8s_target_name = NULL;
    o.backoff_initial_ms = 500;
    o.backoff_max_ms = 100;
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), CRESC_EINVAL);
    assert_non_null(strstr(err, "ACTUATOR_BACKOFF_MAX"));

    base_opts(&o, CRESC_ACTUATOR_EXEC);
    o.exec_command = (char *)(uintptr_t) "/nonexistent/scale-me";
    assert_int_equal(cresc_actuator_new(&o, &a, err, sizeof err), CRESC_EINVAL);
    assert_non_null(strstr(err, "ACTUATOR_EXEC_COMMAND"));
}

/* The option rows load through the shared config loader with the documented names. */
struct opts_holder {
    int pad;
    struct cresc_actuator_opts act;
};

static void test_option_table(void **state)
{
    (void)state;
    static const struct cresc_opt table[] = {CRESC_ACTUATOR_OPTIONS(struct opts_holder, act)};
    assert_int_equal(sizeof table / sizeof table[0], CRESC_ACTUATOR_OPTIONS_COUNT);
    struct opts_holder h;
    memset(&h, 0, sizeof h);
    char *argv[] = {(char *)(uintptr_t) "crescendo-coordinator",
                    (char *)(uintptr_t) "--actuator=webhook",
                    (char *)(uintptr_t) "--actuator-webhook-url=http://h/x",
                    (char *)(uintptr_t) "--actuator-timeout=3s",
                    (char *)(uintptr_t) "--actuator-k8s-target-kind=statefulset",
                    NULL};
    setenv("ACTUATOR_RETRIES", "7", 1);
    struct cresc_prog prog = {"crescendo-coordinator", "test", NULL};
    int first = 0;
    char err[256] = "";
    int rc = cresc_config_load(table, CRESC_ACTUATOR_OPTIONS_COUNT, &h, &prog, 5, argv, &first,
                               NULL, err, sizeof err);
    unsetenv("ACTUATOR_RETRIES");
    assert_int_equal(rc, CRESC_CONFIG_RUN);
    assert_int_equal(h.act.kind, CRESC_ACTUATOR_WEBHOOK);
    assert_string_equal(h.act.webhook_url, "http://h/x");
    assert_int_equal(h.act.timeout_ms, 3000);
    assert_int_equal(h.act.retries, 7);
    assert_int_equal(h.act.k8s_target_kind, CRESC_K8S_STATEFULSET);
    assert_int_equal(h.act.backoff_initial_ms, 200);
    assert_int_equal(h.act.queue_max, 64);
    assert_string_equal(h.act.k8s_token_file, CRESC_K8S_DEFAULT_TOKEN_FILE);
    assert_string_equal(h.act.k8s_ca_file, CRESC_K8S_DEFAULT_CA_FILE);
    cresc_config_release(table, CRESC_ACTUATOR_OPTIONS_COUNT, &h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff_schedule),
        cmocka_unit_test(test_k8s_patch),
        cmocka_unit_test(test_k8s_retry_then_success),
        cmocka_unit_test(test_k8s_gives_up_and_reports),
        cmocka_unit_test(test_k8s_permanent_error_not_retried),
        cmocka_unit_test(test_epoch_ordering_and_duplicates),
        cmocka_unit_test(test_superseded_retry_abandoned),
        cmocka_unit_test(test_k8s_in_cluster_url),
        cmocka_unit_test(test_webhook_post),
        cmocka_unit_test(test_exec_env),
        cmocka_unit_test(test_exec_failures_then_success),
        cmocka_unit_test(test_exec_timeout_and_shutdown),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_none_and_validation),
        cmocka_unit_test(test_option_table),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
