/* Unit tests for shared/src/log.c: the text format `LEVEL:logger:message`, one JSON object per
 * line, level filtering, one event = one line, and log-once-per-kind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cresc/log.h"

static char g_buf[16384];
static FILE *g_sink;

static int open_sink(void **state)
{
    (void)state;
    memset(g_buf, 0, sizeof(g_buf));
    g_sink = fmemopen(g_buf, sizeof(g_buf), "w");
    return g_sink == NULL ? -1 : 0;
}

static int close_sink(void **state)
{
    (void)state;
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_INFO, NULL);
    fclose(g_sink);
    return 0;
}

static void test_text_format(void **state)
{
    (void)state;
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_INFO, g_sink);
    cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_COORDINATOR, "Scaling from %d to %d instances: %s", 2, 3,
              "Scaling up based on cpu-based-scaling");
    assert_string_equal(g_buf, "INFO:crescendo.coordinator:Scaling from 2 to 3 instances: "
                               "Scaling up based on cpu-based-scaling\n");
}

static void test_level_filter(void **state)
{
    (void)state;
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_WARNING, g_sink);
    assert_false(cresc_log_enabled(CRESC_LOG_INFO));
    cresc_log(CRESC_LOG_DEBUG, "t", "debug");
    cresc_log(CRESC_LOG_INFO, "t", "info");
    cresc_log(CRESC_LOG_WARNING, "t", "warn");
    cresc_log(CRESC_LOG_ERROR, "t", "err");
    cresc_log(CRESC_LOG_CRITICAL, "t", "crit");
    assert_string_equal(g_buf, "WARNING:t:warn\nERROR:t:err\nCRITICAL:t:crit\n");
}

static void test_one_line_per_event(void **state)
{
    (void)state;
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_DEBUG, g_sink);
    cresc_log(CRESC_LOG_DEBUG, "t", "a\nb\r\tc");
    assert_string_equal(g_buf, "DEBUG:t:a b  c\n");
}

static void test_long_message_cut(void **state)
{
    (void)state;
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_INFO, g_sink);
    char *big = malloc(10000);
    assert_non_null(big);
    memset(big, 'y', 9999);
    big[9999] = '\0';
    cresc_log(CRESC_LOG_INFO, "t", "%s", big);
    free(big);
    size_t len = strlen(g_buf);
    assert_true(len < 4096 + 16);
    assert_int_equal(g_buf[len - 1], '\n');
}

static void test_json_format(void **state)
{
    (void)state;
    cresc_log_setup(CRESC_LOG_JSON, CRESC_LOG_INFO, g_sink);
    cresc_log(CRESC_LOG_INFO, CRESC_LOGGER_API, "quote \" and\nnewline");
    cresc_log(CRESC_LOG_DEBUG, CRESC_LOGGER_API, "filtered");
    cresc_log(CRESC_LOG_ERROR, CRESC_LOGGER_KAFKA, "second");
    char *nl = strchr(g_buf, '\n');
    assert_non_null(nl);
    *nl = '\0';
    json_error_t jerr;
    json_t *o = json_loads(g_buf, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "level")), "INFO");
    assert_string_equal(json_string_value(json_object_get(o, "logger")), "crescendo.api");
    assert_string_equal(json_string_value(json_object_get(o, "message")), "quote \" and\nnewline");
    assert_true(json_integer_value(json_object_get(o, "ts_ms")) > 1600000000000LL);
    json_decref(o);
    char *second = nl + 1;
    char *nl2 = strchr(second, '\n');
    assert_non_null(nl2);
    *nl2 = '\0';
    assert_string_equal(nl2 + 1, "");
    o = json_loads(second, 0, &jerr);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "level")), "ERROR");
    assert_string_equal(json_string_value(json_object_get(o, "message")), "second");
    json_decref(o);
}

static void test_once_per_kind(void **state)
{
    (void)state;
    static struct cresc_log_once kind_a = CRESC_LOG_ONCE_INIT;
    static struct cresc_log_once kind_b = CRESC_LOG_ONCE_INIT;
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_INFO, g_sink);
    assert_true(cresc_log_once(&kind_a, CRESC_LOG_WARNING, "t", "bad sample %d", 1));
    assert_false(cresc_log_once(&kind_a, CRESC_LOG_WARNING, "t", "bad sample %d", 2));
    assert_true(cresc_log_once(&kind_b, CRESC_LOG_WARNING, "t", "bad control"));
    assert_false(cresc_log_once(&kind_b, CRESC_LOG_WARNING, "t", "bad control"));
    assert_string_equal(g_buf, "WARNING:t:bad sample 1\nWARNING:t:bad control\n");
}

static void test_level_parse(void **state)
{
    (void)state;
    enum cresc_log_level l;
    assert_int_equal(cresc_log_level_parse("warn", &l), 0);
    assert_int_equal(l, CRESC_LOG_WARNING);
    assert_int_equal(cresc_log_level_parse("Debug", &l), 0);
    assert_int_equal(l, CRESC_LOG_DEBUG);
    assert_int_equal(cresc_log_level_parse("verbose", &l), CRESC_EINVAL);
    assert_int_equal(cresc_log_level_parse(NULL, &l), CRESC_EINVAL);
    assert_string_equal(cresc_log_level_name(CRESC_LOG_CRITICAL), "CRITICAL");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_text_format, open_sink, close_sink),
        cmocka_unit_test_setup_teardown(test_level_filter, open_sink, close_sink),
        cmocka_unit_test_setup_teardown(test_one_line_per_event, open_sink, close_sink),
        cmocka_unit_test_setup_teardown(test_long_message_cut, open_sink, close_sink),
        cmocka_unit_test_setup_teardown(test_json_format, open_sink, close_sink),
        cmocka_unit_test_setup_teardown(test_once_per_kind, open_sink, close_sink),
        cmocka_unit_test_setup_teardown(test_level_parse, open_sink, close_sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
