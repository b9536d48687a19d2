/* The agent's liveness endpoint for Kubernetes: GET /healthz answers 200 while the sampling
 * loop ticks, 503 when its last tick is older than the allowed age (a stuck loop). Served by
 * libmicrohttpd's own thread, which only reads one atomic timestamp; the library is loaded
 * only when the endpoint is enabled (dynload.h). */
#ifndef CRESC_AGENT_HEALTH_H
#define CRESC_AGENT_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"

struct cresc_health;

/* Listen on `port` (all interfaces). max_age_ms: the longest gap between ticks still healthy.
 * CRESC_ENOTFOUND when libmicrohttpd cannot be loaded, CRESC_EIO when the port cannot be
 * bound (err says why). */
CRESC_WUR int cresc_health_start(uint16_t port, int64_t max_age_ms, struct cresc_health **out,
                                 char *err, size_t errlen);
/* Record a tick of the loop (CLOCK_MONOTONIC ms). */
void cresc_health_beat(struct cresc_health *h, int64_t mono_ms);
void cresc_health_stop(struct cresc_health *h);

/* Exec-probe liveness, the lighter alternative to HTTP (no libmicrohttpd loaded): the loop
 * touches `path` every tick and `crescendo-agent --probe` checks that it is fresh. */

/* Set the file's modification time to now, creating it if missing. CRESC_EIO on failure. */
CRESC_WUR int cresc_health_file_touch(const char *path);
/* 0 when `path` was touched less than max_age_ms ago; CRESC_ETIMEDOUT when older,
 * CRESC_ENOTFOUND when missing; *age_ms gets the age when known. */
CRESC_WUR int cresc_health_file_check(const char *path, int64_t max_age_ms, int64_t *age_ms);

/* Monotonic clock in milliseconds. */
int64_t cresc_health_now_ms(void);

#endif
