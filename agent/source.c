/* Reading the agent's sources (see source.h). Each file goes into one bounded buffer; the
 * parsers never see a file. Per-source health is a bit: a transition logs exactly once. */
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cresc/log.h"
#include "promtext.h"

#define READ_MAX  (256 * 1024) /* /proc/stat on a few hundred CPUs still fits */
#define PATH_MAXB 1024

const char *const cresc_source_mode_names[] = {"auto", "host", "cgroup", NULL};

enum src_bit {
    SRC_STAT = 0,
    SRC_MEMINFO,
    SRC_DISKSTATS,
    SRC_CG_CPU_STAT,
    SRC_CG_CPU_MAX,
    SRC_CG_MEM,
    SRC_CG_MEMSTAT,
    SRC_CG_IO,
    SRC_METRICS,
    SRC_COUNT,
};

static const char *const src_what[SRC_COUNT] = {
    [SRC_STAT] = "CPU percent",
    [SRC_MEMINFO] = "memory percent",
    [SRC_DISKSTATS] = "disk I/O",
    [SRC_CG_CPU_STAT] = "CPU percent",
    [SRC_CG_CPU_MAX] = "CPU quota (using all host CPUs)",
    [SRC_CG_MEM] = "memory percent",
    [SRC_CG_MEMSTAT] = "reclaimable cache (memory counts it as used)",
    [SRC_CG_IO] = "disk I/O",
    [SRC_METRICS] = "request rate and connections",
};

struct cresc_source {
    char proc_root[PATH_MAXB / 2];
    char sys_root[PATH_MAXB / 2];
    char cgroup_dir[PATH_MAXB / 2];
    bool cgroup;
    struct cresc_promtext_scraper *scraper;
    char *requests_counter, *connections_gauge;
    unsigned failing; /* bit per enum src_bit: currently failing (already logged) */
    char *buf;        /* READ_MAX + 1 */
    char (*block)[CRESC_DISK_NAME_MAX];
    const char **block_list; /* CRESC_DISKS_MAX + 1 pointers into block */
};

static bool copy_str(char *dst, size_t cap, const char *src)
{
    int n = snprintf(dst, cap, "%s", src);
    return n >= 0 && (size_t)n < cap;
}

static bool file_exists(const char *dir, const char *name)
{
    char path[PATH_MAXB];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

int cresc_source_new(const struct cresc_source_opts *opts, struct cresc_source **out)
{
    int rc = CRESC_ENOMEM;
    *out = NULL;
    struct cresc_source *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return CRESC_ENOMEM;
    }
    s->buf = malloc(READ_MAX + 1);
    s->block = calloc(CRESC_DISKS_MAX, sizeof(*s->block));
    s->block_list = calloc(CRESC_DISKS_MAX + 1, sizeof(*s->block_list));
    if (s->buf == NULL || s->block == NULL || s->block_list == NULL) {
        goto fail;
    }
    rc = CRESC_EINVAL;
    if (!copy_str(s->proc_root, sizeof(s->proc_root), opts->proc_root) ||
        !copy_str(s->sys_root, sizeof(s->sys_root), opts->sys_root)) {
        goto fail;
    }
    if (opts->cgroup_dir != NULL && opts->cgroup_dir[0] != '\0') {
        if (!copy_str(s->cgroup_dir, sizeof(s->cgroup_dir), opts->cgroup_dir)) {
            goto fail;
        }
    } else if (snprintf(s->cgroup_dir, sizeof(s->cgroup_dir), "%s/fs/cgroup", opts->sys_root) >=
               (int)sizeof(s->cgroup_dir)) {
        goto fail;
    }
    switch (opts->mode) {
    case CRESC_SOURCE_HOST:
        s->cgroup = false;
        break;
    case CRESC_SOURCE_CGROUP:
        s->cgroup = true;
        break;
    case CRESC_SOURCE_AUTO:
    default:
        /* The root cgroup has no cpu.max/memory.max: finding one means a container (or a
           unit) whose own limits are what its workload runs against. */
        s->cgroup =
            file_exists(s->cgroup_dir, "cgroup.controllers") &&
            (file_exists(s->cgroup_dir, "cpu.max") || file_exists(s->cgroup_dir, "memory.max"));
        break;
    }
    if (opts->metrics_url != NULL && opts->metrics_url[0] != '\0') {
        rc = CRESC_ENOMEM;
        s->requests_counter = strdup(opts->requests_counter != NULL ? opts->requests_counter : "");
        s->connections_gauge =
            strdup(opts->connections_gauge != NULL ? opts->connections_gauge : "");
        if (s->requests_counter == NULL || s->connections_gauge == NULL) {
            goto fail;
        }
        char err[256] = "";
        rc = cresc_promtext_scraper_new(opts->metrics_url, opts->scrape_timeout_ms, &s->scraper,
                                        err, sizeof(err));
        if (rc != CRESC_OK) {
            cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_AGENT, "METRICS_URL is set but %s", err);
            goto fail;
        }
    }
    cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_AGENT,
              "Sampling the %s: proc %s, cgroup %s, block devices %s/block, metrics %s",
              s->cgroup ? "container's cgroup" : "host", s->proc_root, s->cgroup_dir, s->sys_root,
              s->scraper != NULL ? opts->metrics_url : "(none)");
    *out = s;
    return CRESC_OK;
fail:
    cresc_source_free(s);
    return rc;
}

void cresc_source_free(struct cresc_source *s)
{
    if (s == NULL) {
        return;
    }
    cresc_promtext_scraper_free(s->scraper);
    free(s->requests_counter);
    free(s->connections_gauge);
    free(s->block_list);
    free(s->block);
    free(s->buf);
    free(s);
}

const char *cresc_source_kind(const struct cresc_source *s)
{
    return s->cgroup ? "cgroup" : "host";
}

static void mark_failed(struct cresc_source *s, enum src_bit bit, const char *path, const char *why)
{
    if (s->failing & (1u << bit)) {
        return;
    }
    s->failing |= 1u << bit;
    cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_AGENT, "Cannot use %s (%s): %s left out of samples",
              path, why, src_what[bit]);
}

static void mark_ok(struct cresc_source *s, enum src_bit bit, const char *where)
{
    if (!(s->failing & (1u << bit))) {
        return;
    }
    s->failing &= ~(1u << bit);
    cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_AGENT, "%s readable again: %s back in samples", where,
              src_what[bit]);
}

/* Read dir/name into s->buf. On failure logs (once) and returns false. */
static bool slurp(struct cresc_source *s, enum src_bit bit, const char *dir, const char *name,
                  size_t *len)
{
    char path[PATH_MAXB];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        mark_failed(s, bit, path, strerror(errno));
        return false;
    }
    size_t n = 0;
    bool ok = true;
    while (n < READ_MAX) {
        ssize_t r = read(fd, s->buf + n, READ_MAX - n);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            mark_failed(s, bit, path, strerror(errno));
            ok = false;
            break;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    if (ok && n == READ_MAX) {
        mark_failed(s, bit, path, "larger than the read limit");
        ok = false;
    }
    close(fd);
    if (ok) {
        s->buf[n] = '\0';
        *len = n;
    }
    return ok;
}

/* Parse result: log a malformed file once. Success is marked by the caller once every file
 * of the measure was read, so a measure made of several files cannot flap in the log. */
static bool parsed(struct cresc_source *s, enum src_bit bit, const char *dir, const char *name,
                   int rc)
{
    char path[PATH_MAXB];
    if (rc != CRESC_OK) {
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        mark_failed(s, bit, path, cresc_strerror(rc));
        return false;
    }
    return true;
}

/* Names under <sys_root>/block, or NULL (decide by name) when the directory is missing. */
static const char *const *list_block(struct cresc_source *s)
{
    char path[PATH_MAXB];
    snprintf(path, sizeof(path), "%s/block", s->sys_root);
    DIR *d = opendir(path);
    if (d == NULL) {
        return NULL;
    }
    size_t n = 0;
    struct dirent *e;
    while (n < CRESC_DISKS_MAX && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= CRESC_DISK_NAME_MAX) {
            continue;
        }
        memcpy(s->block[n], e->d_name, strlen(e->d_name) + 1);
        s->block_list[n] = s->block[n];
        n++;
    }
    s->block_list[n] = NULL;
    closedir(d);
    return s->block_list;
}

static void read_host(struct cresc_source *s, struct cresc_reading *r)
{
    size_t n;
    if (slurp(s, SRC_STAT, s->proc_root, "stat", &n) &&
        parsed(s, SRC_STAT, s->proc_root, "stat",
               cresc_procfs_parse_stat(s->buf, n, &r->host_cpu))) {
        r->have |= CRESC_READ_HOST_CPU;
        mark_ok(s, SRC_STAT, s->proc_root);
    }
    if (s->cgroup) {
        return;
    }
    struct cresc_meminfo m;
    if (slurp(s, SRC_MEMINFO, s->proc_root, "meminfo", &n) &&
        parsed(s, SRC_MEMINFO, s->proc_root, "meminfo",
               cresc_procfs_parse_meminfo(s->buf, n, &m))) {
        r->mem_pct = cresc_procfs_mem_pct(&m);
        r->have |= CRESC_READ_MEM;
        mark_ok(s, SRC_MEMINFO, s->proc_root);
    }
    if (slurp(s, SRC_DISKSTATS, s->proc_root, "diskstats", &n) &&
        parsed(s, SRC_DISKSTATS, s->proc_root, "diskstats",
               cresc_procfs_parse_diskstats(s->buf, n, list_block(s), &r->disk))) {
        if (r->disk.n == 0) {
            /* Only virtual devices (a VM with none, loop-only containers): nothing to report,
               which is not the same as an idle disk. */
            char path[PATH_MAXB];
            snprintf(path, sizeof(path), "%s/diskstats", s->proc_root);
            mark_failed(s, SRC_DISKSTATS, path, "no whole physical disk in it");
            return;
        }
        r->have |= CRESC_READ_DISK;
        mark_ok(s, SRC_DISKSTATS, s->proc_root);
    }
}

static void read_cgroup_cpu(struct cresc_source *s, struct cresc_reading *r)
{
    size_t n;
    const char *dir = s->cgroup_dir;
    if (!slurp(s, SRC_CG_CPU_STAT, dir, "cpu.stat", &n) ||
        !parsed(s, SRC_CG_CPU_STAT, dir, "cpu.stat",
                cresc_cgroup_parse_keyed(s->buf, n, "usage_usec", &r->cg_usage_us))) {
        return;
    }
    mark_ok(s, SRC_CG_CPU_STAT, dir);
    struct cresc_cgroup_cpu_max m = {0};
    double cores = 0.0;
    if (slurp(s, SRC_CG_CPU_MAX, dir, "cpu.max", &n) &&
        parsed(s, SRC_CG_CPU_MAX, dir, "cpu.max", cresc_cgroup_parse_cpu_max(s->buf, n, &m))) {
        cores = cresc_cgroup_cpu_max_cores(&m);
        mark_ok(s, SRC_CG_CPU_MAX, dir);
    }
    if (!m.limited && cores <= 0.0) {
        static struct cresc_log_once no_quota = CRESC_LOG_ONCE_INIT;
        cresc_log_once(&no_quota, CRESC_LOG_INFO, CRESC_LOGGER_AGENT,
                       "%s/cpu.max has no quota: CPU percent is relative to all host CPUs", dir);
    }
    if (cores <= 0.0 && (r->have & CRESC_READ_HOST_CPU)) {
        cores = (double)(r->host_cpu.n_cpus > 0 ? r->host_cpu.n_cpus : 1);
    }
    if (cores > 0.0) {
        r->cg_cores = cores;
        r->have |= CRESC_READ_CG_CPU;
    }
}

static void read_cgroup_mem(struct cresc_source *s, struct cresc_reading *r)
{
    size_t n;
    const char *dir = s->cgroup_dir;
    uint64_t current = 0, inactive = 0, limit = 0;
    bool limited = false;
    if (!slurp(s, SRC_CG_MEM, dir, "memory.current", &n) ||
        !parsed(s, SRC_CG_MEM, dir, "memory.current",
                cresc_cgroup_parse_value(s->buf, n, NULL, &current))) {
        return;
    }
    if (slurp(s, SRC_CG_MEMSTAT, dir, "memory.stat", &n) &&
        parsed(s, SRC_CG_MEMSTAT, dir, "memory.stat",
               cresc_cgroup_parse_keyed(s->buf, n, "inactive_file", &inactive))) {
        mark_ok(s, SRC_CG_MEMSTAT, dir);
    }
    if (!slurp(s, SRC_CG_MEM, dir, "memory.max", &n) ||
        !parsed(s, SRC_CG_MEM, dir, "memory.max",
                cresc_cgroup_parse_value(s->buf, n, &limited, &limit))) {
        return;
    }
    if (!limited) {
        /* No limit: the container can use the whole host's memory. */
        struct cresc_meminfo m;
        if (!slurp(s, SRC_MEMINFO, s->proc_root, "meminfo", &n) ||
            !parsed(s, SRC_MEMINFO, s->proc_root, "meminfo",
                    cresc_procfs_parse_meminfo(s->buf, n, &m))) {
            return;
        }
        limit = m.total_kib * 1024u;
        mark_ok(s, SRC_MEMINFO, s->proc_root);
    }
    r->mem_pct = cresc_cgroup_mem_pct(current, inactive, limit);
    r->have |= CRESC_READ_MEM;
    mark_ok(s, SRC_CG_MEM, dir);
}

static void read_metrics(struct cresc_source *s, struct cresc_reading *r)
{
    const char *body;
    size_t len;
    char err[256];
    int rc = cresc_promtext_scrape(s->scraper, &body, &len, err, sizeof(err));
    if (rc != CRESC_OK) {
        mark_failed(s, SRC_METRICS, "the metrics endpoint", err);
        return;
    }
    struct cresc_promtext_query q[2] = {{.name = s->requests_counter},
                                        {.name = s->connections_gauge}};
    rc = cresc_promtext_parse(body, len, q, 2, NULL);
    if (rc != CRESC_OK) {
        mark_failed(s, SRC_METRICS, "the metrics endpoint", cresc_strerror(rc));
        return;
    }
    if (q[0].n_series == 0 && q[1].n_series == 0) {
        mark_failed(s, SRC_METRICS, "the metrics endpoint", "neither metric name is on the page");
        return;
    }
    mark_ok(s, SRC_METRICS, "the metrics endpoint");
    if (q[0].n_series > 0) {
        r->req_total = q[0].sum;
        r->have |= CRESC_READ_REQ;
    }
    if (q[1].n_series > 0) {
        r->connections = q[1].sum;
        r->have |= CRESC_READ_CONNS;
    }
}

void cresc_source_read(struct cresc_source *s, int64_t mono_ms, struct cresc_reading *r)
{
    r->mono_ms = mono_ms;
    r->have = 0;
    read_host(s, r);
    if (s->cgroup) {
        size_t n;
        read_cgroup_cpu(s, r);
        read_cgroup_mem(s, r);
        if (slurp(s, SRC_CG_IO, s->cgroup_dir, "io.stat", &n) &&
            parsed(s, SRC_CG_IO, s->cgroup_dir, "io.stat",
                   cresc_cgroup_parse_io_stat(s->buf, n, &r->disk))) {
            r->have |= CRESC_READ_DISK;
            mark_ok(s, SRC_CG_IO, s->cgroup_dir);
        }
    }
    if (s->scraper != NULL) {
        read_metrics(s, r);
    }
}
