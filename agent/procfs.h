/* Parsers for the host's /proc files the agent samples: /proc/stat (CPU time), /proc/meminfo
 * and /proc/diskstats (whole physical disks). They take a buffer, never a file, so unit tests
 * and fuzz targets feed them fixtures; the reading itself is in source.c. */
#ifndef CRESC_AGENT_PROCFS_H
#define CRESC_AGENT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"

/* Aggregate CPU time from the "cpu" line of /proc/stat, in clock ticks. */
struct cresc_cpu_times {
    uint64_t total_ticks; /* user+nice+system+idle+iowait+irq+softirq+steal (guest is in user) */
    uint64_t idle_ticks;  /* idle+iowait */
    unsigned n_cpus;      /* "cpuN" lines */
};

/* Parse /proc/stat. CRESC_EPARSE when the "cpu" line is missing or malformed (fewer than four
 * numbers); extra or unknown lines are ignored. */
CRESC_WUR int cresc_procfs_parse_stat(const char *buf, size_t len, struct cresc_cpu_times *out);

/* Busy percent (0..100) between two readings. CRESC_ERANGE when a counter went backwards
 * (reset) or no time passed: the caller has no CPU value for that interval. */
CRESC_WUR int cresc_procfs_cpu_pct(const struct cresc_cpu_times *prev,
                                   const struct cresc_cpu_times *cur, double *pct);

struct cresc_meminfo {
    uint64_t total_kib;
    uint64_t available_kib; /* MemAvailable, or MemFree+Buffers+Cached on kernels before 3.14 */
};

/* Parse /proc/meminfo. CRESC_EPARSE without MemTotal (or with MemTotal 0), or without both
 * MemAvailable and MemFree. */
CRESC_WUR int cresc_procfs_parse_meminfo(const char *buf, size_t len, struct cresc_meminfo *out);
/* Used percent: (total - available) / total * 100, clamped to 0..100. */
double cresc_procfs_mem_pct(const struct cresc_meminfo *m);

/* Cumulative I/O counters of block devices (from /proc/diskstats or cgroup io.stat). */
#define CRESC_DISKS_MAX     64
#define CRESC_DISK_NAME_MAX 32

struct cresc_disk_counters {
    char name[CRESC_DISK_NAME_MAX]; /* "vda", "nvme0n1", or "8:0" from io.stat */
    uint64_t read_ops, write_ops;
    uint64_t read_units, write_units; /* of set->unit_bytes each (raw, so 32-bit wraps show) */
};

struct cresc_disk_set {
    size_t n;
    uint32_t unit_bytes; /* 512 for /proc/diskstats sectors, 1 for io.stat bytes */
    size_t n_malformed;  /* lines that could not be parsed (skipped) */
    size_t n_excluded;   /* partitions, loop, ram, zram, dm, md, optical... (skipped) */
    bool truncated;      /* more than CRESC_DISKS_MAX devices: the rest ignored */
    struct cresc_disk_counters dev[CRESC_DISKS_MAX];
};

/* Parse /proc/diskstats, keeping whole physical disks only. `whole_disks` is the
 * NULL-terminated list of names under /sys/block (whole devices; partitions never appear
 * there) or NULL to decide by name (sdXN, vdXN, hdXN, xvdXN, nvmeXnYpZ, mmcblkXpY are
 * partitions). Always excluded: loop*, ram*, zram*, dm-*, md*, sr*, fd*, nbd* — virtual,
 * RAM-backed or stacked on the physical disks (counting dm/md too would count each I/O
 * twice). Malformed lines are skipped and counted. Returns 0 (an empty set is fine). */
CRESC_WUR int cresc_procfs_parse_diskstats(const char *buf, size_t len,
                                           const char *const *whole_disks,
                                           struct cresc_disk_set *out);

/* True when a device name is excluded by kind (loop, ram, dm...), see above. */
bool cresc_procfs_disk_excluded(const char *name);
/* True when a name looks like a partition (heuristic used without /sys/block). */
bool cresc_procfs_disk_is_partition(const char *name);

#endif
