/* The coordinator's small HTTP port (libmicrohttpd, its own thread): /healthz, /readyz
 * (ready once every owned service's state has been rebuilt) and Prometheus /metrics. The
 * loop thread writes the counters below (atomics); the HTTP thread only reads them. */
#ifndef CRESC_COORD_HTTP_H
#define CRESC_COORD_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"

struct cresc_coord_stats {
    atomic_bool ready;               /* assignment received and its state rebuilt */
    atomic_uint_fast64_t samples;    /* samples consumed */
    atomic_uint_fast64_t rejected;   /* samples rejected (malformed, skewed, over a bound) */
    atomic_uint_fast64_t duplicates; /* duplicate or out-of-order samples ignored */
    atomic_uint_fast64_t controls_applied;
    atomic_uint_fast64_t controls_rejected;
    atomic_uint_fast64_t decisions;
    atomic_uint_fast64_t commands;
    atomic_uint_fast64_t txn_committed;
    atomic_uint_fast64_t txn_aborted;
    atomic_uint_fast64_t rebuilds;        /* state partitions read back */
    atomic_uint_fast64_t resets;          /* in-memory state dropped after a failed commit */
    atomic_uint_fast64_t fetch_wakeups;   /* stalled fetchers woken (engine.c wake_fetchers) */
    atomic_uint_fast64_t eval_count;      /* evaluations */
    atomic_uint_fast64_t eval_ns_total;   /* their total time, ns */
    atomic_uint_fast64_t eval_ns_max;     /* slowest evaluation since start, ns */
    atomic_uint_fast64_t commit_ns_total; /* time in send_offsets + commit_transaction */
    atomic_uint_fast64_t commit_ns_max;
    atomic_uint_fast64_t tick_ns_max;    /* longest tick (evaluate all + publish + commit) */
    atomic_int_fast64_t consumer_lag;    /* messages behind the high watermarks, owned parts */
    atomic_int_fast64_t services;        /* services owned */
    atomic_int_fast64_t partitions;      /* samples partitions owned */
    atomic_int_fast64_t owner_epoch_max; /* highest owner epoch held */
};

struct cresc_coord_http;

/* Serve on addr:port (IPv4 dotted quad). `stats` is borrowed and must outlive the server.
 * Returns 0, CRESC_EINVAL (bad address) or CRESC_EIO (bind failed). */
CRESC_WUR int cresc_coord_http_start(const char *addr, int port,
                                     const struct cresc_coord_stats *stats,
                                     struct cresc_coord_http **out);
void cresc_coord_http_stop(struct cresc_coord_http *h); /* NULL is a no-op */

/* The /metrics body (Prometheus text format 0.0.4) into buf; returns its length (cut at cap). */
size_t cresc_coord_metrics_format(const struct cresc_coord_stats *stats, char *buf, size_t cap);

#endif
