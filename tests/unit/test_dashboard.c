/* Unit tests of the embedded dashboard (api/dashboard.c): the bytes built into the binary are
 * exactly api/dashboard.html, NUL-terminated, and the page is self-contained. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dashboard.h"

static char *read_source(size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/api/dashboard.html", CRESC_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n > 0);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void test_embedded_equals_source(void **state)
{
    (void)state;
    size_t len = 0, src_len = 0;
    const char *page = cresc_dashboard_html(&len);
    char *src = read_source(&src_len);
    assert_non_null(page);
    assert_int_equal(len, src_len);
    assert_memory_equal(page, src, len);
    assert_int_equal(page[len], '\0');
    assert_int_equal(strlen(page), len); /* no NUL inside: servable as a C string too */
    assert_ptr_equal(cresc_dashboard_html(NULL), page);
    free(src);
}

static void test_self_contained(void **state)
{
    (void)state;
    const char *page = cresc_dashboard_html(NULL);
    assert_non_null(strstr(page, "<!doctype html>"));
    assert_non_null(strstr(page, "<html lang=\"en\">"));
    /* No external script, stylesheet, font or image. */
    assert_null(strstr(page, "<script src"));
    assert_null(strstr(page, "<link"));
    assert_null(strstr(page, "@import"));
    assert_null(strstr(page, "url("));
    assert_null(strstr(page, "https://"));
    /* It polls the four read endpoints, relative to its own origin. */
    const char *reads[] = {"\"/scaling/status\"", "\"/scaling/decision\"",
                           "\"/scaling/priorities\"", "\"/scaling/config\""};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        assert_non_null(strstr(page, reads[i]));
    }
    /* The token stays in this tab's sessionStorage. */
    assert_non_null(strstr(page, "sessionStorage"));
    assert_null(strstr(page, "localStorage"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_equals_source),
        cmocka_unit_test(test_self_contained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
