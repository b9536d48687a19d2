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

static void test_errf(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'x', sizeof(buf));
    cresc_errf(buf, sizeof(buf), "value %d out of %s", 42, "range");
    assert_string_equal(buf, "value 4"); /* cut, still terminated */
    cresc_errf(NULL, 0, "ignored %d", 1);
    cresc_errf(buf, 0, "ignored");
    assert_string_equal(buf, "value 4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_errf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
