/* Request accounting of crescendo-api for /metrics: counters by route and status code and a
 * latency histogram per route, lock-free (atomics) so HTTP threads never contend on a lock.
 * Rendering adds the gauges of the view and the write path (Prometheus text format 0.0.4). */
#ifndef CRESC_API_STATS_H
#define CRESC_API_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "route.h"

#define CRESC_STATS_CODES   14 /* 200 202 400 401 404 405 413 415 422 500 503 other... */
#define CRESC_STATS_BUCKETS 16

struct cresc_api_stats {
    atomic_uint_fast64_t _requests[CRESC_ROUTE_COUNT][CRESC_STATS_CODES];
    atomic_uint_fast64_t _buckets[CRESC_ROUTE_COUNT][CRESC_STATS_BUCKETS];
    atomic_uint_fast64_t _count[CRESC_ROUTE_COUNT];
    atomic_uint_fast64_t _sum_ns[CRESC_ROUTE_COUNT];
};

/* Zero everything (the struct is the caller's). */
void cresc_stats_init(struct cresc_api_stats *s);

/* Count one answered request. */
void cresc_stats_observe(struct cresc_api_stats *s, enum cresc_route_id route, unsigned status,
                         int64_t latency_ns);

/* The request counter of (route, status), for tests. */
uint64_t cresc_stats_requests(const struct cresc_api_stats *s, enum cresc_route_id route,
                              unsigned status);

/* Gauges and counters from other modules, added to the exposition. */
struct cresc_stats_extra {
    int ready;        /* 0/1 */
    int64_t view_lag; /* messages, -1 unknown */
    uint64_t view_records;
    uint64_t view_rejected;
    size_t view_services;
    uint64_t writes[5]; /* by enum cresc_write_outcome (pending unused) */
    int writes_pending;
};

/* The whole exposition as a heap string (caller frees); NULL when out of memory. */
char *cresc_stats_render(const struct cresc_api_stats *s, const struct cresc_stats_extra *x,
                         size_t *len);

#endif
