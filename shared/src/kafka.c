/* Thin librdkafka wrapper shared by the daemons (see cresc/kafka.h): client configuration with
 * logs routed to cresc_log, topic names, idempotent topic creation through the Admin API, an
 * idempotent producer that counts delivery reports and remembers fatal errors, and a consumer
 * helper. Only APIs present in librdkafka 2.0.2 are used, so newer versions build too. */
#include "cresc/kafka.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cresc/log.h"

#define KAFKA_TOPIC_NAME_MAX 249 /* Kafka's own limit on topic names */

struct cresc_producer {
    rd_kafka_t *rk;
    cresc_delivery_cb on_delivery;
    void *opaque;
    _Atomic uint64_t sent, delivered, failed;
    atomic_bool fatal;
    int last_logged_err; /* delivery error last logged, so a dead broker logs once, not per msg */
};

struct cresc_consumer {
    rd_kafka_t *rk;
    void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque);
    void *rebalance_opaque;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool topic_char_ok(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

int cresc_topics_init(struct cresc_topics *t, const char *prefix)
{
    static const char longest_suffix[] = "decisions";
    if (t == NULL || prefix == NULL) {
        return CRESC_EINVAL;
    }
    size_t len = strnlen(prefix, KAFKA_TOPIC_NAME_MAX + 1);
    if (len + sizeof(longest_suffix) - 1 > KAFKA_TOPIC_NAME_MAX) {
        return CRESC_EINVAL;
    }
    for (size_t i = 0; i < len; i++) {
        if (!topic_char_ok(prefix[i])) {
            return CRESC_EINVAL;
        }
    }
    snprintf(t->samples, sizeof(t->samples), "%ssamples", prefix);
    snprintf(t->control, sizeof(t->control), "%scontrol", prefix);
    snprintf(t->decisions, sizeof(t->decisions), "%sdecisions", prefix);
    snprintf(t->commands, sizeof(t->commands), "%scommands", prefix);
    snprintf(t->state, sizeof(t->state), "%sstate", prefix);
    return CRESC_OK;
}

/* ---- configuration ------------------------------------------------------------------------ */

static enum cresc_log_level syslog_to_level(int level)
{
    if (level <= 2) {
        return CRESC_LOG_CRITICAL;
    }
    if (level == 3) {
        return CRESC_LOG_ERROR;
    }
    if (level == 4) {
        return CRESC_LOG_WARNING;
    }
    if (level <= 6) {
        return CRESC_LOG_INFO;
    }
    return CRESC_LOG_DEBUG;
}

/* Called on librdkafka's threads; cresc_log is thread-safe. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    cresc_log(syslog_to_level(level), CRESC_LOGGER_KAFKA, "%s: %s: %s", rd_kafka_name(rk), fac,
              buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_KAFKA, "%s: fatal error %s: %s", rd_kafka_name(rk),
                  rd_kafka_err2name(orig), why);
        return;
    }
    cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_KAFKA, "%s: %s: %s", rd_kafka_name(rk),
              rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *err,
                    size_t errlen)
{
    char why[512];
    if (rd_kafka_conf_set(conf, key, value, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
        /* The value is not shown: it may be a password. */
        cresc_errf(err, errlen, "Kafka property %s rejected: %s", key, why);
        return CRESC_EINVAL;
    }
    return CRESC_OK;
}

int cresc_kafka_conf_new(const struct cresc_kafka_conf *kc, rd_kafka_conf_t **out, char *err,
                         size_t errlen)
{
    int rc;
    *out = NULL;
    if (kc == NULL || kc->brokers == NULL || kc->brokers[0] == '\0') {
        cresc_errf(err, errlen, "no Kafka bootstrap servers given (KAFKA_BROKERS)");
        return CRESC_EINVAL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (conf == NULL) {
        return CRESC_ENOMEM;
    }
    /* Idle connections closed by the broker are normal; don't log each one. */
    rc = conf_set(conf, "log.connection.close", "false", err, errlen);
    if (rc != CRESC_OK) {
        goto fail;
    }
    rc = conf_set(conf, "bootstrap.servers", kc->brokers, err, errlen);
    if (rc != CRESC_OK) {
        goto fail;
    }
    if (kc->client_id != NULL) {
        rc = conf_set(conf, "client.id", kc->client_id, err, errlen);
        if (rc != CRESC_OK) {
            goto fail;
        }
    }
    for (size_t i = 0; kc->props != NULL && i < kc->props->n; i++) {
        rc = conf_set(conf, kc->props->items[i].key, kc->props->items[i].value, err, errlen);
        if (rc != CRESC_OK) {
            goto fail;
        }
    }
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
    *out = conf;
    return CRESC_OK;
fail:
    rd_kafka_conf_destroy(conf);
    return rc;
}

/* ---- topics --------------------------------------------------------------------------------- */

static int metadata_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, int *out)
{
    const struct rd_kafka_metadata *md = NULL;
    /* All topics, not just this one: a single-topic request may auto-create it. */
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (e == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        return CRESC_ETIMEDOUT;
    }
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return CRESC_EKAFKA;
    }
    int rc = CRESC_ENOTFOUND;
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, topic) == 0) {
            if (md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                md->topics[i].partition_cnt > 0) {
                *out = md->topics[i].partition_cnt;
                rc = CRESC_OK;
            }
            break;
        }
    }
    rd_kafka_metadata_destroy(md);
    return rc;
}

int cresc_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms, int *out)
{
    if (rk == NULL || topic == NULL || out == NULL) {
        return CRESC_EINVAL;
    }
    return metadata_partitions(rk, topic, timeout_ms, out);
}

/* Waits for one admin result event on q; NULL on timeout. */
static rd_kafka_event_t *wait_admin(rd_kafka_queue_t *q, rd_kafka_event_type_t type, int timeout_ms)
{
    int64_t deadline = mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = deadline - mono_ms();
        if (left <= 0) {
            return NULL;
        }
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, (int)left);
        if (ev == NULL) {
            return NULL;
        }
        if (rd_kafka_event_type(ev) == type) {
            return ev;
        }
        rd_kafka_event_destroy(ev);
    }
}

static int create_topics(rd_kafka_t *rk, const struct cresc_topics *t, int partitions,
                         int replication, int timeout_ms, char *err, size_t errlen)
{
    const char *names[] = {t->samples, t->control, t->decisions, t->commands, t->state};
    enum { N = 5 };
    rd_kafka_NewTopic_t *nt[N] = {0};
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_event_t *ev = NULL;
    char why[512];
    int rc = CRESC_OK;

    for (size_t i = 0; i < N; i++) {
        nt[i] = rd_kafka_NewTopic_new(names[i], partitions, replication, why, sizeof(why));
        if (nt[i] == NULL) {
            cresc_errf(err, errlen, "topic %s: %s", names[i], why);
            rc = CRESC_EINVAL;
            goto out;
        }
    }
    /* The state topic holds one full snapshot per service: only the latest per key matters. */
    if (rd_kafka_NewTopic_set_config(nt[4], "cleanup.policy", "compact") !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = CRESC_EINVAL;
        goto out;
    }
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (opts == NULL ||
        rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, why, sizeof(why)) != 0 ||
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, why, sizeof(why)) != 0) {
        cresc_errf(err, errlen, "admin options: %s", opts == NULL ? "out of memory" : why);
        rc = CRESC_EKAFKA;
        goto out;
    }
    q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, nt, N, opts, q);
    ev = wait_admin(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, timeout_ms + 1000);
    if (ev == NULL) {
        cresc_errf(err, errlen, "creating topics: no answer from Kafka within %d ms", timeout_ms);
        rc = CRESC_ETIMEDOUT;
        goto out;
    }
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cresc_errf(err, errlen, "creating topics: %s", rd_kafka_event_error_string(ev));
        rc = rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__TIMED_OUT ? CRESC_ETIMEDOUT
                                                                      : CRESC_EKAFKA;
        goto out;
    }
    size_t cnt = 0;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
        const char *name = rd_kafka_topic_result_name(res[i]);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
            cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_KAFKA, "Created topic %s", name);
        } else if (e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            const char *msg = rd_kafka_topic_result_error_string(res[i]);
            cresc_errf(err, errlen, "creating topic %s: %s: %s", name, rd_kafka_err2name(e),
                       msg != NULL ? msg : rd_kafka_err2str(e));
            rc = e == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                         e == RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED
                     ? CRESC_EAUTH
                     : CRESC_EKAFKA;
            goto out;
        }
    }
out:
    if (ev != NULL) {
        rd_kafka_event_destroy(ev);
    }
    if (q != NULL) {
        rd_kafka_queue_destroy(q);
    }
    if (opts != NULL) {
        rd_kafka_AdminOptions_destroy(opts);
    }
    for (size_t i = 0; i < N; i++) {
        if (nt[i] != NULL) {
            rd_kafka_NewTopic_destroy(nt[i]);
        }
    }
    return rc;
}

/* An existing state topic created by someone else may lack compaction: say so (not fatal,
 * the snapshots still work, but old ones are then lost to retention, not to compaction). */
static void check_state_compacted(rd_kafka_t *rk, const char *topic, int timeout_ms)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_event_t *ev = NULL;
    if (res == NULL || q == NULL) {
        goto out;
    }
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    ev = wait_admin(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, timeout_ms);
    if (ev == NULL || rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        goto out;
    }
    size_t n = 0;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        size_t ne = 0;
        const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(rs[i], &ne);
        for (size_t j = 0; j < ne; j++) {
            if (strcmp(rd_kafka_ConfigEntry_name(entries[j]), "cleanup.policy") != 0) {
                continue;
            }
            const char *v = rd_kafka_ConfigEntry_value(entries[j]);
            if (v == NULL || strstr(v, "compact") == NULL) {
                cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_KAFKA,
                          "Topic %s has cleanup.policy=%s; crescendo expects compact", topic,
                          v != NULL ? v : "(none)");
            }
        }
    }
out:
    if (ev != NULL) {
        rd_kafka_event_destroy(ev);
    }
    if (q != NULL) {
        rd_kafka_queue_destroy(q);
    }
    if (res != NULL) {
        rd_kafka_ConfigResource_destroy(res);
    }
}

/* librdkafka's mock cluster (crescendo-embedded-broker, unit tests) answers no
 * DescribeConfigs: asking would only wait out the timeout. Its cluster id gives it away. */
static bool is_mock_cluster(rd_kafka_t *rk, int timeout_ms)
{
    char *id = rd_kafka_clusterid(rk, timeout_ms);
    bool mock = id != NULL && strncmp(id, "mockCluster", strlen("mockCluster")) == 0;
    if (id != NULL) {
        rd_kafka_mem_free(rk, id);
    }
    return mock;
}

static bool all_topics_exist(rd_kafka_t *rk, const struct cresc_topics *t, int timeout_ms)
{
    const char *names[] = {t->samples, t->control, t->decisions, t->commands, t->state};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int n = 0;
        if (metadata_partitions(rk, names[i], timeout_ms, &n) != CRESC_OK) {
            return false;
        }
    }
    return true;
}

int cresc_kafka_ensure_topics(const struct cresc_kafka_conf *kc, const struct cresc_topics *t,
                              int partitions, int replication, int timeout_ms, char *err,
                              size_t errlen)
{
    rd_kafka_conf_t *conf = NULL;
    rd_kafka_t *rk = NULL;
    char why[512];
    int rc = cresc_kafka_conf_new(kc, &conf, err, errlen);
    if (rc != CRESC_OK) {
        return rc;
    }
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        cresc_errf(err, errlen, "Kafka admin client: %s", why);
        return CRESC_EKAFKA;
    }
    int64_t deadline = mono_ms() + timeout_ms;
    /* Topics that all exist need no Admin call: that keeps a restart cheap and works on
     * clusters without CreateTopics (librdkafka's mock cluster, restrictive ACLs). */
    if (!all_topics_exist(rk, t, timeout_ms)) {
        rc = create_topics(rk, t, partitions, replication, timeout_ms, err, errlen);
        if (rc != CRESC_OK) {
            goto out;
        }
    }
    /* A freshly created topic takes a moment to show up in every broker's metadata. */
    int n_samples = 0, n_control = 0;
    for (;;) {
        int left = (int)(deadline - mono_ms());
        if (left < 500) {
            left = 500;
        }
        rc = metadata_partitions(rk, t->samples, left, &n_samples);
        if (rc == CRESC_OK) {
            rc = metadata_partitions(rk, t->control, left, &n_control);
        }
        if (rc != CRESC_ENOTFOUND || mono_ms() >= deadline) {
            break;
        }
        struct timespec pause = {0, 100 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (rc != CRESC_OK) {
        cresc_errf(err, errlen, "topics %s/%s not visible in metadata: %s", t->samples, t->control,
                   cresc_strerror(rc));
        goto out;
    }
    if (n_samples != n_control) {
        cresc_errf(
            err, errlen,
            "topic %s has %d partitions but %s has %d: they must be equal so one coordinator "
            "owns both streams of a service",
            t->samples, n_samples, t->control, n_control);
        rc = CRESC_ECONFLICT;
        goto out;
    }
    if (partitions > 0 && n_samples != partitions) {
        cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_KAFKA,
                  "Topic %s exists with %d partitions (requested %d); using it as it is",
                  t->samples, n_samples, partitions);
    }
    if (!is_mock_cluster(rk, timeout_ms)) {
        check_state_compacted(rk, t->state, timeout_ms);
    }
out:
    rd_kafka_destroy(rk);
    return rc;
}

/* ---- producer ------------------------------------------------------------------------------- */

static int map_err(rd_kafka_resp_err_t e)
{
    /* An int switch: librdkafka's enum has hundreds of codes and most mean "Kafka error". */
    switch ((int)e) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return CRESC_OK;
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return CRESC_EFULL;
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
        return CRESC_ETIMEDOUT;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        return CRESC_ETOOBIG;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
        return CRESC_ENOTFOUND;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        return CRESC_EAUTH;
    case RD_KAFKA_RESP_ERR__FENCED:
    case RD_KAFKA_RESP_ERR_PRODUCER_FENCED:
    case RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
        return CRESC_EFENCED;
    default:
        return CRESC_EKAFKA;
    }
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct cresc_producer *p = opaque;
    (void)rk;
    int err = map_err(m->err);
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        atomic_fetch_add(&p->delivered, 1);
    } else {
        atomic_fetch_add(&p->failed, 1);
        if ((int)m->err != p->last_logged_err) {
            p->last_logged_err = (int)m->err;
            cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_KAFKA,
                      "Delivery to %s failed: %s (further failures with this error not logged)",
                      m->rkt != NULL ? rd_kafka_topic_name(m->rkt) : "?", rd_kafka_err2str(m->err));
        }
    }
    if (p->on_delivery != NULL) {
        p->on_delivery(p->opaque, m->_private, err,
                       m->err == RD_KAFKA_RESP_ERR_NO_ERROR ? m->offset : -1);
    }
}

static void on_producer_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct cresc_producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        atomic_store(&p->fatal, true);
    }
    on_error(rk, err, reason, NULL);
}

int cresc_producer_new(const struct cresc_producer_opts *opts, struct cresc_producer **out,
                       char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = NULL;
    char num[32], why[512];
    *out = NULL;
    struct cresc_producer *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return CRESC_ENOMEM;
    }
    p->on_delivery = opts->on_delivery;
    p->opaque = opts->opaque;
    int rc = cresc_kafka_conf_new(opts->kafka, &conf, err, errlen);
    if (rc != CRESC_OK) {
        goto fail;
    }
    rc = conf_set(conf, "enable.idempotence", "true", err, errlen);
    if (rc == CRESC_OK && opts->transactional_id != NULL) {
        rc = conf_set(conf, "transactional.id", opts->transactional_id, err, errlen);
    }
    if (rc == CRESC_OK && opts->message_timeout_ms > 0) {
        snprintf(num, sizeof(num), "%d", opts->message_timeout_ms);
        rc = conf_set(conf, "message.timeout.ms", num, err, errlen);
    }
    if (rc == CRESC_OK && opts->queue_max_msgs > 0) {
        snprintf(num, sizeof(num), "%d", opts->queue_max_msgs);
        rc = conf_set(conf, "queue.buffering.max.messages", num, err, errlen);
    }
    if (rc == CRESC_OK && opts->linger_ms >= 0) {
        snprintf(num, sizeof(num), "%d", opts->linger_ms);
        rc = conf_set(conf, "linger.ms", num, err, errlen);
    }
    if (rc != CRESC_OK) {
        goto fail;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_error_cb(conf, on_producer_error);
    rd_kafka_conf_set_opaque(conf, p);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (p->rk == NULL) {
        cresc_errf(err, errlen, "Kafka producer: %s", why);
        rc = CRESC_EKAFKA;
        goto fail;
    }
    *out = p;
    return CRESC_OK;
fail:
    if (conf != NULL) {
        rd_kafka_conf_destroy(conf);
    }
    free(p);
    return rc;
}

void cresc_producer_free(struct cresc_producer *p)
{
    if (p == NULL) {
        return;
    }
    /* Not flushed on purpose (the caller decides how long to wait): drop what is left so
     * rd_kafka_destroy does not wait for message.timeout.ms. The caller's callback is not run
     * for the purged messages: its state may already be gone. */
    p->on_delivery = NULL;
    rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(p->rk, 0);
    rd_kafka_destroy(p->rk);
    free(p);
}

int cresc_producer_send(struct cresc_producer *p, const char *topic, const char *key,
                        const void *value, size_t len, void *msg_opaque)
{
    if (p == NULL || topic == NULL || (value == NULL && len > 0)) {
        return CRESC_EINVAL;
    }
    if (atomic_load(&p->fatal)) {
        return CRESC_EKAFKA;
    }
    /* librdkafka takes `void *` for key and value although it copies them (MSG_F_COPY). */
    union {
        const void *c;
        void *m;
    } v = {.c = value}, k = {.c = key};
    rd_kafka_vu_t vus[5];
    size_t n = 0;
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[n++].u.cstr = topic;
    if (key != NULL) {
        vus[n].vtype = RD_KAFKA_VTYPE_KEY;
        vus[n].u.mem.ptr = k.m;
        vus[n++].u.mem.size = strlen(key);
    }
    vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
    vus[n].u.mem.ptr = v.m;
    vus[n++].u.mem.size = len;
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[n++].u.ptr = msg_opaque;
    rd_kafka_error_t *e = rd_kafka_produceva(p->rk, vus, n);
    if (e == NULL) {
        atomic_fetch_add(&p->sent, 1);
        return CRESC_OK;
    }
    rd_kafka_resp_err_t code = rd_kafka_error_code(e);
    if (code == RD_KAFKA_RESP_ERR__FATAL || rd_kafka_error_is_fatal(e)) {
        atomic_store(&p->fatal, true);
    }
    rd_kafka_error_destroy(e);
    if (code == RD_KAFKA_RESP_ERR__FATAL) {
        return CRESC_EKAFKA;
    }
    return map_err(code);
}

int cresc_producer_poll(struct cresc_producer *p, int timeout_ms)
{
    return rd_kafka_poll(p->rk, timeout_ms);
}

int cresc_producer_flush(struct cresc_producer *p, int timeout_ms)
{
    rd_kafka_resp_err_t e = rd_kafka_flush(p->rk, timeout_ms);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return CRESC_OK;
    }
    return e == RD_KAFKA_RESP_ERR__TIMED_OUT ? CRESC_ETIMEDOUT : map_err(e);
}

int cresc_producer_outq_len(struct cresc_producer *p)
{
    return rd_kafka_outq_len(p->rk);
}

struct cresc_producer_stats cresc_producer_stats(const struct cresc_producer *p)
{
    struct cresc_producer_stats s = {
        .sent = atomic_load(&p->sent),
        .delivered = atomic_load(&p->delivered),
        .failed = atomic_load(&p->failed),
    };
    return s;
}

bool cresc_producer_fatal(const struct cresc_producer *p)
{
    return atomic_load(&p->fatal);
}

rd_kafka_t *cresc_producer_handle(struct cresc_producer *p)
{
    return p->rk;
}

/* ---- consumer ------------------------------------------------------------------------------- */

static void default_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                              rd_kafka_topic_partition_list_t *parts)
{
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    rd_kafka_error_t *e = NULL;
    rd_kafka_resp_err_t code = RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (cooperative) {
            e = rd_kafka_incremental_assign(rk, parts);
        } else {
            code = rd_kafka_assign(rk, parts);
        }
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        if (cooperative) {
            e = rd_kafka_incremental_unassign(rk, parts);
        } else {
            code = rd_kafka_assign(rk, NULL);
        }
    } else {
        cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_KAFKA, "Rebalance error: %s",
                  rd_kafka_err2str(err));
        code = rd_kafka_assign(rk, NULL);
    }
    if (e != NULL) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_KAFKA, "Incremental (un)assign failed: %s",
                  rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    } else if (code != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_KAFKA, "Assign failed: %s", rd_kafka_err2str(code));
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct cresc_consumer *c = opaque;
    if (c->rebalance_cb != NULL) {
        c->rebalance_cb(rk, err, parts, c->rebalance_opaque);
        return;
    }
    default_rebalance(rk, err, parts);
}

static int assign_all(struct cresc_consumer *c, const struct cresc_consumer_opts *opts, char *err,
                      size_t errlen)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(16);
    int rc = CRESC_OK;
    for (size_t i = 0; i < opts->n_topics; i++) {
        int n = 0;
        rc = metadata_partitions(c->rk, opts->topics[i], 10000, &n);
        if (rc != CRESC_OK) {
            cresc_errf(err, errlen, "topic %s: %s", opts->topics[i], cresc_strerror(rc));
            goto out;
        }
        for (int part = 0; part < n; part++) {
            rd_kafka_topic_partition_list_add(list, opts->topics[i], part)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        }
    }
    rd_kafka_resp_err_t e = rd_kafka_assign(c->rk, list);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cresc_errf(err, errlen, "assign: %s", rd_kafka_err2str(e));
        rc = CRESC_EKAFKA;
    }
out:
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

int cresc_consumer_new(const struct cresc_consumer_opts *opts, struct cresc_consumer **out,
                       char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = NULL;
    char num[32], why[512];
    *out = NULL;
    if (opts == NULL || opts->group_id == NULL || opts->topics == NULL || opts->n_topics == 0) {
        cresc_errf(err, errlen, "consumer needs a group id and at least one topic");
        return CRESC_EINVAL;
    }
    struct cresc_consumer *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return CRESC_ENOMEM;
    }
    c->rebalance_cb = opts->rebalance_cb;
    c->rebalance_opaque = opts->rebalance_opaque;
    int rc = cresc_kafka_conf_new(opts->kafka, &conf, err, errlen);
    if (rc != CRESC_OK) {
        goto fail;
    }
    rc = conf_set(conf, "group.id", opts->group_id, err, errlen);
    if (rc == CRESC_OK) {
        rc = conf_set(conf, "auto.offset.reset", "earliest", err, errlen);
    }
    if (rc == CRESC_OK) {
        rc = conf_set(conf, "isolation.level",
                      opts->read_committed ? "read_committed" : "read_uncommitted", err, errlen);
    }
    if (rc == CRESC_OK) {
        rc = conf_set(conf, "enable.partition.eof", opts->partition_eof ? "true" : "false", err,
                      errlen);
    }
    if (rc == CRESC_OK && opts->assign_from_beginning) {
        /* A replaying reader owns no offsets: committing them would only confuse the group. */
        rc = conf_set(conf, "enable.auto.commit", "false", err, errlen);
    }
    if (rc == CRESC_OK && opts->session_timeout_ms > 0) {
        snprintf(num, sizeof(num), "%d", opts->session_timeout_ms);
        rc = conf_set(conf, "session.timeout.ms", num, err, errlen);
    }
    for (size_t i = 0; rc == CRESC_OK && opts->extra != NULL && i < opts->extra->n; i++) {
        rc = conf_set(conf, opts->extra->items[i].key, opts->extra->items[i].value, err, errlen);
    }
    if (rc != CRESC_OK) {
        goto fail;
    }
    if (!opts->assign_from_beginning) {
        rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    }
    rd_kafka_conf_set_opaque(conf, c);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (c->rk == NULL) {
        cresc_errf(err, errlen, "Kafka consumer: %s", why);
        rc = CRESC_EKAFKA;
        goto fail;
    }
    conf = NULL; /* owned by c->rk now */
    /* Errors and logs are then served by cresc_consumer_poll on the caller's thread. */
    rd_kafka_poll_set_consumer(c->rk);
    if (opts->assign_from_beginning) {
        rc = assign_all(c, opts, err, errlen);
    } else {
        rd_kafka_topic_partition_list_t *list =
            rd_kafka_topic_partition_list_new((int)opts->n_topics);
        for (size_t i = 0; i < opts->n_topics; i++) {
            rd_kafka_topic_partition_list_add(list, opts->topics[i], RD_KAFKA_PARTITION_UA);
        }
        rd_kafka_resp_err_t e = rd_kafka_subscribe(c->rk, list);
        rd_kafka_topic_partition_list_destroy(list);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            cresc_errf(err, errlen, "subscribe: %s", rd_kafka_err2str(e));
            rc = CRESC_EKAFKA;
        }
    }
    if (rc != CRESC_OK) {
        goto fail;
    }
    *out = c;
    return CRESC_OK;
fail:
    if (conf != NULL) {
        rd_kafka_conf_destroy(conf);
    }
    if (c->rk != NULL) {
        rd_kafka_destroy(c->rk);
    }
    free(c);
    return rc;
}

void cresc_consumer_free(struct cresc_consumer *c)
{
    if (c == NULL) {
        return;
    }
    rd_kafka_resp_err_t e = rd_kafka_consumer_close(c->rk);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_KAFKA, "Consumer close: %s", rd_kafka_err2str(e));
    }
    rd_kafka_destroy(c->rk);
    free(c);
}

rd_kafka_message_t *cresc_consumer_poll(struct cresc_consumer *c, int timeout_ms)
{
    return rd_kafka_consumer_poll(c->rk, timeout_ms);
}

rd_kafka_t *cresc_consumer_handle(struct cresc_consumer *c)
{
    return c->rk;
}
