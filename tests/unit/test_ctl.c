/* Unit tests of crescendoctl's pure parts: argument parsing (api/ctl_args.c), KEY=VALUE
 * typing for `config set`, and the text tables and error lines (api/ctl_format.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ctl_args.h"
#include "ctl_format.h"

/* ---- helpers --------------------------------------------------------------------------- */

static const char *const *test_env; /* NULL-terminated NAME=VALUE list */

static const char *fake_getenv(const char *name)
{
    size_t n = strlen(name);
    for (const char *const *e = test_env; e && *e; e++) {
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') {
            return *e + n + 1;
        }
    }
    return NULL;
}

static int parse(struct cresc_ctl_args *a, char *err, size_t errlen, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    argv[argc++] = (char *)(uintptr_t) "crescendoctl";
    va_start(ap, errlen);
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
        argv[argc++] = (char *)(uintptr_t)s;
    }
    va_end(ap);
    err[0] = '\0';
    return cresc_ctl_args_parse(argc, argv, fake_getenv, a, err, errlen);
}

/* Render into a string (caller frees). */
typedef void (*render_fn)(const json_t *, FILE *);
static char *render(render_fn fn, const char *json_text)
{
    json_error_t jerr;
    json_t *j = json_loads(json_text, JSON_DECODE_ANY, &jerr);
    assert_non_null(j);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(j, f);
    fclose(f);
    json_decref(j);
    return buf;
}

static json_t *kv(const char *const *words, size_t n, int *rc, char *err, size_t errlen)
{
    json_t *out = NULL;
    *rc = cresc_ctl_kv_to_json(words, n, &out, err, errlen);
    return out;
}

/* ---- argument parsing ------------------------------------------------------------------ */

static void test_defaults_and_status(void **state)
{
    (void)state;
    struct cresc_ctl_args a;
    char err[256];
    test_env = NULL;
    assert_int_equal(parse(&a, err, sizeof err, "status", NULL), 0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_STATUS);
    assert_string_equal(a.api_url, "http://127.0.0.1:8080");
    assert_int_equal(a.output, CRESC_CTL_OUT_TABLE);
    assert_int_equal(a.timeout_ms, 10000);
    assert_string_equal(a.token, "");
    assert_string_equal(a.service, "");
}

static void test_options_anywhere(void **state)
{
    (void)state;
    struct cresc_ctl_args a;
    char err[256];
    test_env = NULL;
    assert_int_equal(parse(&a, err, sizeof err, "--api", "http://h:1", "decision", "-o", "json",
                           "--service=svc-a", "--timeout", "500ms", "--token", "t0k", NULL),
                     0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_DECISION);
    assert_string_equal(a.api_url, "http://h:1");
    assert_int_equal(a.output, CRESC_CTL_OUT_JSON);
    assert_string_equal(a.service, "svc-a");
    assert_int_equal(a.timeout_ms, 500);
    assert_string_equal(a.token, "t0k");

    assert_int_equal(parse(&a, err, sizeof err, "-ojson", "config", "get", "--timeout=2.5", NULL),
                     0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_CONFIG_GET);
    assert_int_equal(a.output, CRESC_CTL_OUT_JSON);
    assert_int_equal(a.timeout_ms, 2500);
}

static void test_environment_and_precedence(void **state)
{
    (void)state;
    static const char *const env[] = {"CRESCENDO_API=http://env:9", "API_TOKEN=envtok",
                                      "CRESCENDO_SERVICE=svc-env", NULL};
    struct cresc_ctl_args a;
    char err[256];
    test_env = env;
    assert_int_equal(parse(&a, err, sizeof err, "status", NULL), 0);
    assert_string_equal(a.api_url, "http://env:9");
    assert_string_equal(a.token, "envtok");
    assert_string_equal(a.service, "svc-env");
    /* Flags beat the environment; --token-file drops the environment's token. */
    assert_int_equal(parse(&a, err, sizeof err, "--api", "http://flag:1", "--token-file", "/tmp/t",
                           "status", NULL),
                     0);
    assert_string_equal(a.api_url, "http://flag:1");
    assert_string_equal(a.token, "");
    assert_string_equal(a.token_file, "/tmp/t");
    test_env = NULL;
}

static void test_scale_and_priorities(void **state)
{
    (void)state;
    struct cresc_ctl_args a;
    char err[256];
    test_env = NULL;
    assert_int_equal(
        parse(&a, err, sizeof err, "scale", "5", "--reason", "Handling major tournament", NULL), 0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_SCALE);
    assert_int_equal(a.target_instances, 5);
    assert_string_equal(a.reason, "Handling major tournament");
    /* A negative count is passed on for the API to reject, not taken as an option. */
    assert_int_equal(parse(&a, err, sizeof err, "scale", "-1", NULL), 0);
    assert_int_equal(a.target_instances, -1);

    assert_int_equal(
        parse(&a, err, sizeof err, "priorities", "set", "match-123", "8", "30.5", NULL), 0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_PRIO_SET);
    assert_string_equal(a.match_id, "match-123");
    assert_int_equal(a.priority, 8);
    assert_true(a.resource_allocation > 30.49 && a.resource_allocation < 30.51);

    assert_int_equal(parse(&a, err, sizeof err, "priorities", "delete", "match-9", NULL), 0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_PRIO_DELETE);
    assert_string_equal(a.match_id, "match-9");
    assert_int_equal(parse(&a, err, sizeof err, "priorities", "list", NULL), 0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_PRIO_LIST);

    assert_int_equal(
        parse(&a, err, sizeof err, "config", "set", "min_instances=3", "cpu_threshold=75.5", NULL),
        0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_CONFIG_SET);
    assert_int_equal(a.n_kv, 2);
    assert_string_equal(a.kv[1], "cpu_threshold=75.5");
}

static void test_help_version(void **state)
{
    (void)state;
    struct cresc_ctl_args a;
    char err[256];
    assert_int_equal(parse(&a, err, sizeof err, "--help", NULL), 0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_HELP);
    assert_int_equal(parse(&a, err, sizeof err, "status", "-h", NULL), 0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_HELP);
    assert_int_equal(parse(&a, err, sizeof err, "-V", NULL), 0);
    assert_int_equal(a.cmd, CRESC_CTL_CMD_VERSION);
    assert_non_null(strstr(cresc_ctl_usage(), "priorities set MATCH PRIORITY ALLOCATION"));
    assert_non_null(strstr(cresc_ctl_usage(), "Exit codes"));
}

static void test_usage_errors(void **state)
{
    (void)state;
    struct cresc_ctl_args a;
    char err[256];
    struct {
        const char *args[6];
        const char *needle;
    } cases[] = {
        {{NULL}, "no command"},
        {{"frobnicate", NULL}, "unknown command"},
        {{"status", "extra", NULL}, "wrong number"},
        {{"scale", NULL}, "wrong number"},
        {{"scale", "five", NULL}, "whole number"},
        {{"scale", "99999999999", NULL}, "whole number"},
        {{"config", NULL}, "expected `get` or `set`"},
        {{"config", "set", NULL}, "at least one"},
        {{"priorities", "set", "m", "x", "3", NULL}, "PRIORITY"},
        {{"priorities", "set", "m", "3", "lots", NULL}, "ALLOCATION"},
        {{"priorities", "nuke", NULL}, "expected `list`"},
        {{"status", "--bogus", NULL}, "unknown option"},
        {{"status", "-o", "yaml", NULL}, "json or table"},
        {{"status", "--timeout", "0", NULL}, "--timeout"},
        {{"status", "--timeout", "soon", NULL}, "--timeout"},
        {{"status", "--api", NULL}, "needs a value"},
        {{"status", "--reason", "x", NULL}, "only goes with"},
        {{"status", "--token", "a", "--token-file", "f", NULL}, "not both"},
    };
    test_env = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[8];
        int argc = 0;
        argv[argc++] = (char *)(uintptr_t) "crescendoctl";
        for (size_t j = 0; cases[i].args[j]; j++) {
            argv[argc++] = (char *)(uintptr_t)cases[i].args[j];
        }
        err[0] = '\0';
        int rc = cresc_ctl_args_parse(argc, argv, fake_getenv, &a, err, sizeof err);
        if (rc != CRESC_EINVAL || !strstr(err, cases[i].needle)) {
            fail_msg("case %zu: rc=%d err=\"%s\", wanted \"%s\"", i, rc, err, cases[i].needle);
        }
    }
    /* An overlong value is an error, never a silent cut. */
    char longurl[CRESC_CTL_URL_MAX + 10];
    memset(longurl, 'x', sizeof longurl - 1);
    longurl[sizeof longurl - 1] = '\0';
    assert_int_equal(parse(&a, err, sizeof err, "--api", longurl, "status", NULL), CRESC_EINVAL);
    assert_non_null(strstr(err, "too long"));
}

/* ---- KEY=VALUE typing ------------------------------------------------------------------ */

static void test_value_types(void **state)
{
    (void)state;
    char err[256];
    json_t *v = NULL;
    assert_int_equal(cresc_ctl_value_to_json("3", &v, err, sizeof err), 0);
    assert_true(json_is_integer(v) && json_integer_value(v) == 3);
    json_decref(v);
    assert_int_equal(cresc_ctl_value_to_json("-12", &v, err, sizeof err), 0);
    assert_true(json_is_integer(v) && json_integer_value(v) == -12);
    json_decref(v);
    assert_int_equal(cresc_ctl_value_to_json("75.5", &v, err, sizeof err), 0);
    assert_true(json_is_real(v) && json_real_value(v) > 75.49 && json_real_value(v) < 75.51);
    json_decref(v);
    assert_int_equal(cresc_ctl_value_to_json("1e2", &v, err, sizeof err), 0);
    assert_true(json_is_real(v));
    json_decref(v);
    assert_int_equal(cresc_ctl_value_to_json("true", &v, err, sizeof err), 0);
    assert_true(json_is_true(v));
    json_decref(v);
    assert_int_equal(cresc_ctl_value_to_json("false", &v, err, sizeof err), 0);
    assert_true(json_is_false(v));
    json_decref(v);
    assert_int_equal(cresc_ctl_value_to_json("null", &v, err, sizeof err), 0);
    assert_true(json_is_null(v));
    json_decref(v);
    assert_int_equal(cresc_ctl_value_to_json("round_robin", &v, err, sizeof err), 0);
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), "round_robin");
    json_decref(v);
    /* "nan", "inf", hex are not numbers here: they stay text for the API to judge. */
    const char *texts[] = {"nan", "inf", "0x10", "1.2.3", ""};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        assert_int_equal(cresc_ctl_value_to_json(texts[i], &v, err, sizeof err), 0);
        assert_true(json_is_string(v));
        json_decref(v);
    }
    /* Quoted text forces a string; brackets give JSON. */
    assert_int_equal(cresc_ctl_value_to_json("\"70\"", &v, err, sizeof err), 0);
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), "70");
    json_decref(v);
    assert_int_equal(
        cresc_ctl_value_to_json("[{\"name\":\"p\",\"enabled\":true}]", &v, err, sizeof err), 0);
    assert_true(json_is_array(v) && json_array_size(v) == 1);
    json_decref(v);
    assert_int_equal(cresc_ctl_value_to_json("{broken", &v, err, sizeof err), CRESC_EPARSE);
    assert_null(v);
    assert_non_null(strstr(err, "not valid JSON"));
}

static void test_kv_to_json(void **state)
{
    (void)state;
    char err[256];
    int rc;
    const char *words[] = {"min_instances=3",
                           "cpu_threshold=75.5",
                           "load_balancer_strategy=ip_hash",
                           "scale_up.stabilization_window_s=30",
                           "scale_up.select_policy=max",
                           "paused=false"};
    json_t *o = kv(words, 6, &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(s, "{\"cpu_threshold\":75.5,\"load_balancer_strategy\":\"ip_hash\","
                           "\"min_instances\":3,\"paused\":false,\"scale_up\":{\"select_policy\":"
                           "\"max\",\"stabilization_window_s\":30}}");
    free(s);
    json_decref(o);

    /* Empty value is an empty string (the API decides whether that is valid). */
    const char *empty[] = {"load_balancer_strategy="};
    o = kv(empty, 1, &rc, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_string_equal(json_string_value(json_object_get(o, "load_balancer_strategy")), "");
    json_decref(o);

    struct {
        const char *w[2];
        size_t n;
        const char *needle;
    } bad[] = {
        {{"min_instances"}, 1, "KEY=VALUE"},
        {{"=3"}, 1, "KEY=VALUE"},
        {{"a=1", "a=2"}, 2, "twice"},
        {{"a=1", "a.b=2"}, 2, "conflicts"},
        {{"a.b=1", "a=2"}, 2, "twice"},
        {{"a..b=1"}, 1, "empty"},
        {{"policies=[oops"}, 1, "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        o = kv(bad[i].w, bad[i].n, &rc, err, sizeof err);
        if (rc == 0 || o != NULL || !strstr(err, bad[i].needle)) {
            fail_msg("bad case %zu: rc=%d err=\"%s\"", i, rc, err);
        }
    }
}

/* ---- tables ---------------------------------------------------------------------------- */

static void test_table_alignment_and_limits(void **state)
{
    (void)state;
    static const char *const hdr[] = {"A", "LONGER", "C"};
    struct cresc_ctl_table t;
    assert_int_equal(cresc_ctl_table_init(&t, 3, hdr), 0);
    const char *r1[] = {"xxxx", "y", "last\ncol"};
    const char *r2[] = {"z", NULL, "c"};
    assert_int_equal(cresc_ctl_table_add(&t, r1), 0);
    assert_int_equal(cresc_ctl_table_add(&t, r2), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cresc_ctl_table_print(&t, f);
    fclose(f);
    assert_string_equal(buf, "A     LONGER  C\n"
                             "xxxx  y       last col\n"
                             "z     -       c\n");
    free(buf);
    cresc_ctl_table_release(&t);

    /* Cells are cut, not overflowed; columns are bounded. */
    char big[CRESC_CTL_CELL_MAX * 2];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    static const char *const one[] = {"V"};
    assert_int_equal(cresc_ctl_table_init(&t, 1, one), 0);
    const char *r3[] = {big};
    assert_int_equal(cresc_ctl_table_add(&t, r3), 0);
    buf = NULL;
    f = open_memstream(&buf, &len);
    cresc_ctl_table_print(&t, f);
    fclose(f);
    assert_true(strlen(buf) < CRESC_CTL_CELL_MAX + 8);
    assert_non_null(strstr(buf, "qqq..."));
    free(buf);
    cresc_ctl_table_release(&t);
    static const char *const nine[9] = {"1", "2", "3", "4", "5", "6", "7", "8", "9"};
    assert_int_equal(cresc_ctl_table_init(&t, 9, nine), CRESC_EINVAL);
}

static void test_format_value_and_lookup(void **state)
{
    (void)state;
    char buf[64];
    json_t *j = json_loads("{\"a\":{\"b\":[10,{\"c\":2.50}]},\"t\":true,\"n\":null,\"r\":3.14159}",
                           0, NULL);
    assert_non_null(j);
    assert_string_equal(cresc_ctl_format_value(cresc_ctl_lookup(j, "a.b.1.c"), buf, sizeof buf),
                        "2.5");
    assert_string_equal(cresc_ctl_format_value(cresc_ctl_lookup(j, "a.b.0"), buf, sizeof buf),
                        "10");
    assert_string_equal(cresc_ctl_format_value(cresc_ctl_lookup(j, "r"), buf, sizeof buf), "3.14");
    assert_string_equal(cresc_ctl_format_value(cresc_ctl_lookup(j, "t"), buf, sizeof buf), "yes");
    assert_string_equal(cresc_ctl_format_value(cresc_ctl_lookup(j, "n"), buf, sizeof buf), "-");
    assert_null(cresc_ctl_lookup(j, "missing|a.x"));
    /* Alternatives: the first present (and non-null) wins. */
    assert_int_equal(json_integer_value(cresc_ctl_lookup(j, "n|nope|a.b.0")), 10);
    json_decref(j);
}

static void test_status_table(void **state)
{
    (void)state;
    /* The shape of api/render.c's GET /scaling/status. */
    char *out = render(cresc_ctl_format_status,
                       "{\"service\":\"music-generator\",\"current_instances\":3,"
                       "\"min_instances\":2,\"max_instances\":10,"
                       "\"live_instances\":{\"total\":3,\"instances\":[{\"instance_id\":\"vm-1\","
                       "\"node\":\"n1\",\"last_seen_ms\":1700000000000,\"cpu_pct\":81.5,"
                       "\"memory_pct\":null,\"request_rate_per_s\":80,"
                       "\"active_connections\":4}]},"
                       "\"paused\":false,\"cooldown_remaining_s\":119.5,"
                       "\"config_version\":4,"
                       "\"thresholds\":{\"cpu_pct\":70,\"memory_pct\":80,"
                       "\"request_rate_per_instance\":100},"
                       "\"metrics\":{\"cpu_pct\":82.25,\"memory_pct\":40,"
                       "\"request_rate_per_s\":240,\"disk_io\":{\"read_ops_per_s\":5,"
                       "\"write_ops_per_s\":7.5}},"
                       "\"last_decision\":{\"current_instances\":2,\"target_instances\":3,"
                       "\"reason\":\"Scaling up based on cpu-based-scaling\"}}");
    assert_non_null(strstr(out, "SERVICE         music-generator\n"));
    assert_non_null(strstr(out, "INSTANCES       3 (min 2, max 10)\n"));
    assert_non_null(strstr(out, "COOLDOWN        120 s remaining\n"));
    assert_non_null(strstr(out, "2 -> 3: Scaling up based on cpu-based-scaling"));
    assert_non_null(strstr(out, "LIVE            3\n"));
    assert_non_null(strstr(out, "5 read ops/s, 7.5 write ops/s"));
    assert_non_null(strstr(out, "memory        40 %"));
    assert_non_null(strstr(out, "INSTANCE  NODE  CPU %  MEMORY %  REQ/S  CONNECTIONS  LAST SAMPLE\n"
                                "vm-1      n1    81.5   -         80     4            "
                                "2023-11-14 22:13:20 UTC\n"));
    assert_non_null(strstr(out, "cpu           82.25 %"));
    assert_non_null(strstr(out, "ABOVE"));
    /* 240 req/s over 3 instances is 80 per instance: under the 100 threshold. */
    assert_non_null(strstr(out, "240 req/s (80 per instance)"));
    assert_non_null(strstr(out, "100 req/s per instance  ok"));
    free(out);

    /* A nearly empty body still renders, with "-" for what is missing. */
    out = render(cresc_ctl_format_status, "{}");
    assert_non_null(strstr(out, "INSTANCES       - (min -, max -)"));
    assert_non_null(strstr(out, "no data"));
    free(out);
}

static void test_decision_table(void **state)
{
    (void)state;
    char *out =
        render(cresc_ctl_format_decision,
               "{\"service\":\"svc\",\"scaling_needed\":true,\"target_instances\":4,"
               "\"reason\":\"Scaling up based on cpu-based-scaling\","
               "\"current_instances\":3,\"direction\":\"up\",\"evaluated_at_ms\":1700000000000,"
               "\"explanation\":{\"current_instances\":3,\"recommendation\":5,\"direction\":\"up\","
               "\"deciding_policy\":\"cpu-based-scaling\",\"cooldown_remaining_ms\":0,"
               "\"votes\":[{\"policy\":\"cpu-based-scaling\",\"metric\":\"cpu_pct\",\"value\":91.5,"
               "\"threshold\":70,\"desired\":5,\"direction\":\"up\"},{\"policy\":\"rr\","
               "\"metric\":\"request_rate\",\"value\":240,\"threshold\":100,\"desired\":3,"
               "\"direction\":\"none\"}],"
               "\"guards\":[{\"kind\":\"rate_limit\",\"before\":5,\"after\":4,"
               "\"detail\":\"at most 1 instance per 15 s\"}]}}");
    assert_non_null(strstr(out, "SCALING NEEDED   yes (up)"));
    assert_non_null(strstr(out, "CURRENT          3"));
    assert_non_null(strstr(out, "TARGET           4"));
    assert_non_null(strstr(out, "RECOMMENDATION   5"));
    assert_non_null(strstr(out, "EVALUATED AT     2023-11-14 22:13:20 UTC"));
    assert_non_null(
        strstr(out, "Votes\nPOLICY             METRIC        VALUE                  THRESHOLD"));
    assert_non_null(strstr(out, "cpu-based-scaling  cpu_pct       91.5                   70"));
    assert_non_null(strstr(out, "rate_limit  5       4      at most 1 instance per 15 s"));
    assert_non_null(strstr(out, "240 (80 per instance)"));
    free(out);
}

static void test_config_and_priorities(void **state)
{
    (void)state;
    /* The shape of cresc_scaling_config_to_json, plus a nested field it does not know. */
    char *out =
        render(cresc_ctl_format_config,
               "{\"min_instances\":2,\"cpu_threshold\":70.0,\"load_balancer_strategy\":\"ip_hash\","
               "\"policies\":[{\"name\":\"cpu-based-scaling\",\"metric\":\"cpu_pct\","
               "\"mode\":\"threshold\",\"enabled\":true,\"threshold\":70,\"lower_threshold\":35,"
               "\"scale_up_factor\":1.5,\"scale_down_factor\":0.75,\"target\":70}],"
               "\"behavior\":{\"scale_up\":{\"stabilization_window_s\":0,\"select_policy\":\"max\","
               "\"policies\":[{\"type\":\"percent\",\"value\":100,\"period_s\":15},"
               "{\"type\":\"instances\",\"value\":4,\"period_s\":15}]},"
               "\"scale_down\":{\"stabilization_window_s\":300,\"select_policy\":\"min\","
               "\"policies\":[]}},\"future\":{\"knob\":1}}");
    assert_non_null(strstr(out, "KEY                     VALUE\n"
                                "min_instances           2\n"
                                "cpu_threshold           70\n"
                                "load_balancer_strategy  ip_hash\n"));
    assert_non_null(strstr(out, "\nPolicies\nPOLICY             METRIC   MODE       ENABLED  "
                                "UP ABOVE  DOWN BELOW  FACTORS       TARGET\n"
                                "cpu-based-scaling  cpu_pct  threshold  yes      70        35  "
                                "        x1.5 / x0.75  70\n"));
    assert_non_null(strstr(out, "scale_up    0 s            max     "
                                "100 percent / 15 s, 4 instances / 15 s\n"));
    assert_non_null(strstr(out, "scale_down  300 s          min     no limit\n"));
    assert_non_null(strstr(out, "future.knob  1\n"));
    free(out);

    out = render(cresc_ctl_format_priorities,
                 "{\"capacity_pct\":100,\"priorities\":[{\"match_id\":\"match-123\","
                 "\"priority\":8,\"resource_allocation\":30,\"allocated_pct\":30,"
                 "\"instance_id\":\"i-1\"},{\"match_id\":\"m-2\",\"priority\":3,"
                 "\"resource_allocation\":80,\"allocated_pct\":70}]}");
    assert_non_null(strstr(out, "MATCH      PRIORITY  REQUESTED %  ALLOCATED %  INSTANCE\n"));
    assert_non_null(strstr(out, "match-123  8         30           30           i-1\n"));
    assert_non_null(strstr(out, "m-2        3         80           70           -\n"));
    assert_non_null(strstr(out, "capacity available to matches: 100 %"));
    free(out);

    out = render(cresc_ctl_format_priorities, "[]");
    assert_non_null(strstr(out, "(no match priorities)"));
    free(out);
}

static void test_error_line(void **state)
{
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    const char *body = "{\"error\":\"min_instances must be <= max_instances\","
                       "\"field\":\"min_instances\"}";
    cresc_ctl_format_error(400, body, strlen(body), f);
    const char *raw = "<html>\nBad gateway</html>";
    cresc_ctl_format_error(502, raw, strlen(raw), f);
    cresc_ctl_format_error(503, NULL, 0, f);
    const char *withid = "{\"error\":\"not applied yet\",\"request_id\":\"r-1\"}";
    cresc_ctl_format_error(409, withid, strlen(withid), f);
    fclose(f);
    assert_string_equal(buf, "error: HTTP 400: min_instances must be <= max_instances "
                             "(field: min_instances)\n"
                             "error: HTTP 502: <html> Bad gateway</html>\n"
                             "error: HTTP 503\n"
                             "error: HTTP 409: not applied yet request_id=r-1\n");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_and_status),
        cmocka_unit_test(test_options_anywhere),
        cmocka_unit_test(test_environment_and_precedence),
        cmocka_unit_test(test_scale_and_priorities),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_value_types),
        cmocka_unit_test(test_kv_to_json),
        cmocka_unit_test(test_table_alignment_and_limits),
        cmocka_unit_test(test_format_value_and_lookup),
        cmocka_unit_test(test_status_table),
        cmocka_unit_test(test_decision_table),
        cmocka_unit_test(test_config_and_priorities),
        cmocka_unit_test(test_error_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
