/* The decision core's types and entry point: scaling config (policies + HPA-style behavior),
 * evaluation inputs, and the explained decision. Pure: no I/O, no clock, no logging, no
 * globals. Used by the coordinator's tick, `crescendo-coordinator evaluate|replay`, and the
 * message codecs (config, decision and state carry these structs). See docs/policies.md. */
#ifndef CRESC_POLICY_H
#define CRESC_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cresc/err.h"
#include "cresc/limits.h"

enum cresc_metric {
    CRESC_METRIC_CPU = 0,      /* "cpu_pct": mean CPU utilization of live instances, percent */
    CRESC_METRIC_MEM = 1,      /* "mem_pct": mean memory utilization, percent */
    CRESC_METRIC_REQ_RATE = 2, /* "request_rate": the service's total requests per second */
    CRESC_METRIC_COUNT = 3,
};

enum cresc_policy_mode {
    CRESC_MODE_THRESHOLD = 0, /* "threshold": the platform's scale-by-factor semantics */
    CRESC_MODE_TARGET = 1,    /* "target": target tracking */
};

enum cresc_direction {
    CRESC_DIR_NONE = 0, /* "none" */
    CRESC_DIR_UP = 1,   /* "up" */
    CRESC_DIR_DOWN = 2, /* "down" */
};

enum cresc_lb_strategy {
    CRESC_LB_ROUND_ROBIN = 0,       /* "round_robin" */
    CRESC_LB_LEAST_CONNECTIONS = 1, /* "least_connections" */
    CRESC_LB_IP_HASH = 2,           /* "ip_hash" (consistent hash) */
};

enum cresc_select_policy {
    CRESC_SELECT_MAX = 0,      /* "max": the policy allowing the biggest change */
    CRESC_SELECT_MIN = 1,      /* "min" */
    CRESC_SELECT_DISABLED = 2, /* "disabled": no scaling in this direction */
};

enum cresc_rate_type {
    CRESC_RATE_INSTANCES = 0, /* "instances" (the HPA's "Pods") */
    CRESC_RATE_PERCENT = 1,   /* "percent" */
};

struct cresc_policy_spec {
    char name[CRESC_POLICY_NAME_MAX + 1]; /* "cpu-based-scaling" */
    enum cresc_metric metric;
    enum cresc_policy_mode mode;
    bool enabled;
    /* threshold mode */
    double threshold;         /* scale up above this (metric units) */
    double lower_threshold;   /* scale down below this */
    double scale_up_factor;   /* > 1: desired = ceil(current x factor), at least current + 1 */
    double scale_down_factor; /* in (0, 1): desired = floor(current x factor), at most current-1 */
    /* target mode */
    double target; /* per-instance target value (request_rate: per-instance req/s) */
};

struct cresc_rate_policy {
    enum cresc_rate_type type;
    int32_t value;    /* > 0: instances, or percent of the count at the period's start */
    int32_t period_s; /* 1..1800 */
};

struct cresc_behavior_dir {
    int32_t stabilization_window_s; /* 0..3600 */
    enum cresc_select_policy select_policy;
    size_t n_policies; /* 0 = no rate limit */
    struct cresc_rate_policy policies[CRESC_RATE_POLICIES_MAX];
};

/* A service's scaling configuration; the JSON shape of GET /scaling/config. */
struct cresc_scaling_config {
    int32_t min_instances;         /* MIN_INSTANCES, 0..10000, default 2 */
    int32_t max_instances;         /* MAX_INSTANCES, 1..10000, default 10, >= min */
    double cpu_threshold;          /* CPU_THRESHOLD, (0, 100], default 70 */
    double memory_threshold;       /* MEMORY_THRESHOLD, (0, 100], default 80 */
    double request_rate_threshold; /* per-instance req/s above which to scale up, default 100 */
    int32_t scaling_cooldown_s;    /* SCALING_COOLDOWN, 0..86400, default 300 */
    int32_t scale_up_cooldown_s;   /* -1 = use scaling_cooldown_s */
    int32_t scale_down_cooldown_s; /* -1 = use scaling_cooldown_s */
    enum cresc_lb_strategy load_balancer_strategy; /* LOAD_BALANCER_STRATEGY */
    double tolerance;                              /* target mode dead band, default 0.1 */
    bool policies_explicit; /* false: `policies` are the defaults built from the flat fields */
    size_t n_policies;
    struct cresc_policy_spec policies[CRESC_POLICIES_MAX];
    struct cresc_behavior_dir scale_up;   /* HPA defaults: window 0, max(100%/15s, 4/15s) */
    struct cresc_behavior_dir scale_down; /* HPA defaults: window 300 s, 100%/15s */
};

/* Aggregated metrics of a service at evaluation time; `has_*` false = missing or stale. */
struct cresc_metrics {
    bool has_cpu, has_mem, has_req;
    double cpu_pct, mem_pct, req_per_s;
};

struct cresc_recommendation {
    int64_t at_ms;
    int32_t instances;
};

struct cresc_scale_event {
    int64_t at_ms;
    int32_t from, to;
};

/* History the engine needs; arrays are borrowed, oldest first. */
struct cresc_history {
    size_t n_recs;
    const struct cresc_recommendation *recs;
    size_t n_events;
    const struct cresc_scale_event *events;
};

struct cresc_eval_input {
    int64_t now_ms;            /* the caller's clock (monotonic or simulated), ms */
    int32_t current_instances; /* >= 0 */
    const struct cresc_scaling_config *config;
    struct cresc_metrics metrics;
    struct cresc_history history;
    bool paused; /* automatic scaling paused */
};

struct cresc_vote {
    char policy[CRESC_POLICY_NAME_MAX + 1];
    enum cresc_metric metric;
    enum cresc_policy_mode mode;
    bool has_value;         /* false: metric missing, the vote keeps the count */
    double value;           /* metric value used (mean or total) */
    double threshold;       /* threshold mode: upper threshold; target mode: target */
    double lower_threshold; /* threshold mode only */
    int32_t desired;
    enum cresc_direction direction;
};

enum cresc_guard_kind {
    CRESC_GUARD_MISSING_METRIC = 0, /* "missing_metric" */
    CRESC_GUARD_TOLERANCE,          /* "tolerance" */
    CRESC_GUARD_STABILIZATION,      /* "stabilization" */
    CRESC_GUARD_RATE_LIMIT,         /* "rate_limit" */
    CRESC_GUARD_COOLDOWN,           /* "cooldown" */
    CRESC_GUARD_MIN,                /* "min_instances" */
    CRESC_GUARD_MAX,                /* "max_instances" */
    CRESC_GUARD_PAUSE,              /* "paused" */
    CRESC_GUARD_DISABLED,           /* "select_policy_disabled" */
};

struct cresc_guard {
    enum cresc_guard_kind kind;
    int32_t before, after;
    char detail[CRESC_REASON_MAX]; /* e.g. "cooldown 120 s remaining" */
};

struct cresc_decision {
    int32_t current_instances;
    int32_t recommendation;   /* composite desired before behavior/cooldown (history entry) */
    int32_t target_instances; /* after every guard */
    bool scale;               /* target != current */
    enum cresc_direction direction;
    char reason[CRESC_REASON_MAX];                   /* "Scaling up based on cpu-based-scaling" */
    char deciding_policy[CRESC_POLICY_NAME_MAX + 1]; /* "" when none */
    int64_t cooldown_remaining_ms;
    size_t n_votes;
    struct cresc_vote votes[CRESC_POLICIES_MAX];
    size_t n_guards;
    struct cresc_guard guards[CRESC_GUARDS_MAX];
};

/* Defaults: the platform's values and the HPA's behavior defaults; default policies (cpu
 * and memory threshold policies, request-rate threshold policy) built from the flat fields. */
void cresc_scaling_config_defaults(struct cresc_scaling_config *cfg);
/* Rebuild the default policies from the flat fields when !policies_explicit. */
void cresc_scaling_config_derive(struct cresc_scaling_config *cfg);
/* Check the whole config (min <= max, thresholds in (0, 100], factors, windows...).
 * Returns 0 or CRESC_EINVAL/CRESC_ERANGE and names the field (JSON path, e.g.
 * "policies[1].target") in `field` and the reason in `err`. */
CRESC_WUR int cresc_scaling_config_validate(const struct cresc_scaling_config *cfg, char *field,
                                            size_t fieldlen, char *err, size_t errlen);

/* JSON: the shape of GET/PUT /scaling/config (docs/messages.md). `to_json` returns a new
 * reference (NULL only on OOM). `apply_json` applies a possibly partial object onto `cfg`
 * (fields it does not name keep their value), then validates the result as a whole; on error
 * `cfg` is unchanged and field/err say what is wrong. */
json_t *cresc_scaling_config_to_json(const struct cresc_scaling_config *cfg);
CRESC_WUR int cresc_scaling_config_apply_json(struct cresc_scaling_config *cfg, const json_t *obj,
                                              char *field, size_t fieldlen, char *err,
                                              size_t errlen);

/* Evaluate one service. Pure; fills *out completely. Returns 0, or CRESC_EINVAL for an
 * input that breaks the contract (NULL config, negative count). */
CRESC_WUR int cresc_policy_evaluate(const struct cresc_eval_input *in, struct cresc_decision *out);

/* JSON of a decision's explanation (votes, guards, reason...); new reference. */
json_t *cresc_decision_to_json(const struct cresc_decision *d);
CRESC_WUR int cresc_decision_from_json(const json_t *obj, struct cresc_decision *out, char *field,
                                       size_t fieldlen, char *err, size_t errlen);

/* Names for the enums above (static storage) and their parsers (0 or CRESC_EINVAL). */
const char *cresc_metric_name(enum cresc_metric m);
const char *cresc_direction_name(enum cresc_direction d);
const char *cresc_lb_strategy_name(enum cresc_lb_strategy s);
const char *cresc_guard_name(enum cresc_guard_kind k);
CRESC_WUR int cresc_metric_parse(const char *s, enum cresc_metric *out);
CRESC_WUR int cresc_lb_strategy_parse(const char *s, enum cresc_lb_strategy *out);
/* Added by the message-contract work: the remaining enums' wire names and parsers. */
const char *cresc_policy_mode_name(enum cresc_policy_mode m);     /* "threshold", "target" */
const char *cresc_select_policy_name(enum cresc_select_policy s); /* "max", "min", "disabled" */
const char *cresc_rate_type_name(enum cresc_rate_type t);         /* "instances", "percent" */
CRESC_WUR int cresc_policy_mode_parse(const char *s, enum cresc_policy_mode *out);
CRESC_WUR int cresc_select_policy_parse(const char *s, enum cresc_select_policy *out);
CRESC_WUR int cresc_rate_type_parse(const char *s, enum cresc_rate_type *out);
CRESC_WUR int cresc_direction_parse(const char *s, enum cresc_direction *out);
CRESC_WUR int cresc_guard_parse(const char *s, enum cresc_guard_kind *out);

/* Metrics as JSON: {"cpu_pct": NUM|null, "mem_pct": NUM|null, "request_rate": NUM|null}
 * (the `metrics` of `evaluate`, decisions and state). A missing or null member is "not
 * present" (has_* false); cpu/mem in [0, 100], request_rate >= 0. to_json: new reference,
 * NULL on OOM. from_json: 0 or a negative cresc_err with field/err filled. */
json_t *cresc_metrics_to_json(const struct cresc_metrics *m);
CRESC_WUR int cresc_metrics_from_json(const json_t *obj, struct cresc_metrics *out, char *field,
                                      size_t fieldlen, char *err, size_t errlen);

#endif
