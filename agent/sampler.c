/* Rates from deltas for the agent (see sampler.h). Disk rates are computed per device, so a
 * disk that appears, disappears or resets between two readings drops out of that interval
 * instead of turning its whole lifetime count into one interval's rate. */
#include "sampler.h"

#include <string.h>

#define WRAP_32     (UINT64_C(1) << 32)
#define WRAP_MAX_OK (UINT64_C(1) << 31)

void cresc_sampler_init(struct cresc_sampler *s)
{
    memset(s, 0, sizeof(*s));
}

enum cresc_counter_step cresc_counter_delta(uint64_t prev, uint64_t cur, uint64_t *delta)
{
    if (cur >= prev) {
        *delta = cur - prev;
        return CRESC_COUNTER_OK;
    }
    if (prev < WRAP_32) {
        uint64_t d = WRAP_32 - prev + cur;
        if (d < WRAP_MAX_OK) {
            *delta = d;
            return CRESC_COUNTER_WRAPPED;
        }
    }
    *delta = 0;
    return CRESC_COUNTER_RESET;
}

double cresc_counter_rate(double prev, double cur, double elapsed_s, bool *reset)
{
    double inc = cur - prev;
    *reset = inc < 0.0;
    if (*reset) {
        inc = cur;
    }
    if (!(elapsed_s > 0.0) || !(inc > 0.0)) {
        return 0.0;
    }
    return inc / elapsed_s;
}

static const struct cresc_disk_counters *find_disk(const struct cresc_disk_set *set,
                                                   const char *name)
{
    for (size_t i = 0; i < set->n; i++) {
        if (strcmp(set->dev[i].name, name) == 0) {
            return &set->dev[i];
        }
    }
    return NULL;
}

static void disk_rates(struct cresc_sampler *s, const struct cresc_disk_set *prev,
                       const struct cresc_disk_set *cur, double elapsed_s, struct cresc_sample *out)
{
    double r_ops = 0, w_ops = 0, r_units = 0, w_units = 0;
    for (size_t i = 0; i < cur->n; i++) {
        const struct cresc_disk_counters *c = &cur->dev[i];
        const struct cresc_disk_counters *p = find_disk(prev, c->name);
        if (p == NULL) {
            continue; /* new device: rates from the next interval on */
        }
        uint64_t d[4];
        enum cresc_counter_step st[4] = {
            cresc_counter_delta(p->read_ops, c->read_ops, &d[0]),
            cresc_counter_delta(p->write_ops, c->write_ops, &d[1]),
            cresc_counter_delta(p->read_units, c->read_units, &d[2]),
            cresc_counter_delta(p->write_units, c->write_units, &d[3]),
        };
        bool reset = false;
        for (int k = 0; k < 4; k++) {
            reset = reset || st[k] == CRESC_COUNTER_RESET;
        }
        if (reset) {
            s->counter_resets++;
            continue;
        }
        r_ops += (double)d[0];
        w_ops += (double)d[1];
        r_units += (double)d[2];
        w_units += (double)d[3];
    }
    double unit = (double)cur->unit_bytes;
    out->disk_read_ops_per_s = r_ops / elapsed_s;
    out->disk_write_ops_per_s = w_ops / elapsed_s;
    out->disk_read_bytes_per_s = r_units * unit / elapsed_s;
    out->disk_write_bytes_per_s = w_units * unit / elapsed_s;
    out->present |= CRESC_SAMPLE_HAS_DISK;
}

static double clamp_pct(double v)
{
    return v < 0.0 ? 0.0 : (v > 100.0 ? 100.0 : v);
}

void cresc_sampler_update(struct cresc_sampler *s, const struct cresc_reading *cur,
                          struct cresc_sample *out)
{
    out->present = 0;
    if (cur->have & CRESC_READ_MEM) {
        out->mem_pct = clamp_pct(cur->mem_pct);
        out->present |= CRESC_SAMPLE_HAS_MEM;
    }
    if (cur->have & CRESC_READ_CONNS) {
        out->active_connections = cur->connections < 0.0 ? 0.0 : cur->connections;
        out->present |= CRESC_SAMPLE_HAS_CONNS;
    }
    const struct cresc_reading *prev = &s->_prev;
    int64_t elapsed_ms = cur->mono_ms - prev->mono_ms;
    if (s->_have_prev && elapsed_ms > 0) {
        double elapsed_s = (double)elapsed_ms / 1000.0;
        unsigned both = prev->have & cur->have;
        double pct;
        if ((both & CRESC_READ_CG_CPU) &&
            cresc_cgroup_cpu_pct(prev->cg_usage_us, cur->cg_usage_us, (uint64_t)elapsed_ms * 1000u,
                                 cur->cg_cores, &pct) == CRESC_OK) {
            out->cpu_pct = clamp_pct(pct);
            out->present |= CRESC_SAMPLE_HAS_CPU;
        } else if ((both & CRESC_READ_HOST_CPU) &&
                   cresc_procfs_cpu_pct(&prev->host_cpu, &cur->host_cpu, &pct) == CRESC_OK) {
            out->cpu_pct = clamp_pct(pct);
            out->present |= CRESC_SAMPLE_HAS_CPU;
        }
        if ((both & CRESC_READ_DISK) && prev->disk.unit_bytes == cur->disk.unit_bytes) {
            disk_rates(s, &prev->disk, &cur->disk, elapsed_s, out);
        }
        if (both & CRESC_READ_REQ) {
            bool reset;
            out->req_per_s = cresc_counter_rate(prev->req_total, cur->req_total, elapsed_s, &reset);
            if (reset) {
                s->counter_resets++;
            }
            out->present |= CRESC_SAMPLE_HAS_REQ;
        }
    }
    s->_prev = *cur;
    s->_have_prev = true;
}
