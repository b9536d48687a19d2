/* The agent's I/O shell around its parsers: reads /proc, the cgroup v2 files and /sys/block
 * under configurable roots, scrapes the workload's metrics endpoint, and fills one raw
 * reading per tick. A missing or unreadable source logs one line (and one when it comes
 * back) and is left out; the others carry on. Owned by the agent's loop thread. */
#ifndef CRESC_AGENT_SOURCE_H
#define CRESC_AGENT_SOURCE_H

#include <stdint.h>

#include "cresc/err.h"
#include "sampler.h"

enum cresc_source_mode {
    CRESC_SOURCE_AUTO = 0, /* cgroup when the agent sits in a non-root cgroup v2, else host */
    CRESC_SOURCE_HOST,     /* /proc/stat, /proc/meminfo, /proc/diskstats */
    CRESC_SOURCE_CGROUP,   /* cpu.stat/cpu.max, memory.*, io.stat */
};
extern const char *const cresc_source_mode_names[]; /* "auto", "host", "cgroup", NULL */

struct cresc_source_opts {
    const char *proc_root;  /* "/proc" */
    const char *sys_root;   /* "/sys": block devices under <sys_root>/block */
    const char *cgroup_dir; /* NULL or "": <sys_root>/fs/cgroup */
    enum cresc_source_mode mode;
    const char *metrics_url; /* NULL or "": no request rate, no connections */
    const char *requests_counter;
    const char *connections_gauge;
    long scrape_timeout_ms;
};

struct cresc_source;

/* Strings are copied. CRESC_ENOMEM, CRESC_EINVAL (a path too long). */
CRESC_WUR int cresc_source_new(const struct cresc_source_opts *opts, struct cresc_source **out);
void cresc_source_free(struct cresc_source *s);

/* Read every source now; mono_ms is the tick's monotonic time. Blocks at most the scrape
 * timeout (file reads of /proc and cgroupfs do not block). */
void cresc_source_read(struct cresc_source *s, int64_t mono_ms, struct cresc_reading *out);

/* "host" or "cgroup": what auto resolved to. */
const char *cresc_source_kind(const struct cresc_source *s);

#endif
