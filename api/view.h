/* The API's materialized view of <prefix>state: a consumer thread reads every partition from
 * the beginning (unique group id, never committed, read_committed) and keeps, per service,
 * the latest decoded snapshot with its read documents pre-rendered. Readers take a
 * reference to an immutable snapshot, so HTTP threads never wait for Kafka. Used by the HTTP
 * layer (reads, readiness) and by the write path (acknowledgements). */
#ifndef CRESC_API_VIEW_H
#define CRESC_API_VIEW_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "cresc/kafka.h"
#include "cresc/msg.h"

#define CRESC_VIEW_SERVICES_MAX 10000 /* services kept; more are refused (logged once) */

#define CRESC_VIEW_SNAP_CACHE 4 /* slots for the HTTP layer's ready-made responses */

/* One service's state as of one state record; immutable once published (except the cache
 * slots, which the HTTP layer fills once, atomically). */
struct cresc_view_snap {
    atomic_int _refs;
    /* Opaque objects derived from this snapshot (e.g. one prepared HTTP response per body),
       filled lazily with compare-and-swap and released with _cache_free when the snapshot is
       freed. NULL _cache_free: the slots stay unused. */
    _Atomic(void *) _cache[CRESC_VIEW_SNAP_CACHE];
    void (*_cache_free)(void *obj);
    struct cresc_state st; /* decoded snapshot (arrays owned) */
    char *status;          /* GET /scaling/status body (JSON), NUL-terminated */
    size_t status_len;
    char *decision; /* GET /scaling/decision */
    size_t decision_len;
    char *config; /* GET /scaling/config */
    size_t config_len;
    char *priorities; /* GET /scaling/priorities */
    size_t priorities_len;
};

/* Called on the view thread after a new snapshot of a service was published (borrowed: take
 * a reference to keep it). Must not block. */
typedef void (*cresc_view_state_cb)(void *opaque, const struct cresc_view_snap *snap);

struct cresc_view_opts {
    const struct cresc_kafka_conf *kafka;
    const char *topic;            /* <prefix>state */
    cresc_view_state_cb on_state; /* may be NULL */
    void *opaque;
    void (*cache_free)(void *obj); /* releases what the HTTP layer caches per snapshot */
};

struct cresc_view_stats {
    bool ready;           /* caught up with the end offsets seen at start */
    int64_t lag_messages; /* sum over partitions of (high watermark - next offset), -1 unknown */
    uint64_t records;     /* state records consumed */
    uint64_t rejected;    /* records that failed to decode */
    size_t services;
    int partitions; /* 0 until the topic was found */
};

struct cresc_view;

/* Create the consumer and start the view thread. Returns 0, CRESC_EKAFKA or CRESC_ENOMEM with
 * err set. The topic may not exist yet: the thread waits for it (not ready meanwhile). */
CRESC_WUR int cresc_view_new(const struct cresc_view_opts *opts, struct cresc_view **out, char *err,
                             size_t errlen);
/* Stop the thread, close the consumer, drop every snapshot; NULL is a no-op. Snapshots still
 * referenced by callers stay valid until released. */
void cresc_view_free(struct cresc_view *v);

/* The service's current snapshot with a reference taken (release with cresc_view_snap_put),
 * or NULL when the view holds no state for it. Thread-safe, memory only. */
const struct cresc_view_snap *cresc_view_get(struct cresc_view *v, const char *service);
/* Take another reference / release one (NULL is a no-op). */
const struct cresc_view_snap *cresc_view_snap_ref(const struct cresc_view_snap *s);
void cresc_view_snap_put(const struct cresc_view_snap *s);

/* The acknowledgement of request_id in the snapshot, or NULL. */
const struct cresc_ack *cresc_view_snap_find_ack(const struct cresc_view_snap *s,
                                                 const char *request_id);
/* The priority entry of match_id, or NULL. */
const struct cresc_priority *cresc_view_snap_find_priority(const struct cresc_view_snap *s,
                                                           const char *match_id);

bool cresc_view_ready(const struct cresc_view *v);
void cresc_view_get_stats(struct cresc_view *v, struct cresc_view_stats *out);

/* Build a snapshot from a decoded state (takes ownership of st's arrays; st is zeroed). For
 * the view thread and tests. NULL when out of memory. */
struct cresc_view_snap *cresc_view_snap_new(struct cresc_state *st);

#endif
