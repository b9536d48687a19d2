/* Unit tests for what the reliability campaigns (tests/fuzz, tests/integration/
 * test_api_hostile.py) found: each finding is pinned here so it cannot come back, next to the
 * fuzz corpus files that reproduce it (replayed by the fuzz_replay_* tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cresc/msg.h"
#include "cresc/policy.h"
#include "request.h"

static json_t *parse(const char *body)
{
    json_t *doc = NULL;
    struct cresc_api_error e;
    assert_int_equal(cresc_request_parse(body, strlen(body), &doc, &e), 0);
    return doc;
}

/* Hostile campaign: PUT /scaling/config {"cpu_threshold_up": 101} was answered 200 and
 * applied as a new config version that changed nothing (the coordinator ignores unknown
 * fields of control messages). Unknown fields, also nested ones, are now a 400 naming them. */
static void test_config_unknown_fields_rejected(void **st)
{
    (void)st;
    struct cresc_scaling_config cur;
    cresc_scaling_config_defaults(&cur);
    static const struct {
        const char *body, *field;
    } bad[] = {
        {"{\"cpu_threshold_up\":101}", "cpu_threshold_up"},
        {"{\"no_such_field\":1}", "no_such_field"},
        {"{\"min_instances\":3,\"cooldown_s\":-1}", "cooldown_s"},
        {"{\"a\":{\"a\":{\"a\":1}}}", "a"},
        {"{\"behavior\":{\"scale_up\":{\"stabilisation_window_s\":5}}}",
         "behavior.scale_up.stabilisation_window_s"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct cresc_control ctl;
        struct cresc_api_error e;
        memset(&ctl, 0, sizeof(ctl));
        json_t *doc = parse(bad[i].body);
        if (cresc_request_config(doc, &cur, &ctl, NULL, &e) == 0) {
            fail_msg("%s: accepted", bad[i].body);
        }
        assert_int_equal(e.status, 400);
        assert_string_equal(e.field, bad[i].field);
        assert_non_null(strstr(e.error, "unknown field"));
        assert_null(ctl.config);
        json_decref(doc);
    }
}

/* The check must not refuse what GET /scaling/config returns: the whole rendering, and a
 * partial nested object, are still accepted. */
static void test_config_known_fields_accepted(void **st)
{
    (void)st;
    struct cresc_scaling_config cur;
    cresc_scaling_config_defaults(&cur);
    json_t *full = cresc_scaling_config_to_json(&cur);
    assert_non_null(full);
    struct cresc_control ctl;
    struct cresc_api_error e;
    memset(&ctl, 0, sizeof(ctl));
    if (cresc_request_config(full, &cur, &ctl, NULL, &e) != 0) {
        fail_msg("the rendered config was refused: %s (%s)", e.error, e.field);
    }
    cresc_control_release(&ctl);
    json_decref(full);

    json_t *doc = parse("{\"behavior\":{\"scale_down\":{\"stabilization_window_s\":60}},"
                        "\"max_instances\":12}");
    memset(&ctl, 0, sizeof(ctl));
    if (cresc_request_config(doc, &cur, &ctl, NULL, &e) != 0) {
        fail_msg("a partial nested config was refused: %s (%s)", e.error, e.field);
    }
    cresc_control_release(&ctl);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_unknown_fields_rejected),
        cmocka_unit_test(test_config_known_fields_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
