/* crescendo-api's view of <prefix>state. One thread owns the consumer and the per-service
 * table; HTTP threads only take a read lock long enough to bump a snapshot's reference
 * count. Readiness follows docs/notes: "caught up" is the first PARTITION_EOF on every
 * partition, which works after transaction markers and compaction gaps too. */
#include "view.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cresc/log.h"
#include "render.h"

#define POLL_MS         100
#define METADATA_MS     2000
#define LAG_INTERVAL_MS 1000
#define STASH_MAX_BYTES (256u * 1024u * 1024u) /* raw records held while replaying */

struct entry {
    char service[CRESC_ID_MAX + 1];
    struct cresc_view_snap *snap;
};

struct cresc_view {
    rd_kafka_t *rk;
    char topic[CRESC_TOPIC_MAX];
    cresc_view_state_cb on_state;
    void *opaque;
    void (*cache_free)(void *obj);
    pthread_t thread;
    bool thread_started;
    atomic_bool stop;

    pthread_rwlock_t lock; /* guards entries/n_entries */
    struct entry *entries; /* sorted by service */
    size_t n_entries;
    size_t cap_entries;

    /* Owned by the view thread. */
    json_t *stash; /* while replaying: service -> newest raw record (string) or null */
    size_t stash_bytes;
    int partitions;
    bool *eof_seen;
    int64_t *next_offset;

    /* Published for other threads. */
    atomic_bool ready;
    atomic_int_fast64_t lag;
    atomic_uint_fast64_t records;
    atomic_uint_fast64_t rejected;
    atomic_int n_partitions;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- snapshots ------------------------------------------------------------------------ */

static void snap_free(struct cresc_view_snap *s)
{
    if (s == NULL) {
        return;
    }
    for (size_t i = 0; i < CRESC_VIEW_SNAP_CACHE; i++) {
        void *obj = atomic_load(&s->_cache[i]);
        if (obj != NULL && s->_cache_free != NULL) {
            s->_cache_free(obj);
        }
    }
    cresc_state_release(&s->st);
    free(s->status);
    free(s->decision);
    free(s->config);
    free(s->priorities);
    free(s);
}

static char *render_to(json_t *doc, size_t *len)
{
    char *s = NULL;
    if (doc != NULL) {
        s = cresc_render_dump(doc, len);
        json_decref(doc);
    }
    return s;
}

struct cresc_view_snap *cresc_view_snap_new(struct cresc_state *st)
{
    struct cresc_view_snap *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return NULL;
    }
    atomic_init(&s->_refs, 1);
    for (size_t i = 0; i < CRESC_VIEW_SNAP_CACHE; i++) {
        atomic_init(&s->_cache[i], NULL);
    }
    s->st = *st;
    memset(st, 0, sizeof(*st));
    s->status = render_to(cresc_render_status(&s->st), &s->status_len);
    s->decision = render_to(cresc_render_decision(&s->st), &s->decision_len);
    s->config = render_to(cresc_render_config(&s->st), &s->config_len);
    s->priorities = render_to(cresc_render_priorities(&s->st), &s->priorities_len);
    if (!s->status || !s->decision || !s->config || !s->priorities) {
        snap_free(s);
        return NULL;
    }
    return s;
}

const struct cresc_view_snap *cresc_view_snap_ref(const struct cresc_view_snap *s)
{
    if (s != NULL) {
        struct cresc_view_snap *m = (struct cresc_view_snap *)(uintptr_t)s;
        atomic_fetch_add_explicit(&m->_refs, 1, memory_order_relaxed);
    }
    return s;
}

void cresc_view_snap_put(const struct cresc_view_snap *s)
{
    if (s == NULL) {
        return;
    }
    struct cresc_view_snap *m = (struct cresc_view_snap *)(uintptr_t)s;
    if (atomic_fetch_sub_explicit(&m->_refs, 1, memory_order_acq_rel) == 1) {
        snap_free(m);
    }
}

const struct cresc_ack *cresc_view_snap_find_ack(const struct cresc_view_snap *s,
                                                 const char *request_id)
{
    /* Newest last: search backwards, a retry is most likely recent. */
    for (size_t i = s->st.n_acks; i > 0; i--) {
        if (strcmp(s->st.acks[i - 1].request_id, request_id) == 0) {
            return &s->st.acks[i - 1];
        }
    }
    return NULL;
}

const struct cresc_priority *cresc_view_snap_find_priority(const struct cresc_view_snap *s,
                                                           const char *match_id)
{
    for (size_t i = 0; i < s->st.n_priorities; i++) {
        if (strcmp(s->st.priorities[i].match_id, match_id) == 0) {
            return &s->st.priorities[i];
        }
    }
    return NULL;
}

/* ---- the table ------------------------------------------------------------------------ */

static int entry_cmp(const void *key, const void *elem)
{
    return strcmp((const char *)key, ((const struct entry *)elem)->service);
}

/* Index of service, or -(insertion point) - 1. Caller holds the lock. */
static ptrdiff_t table_find(const struct cresc_view *v, const char *service)
{
    size_t lo = 0, hi = v->n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = entry_cmp(service, &v->entries[mid]);
        if (c == 0) {
            return (ptrdiff_t)mid;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return -(ptrdiff_t)lo - 1;
}

const struct cresc_view_snap *cresc_view_get(struct cresc_view *v, const char *service)
{
    const struct cresc_view_snap *s = NULL;
    pthread_rwlock_rdlock(&v->lock);
    ptrdiff_t i = table_find(v, service);
    if (i >= 0) {
        s = cresc_view_snap_ref(v->entries[i].snap);
    }
    pthread_rwlock_unlock(&v->lock);
    return s;
}

/* Publish snap for its service (snap's reference moves into the table). Returns false when
 * the table is full or out of memory (snap is then released). Stale snapshots (an older
 * owner epoch, or an older sequence of the same owner) are ignored. */
static bool table_put(struct cresc_view *v, struct cresc_view_snap *snap)
{
    struct cresc_view_snap *old = NULL;
    bool ok = true;
    pthread_rwlock_wrlock(&v->lock);
    ptrdiff_t i = table_find(v, snap->st.service);
    if (i >= 0) {
        old = v->entries[i].snap;
        if (snap->st.owner_epoch < old->st.owner_epoch ||
            (snap->st.owner_epoch == old->st.owner_epoch &&
             snap->st.state_seq < old->st.state_seq)) {
            old = snap; /* stale: drop the new one */
            ok = false;
        } else {
            v->entries[i].snap = snap;
        }
    } else {
        size_t at = (size_t)(-i - 1);
        if (v->n_entries >= CRESC_VIEW_SERVICES_MAX) {
            old = snap;
            ok = false;
        } else {
            if (v->n_entries == v->cap_entries) {
                size_t cap = v->cap_entries ? v->cap_entries * 2 : 16;
                struct entry *e = realloc(v->entries, cap * sizeof(*e));
                if (e == NULL) {
                    old = snap;
                    ok = false;
                    goto out;
                }
                v->entries = e;
                v->cap_entries = cap;
            }
            memmove(&v->entries[at + 1], &v->entries[at],
                    (v->n_entries - at) * sizeof(*v->entries));
            snprintf(v->entries[at].service, sizeof(v->entries[at].service), "%s",
                     snap->st.service);
            v->entries[at].snap = snap;
            v->n_entries++;
        }
    }
out:
    pthread_rwlock_unlock(&v->lock);
    cresc_view_snap_put(old);
    return ok;
}

static void table_remove(struct cresc_view *v, const char *service)
{
    struct cresc_view_snap *old = NULL;
    pthread_rwlock_wrlock(&v->lock);
    ptrdiff_t i = table_find(v, service);
    if (i >= 0) {
        old = v->entries[i].snap;
        memmove(&v->entries[i], &v->entries[i + 1],
                (v->n_entries - (size_t)i - 1) * sizeof(*v->entries));
        v->n_entries--;
    }
    pthread_rwlock_unlock(&v->lock);
    cresc_view_snap_put(old);
}

/* ---- the consumer thread -------------------------------------------------------------- */

/* Partition count of the topic; 0 while it does not exist. */
static int topic_partitions(struct cresc_view *v)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(v->rk, v->topic, NULL);
    int n = 0;
    if (rkt == NULL) {
        return 0;
    }
    if (rd_kafka_metadata(v->rk, 0, rkt, &md, METADATA_MS) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            n = md->topics[0].partition_cnt;
        }
        rd_kafka_metadata_destroy(md);
    }
    rd_kafka_topic_destroy(rkt);
    return n;
}

static bool assign_all(struct cresc_view *v)
{
    static struct cresc_log_once missing = CRESC_LOG_ONCE_INIT;
    int n = topic_partitions(v);
    if (n <= 0) {
        cresc_log_once(&missing, CRESC_LOG_WARNING, CRESC_LOGGER_API,
                       "State topic %s not found yet; not ready until it exists", v->topic);
        return false;
    }
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(n);
    for (int p = 0; p < n; p++) {
        rd_kafka_topic_partition_list_add(parts, v->topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_resp_err_t err = rd_kafka_assign(v->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_API, "Cannot assign %s: %s", v->topic,
                  rd_kafka_err2str(err));
        return false;
    }
    v->eof_seen = calloc((size_t)n, sizeof(*v->eof_seen));
    v->next_offset = calloc((size_t)n, sizeof(*v->next_offset));
    if (v->eof_seen == NULL || v->next_offset == NULL) {
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_API, "out of memory");
        abort();
    }
    for (int p = 0; p < n; p++) {
        v->next_offset[p] = -1;
    }
    v->partitions = n;
    atomic_store(&v->n_partitions, n);
    cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_API, "Reading %s from the beginning (%d partitions)",
              v->topic, n);
    return true;
}

static void update_lag(struct cresc_view *v)
{
    int64_t lag = 0;
    for (int p = 0; p < v->partitions; p++) {
        int64_t lo = -1, hi = -1;
        if (rd_kafka_get_watermark_offsets(v->rk, v->topic, p, &lo, &hi) !=
                RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0) {
            atomic_store(&v->lag, -1);
            return;
        }
        int64_t next = v->next_offset[p] >= 0 ? v->next_offset[p] : (lo > 0 ? lo : 0);
        if (hi > next) {
            lag += hi - next;
        }
    }
    atomic_store(&v->lag, v->partitions > 0 ? lag : -1);
}

/* Decode and publish one record's value (NULL: a tombstone for `key`). */
static void apply_payload(struct cresc_view *v, const char *key, const void *payload, size_t len)
{
    static struct cresc_log_once bad_key = CRESC_LOG_ONCE_INIT;
    static struct cresc_log_once full = CRESC_LOG_ONCE_INIT;
    if (payload == NULL) {
        /* Tombstone: the service is gone. */
        if (key[0] != '\0') {
            table_remove(v, key);
        }
        return;
    }
    struct cresc_state st;
    struct cresc_msg_error merr;
    memset(&merr, 0, sizeof(merr));
    if (cresc_state_decode(payload, len, &st, &merr) != CRESC_OK) {
        atomic_fetch_add(&v->rejected, 1);
        cresc_msg_reject(CRESC_MSG_STATE, &merr);
        return;
    }
    if (key[0] != '\0' && strcmp(key, st.service) != 0) {
        cresc_log_once(&bad_key, CRESC_LOG_WARNING, CRESC_LOGGER_API,
                       "State record keyed %s carries service %s; using the service field", key,
                       st.service);
    }
    struct cresc_view_snap *snap = cresc_view_snap_new(&st);
    if (snap == NULL) {
        cresc_state_release(&st);
        cresc_log(CRESC_LOG_CRITICAL, CRESC_LOGGER_API, "out of memory rendering a snapshot");
        abort();
    }
    snap->_cache_free = v->cache_free;
    /* Keep a reference for the callback: the table may replace it at once. */
    cresc_view_snap_ref(snap);
    if (!table_put(v, snap)) {
        if (v->n_entries >= CRESC_VIEW_SERVICES_MAX) {
            cresc_log_once(&full, CRESC_LOG_ERROR, CRESC_LOGGER_API,
                           "More than %d services in %s; ignoring the rest",
                           CRESC_VIEW_SERVICES_MAX, v->topic);
        }
    }
    if (v->on_state != NULL) {
        v->on_state(v->opaque, snap);
    }
    cresc_view_snap_put(snap);
}

/* Publish the newest stashed record of every service (see handle_record). */
static void stash_flush(struct cresc_view *v)
{
    const char *key;
    json_t *val;
    json_object_foreach(v->stash, key, val)
    {
        if (json_is_null(val)) {
            apply_payload(v, key, NULL, 0);
        } else {
            apply_payload(v, key, json_string_value(val), json_string_length(val));
        }
    }
    json_object_clear(v->stash);
    v->stash_bytes = 0;
}

static void handle_record(struct cresc_view *v, const rd_kafka_message_t *m)
{
    char key[CRESC_ID_MAX + 1] = "";
    if (m->key != NULL && m->key_len > 0 && m->key_len <= CRESC_ID_MAX) {
        memcpy(key, m->key, m->key_len);
        key[m->key_len] = '\0';
    }
    atomic_fetch_add(&v->records, 1);
    /* While replaying, only the newest record of each service matters (nobody reads the view
       and no write waits yet): keep the raw bytes per key and decode once at the end. An
       uncompacted state topic holds a record per service per tick, and decoding each costs
       milliseconds. Snapshots are ordered by log position within a key's partition, which the
       coordinator's fenced transactions make the owners' order too. */
    if (!atomic_load(&v->ready) && key[0] != '\0' && cresc_id_valid(key)) {
        json_t *val = m->payload ? json_stringn_nocheck(m->payload, m->len) : json_null();
        json_t *old = json_object_get(v->stash, key);
        if (val != NULL) {
            size_t old_len = json_is_string(old) ? json_string_length(old) : 0;
            if (json_object_set_new(v->stash, key, val) == 0) {
                v->stash_bytes = v->stash_bytes - old_len + (m->payload ? m->len : 0);
                if (v->stash_bytes > STASH_MAX_BYTES) {
                    stash_flush(v); /* bounded memory: publish what we have so far */
                }
                return;
            }
        }
    }
    apply_payload(v, key, m->payload, m->payload ? m->len : 0);
}

static void handle_eof(struct cresc_view *v, int32_t partition)
{
    if (partition < 0 || partition >= v->partitions || v->eof_seen[partition]) {
        return;
    }
    v->eof_seen[partition] = true;
    for (int p = 0; p < v->partitions; p++) {
        if (!v->eof_seen[p]) {
            return;
        }
    }
    stash_flush(v); /* before "ready": a ready view knows every service */
    update_lag(v);
    if (!atomic_exchange(&v->ready, true)) {
        pthread_rwlock_rdlock(&v->lock);
        size_t n = v->n_entries;
        pthread_rwlock_unlock(&v->lock);
        cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_API,
                  "View caught up with %s: %zu services, %" PRIuFAST64 " records", v->topic, n,
                  atomic_load(&v->records));
    }
}

static void *view_main(void *arg)
{
    struct cresc_view *v = arg;
    int64_t next_lag = 0, next_assign = 0;
    while (!atomic_load(&v->stop)) {
        int64_t now = mono_ms();
        if (v->partitions == 0) {
            if (now < next_assign || !assign_all(v)) {
                if (now >= next_assign) {
                    next_assign = now + 1000;
                }
                struct timespec ts = {0, 100 * 1000000L};
                nanosleep(&ts, NULL);
                continue;
            }
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(v->rk, POLL_MS);
        if (m != NULL) {
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                /* The end offset: transaction markers after the last record count as read. */
                if (m->partition >= 0 && m->partition < v->partitions) {
                    v->next_offset[m->partition] = m->offset;
                }
                handle_eof(v, m->partition);
            } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_API, "State consumer: %s",
                          rd_kafka_message_errstr(m));
            } else {
                if (m->partition >= 0 && m->partition < v->partitions) {
                    v->next_offset[m->partition] = m->offset + 1;
                }
                handle_record(v, m);
            }
            rd_kafka_message_destroy(m);
        }
        if (now >= next_lag) {
            update_lag(v);
            next_lag = now + LAG_INTERVAL_MS;
        }
    }
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------------ */

static int set_prop(rd_kafka_conf_t *conf, const char *k, const char *val, char *err, size_t errlen)
{
    char e[256];
    if (rd_kafka_conf_set(conf, k, val, e, sizeof(e)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "view consumer property %s: %s", k, e);
        return CRESC_EKAFKA;
    }
    return CRESC_OK;
}

int cresc_view_new(const struct cresc_view_opts *opts, struct cresc_view **out, char *err,
                   size_t errlen)
{
    int rc;
    rd_kafka_conf_t *conf = NULL;
    char group[CRESC_ID_MAX + 64];
    char host[64] = "host";
    uint32_t rnd = 0;
    struct cresc_view *v = calloc(1, sizeof(*v));
    *out = NULL;
    if (v == NULL) {
        return CRESC_ENOMEM;
    }
    pthread_rwlock_init(&v->lock, NULL);
    atomic_init(&v->lag, -1);
    v->stash = json_object();
    if (v->stash == NULL) {
        pthread_rwlock_destroy(&v->lock);
        free(v);
        return CRESC_ENOMEM;
    }
    snprintf(v->topic, sizeof(v->topic), "%s", opts->topic);
    v->on_state = opts->on_state;
    v->opaque = opts->opaque;
    v->cache_free = opts->cache_free;

    rc = cresc_kafka_conf_new(opts->kafka, &conf, err, errlen);
    if (rc != CRESC_OK) {
        goto fail;
    }
    /* A group id no one else uses: the view never joins or commits, librdkafka just needs
       one for rd_kafka_consumer_poll. */
    gethostname(host, sizeof(host) - 1);
    if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
        rnd = (uint32_t)mono_ms();
    }
    snprintf(group, sizeof(group), "crescendo-api-view-%.60s-%ld-%08x", host, (long)getpid(),
             (unsigned)rnd);
    if ((rc = set_prop(conf, "group.id", group, err, errlen)) != CRESC_OK ||
        (rc = set_prop(conf, "enable.auto.commit", "false", err, errlen)) != CRESC_OK ||
        (rc = set_prop(conf, "enable.auto.offset.store", "false", err, errlen)) != CRESC_OK ||
        (rc = set_prop(conf, "enable.partition.eof", "true", err, errlen)) != CRESC_OK ||
        (rc = set_prop(conf, "isolation.level", "read_committed", err, errlen)) != CRESC_OK ||
        (rc = set_prop(conf, "auto.offset.reset", "earliest", err, errlen)) != CRESC_OK ||
        /* The broker does not wake a waiting read_committed fetch when a commit marker
           makes data visible, so this bounds how late the view sees an acknowledgement
           (100 ms tails with 100); 20 ms costs ~50 small idle fetches a second. */
        (rc = set_prop(conf, "fetch.wait.max.ms", "20", err, errlen)) != CRESC_OK ||
        (rc = set_prop(conf, "fetch.error.backoff.ms", "100", err, errlen)) != CRESC_OK ||
        (rc = set_prop(conf, "socket.nagle.disable", "true", err, errlen)) != CRESC_OK) {
        goto fail;
    }
    char e[256];
    v->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, e, sizeof(e));
    if (v->rk == NULL) {
        snprintf(err, errlen, "cannot create the state consumer: %s", e);
        rc = CRESC_EKAFKA;
        goto fail;
    }
    conf = NULL; /* owned by rk now */
    rd_kafka_poll_set_consumer(v->rk);
    if (pthread_create(&v->thread, NULL, view_main, v) != 0) {
        snprintf(err, errlen, "cannot start the view thread");
        rc = CRESC_ENOMEM;
        goto fail;
    }
    v->thread_started = true;
    *out = v;
    return CRESC_OK;
fail:
    if (conf != NULL) {
        rd_kafka_conf_destroy(conf);
    }
    cresc_view_free(v);
    return rc;
}

void cresc_view_free(struct cresc_view *v)
{
    if (v == NULL) {
        return;
    }
    atomic_store(&v->stop, true);
    if (v->thread_started) {
        pthread_join(v->thread, NULL);
    }
    if (v->rk != NULL) {
        rd_kafka_consumer_close(v->rk);
        rd_kafka_destroy(v->rk);
    }
    for (size_t i = 0; i < v->n_entries; i++) {
        cresc_view_snap_put(v->entries[i].snap);
    }
    free(v->entries);
    json_decref(v->stash);
    free(v->eof_seen);
    free(v->next_offset);
    pthread_rwlock_destroy(&v->lock);
    free(v);
}

bool cresc_view_ready(const struct cresc_view *v)
{
    return atomic_load(&((struct cresc_view *)(uintptr_t)v)->ready);
}

void cresc_view_get_stats(struct cresc_view *v, struct cresc_view_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->ready = atomic_load(&v->ready);
    out->lag_messages = atomic_load(&v->lag);
    out->records = atomic_load(&v->records);
    out->rejected = atomic_load(&v->rejected);
    out->partitions = atomic_load(&v->n_partitions);
    pthread_rwlock_rdlock(&v->lock);
    out->services = v->n_entries;
    pthread_rwlock_unlock(&v->lock);
}
