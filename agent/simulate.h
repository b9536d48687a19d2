/* Synthetic samples for load tests, benchmarks and demos: a seeded load profile over time
 * (steady, spike, matchday) and per-instance samples that follow it. Pure: the same seed,
 * time and instance always give the same sample, so runs repeat. Shapes: docs/agent.md. */
#ifndef CRESC_AGENT_SIMULATE_H
#define CRESC_AGENT_SIMULATE_H

#include <stdint.h>

#include "cresc/msg.h"

enum cresc_sim_profile {
    CRESC_SIM_STEADY = 0,
    CRESC_SIM_SPIKE,
    CRESC_SIM_MATCHDAY,
};
extern const char *const cresc_sim_profile_names[]; /* "steady", "spike", "matchday", NULL */

/* Load factor in 0..1 at t_ms into a cycle of period_ms (> 0; the profile repeats). */
double cresc_simulate_load(enum cresc_sim_profile profile, uint64_t seed, int64_t t_ms,
                           int64_t period_ms);

/* Fill the measured fields and `present` of *out for one instance at t_ms: CPU, memory, disk,
 * request rate and connections around the load, with a fixed per-instance bias and seeded
 * noise. Identity and bookkeeping fields are left alone. */
void cresc_simulate_sample(enum cresc_sim_profile profile, uint64_t seed, int64_t t_ms,
                           int64_t period_ms, uint32_t instance, struct cresc_sample *out);

#endif
