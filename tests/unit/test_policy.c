/* Unit tests for shared/src/policy.c: a table of evaluations, one or more per rule and guard
 * (threshold and target modes, composite, missing metrics, min/max, HPA stabilization and
 * rate limits, cooldowns, pause), each checking target, direction, reason and guards. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cresc/policy.h"

#define S_  1000 /* ms per s */
#define NOW (1000000 * (int64_t)S_)

static void set_policy(struct cresc_policy_spec *p, const char *name, enum cresc_metric m,
                       enum cresc_policy_mode mode, double thr, double lower, double up,
                       double down, double target)
{
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "%s", name);
    p->metric = m;
    p->mode = mode;
    p->enabled = true;
    p->threshold = thr;
    p->lower_threshold = lower;
    p->scale_up_factor = up;
    p->scale_down_factor = down;
    p->target = target;
}

/* The fixture every case starts from: three threshold policies, no cooldown, no windows,
 * the HPA's default rate limits. Built here (not by the config codec) so the engine is tested
 * on its own. */
static void base_config(struct cresc_scaling_config *c)
{
    memset(c, 0, sizeof(*c));
    c->min_instances = 1;
    c->max_instances = 20;
    c->cpu_threshold = 70;
    c->memory_threshold = 80;
    c->request_rate_threshold = 100;
    c->scaling_cooldown_s = 0;
    c->scale_up_cooldown_s = -1;
    c->scale_down_cooldown_s = -1;
    c->tolerance = 0.1;
    c->n_policies = 3;
    set_policy(&c->policies[0], "cpu-based-scaling", CRESC_METRIC_CPU, CRESC_MODE_THRESHOLD, 70, 30,
               1.5, 0.5, 0);
    set_policy(&c->policies[1], "memory-based-scaling", CRESC_METRIC_MEM, CRESC_MODE_THRESHOLD, 80,
               30, 1.5, 0.5, 0);
    set_policy(&c->policies[2], "request-rate-based-scaling", CRESC_METRIC_REQ_RATE,
               CRESC_MODE_THRESHOLD, 100, 20, 1.5, 0.5, 0);
    c->scale_up.stabilization_window_s = 0;
    c->scale_up.select_policy = CRESC_SELECT_MAX;
    c->scale_up.n_policies = 2;
    c->scale_up.policies[0] = (struct cresc_rate_policy){CRESC_RATE_PERCENT, 100, 15};
    c->scale_up.policies[1] = (struct cresc_rate_policy){CRESC_RATE_INSTANCES, 4, 15};
    c->scale_down.stabilization_window_s = 0;
    c->scale_down.select_policy = CRESC_SELECT_MAX;
    c->scale_down.n_policies = 1;
    c->scale_down.policies[0] = (struct cresc_rate_policy){CRESC_RATE_PERCENT, 100, 15};
}

/* ---- config variations used by the table -------------------------------------------- */

static void cfg_min0(struct cresc_scaling_config *c)
{
    c->min_instances = 0;
}
static void cfg_min2(struct cresc_scaling_config *c)
{
    c->min_instances = 2;
}
static void cfg_min3(struct cresc_scaling_config *c)
{
    c->min_instances = 3;
}
static void cfg_mem_down_075(struct cresc_scaling_config *c)
{
    c->policies[1].scale_down_factor = 0.75;
}
static void cfg_cpu_target60(struct cresc_scaling_config *c)
{
    set_policy(&c->policies[0], "cpu-target", CRESC_METRIC_CPU, CRESC_MODE_TARGET, 0, 0, 0, 0, 60);
}
static void cfg_req_target100(struct cresc_scaling_config *c)
{
    set_policy(&c->policies[2], "rps-target", CRESC_METRIC_REQ_RATE, CRESC_MODE_TARGET, 0, 0, 0, 0,
               100);
}
static void cfg_down_window300(struct cresc_scaling_config *c)
{
    c->scale_down.stabilization_window_s = 300;
}
static void cfg_up_window60(struct cresc_scaling_config *c)
{
    c->scale_up.stabilization_window_s = 60;
}
static void cfg_up_inst2(struct cresc_scaling_config *c)
{
    cfg_cpu_target60(c);
    c->scale_up.n_policies = 1;
    c->scale_up.policies[0] = (struct cresc_rate_policy){CRESC_RATE_INSTANCES, 2, 60};
}
static void cfg_up_pct50(struct cresc_scaling_config *c)
{
    cfg_cpu_target60(c);
    c->scale_up.n_policies = 1;
    c->scale_up.policies[0] = (struct cresc_rate_policy){CRESC_RATE_PERCENT, 50, 60};
}
static void cfg_up_two(struct cresc_scaling_config *c, enum cresc_select_policy sel)
{
    cfg_cpu_target60(c);
    c->scale_up.select_policy = sel;
    c->scale_up.n_policies = 2;
    c->scale_up.policies[0] = (struct cresc_rate_policy){CRESC_RATE_INSTANCES, 4, 60};
    c->scale_up.policies[1] = (struct cresc_rate_policy){CRESC_RATE_PERCENT, 50, 60};
}
static void cfg_up_two_max(struct cresc_scaling_config *c)
{
    cfg_up_two(c, CRESC_SELECT_MAX);
}
static void cfg_up_two_min(struct cresc_scaling_config *c)
{
    cfg_up_two(c, CRESC_SELECT_MIN);
}
static void cfg_up_disabled(struct cresc_scaling_config *c)
{
    cfg_up_two(c, CRESC_SELECT_DISABLED);
}
static void cfg_up_none(struct cresc_scaling_config *c)
{
    cfg_cpu_target60(c);
    c->scale_up.n_policies = 0;
}
static void cfg_down_two(struct cresc_scaling_config *c, enum cresc_select_policy sel)
{
    cfg_cpu_target60(c);
    c->scale_down.select_policy = sel;
    c->scale_down.n_policies = 2;
    c->scale_down.policies[0] = (struct cresc_rate_policy){CRESC_RATE_INSTANCES, 1, 60};
    c->scale_down.policies[1] = (struct cresc_rate_policy){CRESC_RATE_PERCENT, 50, 60};
}
static void cfg_down_two_max(struct cresc_scaling_config *c)
{
    cfg_down_two(c, CRESC_SELECT_MAX);
}
static void cfg_down_two_min(struct cresc_scaling_config *c)
{
    cfg_down_two(c, CRESC_SELECT_MIN);
}
static void cfg_cool300(struct cresc_scaling_config *c)
{
    c->scaling_cooldown_s = 300;
}
static void cfg_cool300_down600(struct cresc_scaling_config *c)
{
    c->scaling_cooldown_s = 300;
    c->scale_down_cooldown_s = 600;
}
static void cfg_cool300_up0(struct cresc_scaling_config *c)
{
    c->scaling_cooldown_s = 300;
    c->scale_up_cooldown_s = 0;
}
static void cfg_all_disabled(struct cresc_scaling_config *c)
{
    for (size_t i = 0; i < c->n_policies; i++) {
        c->policies[i].enabled = false;
    }
}

/* ---- the table ------------------------------------------------------------------------ */

#define NONE_G (-1)

struct pcase {
    const char *name;
    void (*setup)(struct cresc_scaling_config *c);
    int32_t current;
    struct cresc_metrics m;
    bool paused;
    size_t n_recs;
    struct cresc_recommendation recs[3];
    size_t n_events;
    struct cresc_scale_event events[3];
    int32_t want_rec, want_target;
    enum cresc_direction want_dir;
    const char *want_reason;
    int want_guard; /* a guard kind that must be recorded, or NONE_G: no guard at all */
    int32_t guard_before, guard_after;
};

#define CPU(v)                          \
    {                                   \
        .has_cpu = true, .cpu_pct = (v) \
    }
#define MEM(v)                          \
    {                                   \
        .has_mem = true, .mem_pct = (v) \
    }
#define REQ(v)                            \
    {                                     \
        .has_req = true, .req_per_s = (v) \
    }
#define CPUMEM(c, mm)                                                     \
    {                                                                     \
        .has_cpu = true, .cpu_pct = (c), .has_mem = true, .mem_pct = (mm) \
    }

static const struct pcase cases[] = {
    /* threshold mode */
    {"cpu above threshold", NULL, 2, CPU(85), .want_rec = 3, .want_target = 3,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-based-scaling",
     .want_guard = NONE_G},
    {"cpu above from 7: ceil(10.5)", NULL, 7, CPU(71), .want_rec = 11, .want_target = 11,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-based-scaling",
     .want_guard = NONE_G},
    {"cpu exactly at threshold is not above", NULL, 2, CPU(70), .want_rec = 2, .want_target = 2,
     .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed", .want_guard = NONE_G},
    {"cpu below lower threshold", NULL, 4, CPU(10), .want_rec = 2, .want_target = 2,
     .want_dir = CRESC_DIR_DOWN, .want_reason = "Scaling down based on cpu-based-scaling",
     .want_guard = NONE_G},
    {"cpu below lower: at least one less", NULL, 3, CPU(10), .want_rec = 1, .want_target = 1,
     .want_dir = CRESC_DIR_DOWN, .want_reason = "Scaling down based on cpu-based-scaling",
     .want_guard = NONE_G},
    {"cpu in the band", NULL, 4, CPU(50), .want_rec = 4, .want_target = 4,
     .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed", .want_guard = NONE_G},
    {"memory above", NULL, 2, MEM(90), .want_rec = 3, .want_target = 3, .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up based on memory-based-scaling", .want_guard = NONE_G},
    {"request rate per instance above", NULL, 2, REQ(300), .want_rec = 3, .want_target = 3,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on request-rate-based-scaling",
     .want_guard = NONE_G},
    {"request rate per instance in band", NULL, 4, REQ(300), .want_rec = 4, .want_target = 4,
     .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed", .want_guard = NONE_G},
    {"request rate from zero", cfg_min0, 0, REQ(250), .want_rec = 3, .want_target = 3,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on request-rate-based-scaling",
     .want_guard = NONE_G},
    {"request rate from zero, tiny traffic: one", cfg_min0, 0, REQ(0.5), .want_rec = 1,
     .want_target = 1, .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up based on request-rate-based-scaling", .want_guard = NONE_G},
    {"request rate zero at zero stays", cfg_min0, 0, REQ(0), .want_rec = 0, .want_target = 0,
     .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed", .want_guard = NONE_G},
    {"request rate to zero", cfg_min0, 1, REQ(0), .want_rec = 0, .want_target = 0,
     .want_dir = CRESC_DIR_DOWN, .want_reason = "Scaling down based on request-rate-based-scaling",
     .want_guard = NONE_G},
    /* composite */
    {"composite: one down, one in band: stays", NULL, 4, CPUMEM(10, 50), .want_rec = 4,
     .want_target = 4, .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed",
     .want_guard = NONE_G},
    {"composite: all down, the least down wins", cfg_mem_down_075, 4, CPUMEM(10, 10), .want_rec = 3,
     .want_target = 3, .want_dir = CRESC_DIR_DOWN,
     .want_reason = "Scaling down based on memory-based-scaling", .want_guard = NONE_G},
    {"composite: up beats down", NULL, 2, CPUMEM(90, 10), .want_rec = 3, .want_target = 3,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-based-scaling",
     .want_guard = NONE_G},
    {"composite: missing metrics abstain",
     NULL,
     4,
     {.has_cpu = true, .cpu_pct = 10, .has_req = false},
     .want_rec = 2,
     .want_target = 2,
     .want_dir = CRESC_DIR_DOWN,
     .want_reason = "Scaling down based on cpu-based-scaling",
     .want_guard = NONE_G},
    {"all metrics missing: the count stays",
     NULL,
     3,
     {0},
     .want_rec = 3,
     .want_target = 3,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "No scaling needed",
     .want_guard = CRESC_GUARD_MISSING_METRIC,
     .guard_before = 3,
     .guard_after = 3},
    {"NaN is missing",
     NULL,
     3,
     {.has_cpu = true, .cpu_pct = NAN},
     .want_rec = 3,
     .want_target = 3,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "No scaling needed",
     .want_guard = CRESC_GUARD_MISSING_METRIC,
     .guard_before = 3,
     .guard_after = 3},
    {"no enabled policy", cfg_all_disabled, 3, CPU(99), .want_rec = 3, .want_target = 3,
     .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed",
     .want_guard = CRESC_GUARD_MISSING_METRIC, .guard_before = 3, .guard_after = 3},
    /* target mode */
    {"target cpu up", cfg_cpu_target60, 4, CPU(90), .want_rec = 6, .want_target = 6,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = NONE_G},
    {"target cpu inside tolerance", cfg_cpu_target60, 4, CPU(63), .want_rec = 4, .want_target = 4,
     .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed",
     .want_guard = CRESC_GUARD_TOLERANCE, .guard_before = 5, .guard_after = 4},
    {"target cpu just outside tolerance", cfg_cpu_target60, 4, CPU(67), .want_rec = 5,
     .want_target = 5, .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = NONE_G},
    {"target cpu down", cfg_cpu_target60, 4, CPU(30), .want_rec = 2, .want_target = 2,
     .want_dir = CRESC_DIR_DOWN, .want_reason = "Scaling down based on cpu-target",
     .want_guard = NONE_G},
    {"target cpu 2 x 0.6/0.4 is exactly 3", cfg_cpu_target60, 2, CPU(90), .want_rec = 3,
     .want_target = 3, .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = NONE_G},
    {"target request rate: total / target", cfg_req_target100, 2, REQ(500), .want_rec = 5,
     .want_target = 5, .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on rps-target",
     .want_guard = NONE_G},
    {"target request rate inside tolerance", cfg_req_target100, 5, REQ(460), .want_rec = 5,
     .want_target = 5, .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed",
     .want_guard = NONE_G},
    {"target request rate down", cfg_req_target100, 5, REQ(150), .want_rec = 2, .want_target = 2,
     .want_dir = CRESC_DIR_DOWN, .want_reason = "Scaling down based on rps-target",
     .want_guard = NONE_G},
    /* min / max */
    {"max clamps", NULL, 18, CPU(95), .want_rec = 20, .want_target = 20, .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up based on cpu-based-scaling", .want_guard = CRESC_GUARD_MAX,
     .guard_before = 27, .guard_after = 20},
    {"at max: blocked", NULL, 20, CPU(95), .want_rec = 20, .want_target = 20,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling up based on cpu-based-scaling blocked by max_instances (20)",
     .want_guard = CRESC_GUARD_MAX, .guard_before = 30, .guard_after = 20},
    {"at min: blocked", cfg_min2, 2, CPU(10), .want_rec = 2, .want_target = 2,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling down based on cpu-based-scaling blocked by min_instances (2)",
     .want_guard = CRESC_GUARD_MIN, .guard_before = 1, .guard_after = 2},
    {"above max: back to max", NULL, 25, CPU(50), .want_rec = 20, .want_target = 20,
     .want_dir = CRESC_DIR_DOWN, .want_reason = "Scaling down to max_instances 20",
     .want_guard = CRESC_GUARD_MAX, .guard_before = 25, .guard_after = 20},
    {"below min: up to min even with no metric",
     cfg_min3,
     1,
     {0},
     .want_rec = 3,
     .want_target = 3,
     .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up to min_instances 3",
     .want_guard = CRESC_GUARD_MIN,
     .guard_before = 1,
     .guard_after = 3},
    /* stabilization */
    {"down window holds a recent higher recommendation", cfg_down_window300, 6, CPU(10),
     .n_recs = 1, .recs = {{NOW - 100 * S_, 6}}, .want_rec = 3, .want_target = 6,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling down based on cpu-based-scaling blocked by stabilization (highest "
                    "recommendation 6 in the last 300 s)",
     .want_guard = CRESC_GUARD_STABILIZATION, .guard_before = 3, .guard_after = 6},
    {"down window: partial", cfg_down_window300, 6, CPU(10), .n_recs = 2,
     .recs = {{NOW - 200 * S_, 4}, {NOW - 100 * S_, 3}}, .want_rec = 3, .want_target = 4,
     .want_dir = CRESC_DIR_DOWN, .want_reason = "Scaling down based on cpu-based-scaling",
     .want_guard = CRESC_GUARD_STABILIZATION, .guard_before = 3, .guard_after = 4},
    {"down window: old recommendation ignored", cfg_down_window300, 6, CPU(10), .n_recs = 1,
     .recs = {{NOW - 300 * S_, 6}}, .want_rec = 3, .want_target = 3, .want_dir = CRESC_DIR_DOWN,
     .want_reason = "Scaling down based on cpu-based-scaling", .want_guard = NONE_G},
    {"down window does not slow scale-up", cfg_down_window300, 2, CPU(90), .n_recs = 1,
     .recs = {{NOW - 10 * S_, 1}}, .want_rec = 3, .want_target = 3, .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up based on cpu-based-scaling", .want_guard = NONE_G},
    {"up window holds a recent lower recommendation", cfg_up_window60, 2, CPU(90), .n_recs = 1,
     .recs = {{NOW - 30 * S_, 2}}, .want_rec = 3, .want_target = 2, .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling up based on cpu-based-scaling blocked by stabilization (lowest "
                    "recommendation 2 in the last 60 s)",
     .want_guard = CRESC_GUARD_STABILIZATION, .guard_before = 3, .guard_after = 2},
    /* rate limits */
    {"up limited by instances per period", cfg_up_inst2, 4, CPU(240), .want_rec = 16,
     .want_target = 6, .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = CRESC_GUARD_RATE_LIMIT, .guard_before = 16, .guard_after = 6},
    {"up limit counts events inside the period", cfg_up_inst2, 4, CPU(240), .n_events = 1,
     .events = {{NOW - 30 * S_, 2, 4}}, .want_rec = 16, .want_target = 4,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling up based on cpu-target blocked by rate limit",
     .want_guard = CRESC_GUARD_RATE_LIMIT, .guard_before = 16, .guard_after = 4},
    {"up limit: events before the period don't count", cfg_up_inst2, 4, CPU(240), .n_events = 1,
     .events = {{NOW - 60 * S_, 2, 4}}, .want_rec = 16, .want_target = 6, .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up based on cpu-target", .want_guard = CRESC_GUARD_RATE_LIMIT,
     .guard_before = 16, .guard_after = 6},
    {"up limit: a scale-down inside the period raises the start", cfg_up_inst2, 4, CPU(240),
     .n_events = 1, .events = {{NOW - 30 * S_, 6, 4}}, .want_rec = 16, .want_target = 8,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = CRESC_GUARD_RATE_LIMIT, .guard_before = 16, .guard_after = 8},
    {"up percent: ceil(start x 1.5)", cfg_up_pct50, 3, CPU(240), .want_rec = 12, .want_target = 5,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = CRESC_GUARD_RATE_LIMIT, .guard_before = 12, .guard_after = 5},
    {"select max: most permissive", cfg_up_two_max, 4, CPU(240), .want_rec = 16, .want_target = 8,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = CRESC_GUARD_RATE_LIMIT, .guard_before = 16, .guard_after = 8},
    {"select min: least permissive", cfg_up_two_min, 4, CPU(240), .want_rec = 16, .want_target = 6,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = CRESC_GUARD_RATE_LIMIT, .guard_before = 16, .guard_after = 6},
    {"select disabled: no scale-up", cfg_up_disabled, 4, CPU(240), .want_rec = 16, .want_target = 4,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling up based on cpu-target blocked by select_policy disabled",
     .want_guard = CRESC_GUARD_DISABLED, .guard_before = 16, .guard_after = 4},
    {"empty policy list: no limit", cfg_up_none, 2, CPU(540), .want_rec = 18, .want_target = 18,
     .want_dir = CRESC_DIR_UP, .want_reason = "Scaling up based on cpu-target",
     .want_guard = NONE_G},
    {"down select max: most permissive", cfg_down_two_max, 10, CPU(6), .want_rec = 1,
     .want_target = 5, .want_dir = CRESC_DIR_DOWN,
     .want_reason = "Scaling down based on cpu-target", .want_guard = CRESC_GUARD_RATE_LIMIT,
     .guard_before = 1, .guard_after = 5},
    {"down select min: least permissive", cfg_down_two_min, 10, CPU(6), .want_rec = 1,
     .want_target = 9, .want_dir = CRESC_DIR_DOWN,
     .want_reason = "Scaling down based on cpu-target", .want_guard = CRESC_GUARD_RATE_LIMIT,
     .guard_before = 1, .guard_after = 9},
    {"down percent truncates: int(5 x 0.5) = 2", cfg_down_two_max, 5, CPU(6), .want_rec = 1,
     .want_target = 2, .want_dir = CRESC_DIR_DOWN,
     .want_reason = "Scaling down based on cpu-target", .want_guard = CRESC_GUARD_RATE_LIMIT,
     .guard_before = 1, .guard_after = 2},
    /* cooldown */
    {"cooldown blocks", cfg_cool300, 3, CPU(90), .n_events = 1, .events = {{NOW - 180 * S_, 2, 3}},
     .want_rec = 5, .want_target = 3, .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling up based on cpu-based-scaling blocked by cooldown (120 s remaining)",
     .want_guard = CRESC_GUARD_COOLDOWN, .guard_before = 5, .guard_after = 3},
    {"cooldown over", cfg_cool300, 3, CPU(90), .n_events = 1, .events = {{NOW - 300 * S_, 2, 3}},
     .want_rec = 5, .want_target = 5, .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up based on cpu-based-scaling", .want_guard = NONE_G},
    {"separate down cooldown blocks", cfg_cool300_down600, 4, CPU(10), .n_events = 1,
     .events = {{NOW - 400 * S_, 2, 4}}, .want_rec = 2, .want_target = 4,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling down based on cpu-based-scaling blocked by cooldown (200 s remaining)",
     .want_guard = CRESC_GUARD_COOLDOWN, .guard_before = 2, .guard_after = 4},
    {"up inherits the general cooldown", cfg_cool300_down600, 4, CPU(90), .n_events = 1,
     .events = {{NOW - 400 * S_, 2, 4}}, .want_rec = 6, .want_target = 6, .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up based on cpu-based-scaling", .want_guard = NONE_G},
    {"scale_up_cooldown 0 overrides", cfg_cool300_up0, 4, CPU(90), .n_events = 1,
     .events = {{NOW - 100 * S_, 2, 4}}, .want_rec = 6, .want_target = 6, .want_dir = CRESC_DIR_UP,
     .want_reason = "Scaling up based on cpu-based-scaling", .want_guard = NONE_G},
    /* pause */
    {"paused", NULL, 2, CPU(90), .paused = true, .want_rec = 3, .want_target = 2,
     .want_dir = CRESC_DIR_NONE,
     .want_reason = "Scaling up based on cpu-based-scaling blocked by pause",
     .want_guard = CRESC_GUARD_PAUSE, .guard_before = 3, .guard_after = 2},
    {"paused, nothing to do", NULL, 2, CPU(50), .paused = true, .want_rec = 2, .want_target = 2,
     .want_dir = CRESC_DIR_NONE, .want_reason = "No scaling needed", .want_guard = NONE_G},
};

static void run_case(const struct pcase *tc)
{
    struct cresc_scaling_config cfg;
    base_config(&cfg);
    if (tc->setup) {
        tc->setup(&cfg);
    }
    struct cresc_eval_input in = {
        .now_ms = NOW,
        .current_instances = tc->current,
        .config = &cfg,
        .metrics = tc->m,
        .history = {.n_recs = tc->n_recs,
                    .recs = tc->recs,
                    .n_events = tc->n_events,
                    .events = tc->events},
        .paused = tc->paused,
    };
    struct cresc_decision d;
    assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
    if (d.recommendation != tc->want_rec || d.target_instances != tc->want_target ||
        d.direction != tc->want_dir || strcmp(d.reason, tc->want_reason) != 0) {
        print_error("case '%s': rec %d target %d dir %d reason '%s'\n", tc->name,
                    (int)d.recommendation, (int)d.target_instances, (int)d.direction, d.reason);
    }
    assert_int_equal(d.recommendation, tc->want_rec);
    assert_int_equal(d.target_instances, tc->want_target);
    assert_int_equal(d.direction, tc->want_dir);
    assert_string_equal(d.reason, tc->want_reason);
    assert_int_equal(d.scale, tc->want_target != tc->current);
    assert_int_equal(d.current_instances, tc->current);
    if (tc->want_guard == NONE_G) {
        if (d.n_guards != 0) {
            print_error("case '%s': unexpected guard %d (%s)\n", tc->name, (int)d.guards[0].kind,
                        d.guards[0].detail);
        }
        assert_int_equal(d.n_guards, 0);
    } else {
        bool found = false;
        for (size_t i = 0; i < d.n_guards; i++) {
            if ((int)d.guards[i].kind == tc->want_guard) {
                found = true;
                assert_int_equal(d.guards[i].before, tc->guard_before);
                assert_int_equal(d.guards[i].after, tc->guard_after);
                assert_true(d.guards[i].detail[0] != '\0');
            }
        }
        if (!found) {
            print_error("case '%s': guard %d not recorded\n", tc->name, tc->want_guard);
        }
        assert_true(found);
    }
    /* Every vote of an enabled policy is reported. */
    size_t enabled = 0;
    for (size_t i = 0; i < cfg.n_policies; i++) {
        enabled += cfg.policies[i].enabled;
    }
    assert_int_equal(d.n_votes, enabled);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_case(&cases[i]);
    }
}

static void test_votes_explained(void **state)
{
    (void)state;
    struct cresc_scaling_config cfg;
    base_config(&cfg);
    struct cresc_eval_input in = {.now_ms = NOW,
                                  .current_instances = 2,
                                  .config = &cfg,
                                  .metrics = {.has_cpu = true, .cpu_pct = 85}};
    struct cresc_decision d;
    assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
    assert_int_equal(d.n_votes, 3);
    assert_string_equal(d.votes[0].policy, "cpu-based-scaling");
    assert_true(d.votes[0].has_value);
    assert_true(d.votes[0].value == 85.0);
    assert_true(d.votes[0].threshold == 70.0);
    assert_true(d.votes[0].lower_threshold == 30.0);
    assert_int_equal(d.votes[0].desired, 3);
    assert_int_equal(d.votes[0].direction, CRESC_DIR_UP);
    assert_false(d.votes[1].has_value);
    assert_int_equal(d.votes[1].desired, 2);
    assert_int_equal(d.votes[1].direction, CRESC_DIR_NONE);
    assert_string_equal(d.deciding_policy, "cpu-based-scaling");
    assert_int_equal(d.cooldown_remaining_ms, 0);

    /* A tie between policies: the earlier one decides, so reasons don't flicker. */
    in.metrics =
        (struct cresc_metrics){.has_cpu = true, .cpu_pct = 85, .has_mem = true, .mem_pct = 85};
    assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
    assert_string_equal(d.deciding_policy, "cpu-based-scaling");
    /* No decision: no deciding policy. */
    in.metrics = (struct cresc_metrics){.has_cpu = true, .cpu_pct = 50};
    assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
    assert_string_equal(d.deciding_policy, "");
}

static void test_cooldown_remaining_reported(void **state)
{
    (void)state;
    struct cresc_scaling_config cfg;
    base_config(&cfg);
    cfg.scaling_cooldown_s = 300;
    cfg.scale_down_cooldown_s = 600;
    struct cresc_scale_event ev = {NOW - 100 * S_, 2, 3};
    struct cresc_eval_input in = {.now_ms = NOW,
                                  .current_instances = 3,
                                  .config = &cfg,
                                  .metrics = {.has_cpu = true, .cpu_pct = 50},
                                  .history = {.n_events = 1, .events = &ev}};
    struct cresc_decision d;
    assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
    /* No move wanted: the longer of the two cooldowns is shown. */
    assert_int_equal(d.cooldown_remaining_ms, 500 * S_);
    in.metrics.cpu_pct = 90;
    assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
    assert_int_equal(d.cooldown_remaining_ms, 200 * S_);
    assert_false(d.scale);
}

static void test_bad_input(void **state)
{
    (void)state;
    struct cresc_scaling_config cfg;
    base_config(&cfg);
    struct cresc_decision d;
    struct cresc_eval_input in = {.now_ms = NOW, .current_instances = 2, .config = NULL};
    assert_int_equal(cresc_policy_evaluate(&in, &d), CRESC_EINVAL);
    in.config = &cfg;
    in.current_instances = -1;
    assert_int_equal(cresc_policy_evaluate(&in, &d), CRESC_EINVAL);
    in.current_instances = 2;
    cfg.min_instances = 5;
    cfg.max_instances = 4;
    assert_int_equal(cresc_policy_evaluate(&in, &d), CRESC_EINVAL);
    base_config(&cfg);
    in.history.n_recs = 3; /* with a NULL array */
    assert_int_equal(cresc_policy_evaluate(&in, &d), CRESC_EINVAL);
    assert_int_equal(cresc_policy_evaluate(NULL, &d), CRESC_EINVAL);
    in.history.n_recs = 0;
    assert_int_equal(cresc_policy_evaluate(&in, NULL), CRESC_EINVAL);
    /* Absurd factors and metrics never overflow. */
    cfg.policies[0].scale_up_factor = 1e300;
    in.metrics = (struct cresc_metrics){.has_cpu = true, .cpu_pct = 1e308};
    assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
    assert_int_equal(d.target_instances, 6); /* max 20, then the default rate limit: 2 x 2 */
    assert_int_equal(d.recommendation, 20);
}

/* The HPA's default behavior: scale-down stabilized over 300 s, scale-up doubled or +4 per
 * 15 s, replayed over a sequence of ticks where the engine's own decisions feed the history. */
static void test_behavior_sequence(void **state)
{
    (void)state;
    struct cresc_scaling_config cfg;
    base_config(&cfg);
    cfg_cpu_target60(&cfg);
    cfg.max_instances = 100;
    cfg.scale_down.stabilization_window_s = 300;
    struct cresc_recommendation recs[64];
    struct cresc_scale_event evs[64];
    size_t nr = 0, ne = 0;
    int32_t cur = 2;
    int64_t t = NOW;
    /* cpu 600% of target for 4 ticks of 5 s: 2 -> 6 (+4 beats x2) -> 10 (+4 in the same 15 s
     * period would exceed, start is 2: max(2*2, 2+4) = 6 -> blocked) ... */
    int32_t seen[8];
    for (int i = 0; i < 8; i++) {
        struct cresc_eval_input in = {.now_ms = t,
                                      .current_instances = cur,
                                      .config = &cfg,
                                      .metrics = {.has_cpu = true, .cpu_pct = 360},
                                      .history = {nr, recs, ne, evs}};
        struct cresc_decision d;
        assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
        recs[nr++] = (struct cresc_recommendation){t, d.recommendation};
        if (d.scale) {
            evs[ne++] = (struct cresc_scale_event){t, cur, d.target_instances};
            cur = d.target_instances;
        }
        seen[i] = cur;
        t += 5 * S_;
    }
    /* t=0: 2->6; t=5,10: period start 2 -> bound 6: held; t=15: events at t=0 left the
     * (t-15, t] period -> start 6 -> bound 12; t=20,25: held; t=30: 12 -> 24 ... */
    assert_int_equal(seen[0], 6);
    assert_int_equal(seen[1], 6);
    assert_int_equal(seen[2], 6);
    assert_int_equal(seen[3], 12);
    assert_int_equal(seen[4], 12);
    assert_int_equal(seen[5], 12);
    assert_int_equal(seen[6], 24);

    /* Now load drops to nothing: the 300 s window holds the count until the high
     * recommendations age out, then it falls to min in one step (100% per 15 s). */
    int64_t drop_at = t;
    int32_t before_drop = cur;
    int64_t first_down = -1;
    for (int i = 0; i < 70; i++) {
        struct cresc_eval_input in = {.now_ms = t,
                                      .current_instances = cur,
                                      .config = &cfg,
                                      .metrics = {.has_cpu = true, .cpu_pct = 1},
                                      .history = {nr, recs, ne, evs}};
        struct cresc_decision d;
        assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
        if (nr == 64) {
            memmove(recs, recs + 1, sizeof(recs[0]) * 63);
            nr--;
        }
        recs[nr++] = (struct cresc_recommendation){t, d.recommendation};
        if (d.scale) {
            if (ne == 64) {
                memmove(evs, evs + 1, sizeof(evs[0]) * 63);
                ne--;
            }
            evs[ne++] = (struct cresc_scale_event){t, cur, d.target_instances};
            assert_int_equal(d.direction, CRESC_DIR_DOWN);
            if (first_down < 0) {
                first_down = t;
            }
            cur = d.target_instances;
        }
        t += 5 * S_;
    }
    assert_true(before_drop > 1);
    /* The last high recommendation was at drop_at - 5 s: it leaves the window 300 s later. */
    assert_int_equal(first_down, drop_at - 5 * S_ + 300 * S_);
    assert_int_equal(cur, 1);
}

/* Random configs, metrics and histories: the invariants every decision keeps. */
static void test_random_invariants(void **state)
{
    (void)state;
    uint64_t x = 7;
#define RND() (x = x * 6364136223846793005ull + 1442695040888963407ull, (uint32_t)(x >> 33))
    static struct cresc_recommendation recs[64];
    static struct cresc_scale_event evs[64];
    for (int trial = 0; trial < 20000; trial++) {
        struct cresc_scaling_config cfg;
        base_config(&cfg);
        cfg.min_instances = (int32_t)(RND() % 4);
        cfg.max_instances = cfg.min_instances + (int32_t)(RND() % 30);
        cfg.scaling_cooldown_s = (int32_t)(RND() % 3) * 60;
        cfg.scale_down.stabilization_window_s = (int32_t)(RND() % 3) * 100;
        cfg.scale_up.stabilization_window_s = (int32_t)(RND() % 2) * 30;
        cfg.scale_up.select_policy = (enum cresc_select_policy)(RND() % 3);
        cfg.scale_down.select_policy = (enum cresc_select_policy)(RND() % 3);
        cfg.scale_down.n_policies = RND() % 2;
        if (RND() % 2) {
            cfg_cpu_target60(&cfg);
        }
        int32_t cur = (int32_t)(RND() % 40);
        struct cresc_metrics m = {.has_cpu = RND() % 4 != 0,
                                  .cpu_pct = (double)(RND() % 1001) / 10.0,
                                  .has_mem = RND() % 2 != 0,
                                  .mem_pct = (double)(RND() % 1001) / 10.0,
                                  .has_req = RND() % 2 != 0,
                                  .req_per_s = (double)(RND() % 5000)};
        size_t nr = RND() % 64, ne = RND() % 8;
        for (size_t i = 0; i < nr; i++) {
            recs[i] = (struct cresc_recommendation){NOW - (int64_t)(RND() % 400) * S_,
                                                    (int32_t)(RND() % 40)};
        }
        for (size_t i = 0; i < ne; i++) {
            evs[i] = (struct cresc_scale_event){NOW - (int64_t)(RND() % 400) * S_,
                                                (int32_t)(RND() % 40), (int32_t)(RND() % 40)};
        }
        bool paused = RND() % 8 == 0;
        struct cresc_eval_input in = {.now_ms = NOW,
                                      .current_instances = cur,
                                      .config = &cfg,
                                      .metrics = m,
                                      .history = {nr, recs, ne, evs},
                                      .paused = paused};
        struct cresc_decision d;
        assert_int_equal(cresc_policy_evaluate(&in, &d), 0);
        /* The recommendation is always inside [min, max]. */
        assert_true(d.recommendation >= cfg.min_instances);
        assert_true(d.recommendation <= cfg.max_instances);
        assert_int_equal(d.scale, d.target_instances != cur);
        assert_int_equal(d.direction, d.target_instances > cur   ? CRESC_DIR_UP
                                      : d.target_instances < cur ? CRESC_DIR_DOWN
                                                                 : CRESC_DIR_NONE);
        if (paused) {
            assert_int_equal(d.target_instances, cur);
        }
        bool in_range = cur >= cfg.min_instances && cur <= cfg.max_instances;
        if (in_range) {
            /* Guards only ever hold the count back: the target lies between the current
             * count and the recommendation, and never leaves the range. */
            int32_t lo = cur < d.recommendation ? cur : d.recommendation;
            int32_t hi = cur < d.recommendation ? d.recommendation : cur;
            assert_true(d.target_instances >= lo && d.target_instances <= hi);
            if (d.scale && d.cooldown_remaining_ms > 0) {
                fail_msg("scaled during a cooldown");
            }
        } else if (!paused) {
            assert_int_equal(d.target_instances, d.recommendation);
        }
        /* Every change is explained: a target short of the recommendation names a guard. */
        if (d.target_instances != d.recommendation) {
            assert_true(d.n_guards > 0);
        }
        assert_true(d.reason[0] != '\0');
        if (d.scale && strstr(d.reason, " to m") == NULL) {
            assert_non_null(strstr(d.reason, d.deciding_policy));
            assert_true(d.deciding_policy[0] != '\0');
        }
    }
#undef RND
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_votes_explained),
        cmocka_unit_test(test_cooldown_remaining_reported),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_behavior_sequence),
        cmocka_unit_test(test_random_invariants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
