/* Seeded load profiles for the agent's --simulate mode (see simulate.h and docs/agent.md).
 * Noise comes from a hash of (seed, instance, time step), not a stateful generator, so any
 * sample can be recomputed on its own and 10,000 instances cost no per-instance state. */
#include "simulate.h"

#include <math.h>

const char *const cresc_sim_profile_names[] = {"steady", "spike", "matchday", NULL};

#define GOALS   3
#define STEP_MS 1000 /* noise changes once per second of profile time */

static uint64_t mix64(uint64_t x)
{
    /* splitmix64 finalizer */
    x += UINT64_C(0x9e3779b97f4a7c15);
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* Uniform in [0, 1) from a key. */
static double unit(uint64_t key)
{
    return (double)(mix64(key) >> 11) * (1.0 / 9007199254740992.0);
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Linear ramp from a to b over x in [x0, x1]. */
static double ramp(double x, double x0, double x1, double a, double b)
{
    return a + (b - a) * clamp((x - x0) / (x1 - x0), 0.0, 1.0);
}

/* A spike of height h at x0 decaying exponentially with time constant tau (fractions). */
static double burst(double x, double x0, double h, double tau)
{
    return x < x0 ? 0.0 : h * exp(-(x - x0) / tau);
}

static double matchday(uint64_t seed, double x)
{
    double base;
    if (x < 0.20) {
        base = ramp(x, 0.0, 0.20, 0.10, 0.30); /* fans arrive */
    } else if (x < 0.45) {
        base = ramp(x, 0.20, 0.22, 0.30, 0.70); /* kick-off surge, first half */
    } else if (x < 0.52) {
        base = ramp(x, 0.45, 0.46, 0.70, 0.35); /* half-time dip */
    } else if (x < 0.80) {
        base = ramp(x, 0.52, 0.53, 0.35, 0.75); /* second half */
    } else {
        base = ramp(x, 0.80, 0.90, 0.75, 0.10); /* final whistle, crowd leaves */
    }
    double extra = burst(x, 0.20, 0.15, 0.01) + burst(x, 0.80, 0.25, 0.02);
    /* Goals: seeded minutes, two in the first half, one in the second. */
    for (uint64_t g = 0; g < GOALS; g++) {
        double at = g < 2 ? 0.23 + 0.20 * unit(seed ^ (0x60a1 + g))
                          : 0.54 + 0.24 * unit(seed ^ (0x60a1 + g));
        extra += burst(x, at, 0.25, 0.015);
    }
    return clamp(base + extra, 0.0, 1.0);
}

double cresc_simulate_load(enum cresc_sim_profile profile, uint64_t seed, int64_t t_ms,
                           int64_t period_ms)
{
    if (period_ms <= 0) {
        period_ms = 1;
    }
    int64_t in = t_ms % period_ms;
    if (in < 0) {
        in += period_ms;
    }
    double x = (double)in / (double)period_ms;
    switch (profile) {
    case CRESC_SIM_SPIKE:
        /* Quiet, then a sudden surge from 30 % to 50 % of the cycle, then quiet again. */
        return x >= 0.30 && x < 0.50 ? 0.95 : 0.30;
    case CRESC_SIM_MATCHDAY:
        return matchday(seed, x);
    case CRESC_SIM_STEADY:
    default:
        return 0.50;
    }
}

void cresc_simulate_sample(enum cresc_sim_profile profile, uint64_t seed, int64_t t_ms,
                           int64_t period_ms, uint32_t instance, struct cresc_sample *out)
{
    double load = cresc_simulate_load(profile, seed, t_ms, period_ms);
    uint64_t inst_key = seed * UINT64_C(1000003) + instance;
    double bias = 0.85 + 0.30 * unit(inst_key); /* fixed per instance: 0.85..1.15 */
    uint64_t step_key = mix64(inst_key) ^ (uint64_t)(t_ms / STEP_MS);
    double noise = unit(step_key) * 2.0 - 1.0; /* -1..1, changes each step */
    out->cpu_pct = clamp(100.0 * load * bias + 4.0 * noise, 0.0, 100.0);
    out->mem_pct = clamp(30.0 + 45.0 * load * bias + 2.0 * noise, 0.0, 100.0);
    out->req_per_s = clamp(400.0 * load * bias * (1.0 + 0.05 * noise), 0.0, 1e9);
    out->active_connections = floor(clamp(120.0 * load * bias * (1.0 + 0.05 * noise), 0.0, 1e9));
    out->disk_read_ops_per_s = clamp(20.0 * load * bias, 0.0, 1e9);
    out->disk_write_ops_per_s = clamp(60.0 * load * bias, 0.0, 1e9);
    out->disk_read_bytes_per_s = out->disk_read_ops_per_s * 16384.0;
    out->disk_write_bytes_per_s = out->disk_write_ops_per_s * 8192.0;
    out->present = CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_DISK |
                   CRESC_SAMPLE_HAS_REQ | CRESC_SAMPLE_HAS_CONNS;
}
