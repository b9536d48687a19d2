/* Write path of crescendo-api. One thread serves the producer's delivery reports and the
 * deadlines; the view thread resolves writes when an acknowledgement shows up. A write is
 * registered before its command is produced, so an acknowledgement can never slip past it.
 * No write is applied twice: the coordinator dedupes by request id, and a retry that reuses
 * a request id (Idempotency-Key) whose ack the view already holds is answered from the view.
 * message.timeout.ms equals the wait, so a 503 means librdkafka gave the message up. */
#include "writes.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cresc/log.h"

struct cresc_writes {
    rd_kafka_t *rk;
    rd_kafka_conf_t *conf_tmpl; /* for recreating the producer after a fatal error */
    pthread_rwlock_t rk_lock;   /* producers read rk; the write thread replaces it */
    char topic[CRESC_TOPIC_MAX];
    int timeout_ms;
    int max_pending;
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;
    bool closing; /* under lock: new writes are refused */

    pthread_mutex_t lock; /* guards the pending list and next_seq */
    struct cresc_write *pending;
    int n_pending;
    uint64_t next_seq;

    atomic_uint_fast64_t counts[CRESC_WRITE_OUTCOME_COUNT];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *cresc_write_outcome_name(enum cresc_write_outcome o)
{
    switch (o) {
    case CRESC_WRITE_PENDING:
        return "pending";
    case CRESC_WRITE_APPLIED:
        return "applied";
    case CRESC_WRITE_REJECTED:
        return "rejected";
    case CRESC_WRITE_TIMEOUT:
        return "timeout";
    case CRESC_WRITE_UNAVAILABLE:
        return "unavailable";
    case CRESC_WRITE_OUTCOME_COUNT:
        break;
    }
    return "unknown";
}

void cresc_writes_new_request_id(char *request_id, size_t cap)
{
    unsigned char rnd[16];
    size_t got = 0;
    while (got < sizeof(rnd)) {
        ssize_t n = getrandom(rnd + got, sizeof(rnd) - got, 0);
        if (n <= 0) {
            /* getrandom only fails before the pool is seeded or on EINTR: mix the clock in
               rather than fail a write. */
            int64_t t = mono_ms() ^ wall_ms();
            memcpy(rnd + got, &t, sizeof(rnd) - got < sizeof(t) ? sizeof(rnd) - got : sizeof(t));
            break;
        }
        got += (size_t)n;
    }
    char hex[33];
    for (size_t i = 0; i < sizeof(rnd); i++) {
        snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
    }
    snprintf(request_id, cap, "api-%s", hex);
}

/* Resolve wr (caller holds the lock); queue it on *wakes when it has a waker. */
static void resolve_locked(struct cresc_writes *w, struct cresc_write *wr,
                           enum cresc_write_outcome o, const char *reason,
                           const struct cresc_view_snap *snap, struct cresc_write **wakes)
{
    wr->outcome = o;
    snprintf(wr->reason, sizeof(wr->reason), "%s", reason ? reason : "");
    if (cresc_log_enabled(CRESC_LOG_DEBUG) && wr->_start_ms > 0) {
        int64_t now = mono_ms();
        cresc_log(CRESC_LOG_DEBUG, CRESC_LOGGER_API,
                  "Write %s for %s: %s after %" PRId64 " ms (delivered after %" PRId64 " ms)",
                  wr->request_id, wr->service, cresc_write_outcome_name(o), now - wr->_start_ms,
                  wr->_delivered_ms ? wr->_delivered_ms - wr->_start_ms : -1);
    }
    wr->snap = cresc_view_snap_ref(snap);
    atomic_fetch_add(&w->counts[o], 1);
    /* Unlink: a resolved write takes no further events. */
    for (struct cresc_write **pp = &w->pending; *pp != NULL; pp = &(*pp)->_next) {
        if (*pp == wr) {
            *pp = wr->_next;
            w->n_pending--;
            break;
        }
    }
    wr->_listed = false;
    wr->_wake_next = *wakes;
    *wakes = wr;
}

static void wake_all(struct cresc_write *wakes)
{
    while (wakes != NULL) {
        struct cresc_write *next = wakes->_wake_next;
        void (*fn)(void *) = wakes->wake;
        void *arg = wakes->wake_arg;
        /* wr may be freed as soon as fn runs: nothing touches it afterwards. */
        if (fn != NULL) {
            fn(arg);
        }
        wakes = next;
    }
}

static void resolve_from_ack(struct cresc_writes *w, struct cresc_write *wr,
                             const struct cresc_ack *ack, const struct cresc_view_snap *snap,
                             struct cresc_write **wakes)
{
    resolve_locked(w, wr,
                   ack->status == CRESC_ACK_APPLIED ? CRESC_WRITE_APPLIED : CRESC_WRITE_REJECTED,
                   ack->reason, snap, wakes);
}

void cresc_writes_on_state(void *opaque, const struct cresc_view_snap *snap)
{
    struct cresc_writes *w = opaque;
    struct cresc_write *wakes = NULL;
    pthread_mutex_lock(&w->lock);
    struct cresc_write *wr = w->pending;
    while (wr != NULL) {
        struct cresc_write *next = wr->_next;
        if (strcmp(wr->service, snap->st.service) == 0) {
            const struct cresc_ack *ack = cresc_view_snap_find_ack(snap, wr->request_id);
            if (ack != NULL) {
                resolve_from_ack(w, wr, ack, snap, &wakes);
            }
        }
        wr = next;
    }
    pthread_mutex_unlock(&w->lock);
    wake_all(wakes);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct cresc_writes *w = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;
    struct cresc_write *wakes = NULL;
    pthread_mutex_lock(&w->lock);
    for (struct cresc_write *wr = w->pending; wr != NULL; wr = wr->_next) {
        if (wr->_seq != seq) {
            continue;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            char reason[CRESC_REASON_MAX];
            snprintf(reason, sizeof(reason), "Kafka did not take the command: %s",
                     rd_kafka_err2str(m->err));
            resolve_locked(w, wr, CRESC_WRITE_UNAVAILABLE, reason, NULL, &wakes);
        } else {
            wr->_delivered = true;
            wr->_delivered_ms = mono_ms();
        }
        break;
    }
    pthread_mutex_unlock(&w->lock);
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_API, "Control command not delivered: %s",
                  rd_kafka_err2str(m->err));
    }
    wake_all(wakes);
}

static void expire(struct cresc_writes *w, int64_t now)
{
    struct cresc_write *wakes = NULL;
    pthread_mutex_lock(&w->lock);
    struct cresc_write *wr = w->pending;
    while (wr != NULL) {
        struct cresc_write *next = wr->_next;
        if (wr->_deadline_ms <= now) {
            if (wr->_delivered) {
                resolve_locked(w, wr, CRESC_WRITE_TIMEOUT,
                               "the coordinator has not acknowledged the command yet", NULL,
                               &wakes);
            } else {
                resolve_locked(w, wr, CRESC_WRITE_UNAVAILABLE,
                               "Kafka did not acknowledge the command in time", NULL, &wakes);
            }
        }
        wr = next;
    }
    pthread_mutex_unlock(&w->lock);
    wake_all(wakes);
}

static rd_kafka_t *producer_make(struct cresc_writes *w, char *err, size_t errlen)
{
    char e[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_dup(w->conf_tmpl);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof(e));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        snprintf(err, errlen, "cannot create the control producer: %s", e);
    }
    return rk;
}

/* An idempotent producer that hit a fatal error (librdkafka 2.0.2 can after a broker dies
 * mid-request) refuses every later message: replace it, failing what it still held (those
 * writes answer 503 and may be retried with their Idempotency-Key). */
static void producer_renew(struct cresc_writes *w)
{
    char reason[256] = "";
    char err[512];
    rd_kafka_fatal_error(w->rk, reason, sizeof(reason));
    rd_kafka_t *fresh = producer_make(w, err, sizeof(err));
    if (fresh == NULL) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_API, "%s; retrying", err);
        return;
    }
    pthread_rwlock_wrlock(&w->rk_lock);
    rd_kafka_t *old = w->rk;
    w->rk = fresh;
    pthread_rwlock_unlock(&w->rk_lock);
    rd_kafka_purge(old, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(old, 0); /* delivery reports of the purged messages: 503 */
    rd_kafka_destroy(old);
    cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_API,
              "Control producer replaced after a fatal error: %s", reason);
}

/* Learn the control topic's leaders now rather than on the first operator's write, which
 * otherwise waited ~0.7 s for them; the returned handle keeps them cached. Only once the
 * topic exists (the coordinator creates it): asking for one topic's metadata would make a
 * broker with auto.create.topics.enable create it with one partition, before the
 * coordinator could create it with the samples topic's count. NULL: not yet (tried again
 * every second; each try blocks the write thread at most 2 x 250 ms). */
static rd_kafka_topic_t *warm_up(rd_kafka_t *rk, const char *topic)
{
    const struct rd_kafka_metadata *md = NULL;
    if (rd_kafka_metadata(rk, 1, NULL, &md, 250) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return NULL;
    }
    bool exists = false;
    for (int i = 0; i < md->topic_cnt; i++) {
        exists = exists || (strcmp(md->topics[i].topic, topic) == 0 &&
                            md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                            md->topics[i].partition_cnt > 0);
    }
    rd_kafka_metadata_destroy(md);
    if (!exists) {
        return NULL;
    }
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, topic, NULL);
    if (t != NULL && rd_kafka_metadata(rk, 0, t, &md, 250) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_metadata_destroy(md);
    }
    return t;
}

static void *writes_main(void *arg)
{
    struct cresc_writes *w = arg;
    int64_t next_renew = 0;
    rd_kafka_topic_t *warm = NULL;
    int64_t next_warm = 0;
    while (!atomic_load(&w->stop)) {
        /* Delivery reports are served here; 10 ms bounds the deadline granularity. Only this
           thread replaces rk, so it reads it without the lock. */
        rd_kafka_poll(w->rk, 10);
        int64_t now = mono_ms();
        if (warm == NULL && now >= next_warm) {
            warm = warm_up(w->rk, w->topic);
            next_warm = now + 1000;
        }
        expire(w, now);
        if (now >= next_renew &&
            rd_kafka_fatal_error(w->rk, NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (warm != NULL) { /* it belongs to the producer being replaced */
                rd_kafka_topic_destroy(warm);
                warm = NULL;
            }
            producer_renew(w);
            next_renew = now + 1000;
        }
    }
    if (warm != NULL) {
        rd_kafka_topic_destroy(warm);
    }
    return NULL;
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    cresc_log(err == RD_KAFKA_RESP_ERR__FATAL ? CRESC_LOG_ERROR : CRESC_LOG_WARNING,
              CRESC_LOGGER_KAFKA, "Control producer: %s: %s",
              rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

int cresc_writes_new(const struct cresc_writes_opts *opts, struct cresc_writes **out, char *err,
                     size_t errlen)
{
    int rc;
    rd_kafka_conf_t *conf = NULL;
    char e[256], tmo[32];
    struct cresc_writes *w = calloc(1, sizeof(*w));
    *out = NULL;
    if (w == NULL) {
        return CRESC_ENOMEM;
    }
    pthread_mutex_init(&w->lock, NULL);
    pthread_rwlock_init(&w->rk_lock, NULL);
    snprintf(w->topic, sizeof(w->topic), "%s", opts->topic);
    w->timeout_ms = opts->timeout_ms > 0 ? opts->timeout_ms : 5000;
    w->max_pending = opts->max_pending > 0 ? opts->max_pending : 1024;
    w->next_seq = 1;
    rc = cresc_kafka_conf_new(opts->kafka, &conf, err, errlen);
    if (rc != CRESC_OK) {
        goto fail;
    }
    snprintf(tmo, sizeof(tmo), "%d", w->timeout_ms);
    const char *props[][2] = {
        {"enable.idempotence", "true"},
        /* Latency over batching: an operator's write is one small message. */
        {"linger.ms", "0"},
        {"message.timeout.ms", tmo},
        {"socket.keepalive.enable", "true"},
        /* Small requests: Nagle + delayed ACKs would add up to tens of ms per write. */
        {"socket.nagle.disable", "true"},
    };
    for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
        if (rd_kafka_conf_set(conf, props[i][0], props[i][1], e, sizeof(e)) != RD_KAFKA_CONF_OK) {
            snprintf(err, errlen, "control producer property %s: %s", props[i][0], e);
            rc = CRESC_EKAFKA;
            goto fail;
        }
    }
    rd_kafka_conf_set_opaque(conf, w);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    w->conf_tmpl = conf;
    conf = NULL;
    w->rk = producer_make(w, err, errlen);
    if (w->rk == NULL) {
        rc = CRESC_EKAFKA;
        goto fail;
    }
    if (pthread_create(&w->thread, NULL, writes_main, w) != 0) {
        snprintf(err, errlen, "cannot start the write thread");
        rc = CRESC_ENOMEM;
        goto fail;
    }
    w->thread_started = true;
    *out = w;
    return CRESC_OK;
fail:
    if (conf != NULL) {
        rd_kafka_conf_destroy(conf);
    }
    cresc_writes_free(w);
    return rc;
}

void cresc_writes_shutdown(struct cresc_writes *w)
{
    struct cresc_write *wakes = NULL;
    pthread_mutex_lock(&w->lock);
    w->closing = true;
    while (w->pending != NULL) {
        resolve_locked(w, w->pending, CRESC_WRITE_UNAVAILABLE, "the API is shutting down", NULL,
                       &wakes);
    }
    pthread_mutex_unlock(&w->lock);
    wake_all(wakes);
}

void cresc_writes_free(struct cresc_writes *w)
{
    if (w == NULL) {
        return;
    }
    cresc_writes_shutdown(w);
    atomic_store(&w->stop, true);
    if (w->thread_started) {
        pthread_join(w->thread, NULL);
    }
    if (w->rk != NULL) {
        rd_kafka_flush(w->rk, 2000);
        rd_kafka_destroy(w->rk);
    }
    if (w->conf_tmpl != NULL) {
        rd_kafka_conf_destroy(w->conf_tmpl);
    }
    pthread_rwlock_destroy(&w->rk_lock);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

/* Resolve a listed write that failed before reaching Kafka. Returns true when this call
 * resolved it (the caller answers; its waker is not called), false when another thread got
 * there first and has called or will call the waker. */
static bool fail_listed(struct cresc_writes *w, struct cresc_write *wr, const char *reason)
{
    struct cresc_write *wakes = NULL;
    bool mine = false;
    pthread_mutex_lock(&w->lock);
    if (wr->_listed) {
        resolve_locked(w, wr, CRESC_WRITE_UNAVAILABLE, reason, NULL, &wakes);
        mine = true;
    }
    pthread_mutex_unlock(&w->lock);
    return mine;
}

bool cresc_writes_submit(struct cresc_writes *w, struct cresc_write *wr,
                         const struct cresc_control *ctl, const struct cresc_view_snap *current)
{
    struct cresc_write *wakes = NULL;
    char *buf = NULL;
    size_t len = 0;
    bool final = true;
    memset(wr->reason, 0, sizeof(wr->reason));
    snprintf(wr->service, sizeof(wr->service), "%s", ctl->service);
    snprintf(wr->request_id, sizeof(wr->request_id), "%s", ctl->request_id);
    wr->outcome = CRESC_WRITE_PENDING;
    wr->snap = NULL;
    wr->_delivered = false;
    wr->_start_ms = mono_ms();
    wr->_delivered_ms = 0;
    wr->_next = NULL;
    wr->_wake_next = NULL;

    pthread_mutex_lock(&w->lock);
    if (current != NULL) {
        const struct cresc_ack *ack = cresc_view_snap_find_ack(current, wr->request_id);
        if (ack != NULL) {
            resolve_from_ack(w, wr, ack, current, &wakes);
            pthread_mutex_unlock(&w->lock);
            return true; /* wakes holds only wr, which the caller handles itself */
        }
    }
    if (w->closing) {
        resolve_locked(w, wr, CRESC_WRITE_UNAVAILABLE, "the API is shutting down", NULL, &wakes);
        pthread_mutex_unlock(&w->lock);
        return true;
    }
    if (w->n_pending >= w->max_pending) {
        resolve_locked(w, wr, CRESC_WRITE_UNAVAILABLE, "too many writes in flight", NULL, &wakes);
        pthread_mutex_unlock(&w->lock);
        return true;
    }
    wr->_seq = w->next_seq++;
    wr->_deadline_ms = mono_ms() + w->timeout_ms;
    wr->_next = w->pending;
    wr->_listed = true;
    w->pending = wr;
    w->n_pending++;
    pthread_mutex_unlock(&w->lock);

    struct cresc_control c = *ctl;
    c.issued_at_ms = wall_ms();
    buf = malloc(CRESC_CONTROL_MAX_BYTES);
    int rc = buf ? cresc_control_encode(&c, buf, CRESC_CONTROL_MAX_BYTES, &len) : CRESC_ENOMEM;
    if (rc != CRESC_OK) {
        final = fail_listed(w, wr, cresc_strerror(rc));
        goto out;
    }
    /* rd_kafka_produceva rather than the producev macros, which are GNU extensions. */
    rd_kafka_vu_t vu[5];
    memset(vu, 0, sizeof(vu));
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = w->topic;
    vu[1].vtype = RD_KAFKA_VTYPE_KEY;
    vu[1].u.mem.ptr = wr->service;
    vu[1].u.mem.size = strlen(wr->service);
    vu[2].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[2].u.mem.ptr = buf;
    vu[2].u.mem.size = len;
    vu[3].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[3].u.i = RD_KAFKA_MSG_F_COPY;
    vu[4].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vu[4].u.ptr = (void *)(uintptr_t)wr->_seq;
    pthread_rwlock_rdlock(&w->rk_lock);
    rd_kafka_error_t *kerror = rd_kafka_produceva(w->rk, vu, 5);
    pthread_rwlock_unlock(&w->rk_lock);
    rd_kafka_resp_err_t kerr = kerror ? rd_kafka_error_code(kerror) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (kerror != NULL) {
        rd_kafka_error_destroy(kerror);
    }
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        char reason[CRESC_REASON_MAX];
        snprintf(reason, sizeof(reason), "cannot queue the command: %s", rd_kafka_err2str(kerr));
        final = fail_listed(w, wr, reason);
        goto out;
    }
    final = false;
out:
    free(buf);
    return final;
}

void cresc_writes_finish(struct cresc_writes *w, struct cresc_write *wr)
{
    pthread_mutex_lock(&w->lock);
    if (wr->_listed) {
        for (struct cresc_write **pp = &w->pending; *pp != NULL; pp = &(*pp)->_next) {
            if (*pp == wr) {
                *pp = wr->_next;
                w->n_pending--;
                break;
            }
        }
        wr->_listed = false;
    }
    pthread_mutex_unlock(&w->lock);
    cresc_view_snap_put(wr->snap);
    wr->snap = NULL;
}

uint64_t cresc_writes_count(const struct cresc_writes *w, enum cresc_write_outcome o)
{
    struct cresc_writes *m = (struct cresc_writes *)(uintptr_t)w;
    return (unsigned)o < CRESC_WRITE_OUTCOME_COUNT ? atomic_load(&m->counts[o]) : 0;
}

int cresc_writes_pending(struct cresc_writes *w)
{
    pthread_mutex_lock(&w->lock);
    int n = w->n_pending;
    pthread_mutex_unlock(&w->lock);
    return n;
}

void cresc_writes_test_fatal(struct cresc_writes *w)
{
    pthread_rwlock_rdlock(&w->rk_lock);
    rd_kafka_test_fatal_error(w->rk, RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                              "test: simulated fatal idempotence error");
    pthread_rwlock_unlock(&w->rk_lock);
}
