/* Unit tests of crescendo-api's pure parts beyond routing: request validation
 * (api/request.c), the read documents (api/render.c, via view snapshots) and the /metrics
 * exposition (api/stats.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "render.h"
#include "request.h"
#include "stats.h"
#include "view.h"

static json_t *parse_ok(const char *text)
{
    struct cresc_api_error e;
    json_t *doc = NULL;
    assert_int_equal(cresc_request_parse(text, strlen(text), &doc, &e), 0);
    return doc;
}

static void expect_parse_error(const char *text, size_t len)
{
    struct cresc_api_error e;
    json_t *doc = NULL;
    assert_int_not_equal(cresc_request_parse(text, len, &doc, &e), 0);
    assert_null(doc);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.field, "");
    assert_true(strlen(e.error) > 0);
}

static void test_parse(void **st)
{
    (void)st;
    json_decref(parse_ok("{\"a\":1}"));
    expect_parse_error("", 0);
    expect_parse_error("{", 1);
    expect_parse_error("[]", 2);
    expect_parse_error("\"x\"", 3);
    expect_parse_error("{\"a\":1,\"a\":2}", 13);
    expect_parse_error("{\"a\":1} x", 9);
    expect_parse_error("{\"a\":\0}", 7);
}

static void test_content_type(void **st)
{
    (void)st;
    assert_true(cresc_request_is_json_type("application/json"));
    assert_true(cresc_request_is_json_type("application/json; charset=utf-8"));
    assert_true(cresc_request_is_json_type("Application/JSON"));
    assert_true(cresc_request_is_json_type("application/merge-patch+json"));
    assert_false(cresc_request_is_json_type(NULL));
    assert_false(cresc_request_is_json_type(""));
    assert_false(cresc_request_is_json_type("text/plain"));
    assert_false(cresc_request_is_json_type("application/jsonx"));
    assert_false(cresc_request_is_json_type("application/x-www-form-urlencoded"));
}

struct vcase {
    const char *body;
    const char *field; /* NULL: valid */
};

static void run_scale(const struct vcase *c)
{
    struct cresc_control ctl;
    struct cresc_api_error e;
    memset(&ctl, 0, sizeof(ctl));
    json_t *doc = parse_ok(c->body);
    int rc = cresc_request_scale(doc, &ctl, &e);
    if (c->field == NULL) {
        if (rc != 0) {
            fail_msg("%s: unexpected error %s (%s)", c->body, e.error, e.field);
        }
    } else {
        if (rc == 0) {
            fail_msg("%s: accepted", c->body);
        }
        assert_int_equal(e.status, 400);
        assert_string_equal(e.field, c->field);
    }
    json_decref(doc);
}

static void test_scale(void **st)
{
    (void)st;
    static const struct vcase cases[] = {
        {"{\"target_instances\":5,\"reason\":\"Handling major tournament\"}", NULL},
        {"{\"target_instances\":0}", NULL},
        {"{\"target_instances\":10000}", NULL},
        {"{\"target_instances\":5.0}", NULL},
        {"{\"target_instances\":5,\"reason\":null}", NULL},
        {"{}", "target_instances"},
        {"{\"target_instances\":-1}", "target_instances"},
        {"{\"target_instances\":10001}", "target_instances"},
        {"{\"target_instances\":5.5}", "target_instances"},
        {"{\"target_instances\":1e300}", "target_instances"},
        {"{\"target_instances\":\"5\"}", "target_instances"},
        {"{\"target_instances\":true}", "target_instances"},
        {"{\"target_instances\":null}", "target_instances"},
        {"{\"target_instances\":5,\"reason\":[]}", "reason"},
        {"{\"target_instances\":5,\"extra\":1}", "extra"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_scale(&cases[i]);
    }
    /* reason length limit and the command's fields */
    char body[600];
    char reason[300];
    memset(reason, 'r', sizeof(reason) - 1);
    reason[sizeof(reason) - 1] = '\0';
    snprintf(body, sizeof(body), "{\"target_instances\":3,\"reason\":\"%s\"}", reason);
    struct vcase longc = {body, "reason"};
    run_scale(&longc);

    struct cresc_control ctl;
    struct cresc_api_error e;
    memset(&ctl, 0, sizeof(ctl));
    json_t *doc = parse_ok("{\"target_instances\":7,\"reason\":\"derby\"}");
    assert_int_equal(cresc_request_scale(doc, &ctl, &e), 0);
    assert_int_equal(ctl.type, CRESC_CTL_SCALE);
    assert_int_equal(ctl.target_instances, 7);
    assert_string_equal(ctl.reason, "derby");
    json_decref(doc);
}

static void test_priority(void **st)
{
    (void)st;
    static const struct vcase cases[] = {
        {"{\"match_id\":\"match-123\",\"priority\":8,\"resource_allocation\":30.0}", NULL},
        {"{\"match_id\":\"m\",\"priority\":1,\"resource_allocation\":100}", NULL},
        {"{\"match_id\":\"m\",\"priority\":10,\"resource_allocation\":0.001}", NULL},
        {"{\"priority\":8,\"resource_allocation\":30}", "match_id"},
        {"{\"match_id\":5,\"priority\":8,\"resource_allocation\":30}", "match_id"},
        {"{\"match_id\":\"\",\"priority\":8,\"resource_allocation\":30}", "match_id"},
        {"{\"match_id\":\"a/b\",\"priority\":8,\"resource_allocation\":30}", "match_id"},
        {"{\"match_id\":\"m\",\"resource_allocation\":30}", "priority"},
        {"{\"match_id\":\"m\",\"priority\":0,\"resource_allocation\":30}", "priority"},
        {"{\"match_id\":\"m\",\"priority\":11,\"resource_allocation\":30}", "priority"},
        {"{\"match_id\":\"m\",\"priority\":\"8\",\"resource_allocation\":30}", "priority"},
        {"{\"match_id\":\"m\",\"priority\":8}", "resource_allocation"},
        {"{\"match_id\":\"m\",\"priority\":8,\"resource_allocation\":0}", "resource_allocation"},
        {"{\"match_id\":\"m\",\"priority\":8,\"resource_allocation\":-5}", "resource_allocation"},
        {"{\"match_id\":\"m\",\"priority\":8,\"resource_allocation\":100.01}",
         "resource_allocation"},
        {"{\"match_id\":\"m\",\"priority\":8,\"resource_allocation\":\"30\"}",
         "resource_allocation"},
        {"{\"match_id\":\"m\",\"priority\":8,\"resource_allocation\":30,\"x\":1}", "x"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cresc_control ctl;
        struct cresc_api_error e;
        memset(&ctl, 0, sizeof(ctl));
        json_t *doc = parse_ok(cases[i].body);
        int rc = cresc_request_priority(doc, &ctl, &e);
        if (cases[i].field == NULL) {
            if (rc != 0) {
                fail_msg("%s: unexpected error %s", cases[i].body, e.error);
            }
            assert_int_equal(ctl.type, CRESC_CTL_PRIORITY_UPSERT);
        } else {
            if (rc == 0) {
                fail_msg("%s: accepted", cases[i].body);
            }
            assert_string_equal(e.field, cases[i].field);
        }
        json_decref(doc);
    }
}

static void test_config(void **st)
{
    (void)st;
    struct cresc_scaling_config cur, next;
    cresc_scaling_config_defaults(&cur);
    struct cresc_control ctl;
    struct cresc_api_error e;
    memset(&ctl, 0, sizeof(ctl));
    json_t *doc = parse_ok("{\"max_instances\":12,\"cpu_threshold\":75}");
    assert_int_equal(cresc_request_config(doc, &cur, &ctl, &next, &e), 0);
    assert_int_equal(ctl.type, CRESC_CTL_CONFIG_UPDATE);
    assert_non_null(ctl.config);
    assert_true(json_equal(ctl.config, doc));
    assert_int_equal(next.max_instances, 12);
    assert_int_equal(next.min_instances, cur.min_instances);
    cresc_control_release(&ctl);
    json_decref(doc);

    static const struct vcase bad[] = {
        {"{}", ""},
        {"{\"min_instances\":11}", "min_instances"}, /* > the current max 10: whole-config check */
        {"{\"cpu_threshold\":0}", "cpu_threshold"},
        {"{\"memory_threshold\":101}", "memory_threshold"},
        {"{\"load_balancer_strategy\":\"random\"}", "load_balancer_strategy"},
        {"{\"max_instances\":\"12\"}", "max_instances"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&ctl, 0, sizeof(ctl));
        doc = parse_ok(bad[i].body);
        if (cresc_request_config(doc, &cur, &ctl, NULL, &e) == 0) {
            fail_msg("%s: accepted", bad[i].body);
        }
        assert_int_equal(e.status, 400);
        assert_string_equal(e.field, bad[i].field);
        assert_null(ctl.config);
        json_decref(doc);
    }
}

static void test_service_and_key(void **st)
{
    (void)st;
    char out[CRESC_ID_MAX + 1];
    struct cresc_api_error e;
    bool has;
    assert_int_equal(cresc_request_service(NULL, "music-generator", out, &e), 0);
    assert_string_equal(out, "music-generator");
    assert_int_equal(cresc_request_service("svc.a:b-1", "x", out, &e), 0);
    assert_string_equal(out, "svc.a:b-1");
    assert_int_not_equal(cresc_request_service("bad name", "x", out, &e), 0);
    assert_string_equal(e.field, "service");
    assert_int_not_equal(cresc_request_service("", "x", out, &e), 0);
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    assert_int_not_equal(cresc_request_service(longname, "x", out, &e), 0);

    assert_int_equal(cresc_request_idempotency_key(NULL, out, &has, &e), 0);
    assert_false(has);
    assert_int_equal(cresc_request_idempotency_key("retry-42", out, &has, &e), 0);
    assert_true(has);
    assert_string_equal(out, "retry-42");
    assert_int_not_equal(cresc_request_idempotency_key("a b", out, &has, &e), 0);
    assert_string_equal(e.field, "Idempotency-Key");
}

static void test_render_snapshot(void **st)
{
    (void)st;
    struct cresc_state s;
    cresc_state_init(&s);
    snprintf(s.service, sizeof(s.service), "svc");
    s.current_instances = 4;
    s.config_version = 3;
    s.metrics.has_cpu = true;
    s.metrics.cpu_pct = 55.5;
    s.n_priorities = 1;
    s.priorities = calloc(1, sizeof(*s.priorities));
    assert_non_null(s.priorities);
    snprintf(s.priorities[0].match_id, sizeof(s.priorities[0].match_id), "match-1");
    s.priorities[0].priority = 9;
    s.priorities[0].resource_allocation = 40;
    s.priorities[0].allocated_pct = 25;
    s.n_acks = 1;
    s.acks = calloc(1, sizeof(*s.acks));
    assert_non_null(s.acks);
    snprintf(s.acks[0].request_id, sizeof(s.acks[0].request_id), "req-1");
    s.acks[0].status = CRESC_ACK_REJECTED;
    snprintf(s.acks[0].reason, sizeof(s.acks[0].reason), "nope");

    struct cresc_view_snap *snap = cresc_view_snap_new(&s);
    assert_non_null(snap);
    assert_null(s.priorities); /* ownership moved */

    json_t *status = json_loads(snap->status, 0, NULL);
    assert_non_null(status);
    assert_int_equal(snap->status_len, strlen(snap->status));
    assert_int_equal(json_integer_value(json_object_get(status, "current_instances")), 4);
    assert_int_equal(json_integer_value(json_object_get(status, "config_version")), 3);
    json_t *m = json_object_get(status, "metrics");
    assert_true(json_real_value(json_object_get(m, "cpu_pct")) == 55.5);
    assert_true(json_is_null(json_object_get(m, "memory_pct"))); /* missing, not 0 */
    assert_true(json_is_null(json_object_get(status, "last_decision")));
    json_decref(status);

    json_t *dec = json_loads(snap->decision, 0, NULL);
    assert_false(json_is_true(json_object_get(dec, "scaling_needed")));
    assert_int_equal(json_integer_value(json_object_get(dec, "target_instances")), 4);
    json_decref(dec);

    json_t *pr = json_loads(snap->priorities, 0, NULL);
    json_t *p0 = json_array_get(json_object_get(pr, "priorities"), 0);
    assert_string_equal(json_string_value(json_object_get(p0, "match_id")), "match-1");
    assert_int_equal(json_integer_value(json_object_get(p0, "priority")), 9);
    assert_true(json_is_null(json_object_get(p0, "instance_id")));
    json_decref(pr);

    json_t *cfg = json_loads(snap->config, 0, NULL);
    assert_non_null(json_object_get(cfg, "min_instances"));
    json_decref(cfg);

    const struct cresc_ack *a = cresc_view_snap_find_ack(snap, "req-1");
    assert_non_null(a);
    assert_int_equal(a->status, CRESC_ACK_REJECTED);
    assert_null(cresc_view_snap_find_ack(snap, "req-2"));
    assert_non_null(cresc_view_snap_find_priority(snap, "match-1"));
    assert_null(cresc_view_snap_find_priority(snap, "match-2"));

    /* Reference counting: the last put frees (ASan/valgrind check the rest). */
    cresc_view_snap_ref(snap);
    cresc_view_snap_put(snap);
    cresc_view_snap_put(snap);
    cresc_view_snap_put(NULL);
}

static void test_stats(void **st)
{
    (void)st;
    struct cresc_api_stats *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    cresc_stats_init(s);
    cresc_stats_observe(s, CRESC_ROUTE_STATUS, 200, 300000);   /* 0.3 ms */
    cresc_stats_observe(s, CRESC_ROUTE_STATUS, 200, 20000000); /* 20 ms */
    cresc_stats_observe(s, CRESC_ROUTE_SCALE, 418, 1000);      /* other 4xx */
    cresc_stats_observe(s, CRESC_ROUTE_COUNT, 404, 1000);      /* clamps to unmatched */
    assert_int_equal(cresc_stats_requests(s, CRESC_ROUTE_STATUS, 200), 2);
    assert_int_equal(cresc_stats_requests(s, CRESC_ROUTE_UNMATCHED, 404), 1);
    struct cresc_stats_extra x = {1, 7, 10, 1, 2, {0, 3, 1, 0, 0}, 0};
    size_t len = 0;
    char *text = cresc_stats_render(s, &x, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(
        strstr(text, "crescendo_api_requests_total{route=\"/scaling/status\",code=\"200\"} 2\n"));
    assert_non_null(
        strstr(text, "crescendo_api_requests_total{route=\"/scaling/scale\",code=\"4xx\"} 1\n"));
    assert_non_null(strstr(
        text,
        "crescendo_api_request_duration_seconds_bucket{route=\"/scaling/status\",le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(
        text,
        "crescendo_api_request_duration_seconds_bucket{route=\"/scaling/status\",le=\"0.025\"} 2\n"));
    assert_non_null(strstr(
        text, "crescendo_api_request_duration_seconds_count{route=\"/scaling/status\"} 2\n"));
    assert_non_null(strstr(text, "crescendo_api_view_lag_messages 7\n"));
    assert_non_null(strstr(text, "crescendo_api_writes_total{outcome=\"applied\"} 3\n"));
    free(text);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),           cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_scale),           cmocka_unit_test(test_priority),
        cmocka_unit_test(test_config),          cmocka_unit_test(test_service_and_key),
        cmocka_unit_test(test_render_snapshot), cmocka_unit_test(test_stats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
