/* Parsers for the cgroup v2 files the agent samples inside a container: cpu.stat, cpu.max,
 * memory.current, memory.stat, memory.max and io.stat. Buffers in, values out (no files), so
 * the unit tests and fuzz targets can feed fixtures; source.c reads the files. */
#ifndef CRESC_AGENT_CGROUP_H
#define CRESC_AGENT_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "procfs.h"

/* cpu.max: "$QUOTA $PERIOD" or "max $PERIOD" (period optional, default 100000 us). */
struct cresc_cgroup_cpu_max {
    bool limited; /* false for "max" */
    uint64_t quota_us, period_us;
};
/* CRESC_EPARSE on anything else, a zero quota or a zero period. */
CRESC_WUR int cresc_cgroup_parse_cpu_max(const char *buf, size_t len,
                                         struct cresc_cgroup_cpu_max *out);
/* Cores the quota allows (quota / period); 0 when unlimited. */
double cresc_cgroup_cpu_max_cores(const struct cresc_cgroup_cpu_max *m);

/* The value of `key` in a flat keyed file ("key value" lines: cpu.stat usage_usec,
 * memory.stat inactive_file). CRESC_ENOTFOUND when absent, CRESC_EPARSE when malformed. */
CRESC_WUR int cresc_cgroup_parse_keyed(const char *buf, size_t len, const char *key, uint64_t *out);

/* A single-value file: memory.current, or memory.max where "max" means no limit
 * (*limited = false). CRESC_EPARSE otherwise. `limited` may be NULL for files without "max". */
CRESC_WUR int cresc_cgroup_parse_value(const char *buf, size_t len, bool *limited, uint64_t *out);

/* io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N" lines; devices named
 * "MAJ:MIN", unit_bytes 1. Excluded: RAM disks (major 1) and loop devices (major 7).
 * Malformed lines are skipped and counted; unknown keys ignored. */
CRESC_WUR int cresc_cgroup_parse_io_stat(const char *buf, size_t len, struct cresc_disk_set *out);

/* Memory used percent of a cgroup: (current - inactive_file) / limit * 100, clamped 0..100.
 * Inactive file pages are reclaimable cache, as the kubelet's working set does. */
double cresc_cgroup_mem_pct(uint64_t current_bytes, uint64_t inactive_file_bytes,
                            uint64_t limit_bytes);

/* CPU percent of `cores` used between two cpu.stat usage_usec readings `elapsed_us` apart,
 * clamped to 0..100. CRESC_ERANGE when usage went backwards or elapsed/cores are not positive. */
CRESC_WUR int cresc_cgroup_cpu_pct(uint64_t prev_usage_us, uint64_t cur_usage_us,
                                   uint64_t elapsed_us, double cores, double *pct);

#endif
