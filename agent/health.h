/* The agent's liveness endpoint for Kubernetes: GET /healthz answers 200 while the sampling
 * loop ticks, 503 when its last tick is older than the allowed age (a stuck loop). Served by
 * libmicrohttpd's own thread, which only reads one atomic timestamp. */
#ifndef CRESC_AGENT_HEALTH_H
#define CRESC_AGENT_HEALTH_H

#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"

struct cresc_health;

/* Listen on `port` (all interfaces). max_age_ms: the longest gap between ticks still healthy.
 * CRESC_EIO when the port cannot be bound (err says why). */
CRESC_WUR int cresc_health_start(uint16_t port, int64_t max_age_ms, struct cresc_health **out,
                                 char *err, size_t errlen);
/* Record a tick of the loop (CLOCK_MONOTONIC ms). */
void cresc_health_beat(struct cresc_health *h, int64_t mono_ms);
void cresc_health_stop(struct cresc_health *h);

/* Monotonic clock in milliseconds. */
int64_t cresc_health_now_ms(void);

#endif
