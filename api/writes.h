/* The API's write path: a validated control command goes to <prefix>control (keyed by service,
 * idempotent producer) and the caller waits, without blocking an HTTP thread, until the view
 * shows the coordinator's acknowledgement of its request id, the delivery fails, or the
 * bounded wait runs out. Used by the HTTP layer; the view feeds it every new snapshot. */
#ifndef CRESC_API_WRITES_H
#define CRESC_API_WRITES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "cresc/kafka.h"
#include "cresc/msg.h"
#include "view.h"

enum cresc_write_outcome {
    CRESC_WRITE_PENDING = 0,
    CRESC_WRITE_APPLIED,     /* acknowledged "applied": 200 */
    CRESC_WRITE_REJECTED,    /* acknowledged "rejected": 422 with the coordinator's reason */
    CRESC_WRITE_TIMEOUT,     /* delivered to Kafka, no acknowledgement in time: 202 */
    CRESC_WRITE_UNAVAILABLE, /* not delivered (Kafka unreachable, queue full): 503 */
    CRESC_WRITE_OUTCOME_COUNT,
};

const char *cresc_write_outcome_name(enum cresc_write_outcome o); /* "applied", ... */

/* One write in flight, owned by the caller (the HTTP connection): it must stay valid from
 * cresc_writes_submit until cresc_writes_finish. `wake` is called exactly once, from a
 * Kafka or view thread, when the outcome is known; it must not block. */
struct cresc_write {
    char service[CRESC_ID_MAX + 1];
    char request_id[CRESC_ID_MAX + 1];
    void (*wake)(void *arg);
    void *wake_arg;
    /* Results: read them after wake (or after submit returned a final outcome). */
    enum cresc_write_outcome outcome;
    char reason[CRESC_REASON_MAX];
    const struct cresc_view_snap *snap; /* APPLIED/REJECTED: the snapshot holding the ack
                                           (a reference, released by cresc_writes_finish) */
    /* private */
    uint64_t _seq;
    int64_t _start_ms;     /* monotonic, at submit */
    int64_t _delivered_ms; /* monotonic, at the delivery report (0: not yet) */
    int64_t _deadline_ms;
    bool _delivered;
    bool _listed;
    struct cresc_write *_next;
    struct cresc_write *_wake_next;
};

struct cresc_writes_opts {
    const struct cresc_kafka_conf *kafka;
    const char *topic; /* <prefix>control */
    int timeout_ms;    /* bounded wait for delivery + acknowledgement */
    int max_pending;   /* writes in flight at once; more get 503 */
};

struct cresc_writes;

CRESC_WUR int cresc_writes_new(const struct cresc_writes_opts *opts, struct cresc_writes **out,
                               char *err, size_t errlen);
/* Refuse new writes (503) and resolve every pending one as unavailable, waking its waiter:
 * call before stopping the HTTP server so no connection stays suspended. */
void cresc_writes_shutdown(struct cresc_writes *w);
/* Shut down (as above), stop the thread, flush the producer briefly, free; NULL is a no-op. */
void cresc_writes_free(struct cresc_writes *w);

/* Fill request_id with a fresh random id ("api-" + 32 hex digits, getrandom). */
void cresc_writes_new_request_id(char *request_id, size_t cap);

/* Start a write: ctl->service and ctl->request_id must be set (copied into wr). `current` is
 * the view's snapshot of the service (may be NULL): if it already holds the ack of this
 * request id (a retry with the same Idempotency-Key), nothing is sent. Returns true when the
 * outcome is already final (wake will NOT be called), false when the caller must wait for
 * wake. */
bool cresc_writes_submit(struct cresc_writes *w, struct cresc_write *wr,
                         const struct cresc_control *ctl, const struct cresc_view_snap *current);

/* Forget the write (if still pending its late acknowledgement is ignored) and release its
 * snapshot. Safe to call after any outcome. */
void cresc_writes_finish(struct cresc_writes *w, struct cresc_write *wr);

/* The view's on_state hook (opaque = the struct cresc_writes). */
void cresc_writes_on_state(void *opaque, const struct cresc_view_snap *snap);

/* Testing aid: make librdkafka raise a fatal error on the current producer (as a broken
 * idempotence sequence would), so tests can check that the write path replaces it. */
void cresc_writes_test_fatal(struct cresc_writes *w);

/* Counters by outcome, for /metrics. */
uint64_t cresc_writes_count(const struct cresc_writes *w, enum cresc_write_outcome o);
int cresc_writes_pending(struct cresc_writes *w);

#endif
