/* The policy engine (cresc_policy_evaluate): per-policy votes, the composite, min/max, the
 * Kubernetes HPA autoscaling/v2 behavior (stabilization window, rate-limit policies), pause
 * and cooldown, each guard recorded with the count before and after. Pure: everything comes
 * in through cresc_eval_input. Rules and worked examples: docs/policies.md. */
#include "cresc/policy.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Counts are computed in double and brought back through this bound, so a wild factor or
 * metric can never overflow int32. */
#define COUNT_CAP 1000000000.0

/* ceil/floor that forgive the last bits of floating-point noise: 2 x 0.6 / 0.4 must give 3,
 * not 4. */
#define ROUND_EPS 1e-9

static int32_t to_count(double x)
{
    if (!(x > 0.0)) { /* also NaN */
        return 0;
    }
    if (x > COUNT_CAP) {
        return (int32_t)COUNT_CAP;
    }
    return (int32_t)x;
}

static int32_t ceil_count(double x)
{
    return to_count(ceil(x - ROUND_EPS));
}

static int32_t floor_count(double x)
{
    return to_count(floor(x + ROUND_EPS));
}

static void add_guard(struct cresc_decision *d, enum cresc_guard_kind kind, int32_t before,
                      int32_t after, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void add_guard(struct cresc_decision *d, enum cresc_guard_kind kind, int32_t before,
                      int32_t after, const char *fmt, ...)
{
    if (d->n_guards >= CRESC_GUARDS_MAX) {
        return; /* bounded; 16 is more than the pipeline can produce */
    }
    struct cresc_guard *g = &d->guards[d->n_guards++];
    g->kind = kind;
    g->before = before;
    g->after = after;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->detail, sizeof(g->detail), fmt, ap);
    va_end(ap);
}

static bool metric_value(const struct cresc_metrics *m, enum cresc_metric metric, double *out)
{
    bool has = false;
    double v = 0.0;
    switch (metric) {
    case CRESC_METRIC_CPU:
        has = m->has_cpu;
        v = m->cpu_pct;
        break;
    case CRESC_METRIC_MEM:
        has = m->has_mem;
        v = m->mem_pct;
        break;
    case CRESC_METRIC_REQ_RATE:
        has = m->has_req;
        v = m->req_per_s;
        break;
    case CRESC_METRIC_COUNT:
        break;
    }
    if (!has || !isfinite(v) || v < 0.0) {
        return false; /* a broken value is treated as missing: it must not scale anything */
    }
    *out = v;
    return true;
}

static enum cresc_direction dir_of(int32_t current, int32_t desired)
{
    return desired > current ? CRESC_DIR_UP : desired < current ? CRESC_DIR_DOWN : CRESC_DIR_NONE;
}

/* threshold mode: the platform's scale-by-factor rules. */
static int32_t vote_threshold(const struct cresc_policy_spec *p, int32_t current, double value)
{
    double v = value;
    if (p->metric == CRESC_METRIC_REQ_RATE) {
        if (current == 0) {
            /* No instance to divide by: any traffic needs at least one instance, and as many
             * as the per-instance threshold says. */
            if (value <= 0.0) {
                return 0;
            }
            int32_t need = p->threshold > 0.0 ? ceil_count(value / p->threshold) : 1;
            return need > 1 ? need : 1;
        }
        v = value / (double)current; /* the threshold is per instance */
    }
    if (v > p->threshold) {
        int32_t d = ceil_count((double)current * p->scale_up_factor);
        return d > current ? d : current + 1;
    }
    if (v < p->lower_threshold && current > 0) {
        int32_t d = floor_count((double)current * p->scale_down_factor);
        return d < current ? d : current - 1;
    }
    return current;
}

/* target mode: target tracking with a dead band. *raw is the count before the dead band. */
static int32_t vote_target(const struct cresc_policy_spec *p, int32_t current, double value,
                           double tolerance, int32_t *raw, double *ratio)
{
    *ratio = 0.0;
    if (!(p->target > 0.0)) {
        *raw = current;
        return current;
    }
    if (p->metric == CRESC_METRIC_REQ_RATE) {
        *raw = ceil_count(value / p->target);
        if (current == 0) {
            *ratio = value > 0.0 ? HUGE_VAL : 1.0;
            return *raw; /* from zero there is no ratio to hold inside a band */
        }
        *ratio = value / ((double)current * p->target);
    } else {
        *ratio = value / p->target;
        *raw = ceil_count((double)current * *ratio);
    }
    if (fabs(*ratio - 1.0) <= tolerance) {
        return current;
    }
    return *raw;
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src);
}

/* Votes of every enabled policy, then the composite. Returns the composite desired count and
 * sets *decider to the index of the deciding vote (-1: none voted). */
static int32_t run_votes(const struct cresc_eval_input *in, struct cresc_decision *d, int *decider)
{
    const struct cresc_scaling_config *cfg = in->config;
    int32_t cur = in->current_instances;
    size_t np = cfg->n_policies < CRESC_POLICIES_MAX ? cfg->n_policies : CRESC_POLICIES_MAX;
    int32_t best = -1;
    *decider = -1;
    for (size_t i = 0; i < np; i++) {
        const struct cresc_policy_spec *p = &cfg->policies[i];
        if (!p->enabled) {
            continue;
        }
        struct cresc_vote *v = &d->votes[d->n_votes++];
        copy_name(v->policy, sizeof(v->policy), p->name);
        v->metric = p->metric;
        v->mode = p->mode;
        v->threshold = p->mode == CRESC_MODE_THRESHOLD ? p->threshold : p->target;
        v->lower_threshold = p->mode == CRESC_MODE_THRESHOLD ? p->lower_threshold : 0.0;
        v->desired = cur;
        v->direction = CRESC_DIR_NONE;
        double value;
        v->has_value = metric_value(&in->metrics, p->metric, &value);
        if (!v->has_value) {
            continue; /* abstains: neither pushes the count nor holds others back */
        }
        v->value = value;
        if (p->mode == CRESC_MODE_THRESHOLD) {
            v->desired = vote_threshold(p, cur, value);
        } else {
            int32_t raw;
            double ratio;
            v->desired = vote_target(p, cur, value, in->config->tolerance, &raw, &ratio);
            if (raw != v->desired) {
                add_guard(d, CRESC_GUARD_TOLERANCE, raw, v->desired,
                          "%s: ratio %.3f within tolerance %.3f", p->name, ratio,
                          in->config->tolerance);
            }
        }
        v->direction = dir_of(cur, v->desired);
        /* Largest desired wins: up if any says up, down only when every voter allows it.
         * Ties keep the earlier policy, so the decider is stable across evaluations. */
        if (v->desired > best) {
            best = v->desired;
            *decider = (int)(d->n_votes - 1);
        }
    }
    return best < 0 ? cur : best;
}

static int32_t imin(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

static int32_t imax(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

/* Net instances added (or removed) by events of one direction inside (now - period, now]. */
static int32_t change_in_period(const struct cresc_history *h, int64_t now_ms, int32_t period_s,
                                bool up)
{
    int64_t cutoff = now_ms - (int64_t)period_s * 1000;
    int64_t sum = 0;
    for (size_t i = 0; i < h->n_events; i++) {
        const struct cresc_scale_event *e = &h->events[i];
        if (e->at_ms <= cutoff) {
            continue;
        }
        if (up && e->to > e->from) {
            sum += e->to - e->from;
        } else if (!up && e->to < e->from) {
            sum += e->from - e->to;
        }
    }
    return sum > INT32_MAX ? INT32_MAX : (int32_t)sum;
}

/* The HPA's calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors:
 * each policy proposes a bound from the count at its period's start; select_policy picks the
 * most (max) or least (min) permissive one. An empty list means no limit. */
static int32_t rate_bound(const struct cresc_behavior_dir *b, const struct cresc_history *h,
                          int64_t now_ms, int32_t current, bool up)
{
    if (b->select_policy == CRESC_SELECT_DISABLED) {
        return current;
    }
    size_t n = b->n_policies < CRESC_RATE_POLICIES_MAX ? b->n_policies : CRESC_RATE_POLICIES_MAX;
    if (n == 0) {
        return up ? INT32_MAX : 0;
    }
    bool most = b->select_policy == CRESC_SELECT_MAX;
    int64_t result = 0;
    for (size_t i = 0; i < n; i++) {
        const struct cresc_rate_policy *p = &b->policies[i];
        int64_t added = change_in_period(h, now_ms, p->period_s, true);
        int64_t removed = change_in_period(h, now_ms, p->period_s, false);
        int64_t start = (int64_t)current - added + removed;
        int64_t proposed;
        if (up) {
            proposed =
                p->type == CRESC_RATE_INSTANCES
                    ? start + p->value
                    : (int64_t)ceil((double)start * (1.0 + (double)p->value / 100.0) - ROUND_EPS);
        } else {
            proposed = p->type == CRESC_RATE_INSTANCES
                           ? start - p->value
                           : (int64_t)((double)start * (1.0 - (double)p->value / 100.0));
        }
        /* Scaling up, "max" wants the highest bound; scaling down, the lowest. */
        bool take = i == 0 || (up == most ? proposed > result : proposed < result);
        if (take) {
            result = proposed;
        }
    }
    if (result > INT32_MAX) {
        result = INT32_MAX;
    }
    if (result < 0) {
        result = 0;
    }
    return (int32_t)result;
}

/* The modern HPA stabilization: the lowest recommendation of the up window and the highest of
 * the down window (both including the current one) bound how far the count may move. */
static int32_t stabilize(const struct cresc_eval_input *in, int32_t rec, int32_t *up_rec,
                         int32_t *down_rec)
{
    const struct cresc_scaling_config *cfg = in->config;
    int64_t up_cut = in->now_ms - (int64_t)cfg->scale_up.stabilization_window_s * 1000;
    int64_t down_cut = in->now_ms - (int64_t)cfg->scale_down.stabilization_window_s * 1000;
    *up_rec = rec;
    *down_rec = rec;
    for (size_t i = 0; i < in->history.n_recs; i++) {
        const struct cresc_recommendation *r = &in->history.recs[i];
        if (r->at_ms > up_cut) {
            *up_rec = imin(*up_rec, r->instances);
        }
        if (r->at_ms > down_cut) {
            *down_rec = imax(*down_rec, r->instances);
        }
    }
    int32_t s = in->current_instances;
    if (s < *up_rec) {
        s = *up_rec;
    }
    if (s > *down_rec) {
        s = *down_rec;
    }
    return s;
}

static int32_t cooldown_s_for(const struct cresc_scaling_config *cfg, enum cresc_direction dir)
{
    int32_t c = cfg->scaling_cooldown_s;
    if (dir == CRESC_DIR_UP && cfg->scale_up_cooldown_s >= 0) {
        c = cfg->scale_up_cooldown_s;
    } else if (dir == CRESC_DIR_DOWN && cfg->scale_down_cooldown_s >= 0) {
        c = cfg->scale_down_cooldown_s;
    }
    return c < 0 ? 0 : c;
}

/* Remaining cooldown for a move in `dir` (NONE: the longer of the two), from the latest scale
 * event of either direction. */
static int64_t cooldown_remaining(const struct cresc_eval_input *in, enum cresc_direction dir)
{
    const struct cresc_history *h = &in->history;
    bool any = false;
    int64_t last = 0;
    for (size_t i = 0; i < h->n_events; i++) {
        if (!any || h->events[i].at_ms > last) {
            last = h->events[i].at_ms;
            any = true;
        }
    }
    if (!any) {
        return 0;
    }
    int64_t c_ms;
    if (dir == CRESC_DIR_NONE) {
        int64_t u = cooldown_s_for(in->config, CRESC_DIR_UP);
        int64_t dn = cooldown_s_for(in->config, CRESC_DIR_DOWN);
        c_ms = (u > dn ? u : dn) * 1000;
    } else {
        c_ms = (int64_t)cooldown_s_for(in->config, dir) * 1000;
    }
    int64_t rem = last + c_ms - in->now_ms;
    return rem > 0 ? rem : 0;
}

static const char *dir_word(enum cresc_direction d)
{
    return d == CRESC_DIR_UP ? "up" : "down";
}

/* State carried through the steps after the votes. */
struct eval_ctx {
    const struct cresc_eval_input *in;
    const struct cresc_scaling_config *cfg;
    struct cresc_decision *d;
    int32_t cur;
    const char *blocker;     /* the guard that stopped the change entirely, if any */
    char blocker_detail[96]; /* " (120 s remaining)" */
};

/* min/max: the recommendation is the composite clamped to the range. */
static int32_t clamp_range(struct eval_ctx *c, int32_t composite)
{
    const struct cresc_scaling_config *cfg = c->cfg;
    if (composite > cfg->max_instances) {
        add_guard(c->d, CRESC_GUARD_MAX, composite, cfg->max_instances, "max_instances %" PRId32,
                  cfg->max_instances);
        return cfg->max_instances;
    }
    if (composite < cfg->min_instances) {
        add_guard(c->d, CRESC_GUARD_MIN, composite, cfg->min_instances, "min_instances %" PRId32,
                  cfg->min_instances);
        return cfg->min_instances;
    }
    return composite;
}

static int32_t apply_stabilization(struct eval_ctx *c, int32_t rec)
{
    int32_t up_rec, down_rec;
    int32_t s = stabilize(c->in, rec, &up_rec, &down_rec);
    if (s == rec) {
        return s;
    }
    bool up = rec > c->cur;
    int32_t window_s =
        up ? c->cfg->scale_up.stabilization_window_s : c->cfg->scale_down.stabilization_window_s;
    int32_t held = up ? up_rec : down_rec;
    const char *which = up ? "lowest" : "highest";
    add_guard(c->d, CRESC_GUARD_STABILIZATION, rec, s,
              "%s recommendation in the last %" PRId32 " s is %" PRId32, which, window_s, held);
    if (s == c->cur) {
        c->blocker = "stabilization";
        snprintf(c->blocker_detail, sizeof(c->blocker_detail),
                 " (%s recommendation %" PRId32 " in the last %" PRId32 " s)", which, held,
                 window_s);
    }
    return s;
}

static int32_t apply_rate_limit(struct eval_ctx *c, int32_t target)
{
    if (target == c->cur) {
        return target;
    }
    bool up = target > c->cur;
    const struct cresc_behavior_dir *b = up ? &c->cfg->scale_up : &c->cfg->scale_down;
    int32_t bound = rate_bound(b, &c->in->history, c->in->now_ms, c->cur, up);
    /* A bound past the current count in the wrong direction (the period's allowance is
     * used up) means: wait, never move the other way. */
    bound = up ? imax(bound, c->cur) : imin(bound, c->cur);
    if (up ? target <= bound : target >= bound) {
        return target;
    }
    bool dis = b->select_policy == CRESC_SELECT_DISABLED;
    if (dis) {
        add_guard(c->d, CRESC_GUARD_DISABLED, target, bound, "%s.select_policy is disabled",
                  up ? "scale_up" : "scale_down");
    } else {
        add_guard(c->d, CRESC_GUARD_RATE_LIMIT, target, bound,
                  "scale-%s rate limit allows %" PRId32 " now", up ? "up" : "down", bound);
    }
    if (bound == c->cur) {
        c->blocker = dis ? "select_policy disabled" : "rate limit";
    }
    return bound;
}

/* Pause stops every automatic change; the cooldown stops metric-driven ones (a count outside
 * [min, max] is corrected at once). */
static int32_t apply_pause_cooldown(struct eval_ctx *c, int32_t target, bool out_of_range)
{
    enum cresc_direction move = dir_of(c->cur, target);
    c->d->cooldown_remaining_ms = cooldown_remaining(c->in, move);
    if (move == CRESC_DIR_NONE) {
        return target;
    }
    if (c->in->paused) {
        add_guard(c->d, CRESC_GUARD_PAUSE, target, c->cur, "automatic scaling is paused");
        c->blocker = "pause";
        c->blocker_detail[0] = '\0';
        return c->cur;
    }
    if (!out_of_range && c->d->cooldown_remaining_ms > 0) {
        int64_t rem_s = (c->d->cooldown_remaining_ms + 999) / 1000;
        add_guard(c->d, CRESC_GUARD_COOLDOWN, target, c->cur, "cooldown %" PRId64 " s remaining",
                  rem_s);
        c->blocker = "cooldown";
        snprintf(c->blocker_detail, sizeof(c->blocker_detail), " (%" PRId64 " s remaining)", rem_s);
        return c->cur;
    }
    return target;
}

/* The reason in the platform's words (docs/policies.md, "Reasons"). */
static void write_reason(struct eval_ctx *c, enum cresc_direction wanted, const char *policy,
                         int32_t rec)
{
    struct cresc_decision *d = c->d;
    if (d->scale && wanted == d->direction && policy[0] != '\0') {
        snprintf(d->reason, sizeof(d->reason), "Scaling %s based on %s", dir_word(d->direction),
                 policy);
    } else if (d->scale) {
        /* Only min/max moved the count (the policies wanted nothing or the other way). */
        d->deciding_policy[0] = '\0';
        bool up = d->direction == CRESC_DIR_UP;
        snprintf(d->reason, sizeof(d->reason), "Scaling %s to %s %" PRId32, dir_word(d->direction),
                 up ? "min_instances" : "max_instances", d->target_instances);
    } else if (wanted != CRESC_DIR_NONE && policy[0] != '\0') {
        if (!c->blocker && rec == c->cur) {
            c->blocker = rec == c->cfg->max_instances ? "max_instances" : "min_instances";
            snprintf(c->blocker_detail, sizeof(c->blocker_detail), " (%" PRId32 ")", rec);
        }
        snprintf(d->reason, sizeof(d->reason), "Scaling %s based on %s blocked by %s%s",
                 dir_word(wanted), policy, c->blocker ? c->blocker : "guards", c->blocker_detail);
    } else if (c->blocker) {
        snprintf(d->reason, sizeof(d->reason), "No scaling: blocked by %s%s", c->blocker,
                 c->blocker_detail);
    } else {
        snprintf(d->reason, sizeof(d->reason), "No scaling needed");
    }
}

static bool input_valid(const struct cresc_eval_input *in, const struct cresc_decision *out)
{
    if (!in || !out || !in->config || in->current_instances < 0) {
        return false;
    }
    const struct cresc_scaling_config *cfg = in->config;
    return cfg->min_instances >= 0 && cfg->max_instances >= cfg->min_instances &&
           (in->history.n_recs == 0 || in->history.recs) &&
           (in->history.n_events == 0 || in->history.events);
}

int cresc_policy_evaluate(const struct cresc_eval_input *in, struct cresc_decision *out)
{
    if (!input_valid(in, out)) {
        return CRESC_EINVAL;
    }
    memset(out, 0, sizeof(*out));
    struct eval_ctx c = {.in = in, .cfg = in->config, .d = out, .cur = in->current_instances};
    out->current_instances = c.cur;

    int decider = -1;
    int32_t composite = run_votes(in, out, &decider);
    bool any_value = false;
    for (size_t i = 0; i < out->n_votes; i++) {
        any_value = any_value || out->votes[i].has_value;
    }
    if (!any_value) {
        add_guard(out, CRESC_GUARD_MISSING_METRIC, c.cur, c.cur,
                  out->n_votes ? "no policy metric available: the count stays"
                               : "no enabled policy: the count stays");
    }
    /* The direction the policies asked for, before any guard. */
    enum cresc_direction wanted = dir_of(c.cur, composite);
    const char *policy = decider >= 0 ? out->votes[decider].policy : "";
    if (wanted != CRESC_DIR_NONE) {
        copy_name(out->deciding_policy, sizeof(out->deciding_policy), policy);
    }

    int32_t rec = clamp_range(&c, composite);
    out->recommendation = rec;
    /* A count already outside [min, max] is brought back to it directly (as the HPA does),
     * without waiting for stabilization or rate limits. */
    bool out_of_range = c.cur > c.cfg->max_instances || c.cur < c.cfg->min_instances;
    int32_t target = rec;
    if (!out_of_range) {
        target = apply_stabilization(&c, target);
        target = apply_rate_limit(&c, target);
    }
    target = apply_pause_cooldown(&c, target, out_of_range);

    out->target_instances = target;
    out->scale = target != c.cur;
    out->direction = dir_of(c.cur, target);
    write_reason(&c, wanted, policy, rec);
    return 0;
}
