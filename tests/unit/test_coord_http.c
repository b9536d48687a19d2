/* Unit tests for coordinator/http.c: /healthz, /readyz following the ready flag, Prometheus
 * /metrics with every counter the issue names, 404 and 405; over a real socket with libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "http.h"

struct body {
    char buf[16384];
    size_t len;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    size_t k = size * n;
    if (b->len + k >= sizeof(b->buf)) {
        k = sizeof(b->buf) - 1 - b->len;
    }
    memcpy(b->buf + b->len, p, k);
    b->len += k;
    b->buf[b->len] = '\0';
    return size * n;
}

static long get(int port, const char *path, const char *method, struct body *b)
{
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
    memset(b, 0, sizeof(*b));
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (method != NULL) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    long code = 0;
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

static void test_endpoints(void **state)
{
    (void)state;
    static struct cresc_coord_stats stats;
    struct cresc_coord_http *h = NULL;
    int port = 0;
    for (int attempt = 0; attempt < 50 && h == NULL; attempt++) {
        port = 20000 + (int)(((unsigned)rand() + (unsigned)attempt * 7919u) % 30000u);
        if (cresc_coord_http_start("127.0.0.1", port, &stats, &h) != 0) {
            h = NULL;
        }
    }
    assert_non_null(h);
    struct body b;
    assert_int_equal(get(port, "/healthz", NULL, &b), 200);
    assert_int_equal(get(port, "/readyz", NULL, &b), 503);
    atomic_store(&stats.ready, true);
    assert_int_equal(get(port, "/readyz", NULL, &b), 200);

    atomic_store(&stats.samples, 1234);
    atomic_store(&stats.decisions, 56);
    atomic_store(&stats.commands, 7);
    atomic_store(&stats.consumer_lag, 89);
    atomic_store(&stats.eval_count, 4);
    atomic_store(&stats.eval_ns_total, 2000000);
    assert_int_equal(get(port, "/metrics", NULL, &b), 200);
    assert_non_null(strstr(b.buf, "crescendo_coordinator_samples_consumed_total 1234\n"));
    assert_non_null(strstr(b.buf, "crescendo_coordinator_samples_rejected_total "));
    assert_non_null(strstr(b.buf, "crescendo_coordinator_decisions_total 56\n"));
    assert_non_null(strstr(b.buf, "crescendo_coordinator_commands_total 7\n"));
    assert_non_null(strstr(b.buf, "crescendo_coordinator_consumer_lag 89\n"));
    assert_non_null(strstr(b.buf, "crescendo_coordinator_evaluation_seconds_count 4\n"));
    assert_non_null(strstr(b.buf, "crescendo_coordinator_evaluation_seconds_sum 0.002000000\n"));
    assert_non_null(strstr(b.buf, "# TYPE crescendo_coordinator_decisions_total counter\n"));
    assert_non_null(strstr(b.buf, "crescendo_coordinator_ready 1\n"));

    assert_int_equal(get(port, "/nope", NULL, &b), 404);
    assert_int_equal(get(port, "/healthz", "POST", &b), 405);
    cresc_coord_http_stop(h);
    cresc_coord_http_stop(NULL);
}

static void test_bad_address(void **state)
{
    (void)state;
    static struct cresc_coord_stats stats;
    struct cresc_coord_http *h = NULL;
    assert_int_equal(cresc_coord_http_start("not-an-ip", 8081, &stats, &h), CRESC_EINVAL);
    assert_int_equal(cresc_coord_http_start("127.0.0.1", 0, &stats, &h), CRESC_EINVAL);
}

static void test_metrics_cut_at_cap(void **state)
{
    (void)state;
    static struct cresc_coord_stats stats;
    char small[64];
    size_t n = cresc_coord_metrics_format(&stats, small, sizeof(small));
    assert_true(n < sizeof(small));
    assert_int_equal(strlen(small), n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_bad_address),
        cmocka_unit_test(test_metrics_cut_at_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
