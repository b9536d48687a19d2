/* Unit tests of crescendo-api's bearer-token handling (api/auth.c): header parsing, the
 * constant-time comparison's results, and loading the token from the environment or a file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "auth.h"

static void test_bearer_parse(void **st)
{
    (void)st;
    const char *tok;
    size_t len;
    assert_true(cresc_auth_bearer("Bearer abc123", &tok, &len));
    assert_int_equal(len, 6);
    assert_memory_equal(tok, "abc123", 6);
    assert_true(cresc_auth_bearer("bearer   abc  ", &tok, &len));
    assert_int_equal(len, 3);
    assert_false(cresc_auth_bearer(NULL, &tok, &len));
    assert_false(cresc_auth_bearer("", &tok, &len));
    assert_false(cresc_auth_bearer("Bearer", &tok, &len));
    assert_false(cresc_auth_bearer("Bearer   ", &tok, &len));
    assert_false(cresc_auth_bearer("Basic dXNlcjpwYXNz", &tok, &len));
    assert_false(cresc_auth_bearer("Bearerabc", &tok, &len));
}

static void test_equal(void **st)
{
    (void)st;
    const char *k = "s3cret-token";
    size_t n = strlen(k);
    assert_true(cresc_auth_token_equal(k, n, k, n));
    assert_false(cresc_auth_token_equal("s3cret-tokeN", n, k, n));
    assert_false(cresc_auth_token_equal("s3cret-toke", n - 1, k, n));    /* prefix */
    assert_false(cresc_auth_token_equal("s3cret-token-x", n + 2, k, n)); /* extension */
    assert_false(cresc_auth_token_equal("", 0, k, n));
    /* An empty expected token never matches (no token configured = no access). */
    assert_false(cresc_auth_token_equal("", 0, "", 0));
    /* Embedded NUL bytes count. */
    assert_false(cresc_auth_token_equal("s3cret\0token", n, k, n));
}

static void test_load(void **st)
{
    (void)st;
    char err[256] = "";
    char *tok = NULL;
    assert_int_equal(cresc_auth_load_token("from-env", "/nonexistent", &tok, err, sizeof(err)), 0);
    assert_string_equal(tok, "from-env");
    free(tok);
    assert_int_equal(cresc_auth_load_token(NULL, NULL, &tok, err, sizeof(err)), 0);
    assert_null(tok);
    assert_int_equal(cresc_auth_load_token("", "", &tok, err, sizeof(err)), 0);
    assert_null(tok);

    char path[] = "/tmp/test_api_auth.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("file-token  \r\nsecond line ignored\n", f);
    fclose(f);
    assert_int_equal(cresc_auth_load_token(NULL, path, &tok, err, sizeof(err)), 0);
    assert_string_equal(tok, "file-token");
    free(tok);

    f = fopen(path, "w");
    fputs("\n", f);
    fclose(f);
    assert_int_equal(cresc_auth_load_token(NULL, path, &tok, err, sizeof(err)), CRESC_EINVAL);
    assert_null(tok);
    assert_non_null(strstr(err, path));

    f = fopen(path, "w");
    for (int i = 0; i < CRESC_AUTH_TOKEN_MAX + 10; i++) {
        fputc('a', f);
    }
    fclose(f);
    assert_int_equal(cresc_auth_load_token(NULL, path, &tok, err, sizeof(err)), CRESC_ETOOBIG);
    unlink(path);

    err[0] = '\0';
    assert_int_equal(cresc_auth_load_token(NULL, path, &tok, err, sizeof(err)), CRESC_EIO);
    assert_non_null(strstr(err, "API_TOKEN_FILE"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer_parse),
        cmocka_unit_test(test_equal),
        cmocka_unit_test(test_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
