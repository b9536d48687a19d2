/* Unit tests of crescendo-api's router (api/route.c) and of the OpenAPI document against it:
 * every route the router answers is in api/openapi.json with exactly its methods, and every
 * path and method the document lists is routed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "openapi.h"
#include "route.h"

static void test_exact_paths(void **st)
{
    (void)st;
    struct cresc_route_match m;
    assert_int_equal(cresc_route_match("GET", "/scaling/status", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(m.route, CRESC_ROUTE_STATUS);
    assert_int_equal(cresc_route_match("HEAD", "/scaling/status", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(cresc_route_match("GET", "/scaling/decision", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(m.route, CRESC_ROUTE_DECISION);
    assert_int_equal(cresc_route_match("POST", "/scaling/scale", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(m.route, CRESC_ROUTE_SCALE);
    assert_int_equal(cresc_route_match("PUT", "/scaling/config", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(m.route, CRESC_ROUTE_CONFIG);
    assert_int_equal(cresc_route_match("GET", "/scaling/config", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(cresc_route_match("POST", "/scaling/priorities", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(m.route, CRESC_ROUTE_PRIORITIES);
    assert_int_equal(cresc_route_match("GET", "/", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(m.route, CRESC_ROUTE_DASHBOARD);
    assert_int_equal(cresc_route_match("GET", "/metrics", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(cresc_route_match("GET", "/openapi.json", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(cresc_route_match("GET", "/healthz", &m), CRESC_ROUTE_FOUND);
    assert_int_equal(cresc_route_match("GET", "/readyz", &m), CRESC_ROUTE_FOUND);
}

static void test_not_found(void **st)
{
    (void)st;
    struct cresc_route_match m;
    const char *paths[] = {"",
                           "/scaling",
                           "/scaling/",
                           "/SCALING/status",
                           "/scaling/status/",
                           "/scaling/priorities/",
                           "/scaling/priorities/a/b",
                           "/scaling/statusx",
                           "//scaling/status"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        assert_int_equal(cresc_route_match("GET", paths[i], &m), CRESC_ROUTE_NOT_FOUND);
        assert_int_equal(m.route, CRESC_ROUTE_UNMATCHED);
    }
    assert_int_equal(cresc_route_match("GET", NULL, &m), CRESC_ROUTE_NOT_FOUND);
}

static void test_bad_method_allow(void **st)
{
    (void)st;
    struct cresc_route_match m;
    assert_int_equal(cresc_route_match("POST", "/scaling/status", &m), CRESC_ROUTE_BAD_METHOD);
    assert_string_equal(m.allow, "GET, HEAD");
    assert_int_equal(cresc_route_match("GET", "/scaling/scale", &m), CRESC_ROUTE_BAD_METHOD);
    assert_string_equal(m.allow, "POST");
    assert_int_equal(cresc_route_match("DELETE", "/scaling/config", &m), CRESC_ROUTE_BAD_METHOD);
    assert_string_equal(m.allow, "GET, HEAD, PUT");
    assert_int_equal(cresc_route_match("PATCH", "/scaling/priorities", &m), CRESC_ROUTE_BAD_METHOD);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    assert_int_equal(cresc_route_match("GET", "/scaling/priorities/m1", &m),
                     CRESC_ROUTE_BAD_METHOD);
    assert_string_equal(m.allow, "DELETE");
    /* Method names are case-sensitive (RFC 9110). */
    assert_int_equal(cresc_route_match("get", "/scaling/status", &m), CRESC_ROUTE_BAD_METHOD);
}

static void test_param(void **st)
{
    (void)st;
    struct cresc_route_match m;
    assert_int_equal(cresc_route_match("DELETE", "/scaling/priorities/match-123", &m),
                     CRESC_ROUTE_FOUND);
    assert_int_equal(m.route, CRESC_ROUTE_PRIORITY_ITEM);
    assert_string_equal(m.param, "match-123");
    assert_true(m.param_valid);
    assert_int_equal(cresc_route_match("DELETE", "/scaling/priorities/bad id!", &m),
                     CRESC_ROUTE_FOUND);
    assert_false(m.param_valid);
    char longpath[400];
    snprintf(longpath, sizeof(longpath), "/scaling/priorities/%0300d", 7);
    assert_int_equal(cresc_route_match("DELETE", longpath, &m), CRESC_ROUTE_FOUND);
    assert_false(m.param_valid);
    assert_int_equal(strlen(m.param), CRESC_ID_MAX);
}

static void test_write_and_read_classes(void **st)
{
    (void)st;
    assert_true(cresc_route_is_write(CRESC_ROUTE_SCALE, CRESC_M_POST));
    assert_true(cresc_route_is_write(CRESC_ROUTE_CONFIG, CRESC_M_PUT));
    assert_true(cresc_route_is_write(CRESC_ROUTE_PRIORITY_ITEM, CRESC_M_DELETE));
    assert_false(cresc_route_is_write(CRESC_ROUTE_CONFIG, CRESC_M_GET));
    assert_true(cresc_route_is_scaling_read(CRESC_ROUTE_CONFIG, CRESC_M_GET));
    assert_true(cresc_route_is_scaling_read(CRESC_ROUTE_STATUS, CRESC_M_HEAD));
    assert_false(cresc_route_is_scaling_read(CRESC_ROUTE_HEALTHZ, CRESC_M_GET));
    assert_false(cresc_route_is_scaling_read(CRESC_ROUTE_METRICS, CRESC_M_GET));
    assert_false(cresc_route_is_scaling_read(CRESC_ROUTE_CONFIG, CRESC_M_PUT));
}

static void test_allow_text_bounded(void **st)
{
    (void)st;
    char buf[8];
    cresc_route_allow_text(CRESC_M_GET | CRESC_M_HEAD | CRESC_M_PUT, buf, sizeof(buf));
    assert_true(strlen(buf) < sizeof(buf));
    assert_string_equal(buf, "GET");
    cresc_route_allow_text(0, buf, sizeof(buf));
    assert_string_equal(buf, "");
}

static unsigned method_bit_lower(const char *m)
{
    static const struct {
        const char *name;
        unsigned bit;
    } t[] = {{"get", CRESC_M_GET},
             {"head", CRESC_M_HEAD},
             {"post", CRESC_M_POST},
             {"put", CRESC_M_PUT},
             {"delete", CRESC_M_DELETE}};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(m, t[i].name) == 0) {
            return t[i].bit;
        }
    }
    return CRESC_M_OTHER;
}

/* The embedded document and the router agree in both directions. */
static void test_openapi_matches_router(void **st)
{
    (void)st;
    size_t len = 0;
    const char *text = cresc_openapi_json(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    json_error_t jerr;
    json_t *doc = json_loads(text, 0, &jerr);
    if (doc == NULL) {
        fail_msg("openapi.json: %s at line %d", jerr.text, jerr.line);
    }
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
    json_t *paths = json_object_get(doc, "paths");
    /* Router -> document. */
    for (int r = 0; r < CRESC_ROUTE_UNMATCHED; r++) {
        const char *tmpl = cresc_route_template((enum cresc_route_id)r);
        json_t *ops = json_object_get(paths, tmpl);
        if (ops == NULL) {
            fail_msg("route %s is not in openapi.json", tmpl);
        }
        unsigned listed = 0;
        const char *m;
        json_t *op;
        json_object_foreach(ops, m, op)
        {
            unsigned bit = method_bit_lower(m);
            if (bit == CRESC_M_OTHER) {
                fail_msg("%s lists unknown method %s", tmpl, m);
            }
            listed |= bit;
            assert_non_null(json_object_get(op, "responses"));
        }
        /* HEAD is implied by GET in the document. */
        if (listed & CRESC_M_GET) {
            listed |= CRESC_M_HEAD;
        }
        if (listed != cresc_route_methods((enum cresc_route_id)r)) {
            fail_msg("%s: document methods %#x, router %#x", tmpl, listed,
                     cresc_route_methods((enum cresc_route_id)r));
        }
    }
    /* Document -> router. */
    const char *p;
    json_t *ops;
    json_object_foreach(paths, p, ops)
    {
        char concrete[256];
        const char *brace = strchr(p, '{');
        if (brace != NULL) {
            snprintf(concrete, sizeof(concrete), "%.*sm-1", (int)(brace - p), p);
        } else {
            snprintf(concrete, sizeof(concrete), "%s", p);
        }
        const char *m;
        json_t *op;
        json_object_foreach(ops, m, op)
        {
            char upper[16];
            size_t k = 0;
            for (; m[k] && k < sizeof(upper) - 1; k++) {
                upper[k] = (char)(m[k] - 'a' + 'A');
            }
            upper[k] = '\0';
            struct cresc_route_match rm;
            if (cresc_route_match(upper, concrete, &rm) != CRESC_ROUTE_FOUND) {
                fail_msg("openapi.json lists %s %s but the router does not answer it", upper, p);
            }
            assert_string_equal(cresc_route_template(rm.route), p);
        }
    }
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_paths),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_bad_method_allow),
        cmocka_unit_test(test_param),
        cmocka_unit_test(test_write_and_read_classes),
        cmocka_unit_test(test_allow_text_bounded),
        cmocka_unit_test(test_openapi_matches_router),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
