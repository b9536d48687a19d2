/* Turns two successive raw readings (cumulative counters, instantaneous gauges) into the
 * measured fields of a sample: CPU percent, memory percent, disk operations and bytes per
 * second, requests per second and active connections. Pure: no I/O, no clock; the caller
 * passes the monotonic time of each reading. Counter wraps and resets never give a negative
 * or huge rate. */
#ifndef CRESC_AGENT_SAMPLER_H
#define CRESC_AGENT_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup.h"
#include "cresc/msg.h"
#include "procfs.h"

/* Which parts of a reading are present. */
#define CRESC_READ_HOST_CPU 0x01u /* host_cpu from /proc/stat */
#define CRESC_READ_CG_CPU   0x02u /* cg_usage_us / cg_cores from cgroup cpu.stat, cpu.max */
#define CRESC_READ_MEM      0x04u /* mem_pct (host or cgroup, already a percentage) */
#define CRESC_READ_DISK     0x08u /* disk counters (diskstats or io.stat) */
#define CRESC_READ_REQ      0x10u /* req_total: the workload's request counter */
#define CRESC_READ_CONNS    0x20u /* connections: the workload's gauge */

struct cresc_reading {
    int64_t mono_ms; /* CLOCK_MONOTONIC when read */
    unsigned have;   /* CRESC_READ_* */
    struct cresc_cpu_times host_cpu;
    uint64_t cg_usage_us;
    double cg_cores; /* cores the cgroup may use (quota, or all host CPUs without one) */
    double mem_pct;
    struct cresc_disk_set disk;
    double req_total;
    double connections;
};

struct cresc_sampler {
    bool _have_prev;
    struct cresc_reading _prev;
    uint64_t counter_resets; /* resets seen (diagnostics) */
};

void cresc_sampler_init(struct cresc_sampler *s);

/* Set the measured fields and `present` bits of *out from `cur` against the previous reading
 * (rates need both; the first call gives gauges only), then remember `cur`. Identity and
 * bookkeeping fields of *out are left alone. */
void cresc_sampler_update(struct cresc_sampler *s, const struct cresc_reading *cur,
                          struct cresc_sample *out);

enum cresc_counter_step {
    CRESC_COUNTER_OK = 0,  /* cur >= prev */
    CRESC_COUNTER_WRAPPED, /* a 32-bit counter passed 2^32 (kernel `unsigned long` on 32-bit) */
    CRESC_COUNTER_RESET,   /* went backwards otherwise: device replaced, process restarted */
};

/* Increase of a cumulative counter. A decrease is a 32-bit wrap when prev fits in 32 bits and
 * the wrapped distance is under 2^31 (*delta is then the real increase); otherwise a reset
 * (*delta = 0: the caller must not make a rate from it). */
enum cresc_counter_step cresc_counter_delta(uint64_t prev, uint64_t cur, uint64_t *delta);

/* Rate of a floating-point counter (Prometheus) over elapsed_s > 0: a decrease is a restart
 * from zero, so the increase is `cur` itself, as Prometheus' rate() does. Never negative. */
double cresc_counter_rate(double prev, double cur, double elapsed_s, bool *reset);

#endif
