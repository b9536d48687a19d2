/* cgroup v2 parsers for the agent (see cgroup.h). Strict: a value with trailing garbage or an
 * overflowing number is malformed, never a wrong number. */
#include "cgroup.h"

#include <string.h>

#include "textscan.h"

#define LINE_MAX_BYTES 512
#define DEFAULT_PERIOD 100000u
#define MAJOR_RAMDISK  1u
#define MAJOR_LOOP     7u

static bool only_blanks(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
        p++;
    }
    return *p == '\0';
}

/* The first line of buf as a NUL-terminated string. */
static bool first_line(const char *buf, size_t len, char *dst, size_t cap)
{
    struct cresc_textscan ts;
    const char *line;
    size_t n;
    cresc_textscan_init(&ts, buf, len);
    return cresc_textscan_line(&ts, &line, &n) && cresc_textscan_copy(line, n, dst, cap);
}

int cresc_cgroup_parse_cpu_max(const char *buf, size_t len, struct cresc_cgroup_cpu_max *out)
{
    char copy[128];
    if (!first_line(buf, len, copy, sizeof(copy))) {
        return CRESC_EPARSE;
    }
    const char *p = copy;
    size_t tlen;
    const char *tok = cresc_textscan_token(&p, &tlen);
    if (tok == NULL) {
        return CRESC_EPARSE;
    }
    struct cresc_cgroup_cpu_max m = {.limited = true, .period_us = DEFAULT_PERIOD};
    if (tlen == 3 && memcmp(tok, "max", 3) == 0) {
        m.limited = false;
    } else {
        const char *q = tok;
        if (!cresc_textscan_u64(&q, &m.quota_us) || q != tok + tlen || m.quota_us == 0) {
            return CRESC_EPARSE;
        }
    }
    if (!only_blanks(p)) {
        if (!cresc_textscan_u64(&p, &m.period_us) || !only_blanks(p) || m.period_us == 0) {
            return CRESC_EPARSE;
        }
    }
    *out = m;
    return CRESC_OK;
}

double cresc_cgroup_cpu_max_cores(const struct cresc_cgroup_cpu_max *m)
{
    if (!m->limited || m->period_us == 0) {
        return 0.0;
    }
    return (double)m->quota_us / (double)m->period_us;
}

int cresc_cgroup_parse_keyed(const char *buf, size_t len, const char *key, uint64_t *out)
{
    struct cresc_textscan ts;
    const char *line;
    size_t n;
    size_t klen = strlen(key);
    cresc_textscan_init(&ts, buf, len);
    while (cresc_textscan_line(&ts, &line, &n)) {
        if (n <= klen || memcmp(line, key, klen) != 0 || line[klen] != ' ') {
            continue;
        }
        char copy[LINE_MAX_BYTES];
        if (!cresc_textscan_copy(line, n, copy, sizeof(copy))) {
            return CRESC_EPARSE;
        }
        const char *p = copy + klen;
        if (!cresc_textscan_u64(&p, out) || !only_blanks(p)) {
            return CRESC_EPARSE;
        }
        return CRESC_OK;
    }
    return CRESC_ENOTFOUND;
}

int cresc_cgroup_parse_value(const char *buf, size_t len, bool *limited, uint64_t *out)
{
    char copy[64];
    if (!first_line(buf, len, copy, sizeof(copy))) {
        return CRESC_EPARSE;
    }
    const char *p = copy;
    size_t tlen;
    const char *tok = cresc_textscan_token(&p, &tlen);
    if (tok == NULL || !only_blanks(p)) {
        return CRESC_EPARSE;
    }
    if (limited != NULL && tlen == 3 && memcmp(tok, "max", 3) == 0) {
        *limited = false;
        *out = 0;
        return CRESC_OK;
    }
    const char *q = tok;
    if (!cresc_textscan_u64(&q, out) || q != tok + tlen) {
        return CRESC_EPARSE;
    }
    if (limited != NULL) {
        *limited = true;
    }
    return CRESC_OK;
}

/* One "key=value" token of io.stat into the counters; unknown keys are ignored. */
static bool io_stat_field(const char *tok, size_t tlen, struct cresc_disk_counters *d,
                          unsigned *seen)
{
    static const char *const keys[] = {"rbytes=", "wbytes=", "rios=", "wios="};
    for (unsigned i = 0; i < 4; i++) {
        size_t klen = strlen(keys[i]);
        if (tlen <= klen || memcmp(tok, keys[i], klen) != 0) {
            continue;
        }
        const char *q = tok + klen;
        uint64_t v;
        if (!cresc_textscan_u64(&q, &v) || q != tok + tlen) {
            return false;
        }
        uint64_t *dst[] = {&d->read_units, &d->write_units, &d->read_ops, &d->write_ops};
        *dst[i] = v;
        *seen |= 1u << i;
        return true;
    }
    return memchr(tok, '=', tlen) != NULL;
}

int cresc_cgroup_parse_io_stat(const char *buf, size_t len, struct cresc_disk_set *out)
{
    struct cresc_textscan ts;
    const char *line;
    size_t n;
    memset(out, 0, sizeof(*out));
    out->unit_bytes = 1;
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
        if (!cresc_textscan_u64(&p, &major) || *p != ':') {
            out->n_malformed++;
            continue;
        }
        p++;
        if (!cresc_textscan_u64(&p, &minor) || (*p != ' ' && *p != '\t')) {
            out->n_malformed++;
            continue;
        }
        size_t name_len = (size_t)(p - copy);
        struct cresc_disk_counters d = {0};
        unsigned seen = 0;
        bool ok = true;
        size_t tlen;
        const char *tok;
        while (ok && (tok = cresc_textscan_token(&p, &tlen)) != NULL) {
            ok = io_stat_field(tok, tlen, &d, &seen);
        }
        if (!ok || seen != 0xfu) {
            out->n_malformed++;
            continue;
        }
        if (major == MAJOR_RAMDISK || major == MAJOR_LOOP) {
            out->n_excluded++;
            continue;
        }
        if (out->n == CRESC_DISKS_MAX) {
            out->truncated = true;
            continue;
        }
        if (name_len >= CRESC_DISK_NAME_MAX) {
            out->n_malformed++;
            continue;
        }
        memcpy(d.name, copy, name_len);
        d.name[name_len] = '\0';
        out->dev[out->n++] = d;
    }
    return CRESC_OK;
}

double cresc_cgroup_mem_pct(uint64_t current_bytes, uint64_t inactive_file_bytes,
                            uint64_t limit_bytes)
{
    if (limit_bytes == 0) {
        return 0.0;
    }
    uint64_t used = current_bytes > inactive_file_bytes ? current_bytes - inactive_file_bytes : 0;
    double pct = (double)used * 100.0 / (double)limit_bytes;
    return pct > 100.0 ? 100.0 : pct;
}

int cresc_cgroup_cpu_pct(uint64_t prev_usage_us, uint64_t cur_usage_us, uint64_t elapsed_us,
                         double cores, double *pct)
{
    if (cur_usage_us < prev_usage_us || elapsed_us == 0 || !(cores > 0.0)) {
        return CRESC_ERANGE;
    }
    double v = (double)(cur_usage_us - prev_usage_us) * 100.0 / ((double)elapsed_us * cores);
    *pct = v > 100.0 ? 100.0 : v;
    return CRESC_OK;
}
