/* The sliding view of one scaled service: the latest sample of every live instance plus a
 * window of recent values, duplicate/out-of-order rejection by (instance, seq), TTL expiry,
 * and the aggregates the policies read. Pure (time is passed in): used by the coordinator
 * for live traffic and by `crescendo-coordinator replay` in simulated time. */
#ifndef CRESC_WINDOW_H
#define CRESC_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "cresc/msg.h"
#include "cresc/policy.h"

struct cresc_window;

struct cresc_window_opts {
    int64_t window_ms;    /* values averaged per instance over this span; 0 = latest only */
    int64_t ttl_ms;       /* an instance with no sample for this long is gone */
    int64_t max_skew_ms;  /* samples whose ts_ms is further than this from wall_now are rejected */
    size_t max_instances; /* bound on tracked instances (CRESC_EFULL past it) */
    size_t max_values_per_instance; /* bound on the per-instance window ring */
};

enum cresc_window_verdict {
    CRESC_WINDOW_ACCEPTED = 0,
    CRESC_WINDOW_DUPLICATE = 1, /* seq <= the instance's latest seq: ignored */
    CRESC_WINDOW_SKEWED = 2,    /* ts_ms too far in the future or past: rejected */
    CRESC_WINDOW_FULL = 3,      /* new instance past max_instances: rejected */
};

struct cresc_window_agg {
    int32_t live_instances;
    struct cresc_metrics metrics; /* mean cpu/mem over live instances, total req/s */
    bool has_conns, has_disk;
    double active_connections_total;
    double disk_read_ops_per_s, disk_write_ops_per_s, disk_read_bytes_per_s,
        disk_write_bytes_per_s; /* totals over live instances */
};

CRESC_WUR int cresc_window_new(const struct cresc_window_opts *opts, struct cresc_window **out);
void cresc_window_free(struct cresc_window *w); /* NULL is a no-op */

/* Offer one sample. now_ms: the caller's clock (monotonic, or simulated in replay) used for
 * TTL and window; wall_now_ms: wall clock for the skew check. *verdict says what happened. */
CRESC_WUR int cresc_window_add(struct cresc_window *w, const struct cresc_sample *s, int64_t now_ms,
                               int64_t wall_now_ms, enum cresc_window_verdict *verdict);
/* Drop instances whose last sample is older than ttl_ms; returns how many went. */
size_t cresc_window_expire(struct cresc_window *w, int64_t now_ms);
/* Aggregates over live instances at now_ms (expired ones excluded). A metric no live instance
 * reports is absent (has_* false). */
void cresc_window_aggregate(const struct cresc_window *w, int64_t now_ms,
                            struct cresc_window_agg *out);
/* Copy up to cap live instances (sorted by instance_id) with their latest values; returns the
 * number of live instances (may exceed cap). */
size_t cresc_window_live(const struct cresc_window *w, int64_t now_ms,
                         struct cresc_live_instance *out, size_t cap);
size_t cresc_window_count(const struct cresc_window *w);

#endif
