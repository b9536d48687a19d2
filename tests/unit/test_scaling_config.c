/* Unit tests for shared/src/scaling_config.c: defaults (the platform's and the HPA's),
 * derived policies, partial JSON updates, strict types, and validation naming the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cresc/policy.h"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    assert_non_null(j);
    return j;
}

/* Apply `text` to cfg; returns the error code and leaves field/err in the buffers. */
static int apply(struct cresc_scaling_config *cfg, const char *text, char *field, char *err)
{
    json_t *j = parse(text);
    int rc = cresc_scaling_config_apply_json(cfg, j, field, 96, err, 256);
    json_decref(j);
    return rc;
}

static void test_defaults(void **state)
{
    (void)state;
    struct cresc_scaling_config c;
    cresc_scaling_config_defaults(&c);
    assert_int_equal(c.min_instances, 2);
    assert_int_equal(c.max_instances, 10);
    assert_true(c.cpu_threshold == 70.0);
    assert_true(c.memory_threshold == 80.0);
    assert_true(c.request_rate_threshold == 100.0);
    assert_int_equal(c.scaling_cooldown_s, 300);
    assert_int_equal(c.scale_up_cooldown_s, -1);
    assert_int_equal(c.scale_down_cooldown_s, -1);
    assert_int_equal(c.load_balancer_strategy, CRESC_LB_ROUND_ROBIN);
    assert_true(c.tolerance == 0.1);
    assert_false(c.policies_explicit);
    assert_int_equal(c.n_policies, 3);
    assert_string_equal(c.policies[0].name, "cpu-based-scaling");
    assert_int_equal(c.policies[0].metric, CRESC_METRIC_CPU);
    assert_int_equal(c.policies[0].mode, CRESC_MODE_THRESHOLD);
    assert_true(c.policies[0].enabled);
    assert_true(c.policies[0].threshold == 70.0);
    assert_true(c.policies[0].lower_threshold == 35.0);
    assert_true(c.policies[0].scale_up_factor == 1.5);
    assert_true(c.policies[0].scale_down_factor == 0.75);
    assert_string_equal(c.policies[1].name, "memory-based-scaling");
    assert_int_equal(c.policies[1].metric, CRESC_METRIC_MEM);
    assert_true(c.policies[1].threshold == 80.0);
    assert_true(c.policies[1].lower_threshold == 40.0);
    assert_string_equal(c.policies[2].name, "request-rate-based-scaling");
    assert_int_equal(c.policies[2].metric, CRESC_METRIC_REQ_RATE);
    assert_true(c.policies[2].threshold == 100.0);
    assert_true(c.policies[2].lower_threshold == 50.0);
    /* The Kubernetes HPA's behavior defaults. */
    assert_int_equal(c.scale_up.stabilization_window_s, 0);
    assert_int_equal(c.scale_up.select_policy, CRESC_SELECT_MAX);
    assert_int_equal(c.scale_up.n_policies, 2);
    assert_int_equal(c.scale_up.policies[0].type, CRESC_RATE_PERCENT);
    assert_int_equal(c.scale_up.policies[0].value, 100);
    assert_int_equal(c.scale_up.policies[0].period_s, 15);
    assert_int_equal(c.scale_up.policies[1].type, CRESC_RATE_INSTANCES);
    assert_int_equal(c.scale_up.policies[1].value, 4);
    assert_int_equal(c.scale_up.policies[1].period_s, 15);
    assert_int_equal(c.scale_down.stabilization_window_s, 300);
    assert_int_equal(c.scale_down.select_policy, CRESC_SELECT_MAX);
    assert_int_equal(c.scale_down.n_policies, 1);
    assert_int_equal(c.scale_down.policies[0].type, CRESC_RATE_PERCENT);
    assert_int_equal(c.scale_down.policies[0].value, 100);
    assert_int_equal(c.scale_down.policies[0].period_s, 15);
    char field[96], err[256];
    assert_int_equal(cresc_scaling_config_validate(&c, field, sizeof(field), err, sizeof(err)), 0);
}

static void test_partial_apply_and_derive(void **state)
{
    (void)state;
    struct cresc_scaling_config c;
    cresc_scaling_config_defaults(&c);
    char field[96], err[256];
    assert_int_equal(apply(&c, "{\"cpu_threshold\": 85, \"max_instances\": 20}", field, err), 0);
    assert_true(c.cpu_threshold == 85.0);
    assert_int_equal(c.max_instances, 20);
    assert_int_equal(c.min_instances, 2);         /* untouched */
    assert_true(c.memory_threshold == 80.0);      /* untouched */
    assert_true(c.policies[0].threshold == 85.0); /* derived policy follows */
    assert_true(c.policies[0].lower_threshold == 42.5);
    assert_int_equal(c.scale_down.stabilization_window_s, 300);

    /* Strategy names and the cooldown inheritance. */
    assert_int_equal(apply(&c,
                           "{\"load_balancer_strategy\": \"ip_hash\", \"scale_up_cooldown\": 30,"
                           " \"scale_down_cooldown\": null, \"unknown_extra\": [1,2]}",
                           field, err),
                     0);
    assert_int_equal(c.load_balancer_strategy, CRESC_LB_IP_HASH);
    assert_int_equal(c.scale_up_cooldown_s, 30);
    assert_int_equal(c.scale_down_cooldown_s, -1);

    /* Behavior: a named direction changes, the other keeps its defaults. */
    assert_int_equal(apply(&c,
                           "{\"behavior\": {\"scale_down\": {\"stabilization_window_s\": 60,"
                           " \"policies\": [{\"type\": \"instances\", \"value\": 1,"
                           " \"period_s\": 60}]}}}",
                           field, err),
                     0);
    assert_int_equal(c.scale_down.stabilization_window_s, 60);
    assert_int_equal(c.scale_down.select_policy, CRESC_SELECT_MAX);
    assert_int_equal(c.scale_down.n_policies, 1);
    assert_int_equal(c.scale_down.policies[0].type, CRESC_RATE_INSTANCES);
    assert_int_equal(c.scale_down.policies[0].period_s, 60);
    assert_int_equal(c.scale_up.n_policies, 2);
    /* An empty list means no rate limit. */
    assert_int_equal(apply(&c, "{\"behavior\": {\"scale_up\": {\"policies\": []}}}", field, err),
                     0);
    assert_int_equal(c.scale_up.n_policies, 0);
}

static void test_explicit_policies(void **state)
{
    (void)state;
    struct cresc_scaling_config c;
    cresc_scaling_config_defaults(&c);
    char field[96], err[256];
    assert_int_equal(apply(&c,
                           "{\"policies\": [{\"name\": \"cpu-target\", \"metric\": \"cpu_pct\","
                           " \"mode\": \"target\", \"target\": 60},"
                           " {\"name\": \"request-rate-based-scaling\", \"threshold\": 250}]}",
                           field, err),
                     0);
    assert_true(c.policies_explicit);
    assert_int_equal(c.n_policies, 2);
    assert_int_equal(c.policies[0].mode, CRESC_MODE_TARGET);
    assert_true(c.policies[0].target == 60.0);
    assert_int_equal(c.policies[1].metric, CRESC_METRIC_REQ_RATE); /* inferred from the name */
    assert_true(c.policies[1].threshold == 250.0);
    assert_true(c.policies[1].lower_threshold == 125.0);
    /* Explicit policies do not follow the flat fields. */
    assert_int_equal(apply(&c, "{\"request_rate_threshold\": 10}", field, err), 0);
    assert_true(c.policies[1].threshold == 250.0);
    /* null brings the derived defaults back. */
    assert_int_equal(apply(&c, "{\"policies\": null}", field, err), 0);
    assert_false(c.policies_explicit);
    assert_int_equal(c.n_policies, 3);
    assert_true(c.policies[2].threshold == 10.0);
}

static void test_get_put_round_trip(void **state)
{
    (void)state;
    struct cresc_scaling_config a, b;
    cresc_scaling_config_defaults(&a);
    char field[96], err[256];
    assert_int_equal(apply(&a, "{\"cpu_threshold\": 65.5, \"tolerance\": 0.05}", field, err), 0);
    json_t *j = cresc_scaling_config_to_json(&a);
    assert_non_null(j);
    /* A GET echoed back with one flat field edited: the derived policies follow the edit. */
    json_object_set_new(j, "memory_threshold", json_real(90.0));
    b = a;
    assert_int_equal(cresc_scaling_config_apply_json(&b, j, field, sizeof(field), err, sizeof(err)),
                     0);
    assert_false(b.policies_explicit);
    assert_true(b.cpu_threshold == 65.5);
    assert_true(b.tolerance == 0.05);
    assert_true(b.policies[1].threshold == 90.0);
    json_decref(j);

    /* Explicit config: to_json -> apply onto defaults gives the same struct. */
    assert_int_equal(apply(&a,
                           "{\"policies\": [{\"name\": \"p1\", \"metric\": \"mem_pct\","
                           " \"enabled\": false, \"threshold\": 75, \"lower_threshold\": 20,"
                           " \"scale_up_factor\": 2, \"scale_down_factor\": 0.5, \"target\": 50}]}",
                           field, err),
                     0);
    j = cresc_scaling_config_to_json(&a);
    cresc_scaling_config_defaults(&b);
    assert_int_equal(cresc_scaling_config_apply_json(&b, j, field, sizeof(field), err, sizeof(err)),
                     0);
    json_decref(j);
    assert_true(b.policies_explicit);
    assert_int_equal(b.n_policies, 1);
    assert_string_equal(b.policies[0].name, "p1");
    assert_false(b.policies[0].enabled);
    assert_true(b.policies[0].lower_threshold == 20.0);
    assert_true(b.policies[0].scale_up_factor == 2.0);
    assert_true(b.policies[0].scale_down_factor == 0.5);
    assert_true(b.policies[0].target == 50.0);
    assert_int_equal(b.min_instances, a.min_instances);
    assert_int_equal(b.scale_down.stabilization_window_s, a.scale_down.stabilization_window_s);
}

struct bad_case {
    const char *json;
    int code;
    const char *field;
};

static void test_errors_name_the_field(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"{\"min_instances\": 11}", CRESC_EINVAL, "min_instances"},
        {"{\"min_instances\": -1}", CRESC_ERANGE, "min_instances"},
        {"{\"max_instances\": 0}", CRESC_ERANGE, "max_instances"},
        {"{\"max_instances\": 10001}", CRESC_ERANGE, "max_instances"},
        {"{\"max_instances\": \"12\"}", CRESC_ETYPE, "max_instances"},
        {"{\"max_instances\": 2.5}", CRESC_ETYPE, "max_instances"},
        {"{\"cpu_threshold\": \"80\"}", CRESC_ETYPE, "cpu_threshold"},
        {"{\"cpu_threshold\": 0}", CRESC_ERANGE, "cpu_threshold"},
        {"{\"cpu_threshold\": 100.5}", CRESC_ERANGE, "cpu_threshold"},
        {"{\"memory_threshold\": -3}", CRESC_ERANGE, "memory_threshold"},
        {"{\"request_rate_threshold\": 0}", CRESC_ERANGE, "request_rate_threshold"},
        {"{\"scaling_cooldown\": -5}", CRESC_ERANGE, "scaling_cooldown"},
        {"{\"scale_up_cooldown\": -2}", CRESC_ERANGE, "scale_up_cooldown"},
        {"{\"load_balancer_strategy\": \"random\"}", CRESC_EINVAL, "load_balancer_strategy"},
        {"{\"load_balancer_strategy\": 1}", CRESC_ETYPE, "load_balancer_strategy"},
        {"{\"tolerance\": 1}", CRESC_ERANGE, "tolerance"},
        {"{\"policies\": {}}", CRESC_ETYPE, "policies"},
        {"{\"policies\": [{\"metric\": \"cpu_pct\"}]}", CRESC_EMISSING, "policies[0].name"},
        {"{\"policies\": [{\"name\": \"x\"}]}", CRESC_EMISSING, "policies[0].metric"},
        {"{\"policies\": [{\"name\": \"x\", \"metric\": \"disk\"}]}", CRESC_EINVAL,
         "policies[0].metric"},
        {"{\"policies\": [{\"name\": \"x\", \"metric\": \"cpu_pct\", \"mode\": \"pid\"}]}",
         CRESC_EINVAL, "policies[0].mode"},
        {"{\"policies\": [{\"name\": \"a\", \"metric\": \"cpu_pct\"}, {\"name\": \"b\","
         " \"metric\": \"cpu_pct\", \"mode\": \"target\", \"target\": 0}]}",
         CRESC_ERANGE, "policies[1].target"},
        {"{\"policies\": [{\"name\": \"a\", \"metric\": \"cpu_pct\"}, {\"name\": \"a\","
         " \"metric\": \"mem_pct\"}]}",
         CRESC_EINVAL, "policies[1].name"},
        {"{\"policies\": [{\"name\": \"a\", \"metric\": \"cpu_pct\", \"threshold\": 50,"
         " \"lower_threshold\": 60}]}",
         CRESC_ERANGE, "policies[0].lower_threshold"},
        {"{\"policies\": [{\"name\": \"a\", \"metric\": \"cpu_pct\", \"scale_up_factor\": 1}]}",
         CRESC_ERANGE, "policies[0].scale_up_factor"},
        {"{\"policies\": [{\"name\": \"a\", \"metric\": \"cpu_pct\", \"scale_down_factor\": 1}]}",
         CRESC_ERANGE, "policies[0].scale_down_factor"},
        {"{\"policies\": [{\"name\": \"a\", \"metric\": \"cpu_pct\", \"enabled\": 1}]}",
         CRESC_ETYPE, "policies[0].enabled"},
        {"{\"policies\": [{\"name\": \"bad name\", \"metric\": \"cpu_pct\"}]}", CRESC_EINVAL,
         "policies[0].name"},
        {"{\"policies\": [1,2,3,4,5,6,7,8,9]}", CRESC_ERANGE, "policies"},
        {"{\"behavior\": {\"scale_up\": {\"stabilization_window_s\": 3601}}}", CRESC_ERANGE,
         "behavior.scale_up.stabilization_window_s"},
        {"{\"behavior\": {\"scale_down\": {\"select_policy\": \"avg\"}}}", CRESC_EINVAL,
         "behavior.scale_down.select_policy"},
        {"{\"behavior\": {\"scale_down\": {\"policies\": [{\"type\": \"percent\", \"value\": 0,"
         " \"period_s\": 15}]}}}",
         CRESC_ERANGE, "behavior.scale_down.policies[0].value"},
        {"{\"behavior\": {\"scale_down\": {\"policies\": [{\"type\": \"percent\", \"value\": 5,"
         " \"period_s\": 1801}]}}}",
         CRESC_ERANGE, "behavior.scale_down.policies[0].period_s"},
        {"{\"behavior\": {\"scale_up\": {\"policies\": [{\"type\": \"pods\", \"value\": 5,"
         " \"period_s\": 15}]}}}",
         CRESC_EINVAL, "behavior.scale_up.policies[0].type"},
        {"{\"behavior\": {\"scale_up\": {\"policies\": [{\"value\": 5, \"period_s\": 15}]}}}",
         CRESC_EMISSING, "behavior.scale_up.policies[0].type"},
        {"{\"behavior\": []}", CRESC_ETYPE, "behavior"},
        {"[]", CRESC_ETYPE, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cresc_scaling_config c, before;
        cresc_scaling_config_defaults(&c);
        before = c;
        char field[96] = "?", err[256] = "";
        int rc = apply(&c, cases[i].json, field, err);
        if (rc != cases[i].code || strcmp(field, cases[i].field) != 0) {
            print_error("case %zu %s: rc %d field '%s' err '%s'\n", i, cases[i].json, rc, field,
                        err);
        }
        assert_int_equal(rc, cases[i].code);
        assert_string_equal(field, cases[i].field);
        assert_true(err[0] != '\0');
        /* On error the config is unchanged. */
        assert_memory_equal(&c, &before, sizeof(c));
    }
}

static void test_validate_struct(void **state)
{
    (void)state;
    struct cresc_scaling_config c;
    char field[96], err[256];
    cresc_scaling_config_defaults(&c);
    c.min_instances = 0; /* 0 is allowed: a request-rate policy can scale up from zero */
    assert_int_equal(cresc_scaling_config_validate(&c, field, sizeof(field), err, sizeof(err)), 0);
    c.n_policies = CRESC_POLICIES_MAX + 1;
    assert_int_equal(cresc_scaling_config_validate(&c, field, sizeof(field), err, sizeof(err)),
                     CRESC_ERANGE);
    assert_string_equal(field, "policies");
    cresc_scaling_config_defaults(&c);
    c.policies[2].target = -1;
    assert_int_equal(cresc_scaling_config_validate(&c, field, sizeof(field), err, sizeof(err)),
                     CRESC_ERANGE);
    assert_string_equal(field, "policies[2].target");
    cresc_scaling_config_defaults(&c);
    c.load_balancer_strategy = (enum cresc_lb_strategy)7;
    assert_int_equal(cresc_scaling_config_validate(&c, field, sizeof(field), err, sizeof(err)),
                     CRESC_EINVAL);
    assert_string_equal(field, "load_balancer_strategy");
}

static void test_enum_names(void **state)
{
    (void)state;
    enum cresc_metric m;
    enum cresc_lb_strategy s;
    enum cresc_guard_kind g;
    enum cresc_direction d;
    assert_int_equal(cresc_metric_parse("request_rate", &m), 0);
    assert_int_equal(m, CRESC_METRIC_REQ_RATE);
    assert_int_equal(cresc_metric_parse("cpu", &m), CRESC_EINVAL);
    assert_int_equal(cresc_lb_strategy_parse("least_connections", &s), 0);
    assert_int_equal(s, CRESC_LB_LEAST_CONNECTIONS);
    assert_int_equal(cresc_lb_strategy_parse(NULL, &s), CRESC_EINVAL);
    assert_string_equal(cresc_guard_name(CRESC_GUARD_DISABLED), "select_policy_disabled");
    assert_string_equal(cresc_guard_name(CRESC_GUARD_MIN), "min_instances");
    assert_int_equal(cresc_guard_parse("cooldown", &g), 0);
    assert_int_equal(g, CRESC_GUARD_COOLDOWN);
    assert_string_equal(cresc_direction_name(CRESC_DIR_DOWN), "down");
    assert_int_equal(cresc_direction_parse("up", &d), 0);
    assert_int_equal(d, CRESC_DIR_UP);
    assert_string_equal(cresc_metric_name((enum cresc_metric)42), "unknown");
    assert_string_equal(cresc_select_policy_name(CRESC_SELECT_DISABLED), "disabled");
    assert_string_equal(cresc_rate_type_name(CRESC_RATE_INSTANCES), "instances");
    assert_string_equal(cresc_policy_mode_name(CRESC_MODE_TARGET), "target");
}

static void test_decision_json(void **state)
{
    (void)state;
    struct cresc_decision d, e;
    memset(&d, 0, sizeof(d));
    d.current_instances = 2;
    d.recommendation = 3;
    d.target_instances = 3;
    d.scale = true;
    d.direction = CRESC_DIR_UP;
    strcpy(d.reason, "Scaling up based on cpu-based-scaling");
    strcpy(d.deciding_policy, "cpu-based-scaling");
    d.cooldown_remaining_ms = 1500;
    d.n_votes = 2;
    strcpy(d.votes[0].policy, "cpu-based-scaling");
    d.votes[0].metric = CRESC_METRIC_CPU;
    d.votes[0].has_value = true;
    d.votes[0].value = 85.25;
    d.votes[0].threshold = 70;
    d.votes[0].lower_threshold = 35;
    d.votes[0].desired = 3;
    d.votes[0].direction = CRESC_DIR_UP;
    strcpy(d.votes[1].policy, "memory-based-scaling");
    d.votes[1].metric = CRESC_METRIC_MEM;
    d.votes[1].mode = CRESC_MODE_TARGET;
    d.votes[1].threshold = 60;
    d.votes[1].desired = 2;
    d.n_guards = 1;
    d.guards[0].kind = CRESC_GUARD_MAX;
    d.guards[0].before = 4;
    d.guards[0].after = 3;
    strcpy(d.guards[0].detail, "capped at max_instances 3");
    json_t *j = cresc_decision_to_json(&d);
    assert_non_null(j);
    assert_true(
        json_is_null(json_object_get(json_array_get(json_object_get(j, "votes"), 1), "value")));
    char field[96], err[256];
    assert_int_equal(cresc_decision_from_json(j, &e, field, sizeof(field), err, sizeof(err)), 0);
    assert_int_equal(e.target_instances, 3);
    assert_true(e.scale);
    assert_int_equal(e.direction, CRESC_DIR_UP);
    assert_string_equal(e.reason, d.reason);
    assert_int_equal(e.n_votes, 2);
    assert_true(e.votes[0].value == 85.25);
    assert_false(e.votes[1].has_value);
    assert_int_equal(e.votes[1].mode, CRESC_MODE_TARGET);
    assert_int_equal(e.n_guards, 1);
    assert_int_equal(e.guards[0].kind, CRESC_GUARD_MAX);
    assert_string_equal(e.guards[0].detail, d.guards[0].detail);
    assert_memory_equal(&e.guards[0], &d.guards[0], sizeof(d.guards[0]));
    json_object_set_new(json_array_get(json_object_get(j, "guards"), 0), "kind",
                        json_string("bogus"));
    assert_int_equal(cresc_decision_from_json(j, &e, field, sizeof(field), err, sizeof(err)),
                     CRESC_EINVAL);
    assert_string_equal(field, "guards[0].kind");
    json_decref(j);
}

static void test_metrics_json(void **state)
{
    (void)state;
    struct cresc_metrics m;
    char field[96], err[256];
    json_t *j = parse("{\"cpu_pct\": 91.5, \"mem_pct\": null}");
    assert_int_equal(cresc_metrics_from_json(j, &m, field, sizeof(field), err, sizeof(err)), 0);
    assert_true(m.has_cpu && m.cpu_pct == 91.5);
    assert_false(m.has_mem);
    assert_false(m.has_req);
    json_decref(j);
    j = parse("{\"cpu_pct\": 101}");
    assert_int_equal(cresc_metrics_from_json(j, &m, field, sizeof(field), err, sizeof(err)),
                     CRESC_ERANGE);
    assert_string_equal(field, "cpu_pct");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_partial_apply_and_derive),
        cmocka_unit_test(test_explicit_policies),
        cmocka_unit_test(test_get_put_round_trip),
        cmocka_unit_test(test_errors_name_the_field),
        cmocka_unit_test(test_validate_struct),
        cmocka_unit_test(test_enum_names),
        cmocka_unit_test(test_decision_json),
        cmocka_unit_test(test_metrics_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
