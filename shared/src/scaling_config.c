/* The scaling config (flat platform fields + policies + HPA-style behavior): defaults,
 * derived policies, whole-config validation, JSON (GET/PUT /scaling/config, the state
 * snapshot, `evaluate`), the decision explanation's JSON, and the enums' names.
 * Used by the coordinator, the API and the codecs; pure, no I/O. */
#include "cresc/policy.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cresc/msg.h"
#include "jsonv.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

#define INSTANCES_LIMIT     10000
#define COOLDOWN_MAX_S      86400
#define WINDOW_MAX_S        3600
#define PERIOD_MAX_S        1800
#define RATE_VALUE_MAX      100000
#define FACTOR_MAX          100.0
#define REQ_RATE_MAX        1e9 /* req/s: far above any real service, finite on purpose */
#define DEFAULT_UP_FACTOR   1.5
#define DEFAULT_DOWN_FACTOR 0.75
#define DEFAULT_LOWER_RATIO 0.5

/* ---- enum names ----------------------------------------------------------------------- */

static const char *const metric_names[] = {"cpu_pct", "mem_pct", "request_rate"};
static const char *const mode_names[] = {"threshold", "target"};
static const char *const direction_names[] = {"none", "up", "down"};
static const char *const lb_names[] = {"round_robin", "least_connections", "ip_hash"};
static const char *const select_names[] = {"max", "min", "disabled"};
static const char *const rate_names[] = {"instances", "percent"};
static const char *const guard_names[] = {
    "missing_metric", "tolerance", "stabilization",
    "rate_limit",     "cooldown",  "min_instances",
    "max_instances",  "paused",    "select_policy_disabled",
};
static const char *const default_policy_names[] = {"cpu-based-scaling", "memory-based-scaling",
                                                   "request-rate-based-scaling"};

static const char *name_of(const char *const *names, size_t n, unsigned i)
{
    return i < n ? names[i] : "unknown";
}

static int parse_name(const char *const *names, size_t n, const char *s, int *out)
{
    if (s == NULL) {
        return CRESC_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    return CRESC_EINVAL;
}

const char *cresc_metric_name(enum cresc_metric m)
{
    return name_of(metric_names, COUNT_OF(metric_names), (unsigned)m);
}

const char *cresc_policy_mode_name(enum cresc_policy_mode m)
{
    return name_of(mode_names, COUNT_OF(mode_names), (unsigned)m);
}

const char *cresc_direction_name(enum cresc_direction d)
{
    return name_of(direction_names, COUNT_OF(direction_names), (unsigned)d);
}

const char *cresc_lb_strategy_name(enum cresc_lb_strategy s)
{
    return name_of(lb_names, COUNT_OF(lb_names), (unsigned)s);
}

const char *cresc_select_policy_name(enum cresc_select_policy s)
{
    return name_of(select_names, COUNT_OF(select_names), (unsigned)s);
}

const char *cresc_rate_type_name(enum cresc_rate_type t)
{
    return name_of(rate_names, COUNT_OF(rate_names), (unsigned)t);
}

const char *cresc_guard_name(enum cresc_guard_kind k)
{
    return name_of(guard_names, COUNT_OF(guard_names), (unsigned)k);
}

int cresc_metric_parse(const char *s, enum cresc_metric *out)
{
    int i;
    int rc = parse_name(metric_names, COUNT_OF(metric_names), s, &i);
    if (rc == 0) {
        *out = (enum cresc_metric)i;
    }
    return rc;
}

int cresc_policy_mode_parse(const char *s, enum cresc_policy_mode *out)
{
    int i;
    int rc = parse_name(mode_names, COUNT_OF(mode_names), s, &i);
    if (rc == 0) {
        *out = (enum cresc_policy_mode)i;
    }
    return rc;
}

int cresc_direction_parse(const char *s, enum cresc_direction *out)
{
    int i;
    int rc = parse_name(direction_names, COUNT_OF(direction_names), s, &i);
    if (rc == 0) {
        *out = (enum cresc_direction)i;
    }
    return rc;
}

int cresc_lb_strategy_parse(const char *s, enum cresc_lb_strategy *out)
{
    int i;
    int rc = parse_name(lb_names, COUNT_OF(lb_names), s, &i);
    if (rc == 0) {
        *out = (enum cresc_lb_strategy)i;
    }
    return rc;
}

int cresc_select_policy_parse(const char *s, enum cresc_select_policy *out)
{
    int i;
    int rc = parse_name(select_names, COUNT_OF(select_names), s, &i);
    if (rc == 0) {
        *out = (enum cresc_select_policy)i;
    }
    return rc;
}

int cresc_rate_type_parse(const char *s, enum cresc_rate_type *out)
{
    int i;
    int rc = parse_name(rate_names, COUNT_OF(rate_names), s, &i);
    if (rc == 0) {
        *out = (enum cresc_rate_type)i;
    }
    return rc;
}

int cresc_guard_parse(const char *s, enum cresc_guard_kind *out)
{
    int i;
    int rc = parse_name(guard_names, COUNT_OF(guard_names), s, &i);
    if (rc == 0) {
        *out = (enum cresc_guard_kind)i;
    }
    return rc;
}

/* ---- defaults and derivation ---------------------------------------------------------- */

static double flat_threshold(const struct cresc_scaling_config *cfg, enum cresc_metric m)
{
    switch (m) {
    case CRESC_METRIC_CPU:
        return cfg->cpu_threshold;
    case CRESC_METRIC_MEM:
        return cfg->memory_threshold;
    case CRESC_METRIC_REQ_RATE:
    case CRESC_METRIC_COUNT:
        break;
    }
    return cfg->request_rate_threshold;
}

/* A threshold-mode policy for metric m with the documented defaults for every other field. */
static void policy_default(const struct cresc_scaling_config *cfg, enum cresc_metric m,
                           const char *name, struct cresc_policy_spec *p)
{
    memset(p, 0, sizeof(*p));
    (void)snprintf(p->name, sizeof(p->name), "%s", name);
    p->metric = m;
    p->mode = CRESC_MODE_THRESHOLD;
    p->enabled = true;
    p->threshold = flat_threshold(cfg, m);
    p->lower_threshold = DEFAULT_LOWER_RATIO * p->threshold;
    p->scale_up_factor = DEFAULT_UP_FACTOR;
    p->scale_down_factor = DEFAULT_DOWN_FACTOR;
    p->target = p->threshold;
}

static void derive_into(const struct cresc_scaling_config *cfg, size_t *n,
                        struct cresc_policy_spec *out)
{
    for (size_t i = 0; i < COUNT_OF(default_policy_names); i++) {
        policy_default(cfg, (enum cresc_metric)i, default_policy_names[i], &out[i]);
    }
    *n = COUNT_OF(default_policy_names);
}

void cresc_scaling_config_derive(struct cresc_scaling_config *cfg)
{
    if (cfg->policies_explicit) {
        return;
    }
    memset(cfg->policies, 0, sizeof(cfg->policies));
    derive_into(cfg, &cfg->n_policies, cfg->policies);
}

void cresc_scaling_config_defaults(struct cresc_scaling_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->min_instances = 2;
    cfg->max_instances = 10;
    cfg->cpu_threshold = 70.0;
    cfg->memory_threshold = 80.0;
    cfg->request_rate_threshold = 100.0;
    cfg->scaling_cooldown_s = 300;
    cfg->scale_up_cooldown_s = -1;
    cfg->scale_down_cooldown_s = -1;
    cfg->load_balancer_strategy = CRESC_LB_ROUND_ROBIN;
    cfg->tolerance = 0.1;
    cfg->policies_explicit = false;
    /* The Kubernetes HPA's defaults (autoscaling/v2 behavior): scale up at once by the larger
     * of 100% or 4 instances per 15 s; scale down to the highest recommendation of the last
     * 300 s, by up to 100% per 15 s. */
    cfg->scale_up.stabilization_window_s = 0;
    cfg->scale_up.select_policy = CRESC_SELECT_MAX;
    cfg->scale_up.n_policies = 2;
    cfg->scale_up.policies[0] = (struct cresc_rate_policy){CRESC_RATE_PERCENT, 100, 15};
    cfg->scale_up.policies[1] = (struct cresc_rate_policy){CRESC_RATE_INSTANCES, 4, 15};
    cfg->scale_down.stabilization_window_s = 300;
    cfg->scale_down.select_policy = CRESC_SELECT_MAX;
    cfg->scale_down.n_policies = 1;
    cfg->scale_down.policies[0] = (struct cresc_rate_policy){CRESC_RATE_PERCENT, 100, 15};
    cresc_scaling_config_derive(cfg);
}

/* ---- validation ----------------------------------------------------------------------- */

static bool in_range(double x, double lo, bool lo_open, double hi, bool hi_open)
{
    if (!isfinite(x)) {
        return false;
    }
    return (lo_open ? x > lo : x >= lo) && (hi_open ? x < hi : x <= hi);
}

static bool policy_name_valid(const char *s)
{
    size_t n = strnlen(s, CRESC_POLICY_NAME_MAX + 1);
    return n > 0 && n <= CRESC_POLICY_NAME_MAX && cresc_id_valid(s);
}

static int validate_policy(struct cresc_jsonv *v, const struct cresc_scaling_config *cfg, size_t i)
{
    const struct cresc_policy_spec *p = &cfg->policies[i];
    if (!policy_name_valid(p->name)) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, "name",
                                "'%s' is not a policy name (1..%d bytes of [A-Za-z0-9._:-])",
                                p->name, CRESC_POLICY_NAME_MAX);
    }
    for (size_t j = 0; j < i; j++) {
        if (strcmp(cfg->policies[j].name, p->name) == 0) {
            return cresc_jsonv_fail(v, CRESC_EINVAL, "name",
                                    "duplicate policy name '%s' (also policies[%zu])", p->name, j);
        }
    }
    if ((unsigned)p->metric >= (unsigned)CRESC_METRIC_COUNT) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, "metric", "unknown metric");
    }
    if ((unsigned)p->mode > (unsigned)CRESC_MODE_TARGET) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, "mode", "unknown mode");
    }
    bool pct = p->metric != CRESC_METRIC_REQ_RATE;
    double hi = pct ? 100.0 : REQ_RATE_MAX;
    if (!in_range(p->threshold, 0.0, true, hi, false)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "threshold", "%g is out of range (0, %g]",
                                p->threshold, hi);
    }
    if (!in_range(p->lower_threshold, 0.0, false, p->threshold, true)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "lower_threshold",
                                "%g must be >= 0 and below threshold %g", p->lower_threshold,
                                p->threshold);
    }
    if (!in_range(p->scale_up_factor, 1.0, true, FACTOR_MAX, false)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "scale_up_factor", "%g is out of range (1, %g]",
                                p->scale_up_factor, FACTOR_MAX);
    }
    if (!in_range(p->scale_down_factor, 0.0, true, 1.0, true)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "scale_down_factor", "%g is out of range (0, 1)",
                                p->scale_down_factor);
    }
    if (!in_range(p->target, 0.0, true, hi, false)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "target", "%g is out of range (0, %g]", p->target,
                                hi);
    }
    return 0;
}

static int validate_behavior(struct cresc_jsonv *v, const struct cresc_behavior_dir *b)
{
    if (b->stabilization_window_s < 0 || b->stabilization_window_s > WINDOW_MAX_S) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "stabilization_window_s",
                                "%d is out of range [0, %d]", (int)b->stabilization_window_s,
                                WINDOW_MAX_S);
    }
    if ((unsigned)b->select_policy > (unsigned)CRESC_SELECT_DISABLED) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, "select_policy", "unknown select policy");
    }
    if (b->n_policies > CRESC_RATE_POLICIES_MAX) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "policies",
                                "%zu rate policies exceed the limit %d", b->n_policies,
                                CRESC_RATE_POLICIES_MAX);
    }
    for (size_t i = 0; i < b->n_policies; i++) {
        const struct cresc_rate_policy *r = &b->policies[i];
        size_t m1 = cresc_jsonv_push_key(v, "policies");
        cresc_jsonv_push_index(v, i);
        int rc = 0;
        if ((unsigned)r->type > (unsigned)CRESC_RATE_PERCENT) {
            rc = cresc_jsonv_fail(v, CRESC_EINVAL, "type", "unknown rate policy type");
        } else if (r->value < 1 || r->value > RATE_VALUE_MAX) {
            rc = cresc_jsonv_fail(v, CRESC_ERANGE, "value", "%d is out of range [1, %d]",
                                  (int)r->value, RATE_VALUE_MAX);
        } else if (r->period_s < 1 || r->period_s > PERIOD_MAX_S) {
            rc = cresc_jsonv_fail(v, CRESC_ERANGE, "period_s", "%d is out of range [1, %d]",
                                  (int)r->period_s, PERIOD_MAX_S);
        }
        cresc_jsonv_pop(v, m1);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int validate(struct cresc_jsonv *v, const struct cresc_scaling_config *cfg)
{
    if (cfg->min_instances < 0 || cfg->min_instances > INSTANCES_LIMIT) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "min_instances", "%d is out of range [0, %d]",
                                (int)cfg->min_instances, INSTANCES_LIMIT);
    }
    if (cfg->max_instances < 1 || cfg->max_instances > INSTANCES_LIMIT) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "max_instances", "%d is out of range [1, %d]",
                                (int)cfg->max_instances, INSTANCES_LIMIT);
    }
    if (cfg->min_instances > cfg->max_instances) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, "min_instances",
                                "min_instances (%d) must not exceed max_instances (%d)",
                                (int)cfg->min_instances, (int)cfg->max_instances);
    }
    if (!in_range(cfg->cpu_threshold, 0.0, true, 100.0, false)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "cpu_threshold", "%g is out of range (0, 100]",
                                cfg->cpu_threshold);
    }
    if (!in_range(cfg->memory_threshold, 0.0, true, 100.0, false)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "memory_threshold", "%g is out of range (0, 100]",
                                cfg->memory_threshold);
    }
    if (!in_range(cfg->request_rate_threshold, 0.0, true, REQ_RATE_MAX, false)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "request_rate_threshold",
                                "%g is out of range (0, %g]", cfg->request_rate_threshold,
                                REQ_RATE_MAX);
    }
    if (cfg->scaling_cooldown_s < 0 || cfg->scaling_cooldown_s > COOLDOWN_MAX_S) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "scaling_cooldown", "%d is out of range [0, %d]",
                                (int)cfg->scaling_cooldown_s, COOLDOWN_MAX_S);
    }
    if (cfg->scale_up_cooldown_s < -1 || cfg->scale_up_cooldown_s > COOLDOWN_MAX_S) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "scale_up_cooldown",
                                "%d is out of range [-1, %d] (-1 = scaling_cooldown)",
                                (int)cfg->scale_up_cooldown_s, COOLDOWN_MAX_S);
    }
    if (cfg->scale_down_cooldown_s < -1 || cfg->scale_down_cooldown_s > COOLDOWN_MAX_S) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "scale_down_cooldown",
                                "%d is out of range [-1, %d] (-1 = scaling_cooldown)",
                                (int)cfg->scale_down_cooldown_s, COOLDOWN_MAX_S);
    }
    if ((unsigned)cfg->load_balancer_strategy > (unsigned)CRESC_LB_IP_HASH) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, "load_balancer_strategy",
                                "unknown strategy (expected round_robin, least_connections or "
                                "ip_hash)");
    }
    if (!in_range(cfg->tolerance, 0.0, false, 1.0, true)) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "tolerance", "%g is out of range [0, 1)",
                                cfg->tolerance);
    }
    if (cfg->n_policies > CRESC_POLICIES_MAX) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "policies", "%zu policies exceed the limit %d",
                                cfg->n_policies, CRESC_POLICIES_MAX);
    }
    for (size_t i = 0; i < cfg->n_policies; i++) {
        size_t mark = cresc_jsonv_push_key(v, "policies");
        cresc_jsonv_push_index(v, i);
        int rc = validate_policy(v, cfg, i);
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
    }
    const struct cresc_behavior_dir *dirs[2] = {&cfg->scale_up, &cfg->scale_down};
    const char *dir_names[2] = {"scale_up", "scale_down"};
    for (size_t d = 0; d < 2; d++) {
        size_t mark = cresc_jsonv_push_key(v, "behavior");
        cresc_jsonv_push_key(v, dir_names[d]);
        int rc = validate_behavior(v, dirs[d]);
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

int cresc_scaling_config_validate(const struct cresc_scaling_config *cfg, char *field,
                                  size_t fieldlen, char *err, size_t errlen)
{
    struct cresc_jsonv v;
    cresc_jsonv_init(&v, field, fieldlen, err, errlen);
    if (cfg == NULL) {
        return cresc_jsonv_fail(&v, CRESC_EINVAL, NULL, "no config");
    }
    return validate(&v, cfg);
}

/* ---- JSON out ------------------------------------------------------------------------- */

static json_t *policy_to_json(const struct cresc_policy_spec *p, int *rc)
{
    json_t *o = json_object();
    cresc_jsonv_set(o, "name", json_string(p->name), rc);
    cresc_jsonv_set(o, "metric", json_string(cresc_metric_name(p->metric)), rc);
    cresc_jsonv_set(o, "mode", json_string(cresc_policy_mode_name(p->mode)), rc);
    cresc_jsonv_set(o, "enabled", json_boolean(p->enabled), rc);
    cresc_jsonv_set(o, "threshold", cresc_jsonv_real(p->threshold, rc), rc);
    cresc_jsonv_set(o, "lower_threshold", cresc_jsonv_real(p->lower_threshold, rc), rc);
    cresc_jsonv_set(o, "scale_up_factor", cresc_jsonv_real(p->scale_up_factor, rc), rc);
    cresc_jsonv_set(o, "scale_down_factor", cresc_jsonv_real(p->scale_down_factor, rc), rc);
    cresc_jsonv_set(o, "target", cresc_jsonv_real(p->target, rc), rc);
    return o;
}

static json_t *behavior_dir_to_json(const struct cresc_behavior_dir *b, int *rc)
{
    json_t *o = json_object();
    json_t *arr = json_array();
    cresc_jsonv_set(o, "stabilization_window_s", json_integer(b->stabilization_window_s), rc);
    cresc_jsonv_set(o, "select_policy", json_string(cresc_select_policy_name(b->select_policy)),
                    rc);
    size_t n = b->n_policies < CRESC_RATE_POLICIES_MAX ? b->n_policies : CRESC_RATE_POLICIES_MAX;
    for (size_t i = 0; i < n; i++) {
        json_t *r = json_object();
        cresc_jsonv_set(r, "type", json_string(cresc_rate_type_name(b->policies[i].type)), rc);
        cresc_jsonv_set(r, "value", json_integer(b->policies[i].value), rc);
        cresc_jsonv_set(r, "period_s", json_integer(b->policies[i].period_s), rc);
        cresc_jsonv_append(arr, r, rc);
    }
    cresc_jsonv_set(o, "policies", arr, rc);
    return o;
}

json_t *cresc_scaling_config_to_json(const struct cresc_scaling_config *cfg)
{
    int rc = 0;
    json_t *o = json_object();
    cresc_jsonv_set(o, "min_instances", json_integer(cfg->min_instances), &rc);
    cresc_jsonv_set(o, "max_instances", json_integer(cfg->max_instances), &rc);
    cresc_jsonv_set(o, "cpu_threshold", cresc_jsonv_real(cfg->cpu_threshold, &rc), &rc);
    cresc_jsonv_set(o, "memory_threshold", cresc_jsonv_real(cfg->memory_threshold, &rc), &rc);
    cresc_jsonv_set(o, "request_rate_threshold", cresc_jsonv_real(cfg->request_rate_threshold, &rc),
                    &rc);
    cresc_jsonv_set(o, "scaling_cooldown", json_integer(cfg->scaling_cooldown_s), &rc);
    cresc_jsonv_set(o, "scale_up_cooldown", json_integer(cfg->scale_up_cooldown_s), &rc);
    cresc_jsonv_set(o, "scale_down_cooldown", json_integer(cfg->scale_down_cooldown_s), &rc);
    cresc_jsonv_set(o, "load_balancer_strategy",
                    json_string(cresc_lb_strategy_name(cfg->load_balancer_strategy)), &rc);
    cresc_jsonv_set(o, "tolerance", cresc_jsonv_real(cfg->tolerance, &rc), &rc);
    cresc_jsonv_set(o, "policies_explicit", json_boolean(cfg->policies_explicit), &rc);
    json_t *pols = json_array();
    size_t n = cfg->n_policies < CRESC_POLICIES_MAX ? cfg->n_policies : CRESC_POLICIES_MAX;
    for (size_t i = 0; i < n; i++) {
        cresc_jsonv_append(pols, policy_to_json(&cfg->policies[i], &rc), &rc);
    }
    cresc_jsonv_set(o, "policies", pols, &rc);
    json_t *beh = json_object();
    cresc_jsonv_set(beh, "scale_up", behavior_dir_to_json(&cfg->scale_up, &rc), &rc);
    cresc_jsonv_set(beh, "scale_down", behavior_dir_to_json(&cfg->scale_down, &rc), &rc);
    cresc_jsonv_set(o, "behavior", beh, &rc);
    if (rc != 0) {
        /* Only OOM or a non-finite number (a config that never passed validation) land here. */
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- JSON in -------------------------------------------------------------------------- */

/* Read one policy; fields it omits take the defaults for its metric from the flat fields of
 * `cfg` (lower = 0.5 x threshold, factors 1.5 / 0.75, target = threshold). */
static int policy_from_json(struct cresc_jsonv *v, const json_t *o,
                            const struct cresc_scaling_config *cfg, struct cresc_policy_spec *p)
{
    int rc;
    char name[CRESC_POLICY_NAME_MAX + 1] = "";
    if (!json_is_object(o)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "must be an object");
    }
    rc = cresc_jsonv_str(v, o, "name", JV_REQUIRED | JV_NONEMPTY, name, sizeof(name), NULL);
    if (rc != 0) {
        return rc;
    }
    int metric = -1;
    bool has_metric = false;
    rc = cresc_jsonv_enum(v, o, "metric", 0, metric_names, COUNT_OF(metric_names), &metric,
                          &has_metric);
    if (rc != 0) {
        return rc;
    }
    if (!has_metric) {
        /* The three platform policies are known by name; any other needs its metric. */
        for (size_t i = 0; i < COUNT_OF(default_policy_names); i++) {
            if (strcmp(name, default_policy_names[i]) == 0) {
                metric = (int)i;
            }
        }
        if (metric < 0) {
            return cresc_jsonv_fail(v, CRESC_EMISSING, "metric", "required field is missing");
        }
    }
    policy_default(cfg, (enum cresc_metric)metric, name, p);
    int mode = (int)p->mode;
    bool has_threshold = false, has_lower = false, has_target = false;
    if ((rc = cresc_jsonv_enum(v, o, "mode", 0, mode_names, COUNT_OF(mode_names), &mode, NULL)) ||
        (rc = cresc_jsonv_bool(v, o, "enabled", 0, &p->enabled, NULL)) ||
        (rc = cresc_jsonv_num(v, o, "threshold", 0, -HUGE_VAL, HUGE_VAL, &p->threshold,
                              &has_threshold)) ||
        (rc = cresc_jsonv_num(v, o, "lower_threshold", 0, -HUGE_VAL, HUGE_VAL, &p->lower_threshold,
                              &has_lower)) ||
        (rc = cresc_jsonv_num(v, o, "scale_up_factor", 0, -HUGE_VAL, HUGE_VAL, &p->scale_up_factor,
                              NULL)) ||
        (rc = cresc_jsonv_num(v, o, "scale_down_factor", 0, -HUGE_VAL, HUGE_VAL,
                              &p->scale_down_factor, NULL)) ||
        (rc = cresc_jsonv_num(v, o, "target", 0, -HUGE_VAL, HUGE_VAL, &p->target, &has_target))) {
        return rc;
    }
    p->mode = (enum cresc_policy_mode)mode;
    if (has_threshold && !has_lower) {
        p->lower_threshold = DEFAULT_LOWER_RATIO * p->threshold;
    }
    if (has_threshold && !has_target) {
        p->target = p->threshold;
    }
    return 0;
}

static bool near_equal(double a, double b)
{
    return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static bool policies_equal(size_t n, const struct cresc_policy_spec *a, size_t m,
                           const struct cresc_policy_spec *b)
{
    if (n != m) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i].name, b[i].name) != 0 || a[i].metric != b[i].metric ||
            a[i].mode != b[i].mode || a[i].enabled != b[i].enabled ||
            !near_equal(a[i].threshold, b[i].threshold) ||
            !near_equal(a[i].lower_threshold, b[i].lower_threshold) ||
            !near_equal(a[i].scale_up_factor, b[i].scale_up_factor) ||
            !near_equal(a[i].scale_down_factor, b[i].scale_down_factor) ||
            !near_equal(a[i].target, b[i].target)) {
            return false;
        }
    }
    return true;
}

static int behavior_dir_from_json(struct cresc_jsonv *v, const json_t *o,
                                  struct cresc_behavior_dir *b)
{
    int rc;
    int sel = (int)b->select_policy;
    if ((rc = cresc_jsonv_i32(v, o, "stabilization_window_s", 0, INT32_MIN, INT32_MAX,
                              &b->stabilization_window_s, NULL)) ||
        (rc = cresc_jsonv_enum(v, o, "select_policy", 0, select_names, COUNT_OF(select_names), &sel,
                               NULL))) {
        return rc;
    }
    b->select_policy = (enum cresc_select_policy)sel;
    json_t *arr = NULL;
    bool has_null = json_is_null(json_object_get(o, "policies"));
    rc = cresc_jsonv_arr(v, o, "policies", JV_NULLABLE, CRESC_RATE_POLICIES_MAX, &arr);
    if (rc != 0) {
        return rc;
    }
    if (has_null) {
        b->n_policies = 0;
    }
    if (arr == NULL) {
        return 0;
    }
    struct cresc_rate_policy list[CRESC_RATE_POLICIES_MAX] = {0};
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        size_t mark = cresc_jsonv_push_key(v, "policies");
        cresc_jsonv_push_index(v, i);
        int type = 0;
        if (!json_is_object(item)) {
            rc = cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "must be an object");
        } else if ((rc = cresc_jsonv_enum(v, item, "type", JV_REQUIRED, rate_names,
                                          COUNT_OF(rate_names), &type, NULL)) == 0 &&
                   (rc = cresc_jsonv_i32(v, item, "value", JV_REQUIRED, INT32_MIN, INT32_MAX,
                                         &list[i].value, NULL)) == 0) {
            rc = cresc_jsonv_i32(v, item, "period_s", JV_REQUIRED, INT32_MIN, INT32_MAX,
                                 &list[i].period_s, NULL);
        }
        list[i].type = (enum cresc_rate_type)type;
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
    }
    b->n_policies = json_array_size(arr);
    memcpy(b->policies, list, b->n_policies * sizeof(list[0]));
    return 0;
}

static int flat_from_json(struct cresc_jsonv *v, const json_t *obj,
                          struct cresc_scaling_config *next)
{
    int rc;
    int lb = (int)next->load_balancer_strategy;
    if ((rc = cresc_jsonv_i32(v, obj, "min_instances", 0, INT32_MIN, INT32_MAX,
                              &next->min_instances, NULL)) ||
        (rc = cresc_jsonv_i32(v, obj, "max_instances", 0, INT32_MIN, INT32_MAX,
                              &next->max_instances, NULL)) ||
        (rc = cresc_jsonv_num(v, obj, "cpu_threshold", 0, -HUGE_VAL, HUGE_VAL, &next->cpu_threshold,
                              NULL)) ||
        (rc = cresc_jsonv_num(v, obj, "memory_threshold", 0, -HUGE_VAL, HUGE_VAL,
                              &next->memory_threshold, NULL)) ||
        (rc = cresc_jsonv_num(v, obj, "request_rate_threshold", 0, -HUGE_VAL, HUGE_VAL,
                              &next->request_rate_threshold, NULL)) ||
        (rc = cresc_jsonv_i32(v, obj, "scaling_cooldown", 0, INT32_MIN, INT32_MAX,
                              &next->scaling_cooldown_s, NULL)) ||
        (rc = cresc_jsonv_enum(v, obj, "load_balancer_strategy", 0, lb_names, COUNT_OF(lb_names),
                               &lb, NULL)) ||
        (rc = cresc_jsonv_num(v, obj, "tolerance", 0, -HUGE_VAL, HUGE_VAL, &next->tolerance,
                              NULL))) {
        return rc;
    }
    next->load_balancer_strategy = (enum cresc_lb_strategy)lb;
    /* null means "inherit scaling_cooldown", as -1 does. */
    const char *dir_keys[2] = {"scale_up_cooldown", "scale_down_cooldown"};
    int32_t *dir_vals[2] = {&next->scale_up_cooldown_s, &next->scale_down_cooldown_s};
    for (size_t d = 0; d < 2; d++) {
        if (json_is_null(json_object_get(obj, dir_keys[d]))) {
            *dir_vals[d] = -1;
        } else if ((rc = cresc_jsonv_i32(v, obj, dir_keys[d], 0, INT32_MIN, INT32_MAX, dir_vals[d],
                                         NULL)) != 0) {
            return rc;
        }
    }
    return 0;
}

static int policies_from_json(struct cresc_jsonv *v, const json_t *obj,
                              const struct cresc_scaling_config *old,
                              struct cresc_scaling_config *next)
{
    int rc;
    bool explicit_flag = false, has_explicit_flag = false;
    rc = cresc_jsonv_bool(v, obj, "policies_explicit", 0, &explicit_flag, &has_explicit_flag);
    if (rc != 0) {
        return rc;
    }
    json_t *arr = NULL;
    bool pol_null = json_is_null(json_object_get(obj, "policies"));
    rc = cresc_jsonv_arr(v, obj, "policies", JV_NULLABLE, CRESC_POLICIES_MAX, &arr);
    if (rc != 0) {
        return rc;
    }
    if (arr == NULL) {
        if (pol_null) {
            next->policies_explicit = false; /* back to the derived defaults */
        } else if (has_explicit_flag) {
            next->policies_explicit = explicit_flag; /* true freezes the current list */
        }
        return 0;
    }
    struct cresc_policy_spec list[CRESC_POLICIES_MAX] = {0};
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        size_t mark = cresc_jsonv_push_key(v, "policies");
        cresc_jsonv_push_index(v, i);
        rc = policy_from_json(v, item, next, &list[i]);
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
    }
    size_t n = json_array_size(arr);
    if (has_explicit_flag && !explicit_flag) {
        /* A GET echoed back by a PUT carries the derived list and policies_explicit=false:
         * when the list is the derived one (from the old or the new flat fields) it stays
         * derived, so a changed cpu_threshold still moves the cpu policy; an edited list
         * wins and becomes explicit. */
        struct cresc_policy_spec from_old[CRESC_POLICIES_MAX], from_new[CRESC_POLICIES_MAX];
        size_t n_old, n_new;
        derive_into(old, &n_old, from_old);
        derive_into(next, &n_new, from_new);
        bool derived = n == n_old && n == n_new;
        for (size_t k = 0; derived && k < n; k++) {
            derived = policies_equal(1, &list[k], 1, &from_old[k]) ||
                      policies_equal(1, &list[k], 1, &from_new[k]);
        }
        if (derived) {
            next->policies_explicit = false;
            return 0;
        }
    }
    next->policies_explicit = true;
    memset(next->policies, 0, sizeof(next->policies));
    memcpy(next->policies, list, n * sizeof(list[0]));
    next->n_policies = n;
    return 0;
}

static int behavior_from_json(struct cresc_jsonv *v, const json_t *obj,
                              struct cresc_scaling_config *next)
{
    json_t *beh = NULL;
    int rc = cresc_jsonv_obj(v, obj, "behavior", JV_NULLABLE, &beh);
    if (rc != 0 || beh == NULL) {
        return rc;
    }
    const char *keys[2] = {"scale_up", "scale_down"};
    struct cresc_behavior_dir *dirs[2] = {&next->scale_up, &next->scale_down};
    size_t mark = cresc_jsonv_push_key(v, "behavior");
    for (size_t d = 0; d < 2 && rc == 0; d++) {
        json_t *o = NULL;
        rc = cresc_jsonv_obj(v, beh, keys[d], JV_NULLABLE, &o);
        if (rc == 0 && o != NULL) {
            size_t m2 = cresc_jsonv_push_key(v, keys[d]);
            rc = behavior_dir_from_json(v, o, dirs[d]);
            cresc_jsonv_pop(v, m2);
        }
    }
    cresc_jsonv_pop(v, mark);
    return rc;
}

int cresc_scaling_config_apply_json_v(struct cresc_jsonv *v, struct cresc_scaling_config *cfg,
                                      const json_t *obj)
{
    if (cfg == NULL) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, NULL, "no config");
    }
    if (!json_is_object(obj)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "the config must be a JSON object");
    }
    struct cresc_scaling_config next = *cfg;
    int rc;
    if ((rc = flat_from_json(v, obj, &next)) || (rc = policies_from_json(v, obj, cfg, &next)) ||
        (rc = behavior_from_json(v, obj, &next))) {
        return rc;
    }
    cresc_scaling_config_derive(&next);
    rc = validate(v, &next);
    if (rc != 0) {
        return rc;
    }
    *cfg = next;
    return 0;
}

int cresc_scaling_config_apply_json(struct cresc_scaling_config *cfg, const json_t *obj,
                                    char *field, size_t fieldlen, char *err, size_t errlen)
{
    struct cresc_jsonv v;
    cresc_jsonv_init(&v, field, fieldlen, err, errlen);
    return cresc_scaling_config_apply_json_v(&v, cfg, obj);
}

/* ---- metrics JSON --------------------------------------------------------------------- */

json_t *cresc_metrics_to_json(const struct cresc_metrics *m)
{
    int rc = 0;
    json_t *o = json_object();
    cresc_jsonv_set(o, "cpu_pct", cresc_jsonv_real_or_null(m->has_cpu, m->cpu_pct, &rc), &rc);
    cresc_jsonv_set(o, "mem_pct", cresc_jsonv_real_or_null(m->has_mem, m->mem_pct, &rc), &rc);
    cresc_jsonv_set(o, "request_rate", cresc_jsonv_real_or_null(m->has_req, m->req_per_s, &rc),
                    &rc);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int cresc_metrics_from_json_v(struct cresc_jsonv *v, const json_t *obj, struct cresc_metrics *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "must be an object");
    }
    int rc;
    if ((rc = cresc_jsonv_num(v, obj, "cpu_pct", JV_NULLABLE, 0.0, 100.0, &out->cpu_pct,
                              &out->has_cpu)) ||
        (rc = cresc_jsonv_num(v, obj, "mem_pct", JV_NULLABLE, 0.0, 100.0, &out->mem_pct,
                              &out->has_mem)) ||
        (rc = cresc_jsonv_num(v, obj, "request_rate", JV_NULLABLE, 0.0, HUGE_VAL, &out->req_per_s,
                              &out->has_req))) {
        return rc;
    }
    return 0;
}

int cresc_metrics_from_json(const json_t *obj, struct cresc_metrics *out, char *field,
                            size_t fieldlen, char *err, size_t errlen)
{
    struct cresc_jsonv v;
    cresc_jsonv_init(&v, field, fieldlen, err, errlen);
    return cresc_metrics_from_json_v(&v, obj, out);
}

/* ---- decision JSON -------------------------------------------------------------------- */

static json_t *vote_to_json(const struct cresc_vote *vt, int *rc)
{
    json_t *o = json_object();
    cresc_jsonv_set(o, "policy", json_string(vt->policy), rc);
    cresc_jsonv_set(o, "metric", json_string(cresc_metric_name(vt->metric)), rc);
    cresc_jsonv_set(o, "mode", json_string(cresc_policy_mode_name(vt->mode)), rc);
    cresc_jsonv_set(o, "value", cresc_jsonv_real_or_null(vt->has_value, vt->value, rc), rc);
    cresc_jsonv_set(o, "threshold", cresc_jsonv_real(vt->threshold, rc), rc);
    cresc_jsonv_set(o, "lower_threshold", cresc_jsonv_real(vt->lower_threshold, rc), rc);
    cresc_jsonv_set(o, "desired", json_integer(vt->desired), rc);
    cresc_jsonv_set(o, "direction", json_string(cresc_direction_name(vt->direction)), rc);
    return o;
}

static json_t *guard_to_json(const struct cresc_guard *g, int *rc)
{
    json_t *o = json_object();
    cresc_jsonv_set(o, "kind", json_string(cresc_guard_name(g->kind)), rc);
    cresc_jsonv_set(o, "before", json_integer(g->before), rc);
    cresc_jsonv_set(o, "after", json_integer(g->after), rc);
    cresc_jsonv_set(o, "detail", json_string(g->detail), rc);
    return o;
}

int cresc_decision_fill_json(json_t *o, const struct cresc_decision *d)
{
    int rc = 0;
    cresc_jsonv_set(o, "current_instances", json_integer(d->current_instances), &rc);
    cresc_jsonv_set(o, "recommendation", json_integer(d->recommendation), &rc);
    cresc_jsonv_set(o, "target_instances", json_integer(d->target_instances), &rc);
    cresc_jsonv_set(o, "scale", json_boolean(d->scale), &rc);
    cresc_jsonv_set(o, "direction", json_string(cresc_direction_name(d->direction)), &rc);
    cresc_jsonv_set(o, "reason", json_string(d->reason), &rc);
    cresc_jsonv_set(o, "deciding_policy", json_string(d->deciding_policy), &rc);
    cresc_jsonv_set(o, "cooldown_remaining_ms", json_integer(d->cooldown_remaining_ms), &rc);
    json_t *votes = json_array();
    size_t nv = d->n_votes < CRESC_POLICIES_MAX ? d->n_votes : CRESC_POLICIES_MAX;
    for (size_t i = 0; i < nv; i++) {
        cresc_jsonv_append(votes, vote_to_json(&d->votes[i], &rc), &rc);
    }
    cresc_jsonv_set(o, "votes", votes, &rc);
    json_t *guards = json_array();
    size_t ng = d->n_guards < CRESC_GUARDS_MAX ? d->n_guards : CRESC_GUARDS_MAX;
    for (size_t i = 0; i < ng; i++) {
        cresc_jsonv_append(guards, guard_to_json(&d->guards[i], &rc), &rc);
    }
    cresc_jsonv_set(o, "guards", guards, &rc);
    return rc;
}

json_t *cresc_decision_to_json(const struct cresc_decision *d)
{
    json_t *o = json_object();
    if (o == NULL || cresc_decision_fill_json(o, d) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int vote_from_json(struct cresc_jsonv *v, const json_t *o, struct cresc_vote *vt)
{
    if (!json_is_object(o)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "must be an object");
    }
    int rc;
    int metric = 0, mode = 0, dir = 0;
    if ((rc = cresc_jsonv_str(v, o, "policy", JV_REQUIRED, vt->policy, sizeof(vt->policy), NULL)) ||
        (rc = cresc_jsonv_enum(v, o, "metric", JV_REQUIRED, metric_names, COUNT_OF(metric_names),
                               &metric, NULL)) ||
        (rc = cresc_jsonv_enum(v, o, "mode", JV_REQUIRED, mode_names, COUNT_OF(mode_names), &mode,
                               NULL)) ||
        (rc = cresc_jsonv_num(v, o, "value", JV_NULLABLE, 0.0, HUGE_VAL, &vt->value,
                              &vt->has_value)) ||
        (rc = cresc_jsonv_num(v, o, "threshold", JV_REQUIRED, 0.0, HUGE_VAL, &vt->threshold,
                              NULL)) ||
        (rc = cresc_jsonv_num(v, o, "lower_threshold", JV_REQUIRED, 0.0, HUGE_VAL,
                              &vt->lower_threshold, NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "desired", JV_REQUIRED, 0, INT32_MAX, &vt->desired, NULL)) ||
        (rc = cresc_jsonv_enum(v, o, "direction", JV_REQUIRED, direction_names,
                               COUNT_OF(direction_names), &dir, NULL))) {
        return rc;
    }
    vt->metric = (enum cresc_metric)metric;
    vt->mode = (enum cresc_policy_mode)mode;
    vt->direction = (enum cresc_direction)dir;
    return 0;
}

static int guard_from_json(struct cresc_jsonv *v, const json_t *o, struct cresc_guard *g)
{
    if (!json_is_object(o)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "must be an object");
    }
    int rc;
    int kind = 0;
    if ((rc = cresc_jsonv_enum(v, o, "kind", JV_REQUIRED, guard_names, COUNT_OF(guard_names), &kind,
                               NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "before", JV_REQUIRED, 0, INT32_MAX, &g->before, NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "after", JV_REQUIRED, 0, INT32_MAX, &g->after, NULL)) ||
        (rc = cresc_jsonv_str(v, o, "detail", JV_REQUIRED, g->detail, sizeof(g->detail), NULL))) {
        return rc;
    }
    g->kind = (enum cresc_guard_kind)kind;
    return 0;
}

int cresc_decision_from_json_v(struct cresc_jsonv *v, const json_t *obj, struct cresc_decision *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "must be an object");
    }
    int rc;
    int dir = 0;
    json_t *votes = NULL, *guards = NULL;
    if ((rc = cresc_jsonv_i32(v, obj, "current_instances", JV_REQUIRED, 0, INT32_MAX,
                              &out->current_instances, NULL)) ||
        (rc = cresc_jsonv_i32(v, obj, "recommendation", JV_REQUIRED, 0, INT32_MAX,
                              &out->recommendation, NULL)) ||
        (rc = cresc_jsonv_i32(v, obj, "target_instances", JV_REQUIRED, 0, INT32_MAX,
                              &out->target_instances, NULL)) ||
        (rc = cresc_jsonv_bool(v, obj, "scale", JV_REQUIRED, &out->scale, NULL)) ||
        (rc = cresc_jsonv_enum(v, obj, "direction", JV_REQUIRED, direction_names,
                               COUNT_OF(direction_names), &dir, NULL)) ||
        (rc = cresc_jsonv_str(v, obj, "reason", JV_REQUIRED, out->reason, sizeof(out->reason),
                              NULL)) ||
        (rc = cresc_jsonv_str(v, obj, "deciding_policy", JV_REQUIRED, out->deciding_policy,
                              sizeof(out->deciding_policy), NULL)) ||
        (rc = cresc_jsonv_int(v, obj, "cooldown_remaining_ms", JV_REQUIRED, 0, INT64_MAX,
                              &out->cooldown_remaining_ms, NULL)) ||
        (rc = cresc_jsonv_arr(v, obj, "votes", JV_REQUIRED, CRESC_POLICIES_MAX, &votes)) ||
        (rc = cresc_jsonv_arr(v, obj, "guards", JV_REQUIRED, CRESC_GUARDS_MAX, &guards))) {
        return rc;
    }
    out->direction = (enum cresc_direction)dir;
    size_t i;
    json_t *item;
    json_array_foreach(votes, i, item)
    {
        size_t mark = cresc_jsonv_push_key(v, "votes");
        cresc_jsonv_push_index(v, i);
        rc = vote_from_json(v, item, &out->votes[i]);
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
    }
    out->n_votes = json_array_size(votes);
    json_array_foreach(guards, i, item)
    {
        size_t mark = cresc_jsonv_push_key(v, "guards");
        cresc_jsonv_push_index(v, i);
        rc = guard_from_json(v, item, &out->guards[i]);
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
    }
    out->n_guards = json_array_size(guards);
    return 0;
}

int cresc_decision_from_json(const json_t *obj, struct cresc_decision *out, char *field,
                             size_t fieldlen, char *err, size_t errlen)
{
    struct cresc_jsonv v;
    cresc_jsonv_init(&v, field, fieldlen, err, errlen);
    return cresc_decision_from_json_v(&v, obj, out);
}
