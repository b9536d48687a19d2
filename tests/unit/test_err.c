/* Unit tests for shared/src/err.c: every code has a distinct name and a message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cresc/err.h"

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(cresc_err_name(CRESC_OK), "CRESC_OK");
    assert_string_equal(cresc_err_name(CRESC_EINVAL), "CRESC_EINVAL");
    assert_string_equal(cresc_err_name(CRESC_EFENCED), "CRESC_EFENCED");
    assert_string_equal(cresc_err_name(12345), "CRESC_UNKNOWN");
    assert_string_equal(cresc_strerror(CRESC_ETOOBIG), "input exceeds its size limit");
    for (int e = -1; e >= CRESC_EAUTH; e--) {
        assert_string_not_equal(cresc_err_name(e), "CRESC_UNKNOWN");
        for (int f = e - 1; f >= CRESC_EAUTH; f--) {
            assert_string_not_equal(cresc_err_name(e), cresc_err_name(f));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
