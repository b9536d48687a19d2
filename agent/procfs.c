/* /proc parsers for the agent (see procfs.h): CPU ticks, memory and whole-disk I/O counters.
 * Every line is copied into a bounded buffer before tokenizing; anything unexpected is
 * skipped and counted rather than trusted. */
#include "procfs.h"

#include <ctype.h>
#include <string.h>

#include "textscan.h"

#define LINE_MAX_BYTES 512
#define SECTOR_BYTES   512u /* /proc/diskstats counts 512-byte sectors whatever the device */

int cresc_procfs_parse_stat(const char *buf, size_t len, struct cresc_cpu_times *out)
{
    struct cresc_textscan ts;
    const char *line;
    size_t n;
    bool have_cpu = false;
    memset(out, 0, sizeof(*out));
    cresc_textscan_init(&ts, buf, len);
    while (cresc_textscan_line(&ts, &line, &n)) {
        if (n < 4 || memcmp(line, "cpu", 3) != 0) {
            continue;
        }
        if (isdigit((unsigned char)line[3])) {
            out->n_cpus++;
            continue;
        }
        if (line[3] != ' ' || have_cpu) {
            continue;
        }
        char copy[LINE_MAX_BYTES];
        if (!cresc_textscan_copy(line, n, copy, sizeof(copy))) {
            return CRESC_EPARSE;
        }
        const char *p = copy + 3;
        uint64_t v[8] = {0};
        int got = 0;
        while (got < 8 && cresc_textscan_u64(&p, &v[got])) {
            got++;
        }
        if (got < 4) {
            return CRESC_EPARSE;
        }
        /* guest/guest_nice (fields 9, 10) are already included in user/nice. */
        for (int i = 0; i < got; i++) {
            if (out->total_ticks > UINT64_MAX - v[i]) {
                return CRESC_EPARSE;
            }
            out->total_ticks += v[i];
        }
        out->idle_ticks = v[3] + (got > 4 ? v[4] : 0);
        have_cpu = true;
    }
    return have_cpu ? CRESC_OK : CRESC_EPARSE;
}

int cresc_procfs_cpu_pct(const struct cresc_cpu_times *prev, const struct cresc_cpu_times *cur,
                         double *pct)
{
    if (cur->total_ticks <= prev->total_ticks || cur->idle_ticks < prev->idle_ticks) {
        return CRESC_ERANGE;
    }
    uint64_t total = cur->total_ticks - prev->total_ticks;
    uint64_t idle = cur->idle_ticks - prev->idle_ticks;
    if (idle > total) {
        return CRESC_ERANGE;
    }
    *pct = (double)(total - idle) * 100.0 / (double)total;
    return CRESC_OK;
}

/* "Key:   123 kB" -> 123 when the line starts with key. */
static bool meminfo_field(const char *line, size_t n, const char *key, uint64_t *out)
{
    size_t klen = strlen(key);
    if (n <= klen || memcmp(line, key, klen) != 0 || line[klen] != ':') {
        return false;
    }
    char copy[128];
    if (!cresc_textscan_copy(line, n, copy, sizeof(copy))) {
        return false;
    }
    const char *p = copy + klen + 1;
    return cresc_textscan_u64(&p, out);
}

int cresc_procfs_parse_meminfo(const char *buf, size_t len, struct cresc_meminfo *out)
{
    struct cresc_textscan ts;
    const char *line;
    size_t n;
    uint64_t total = 0, avail = 0, free_kib = 0, buffers = 0, cached = 0;
    bool has_total = false, has_avail = false, has_free = false;
    cresc_textscan_init(&ts, buf, len);
    while (cresc_textscan_line(&ts, &line, &n)) {
        uint64_t v;
        if (meminfo_field(line, n, "MemTotal", &v)) {
            total = v;
            has_total = true;
        } else if (meminfo_field(line, n, "MemAvailable", &v)) {
            avail = v;
            has_avail = true;
        } else if (meminfo_field(line, n, "MemFree", &v)) {
            free_kib = v;
            has_free = true;
        } else if (meminfo_field(line, n, "Buffers", &v)) {
            buffers = v;
        } else if (meminfo_field(line, n, "Cached", &v)) {
            cached = v;
        }
    }
    if (!has_total || total == 0 || (!has_avail && !has_free)) {
        return CRESC_EPARSE;
    }
    out->total_kib = total;
    if (has_avail) {
        out->available_kib = avail;
    } else {
        uint64_t sum = free_kib + buffers + cached; /* kib values: no overflow in practice */
        out->available_kib = sum > total ? total : sum;
    }
    return CRESC_OK;
}

double cresc_procfs_mem_pct(const struct cresc_meminfo *m)
{
    if (m->total_kib == 0 || m->available_kib >= m->total_kib) {
        return 0.0;
    }
    return (double)(m->total_kib - m->available_kib) * 100.0 / (double)m->total_kib;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool cresc_procfs_disk_excluded(const char *name)
{
    static const char *const excluded[] = {"loop", "ram", "zram", "dm-", "md", "sr", "fd", "nbd"};
    for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++) {
        if (has_prefix(name, excluded[i])) {
            return true;
        }
    }
    return false;
}

/* name = prefix, then letters/digits as `stem`, then "p" + digits: nvme0n1p2, mmcblk0p1. */
static bool ends_with_p_digits(const char *name)
{
    size_t n = strlen(name);
    size_t i = n;
    while (i > 0 && isdigit((unsigned char)name[i - 1])) {
        i--;
    }
    return i < n && i >= 2 && name[i - 1] == 'p' && isdigit((unsigned char)name[i - 2]);
}

bool cresc_procfs_disk_is_partition(const char *name)
{
    size_t n = strlen(name);
    if (n == 0) {
        return false;
    }
    if (has_prefix(name, "nvme") || has_prefix(name, "mmcblk")) {
        return ends_with_p_digits(name);
    }
    if (has_prefix(name, "sd") || has_prefix(name, "hd") || has_prefix(name, "vd") ||
        has_prefix(name, "xvd")) {
        return isdigit((unsigned char)name[n - 1]) != 0;
    }
    return false;
}

static bool in_list(const char *name, const char *const *list)
{
    for (size_t i = 0; list[i] != NULL; i++) {
        if (strcmp(list[i], name) == 0) {
            return true;
        }
    }
    return false;
}

int cresc_procfs_parse_diskstats(const char *buf, size_t len, const char *const *whole_disks,
                                 struct cresc_disk_set *out)
{
    struct cresc_textscan ts;
    const char *line;
    size_t n;
    memset(out, 0, sizeof(*out));
    out->unit_bytes = SECTOR_BYTES;
    cresc_textscan_init(&ts, buf, len);
    while (cresc_textscan_line(&ts, &line, &n)) {
        char copy[LINE_MAX_BYTES];
        if (n == 0) {
            continue;
        }
        if (!cresc_textscan_copy(line, n, copy, sizeof(copy))) {
            out->n_malformed++;
            continue;
        }
        const char *p = copy;
        uint64_t major, minor;
        size_t nlen;
        const char *name;
        if (!cresc_textscan_u64(&p, &major) || !cresc_textscan_u64(&p, &minor) ||
            (name = cresc_textscan_token(&p, &nlen)) == NULL || nlen >= CRESC_DISK_NAME_MAX) {
            out->n_malformed++;
            continue;
        }
        /* reads, reads merged, sectors read, ms reading, writes, writes merged, sectors written */
        uint64_t f[7];
        int got = 0;
        while (got < 7 && cresc_textscan_u64(&p, &f[got])) {
            got++;
        }
        if (got < 7 || (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')) {
            out->n_malformed++;
            continue;
        }
        char dev[CRESC_DISK_NAME_MAX];
        memcpy(dev, name, nlen);
        dev[nlen] = '\0';
        bool whole =
            whole_disks != NULL ? in_list(dev, whole_disks) : !cresc_procfs_disk_is_partition(dev);
        if (!whole || cresc_procfs_disk_excluded(dev)) {
            out->n_excluded++;
            continue;
        }
        if (out->n == CRESC_DISKS_MAX) {
            out->truncated = true;
            continue;
        }
        struct cresc_disk_counters *d = &out->dev[out->n++];
        memcpy(d->name, dev, nlen + 1);
        d->read_ops = f[0];
        d->read_units = f[2];
        d->write_ops = f[4];
        d->write_units = f[6];
    }
    return CRESC_OK;
}
