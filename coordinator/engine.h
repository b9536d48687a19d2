/* The coordinator's Kafka loop: one consumer group over <prefix>samples and <prefix>control
 * (range assignment: partition i of both topics goes to the same member), state rebuilt from
 * <prefix>state partition i before anything is decided for its services, a tick that
 * evaluates every owned service, and a transactional producer that publishes decisions,
 * scale commands and state together with the consumed offsets (consume-transform-produce),
 * so a deposed owner is fenced by the broker. See docs/coordinator.md. */
#ifndef CRESC_COORD_ENGINE_H
#define CRESC_COORD_ENGINE_H

#include <signal.h>
#include <stddef.h>

#include "cresc/err.h"
#include "cresc/policy.h"
#include "http.h"
#include "options.h"

struct cresc_engine_params {
    const struct cresc_coordinator_config *cfg; /* borrowed */
    struct cresc_scaling_config initial;        /* config of services never seen before */
    const volatile sig_atomic_t *stop;          /* set by the SIGTERM/SIGINT handler */
    struct cresc_coord_stats *stats;            /* borrowed; read by the HTTP thread */
};

/* Run until *stop: then finish the tick, publish state, commit, leave the group. Returns 0
 * after a clean stop, or a negative code with err set when start-up fails (topics, clients). */
CRESC_WUR int cresc_engine_run(const struct cresc_engine_params *p, char *err, size_t errlen);

#endif
