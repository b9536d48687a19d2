/* Unit tests for agent/health.c: GET /healthz answers 200 while the loop beats and 503 once
 * the last beat is too old, other paths 404; the exec-probe file is fresh, stale or missing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "health.h"

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static size_t discard(char *p, size_t s, size_t n, void *u)
{
    (void)p;
    (void)u;
    return s * n;
}

static long get(uint16_t port, const char *path)
{
    char url[128];
    long code = 0;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)port, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 3000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    }
    curl_easy_cleanup(c);
    return code;
}

static void test_http(void **state)
{
    (void)state;
    struct cresc_health *h = NULL;
    char err[256] = "";
    uint16_t port = free_port();
    assert_int_equal(cresc_health_start(port, 1000, &h, err, sizeof(err)), CRESC_OK);
    cresc_health_beat(h, cresc_health_now_ms());
    assert_int_equal(get(port, "/healthz"), 200);
    assert_int_equal(get(port, "/nope"), 404);
    /* The loop stalled: its last beat is older than the allowed age. */
    cresc_health_beat(h, cresc_health_now_ms() - 5000);
    assert_int_equal(get(port, "/healthz"), 503);
    cresc_health_beat(h, cresc_health_now_ms());
    assert_int_equal(get(port, "/healthz"), 200);
    /* The same port twice: a clear error, no crash. */
    struct cresc_health *h2 = NULL;
    assert_int_equal(cresc_health_start(port, 1000, &h2, err, sizeof(err)), CRESC_EIO);
    assert_non_null(strstr(err, "cannot listen"));
    cresc_health_stop(h);
    cresc_health_stop(NULL);
}

static void test_file(void **state)
{
    (void)state;
    char path[] = "/tmp/cresc-health-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path);
    int64_t age = -1;
    assert_int_equal(cresc_health_file_check(path, 10000, &age), CRESC_ENOTFOUND);
    assert_int_equal(cresc_health_file_touch(path), CRESC_OK); /* creates it */
    assert_int_equal(cresc_health_file_check(path, 10000, &age), CRESC_OK);
    assert_true(age >= 0 && age < 10000);
    struct timespec old[2] = {{.tv_sec = time(NULL) - 60}, {.tv_sec = time(NULL) - 60}};
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    assert_int_equal(cresc_health_file_check(path, 10000, &age), CRESC_ETIMEDOUT);
    assert_true(age >= 59000);
    assert_int_equal(cresc_health_file_touch(path), CRESC_OK); /* existing: refreshed */
    assert_int_equal(cresc_health_file_check(path, 10000, &age), CRESC_OK);
    unlink(path);
    assert_int_equal(cresc_health_file_touch("/nonexistent-dir/x"), CRESC_EIO);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http),
        cmocka_unit_test(test_file),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
