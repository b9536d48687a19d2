/* Unit tests for agent/promtext.c: summing a counter and a gauge over their series in
 * Prometheus text fixtures (tests/data/prom), a restarted workload and malformed lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent_fixture.h"
#include "promtext.h"
#include "sampler.h"

static void test_workload(void **state)
{
    (void)state;
    size_t n, bad = 99;
    struct cresc_promtext_query q[] = {{.name = "http_requests_total"},
                                       {.name = "http_active_connections"},
                                       {.name = "absent_metric"}};
    const char *buf = fixture("prom/workload.prom", &n);
    assert_int_equal(cresc_promtext_parse(buf, n, q, 3, &bad), CRESC_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(q[0].n_series, 2); /* _created is another metric */
    assert_float_equal(q[0].sum, 1027.0, 1e-9);
    assert_int_equal(q[1].n_series, 1);
    assert_float_equal(q[1].sum, 12.0, 1e-9);
    assert_int_equal(q[2].n_series, 0);
}

static void test_reset_gives_sane_rate(void **state)
{
    (void)state;
    size_t n;
    struct cresc_promtext_query q[] = {{.name = "http_requests_total"}};
    const char *buf = fixture("prom/workload.prom", &n);
    assert_int_equal(cresc_promtext_parse(buf, n, q, 1, NULL), CRESC_OK);
    double before = q[0].sum;
    buf = fixture("prom/workload-reset.prom", &n);
    assert_int_equal(cresc_promtext_parse(buf, n, q, 1, NULL), CRESC_OK);
    assert_float_equal(q[0].sum, 32.0, 1e-9);
    bool reset = false;
    double rate = cresc_counter_rate(before, q[0].sum, 2.0, &reset);
    assert_true(reset);
    assert_float_equal(rate, 16.0, 1e-9); /* 32 requests since the restart, over 2 s */
    rate = cresc_counter_rate(1000.0, 1100.0, 2.0, &reset);
    assert_false(reset);
    assert_float_equal(rate, 50.0, 1e-9);
}

static void test_malformed(void **state)
{
    (void)state;
    size_t n, bad = 0;
    struct cresc_promtext_query q[] = {{.name = "http_requests_total"},
                                       {.name = "http_active_connections"}};
    const char *buf = fixture("prom/malformed.prom", &n);
    assert_int_equal(cresc_promtext_parse(buf, n, q, 2, &bad), CRESC_OK);
    assert_int_equal(q[0].n_series, 1);
    assert_float_equal(q[0].sum, 7.0, 1e-9);
    assert_float_equal(q[1].sum, 2.5, 1e-9);
    /* unclosed labels, not a number, NaN, negative, +Inf, bad name, trailing garbage */
    assert_int_equal(bad, 7);
    assert_int_equal(cresc_promtext_parse("", 0, q, 2, &bad), CRESC_OK);
    assert_int_equal(q[0].n_series, 0);
    assert_int_equal(cresc_promtext_parse(buf, CRESC_PROMTEXT_MAX_BYTES + 1, q, 2, &bad),
                     CRESC_ETOOBIG);
}

static void test_scraper_errors(void **state)
{
    (void)state;
    struct cresc_promtext_scraper *s = NULL;
    const char *body;
    size_t len;
    char err[256] = "";
    assert_int_equal(cresc_promtext_scraper_new("", 100, &s, err, sizeof(err)), CRESC_EINVAL);
    /* Nothing listens on port 1: a clear error, no crash, within the timeout. */
    assert_int_equal(
        cresc_promtext_scraper_new("http://127.0.0.1:1/metrics", 500, &s, err, sizeof(err)),
        CRESC_OK);
    err[0] = '\0';
    assert_int_equal(cresc_promtext_scrape(s, &body, &len, err, sizeof(err)), CRESC_EHTTP);
    assert_true(strlen(err) > 0);
    cresc_promtext_scraper_free(s);
    cresc_promtext_scraper_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workload),
        cmocka_unit_test(test_reset_gives_sane_rate),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_scraper_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
