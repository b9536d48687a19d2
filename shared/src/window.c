/* The per-service sliding view (window.h): instances kept in an array of pointers sorted by
 * instance_id (binary search gives a new instance its place, memmove inserts it: 20k instances
 * cost ~5 us per new instance, and new instances are rare next to samples) and found per sample
 * through a hash index (idindex.h), each with a bounded ring of recent values and its window
 * sums. Pure: every clock comes from the caller. */
#include "cresc/window.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cresc/idindex.h"

/* One sample's values as the window keeps them; at_ms is the caller's clock at arrival. */
struct win_value {
    int64_t at_ms;
    unsigned present;
    double cpu_pct, mem_pct, req_per_s, conns;
    double rd_ops, wr_ops, rd_bytes, wr_bytes;
};

/* Sums over the newest n values of a ring that were inside the window at at_ms. Metric i:
 * cpu, mem, req, conns, then the four disk rates (counted together). */
struct span {
    double sum[8];
    uint32_t cnt[8];
    size_t n;
    int64_t at_ms;
};

struct win_inst {
    char id[CRESC_ID_MAX + 1];
    char node[CRESC_ID_MAX + 1];
    uint64_t seq;
    int64_t last_ts_ms;    /* wall clock of the latest sample */
    int64_t last_seen_ms;  /* caller clock of the latest sample */
    size_t cap, len, head; /* ring: head = index of the oldest value */
    struct win_value *ring;
    struct span cache; /* the window's sums, computed at the first evaluation after a sample */
};

struct cresc_window {
    struct cresc_window_opts opts;
    size_t n, cap;
    struct win_inst **inst;     /* sorted by id */
    struct cresc_idindex index; /* id -> instance, when `indexed` (see reindex) */
    bool indexed;
};

static void span_compute(const struct cresc_window *w, const struct win_inst *in, int64_t now_ms,
                         struct span *sp);

int cresc_window_new(const struct cresc_window_opts *opts, struct cresc_window **out)
{
    if (!opts || !out || opts->window_ms < 0 || opts->max_instances == 0 ||
        opts->max_values_per_instance == 0) {
        return CRESC_EINVAL;
    }
    struct cresc_window *w = calloc(1, sizeof(*w));
    if (!w) {
        return CRESC_ENOMEM;
    }
    w->opts = *opts;
    cresc_idindex_init(&w->index, offsetof(struct win_inst, id));
    w->indexed = true;
    *out = w;
    return 0;
}

/* Make the index mirror the array again (after expiry, or after it ran out of memory: lookups
 * use the binary search meanwhile). */
static void reindex(struct cresc_window *w)
{
    w->indexed = cresc_idindex_rebuild(&w->index, (void *const *)w->inst, w->n) == 0;
}

static void inst_free(struct win_inst *in)
{
    if (in) {
        free(in->ring);
        free(in);
    }
}

void cresc_window_free(struct cresc_window *w)
{
    if (!w) {
        return;
    }
    for (size_t i = 0; i < w->n; i++) {
        inst_free(w->inst[i]);
    }
    free(w->inst);
    cresc_idindex_release(&w->index);
    free(w);
}

size_t cresc_window_count(const struct cresc_window *w)
{
    return w ? w->n : 0;
}

/* Lower bound: index of the first instance whose id is >= id; *found when equal. */
static size_t find_inst(const struct cresc_window *w, const char *id, bool *found)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(w->inst[mid]->id, id);
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = lo < w->n && strcmp(w->inst[lo]->id, id) == 0;
    return lo;
}

static bool inst_live(const struct cresc_window *w, const struct win_inst *in, int64_t now_ms)
{
    /* ttl_ms <= 0 disables expiry (tests, replay of short traces). */
    return w->opts.ttl_ms <= 0 || now_ms - in->last_seen_ms <= w->opts.ttl_ms;
}

size_t cresc_window_expire(struct cresc_window *w, int64_t now_ms)
{
    if (!w) {
        return 0;
    }
    size_t kept = 0, gone = 0;
    for (size_t i = 0; i < w->n; i++) {
        if (inst_live(w, w->inst[i], now_ms)) {
            w->inst[kept++] = w->inst[i];
        } else {
            inst_free(w->inst[i]);
            gone++;
        }
    }
    w->n = kept;
    if (gone > 0) {
        reindex(w);
    }
    return gone;
}

static int insert_inst(struct cresc_window *w, size_t pos, const struct cresc_sample *s,
                       struct win_inst **out)
{
    if (w->n == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 16;
        if (ncap > w->opts.max_instances) {
            ncap = w->opts.max_instances;
        }
        struct win_inst **p = realloc(w->inst, ncap * sizeof(*p));
        if (!p) {
            return CRESC_ENOMEM;
        }
        w->inst = p;
        w->cap = ncap;
    }
    struct win_inst *in = calloc(1, sizeof(*in));
    if (!in) {
        return CRESC_ENOMEM;
    }
    memcpy(in->id, s->instance_id, sizeof(in->id));
    in->id[CRESC_ID_MAX] = '\0';
    memmove(&w->inst[pos + 1], &w->inst[pos], (w->n - pos) * sizeof(w->inst[0]));
    w->inst[pos] = in;
    w->n++;
    if (!w->indexed || cresc_idindex_put(&w->index, in) != 0) {
        reindex(w);
    }
    *out = in;
    return 0;
}

static int ring_push(struct win_inst *in, size_t max_values, const struct win_value *v)
{
    if (in->len == in->cap && in->cap < max_values) {
        /* Grow lazily (doubling, capped) so idle services with many instances stay small. */
        size_t ncap = in->cap ? in->cap * 2 : 4;
        if (ncap > max_values) {
            ncap = max_values;
        }
        struct win_value *r = malloc(ncap * sizeof(*r));
        if (!r) {
            return CRESC_ENOMEM;
        }
        for (size_t i = 0; i < in->len; i++) {
            r[i] = in->ring[(in->head + i) % in->cap];
        }
        free(in->ring);
        in->ring = r;
        in->cap = ncap;
        in->head = 0;
    }
    if (in->cap == 0) {
        return CRESC_EINVAL; /* max_values 0 is refused by cresc_window_new */
    }
    if (in->len < in->cap) {
        in->ring[(in->head + in->len) % in->cap] = *v;
        in->len++;
    } else {
        in->ring[in->head] = *v; /* full: overwrite the oldest */
        in->head = (in->head + 1) % in->cap;
    }
    return 0;
}

static void value_from_sample(const struct cresc_sample *s, int64_t now_ms, struct win_value *v)
{
    v->at_ms = now_ms;
    v->present = s->present;
    v->cpu_pct = s->cpu_pct;
    v->mem_pct = s->mem_pct;
    v->req_per_s = s->req_per_s;
    v->conns = s->active_connections;
    v->rd_ops = s->disk_read_ops_per_s;
    v->wr_ops = s->disk_write_ops_per_s;
    v->rd_bytes = s->disk_read_bytes_per_s;
    v->wr_bytes = s->disk_write_bytes_per_s;
}

int cresc_window_add(struct cresc_window *w, const struct cresc_sample *s, int64_t now_ms,
                     int64_t wall_now_ms, enum cresc_window_verdict *verdict)
{
    if (!w || !s || !verdict || s->instance_id[0] == '\0') {
        return CRESC_EINVAL;
    }
    if (w->opts.max_skew_ms > 0) {
        int64_t d = s->ts_ms - wall_now_ms;
        if (d > w->opts.max_skew_ms || d < -w->opts.max_skew_ms) {
            *verdict = CRESC_WINDOW_SKEWED;
            return 0;
        }
    }
    bool found = false;
    size_t pos = 0;
    struct win_inst *in = NULL;
    if (w->indexed) {
        in = cresc_idindex_find(&w->index, s->instance_id, cresc_id_hash(s->instance_id));
        found = in != NULL;
    }
    if (!found) {
        pos = find_inst(w, s->instance_id, &found); /* the insert position, or no index */
        in = found ? w->inst[pos] : NULL;
    }
    if (found) {
        if (!inst_live(w, in, now_ms)) {
            /* Gone and back: forget the old run, including its sequence numbers. */
            in->len = 0;
            in->head = 0;
            in->seq = 0;
        } else if (s->seq <= in->seq) {
            /* An agent restart starts again at seq 1 with a newer timestamp: accept it as a
             * new run instead of ignoring the instance until its TTL passes. */
            if (!(s->seq == 1 && s->ts_ms > in->last_ts_ms)) {
                *verdict = CRESC_WINDOW_DUPLICATE;
                return 0;
            }
            in->len = 0;
            in->head = 0;
        }
    } else {
        if (w->n >= w->opts.max_instances) {
            /* Make room from the dead before refusing a live newcomer. */
            if (cresc_window_expire(w, now_ms) == 0) {
                *verdict = CRESC_WINDOW_FULL;
                return 0;
            }
            pos = find_inst(w, s->instance_id, &found);
        }
        int rc = insert_inst(w, pos, s, &in);
        if (rc < 0) {
            return rc;
        }
    }
    struct win_value v;
    value_from_sample(s, now_ms, &v);
    int rc = ring_push(in, w->opts.max_values_per_instance, &v);
    if (rc < 0) {
        return rc;
    }
    in->cache.n = 0; /* the sums are computed at the next evaluation (inst_mean) */
    memcpy(in->node, s->node, sizeof(in->node));
    in->node[CRESC_ID_MAX] = '\0';
    in->seq = s->seq;
    in->last_ts_ms = s->ts_ms;
    in->last_seen_ms = now_ms;
    *verdict = CRESC_WINDOW_ACCEPTED;
    return 0;
}

enum { M_CPU, M_MEM, M_REQ, M_CONNS, M_RD_OPS, M_WR_OPS, M_RD_BYTES, M_WR_BYTES };

/* Per-instance means over the window; bit i of `present` says metric i had a value. */
struct inst_means {
    unsigned present;
    double v[8];
};

static void span_add(struct span *sp, const struct win_value *v, double sign, uint32_t one)
{
    unsigned p = v->present;
    if (p & CRESC_SAMPLE_HAS_CPU) {
        sp->sum[0] += sign * v->cpu_pct;
        sp->cnt[0] += one;
    }
    if (p & CRESC_SAMPLE_HAS_MEM) {
        sp->sum[1] += sign * v->mem_pct;
        sp->cnt[1] += one;
    }
    if (p & CRESC_SAMPLE_HAS_REQ) {
        sp->sum[2] += sign * v->req_per_s;
        sp->cnt[2] += one;
    }
    if (p & CRESC_SAMPLE_HAS_CONNS) {
        sp->sum[3] += sign * v->conns;
        sp->cnt[3] += one;
    }
    if (p & CRESC_SAMPLE_HAS_DISK) {
        sp->sum[4] += sign * v->rd_ops;
        sp->sum[5] += sign * v->wr_ops;
        sp->sum[6] += sign * v->rd_bytes;
        sp->sum[7] += sign * v->wr_bytes;
        for (int i = 4; i < 8; i++) {
            sp->cnt[i] += one;
        }
    }
}

/* From scratch: walk newest to oldest. The newest value always counts, older ones while
 * inside the window, so an instance whose samples are sparser than the window still has a
 * value. Run once per accepted sample (at most max_values_per_instance steps). */
static void span_compute(const struct cresc_window *w, const struct win_inst *in, int64_t now_ms,
                         struct span *sp)
{
    memset(sp, 0, sizeof(*sp));
    sp->at_ms = now_ms;
    if (in->len == 0) {
        return;
    }
    const int64_t window = w->opts.window_ms;
    size_t idx = (in->head + in->len - 1) % in->cap;
    for (size_t k = 0; k < in->len; k++) {
        const struct win_value *v = &in->ring[idx];
        if (k > 0 && (window == 0 || now_ms - v->at_ms > window)) {
            break;
        }
        span_add(sp, v, 1.0, 1);
        sp->n++;
        idx = idx ? idx - 1 : in->cap - 1;
    }
}

/* The hot path of every evaluation (1,000 instances): start from the sums cached at the
 * instance's first evaluation since its latest sample and only take out the values that have
 * left the window since, oldest first. The sums are computed here rather than per sample, so
 * a burst of samples (a backlog being caught up) costs one pass per evaluation, not one per
 * sample. A clock that went backwards falls back to computing from scratch. */
static void inst_mean(const struct cresc_window *w, struct win_inst *in, int64_t now_ms,
                      struct inst_means *m)
{
    struct span sp;
    m->present = 0;
    if (in->len == 0) {
        return;
    }
    if (in->cache.n == 0 || in->cache.n > in->len) {
        span_compute(w, in, now_ms, &in->cache);
    }
    if (now_ms < in->cache.at_ms) {
        span_compute(w, in, now_ms, &sp);
    } else {
        sp = in->cache;
        const int64_t window = w->opts.window_ms;
        size_t idx = (in->head + in->len - sp.n) % in->cap;
        while (sp.n > 1) {
            const struct win_value *v = &in->ring[idx];
            if (window != 0 && now_ms - v->at_ms <= window) {
                break;
            }
            span_add(&sp, v, -1.0, (uint32_t)-1);
            sp.n--;
            idx = idx + 1 == in->cap ? 0 : idx + 1;
        }
    }
    for (int i = 0; i < 8; i++) {
        if (sp.cnt[i] > 0) {
            m->v[i] = sp.sum[i] / (double)sp.cnt[i];
            m->present |= 1u << i;
        }
    }
}

void cresc_window_aggregate(const struct cresc_window *w, int64_t now_ms,
                            struct cresc_window_agg *out)
{
    memset(out, 0, sizeof(*out));
    if (!w) {
        return;
    }
    double sum[8] = {0};
    unsigned cnt[8] = {0};
    for (size_t i = 0; i < w->n; i++) {
        struct win_inst *in = w->inst[i];
        if (!inst_live(w, in, now_ms) || in->len == 0) {
            continue;
        }
        out->live_instances++;
        struct inst_means m;
        inst_mean(w, in, now_ms, &m);
        for (int k = 0; k < 8; k++) {
            if (m.present & (1u << k)) {
                sum[k] += m.v[k];
                cnt[k]++;
            }
        }
    }
    /* CPU and memory are utilizations: mean over the instances reporting them. Request rate,
     * connections and disk are loads: totals over the instances reporting them. */
    out->metrics.has_cpu = cnt[M_CPU] > 0;
    out->metrics.cpu_pct = cnt[M_CPU] ? sum[M_CPU] / (double)cnt[M_CPU] : 0.0;
    out->metrics.has_mem = cnt[M_MEM] > 0;
    out->metrics.mem_pct = cnt[M_MEM] ? sum[M_MEM] / (double)cnt[M_MEM] : 0.0;
    out->metrics.has_req = cnt[M_REQ] > 0;
    out->metrics.req_per_s = sum[M_REQ];
    out->has_conns = cnt[M_CONNS] > 0;
    out->active_connections_total = sum[M_CONNS];
    out->has_disk = cnt[M_RD_OPS] > 0;
    out->disk_read_ops_per_s = sum[M_RD_OPS];
    out->disk_write_ops_per_s = sum[M_WR_OPS];
    out->disk_read_bytes_per_s = sum[M_RD_BYTES];
    out->disk_write_bytes_per_s = sum[M_WR_BYTES];
}

size_t cresc_window_live(const struct cresc_window *w, int64_t now_ms,
                         struct cresc_live_instance *out, size_t cap)
{
    if (!w) {
        return 0;
    }
    size_t live = 0;
    for (size_t i = 0; i < w->n; i++) {
        const struct win_inst *in = w->inst[i];
        if (!inst_live(w, in, now_ms) || in->len == 0) {
            continue;
        }
        if (out && live < cap) {
            const struct win_value *v = &in->ring[(in->head + in->len - 1) % in->cap];
            struct cresc_live_instance *o = &out[live];
            memset(o, 0, sizeof(*o));
            memcpy(o->instance_id, in->id, sizeof(o->instance_id));
            memcpy(o->node, in->node, sizeof(o->node));
            o->last_seen_ms = in->last_ts_ms;
            o->seq = in->seq;
            o->present = v->present;
            o->cpu_pct = v->cpu_pct;
            o->mem_pct = v->mem_pct;
            o->req_per_s = v->req_per_s;
            o->active_connections = v->conns;
            o->disk_read_ops_per_s = v->rd_ops;
            o->disk_write_ops_per_s = v->wr_ops;
            o->disk_read_bytes_per_s = v->rd_bytes;
            o->disk_write_bytes_per_s = v->wr_bytes;
        }
        live++;
    }
    return live;
}
