/* Unit tests for agent/cgroup.c: cgroup v2 fixtures (tests/data/cgroup) with a quota and a
 * memory limit, without them (`max`), and malformed files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent_fixture.h"
#include "cgroup.h"

static void test_cpu_max(void **state)
{
    (void)state;
    size_t n;
    struct cresc_cgroup_cpu_max m;
    const char *buf = fixture("cgroup/limited/cpu.max", &n);
    assert_int_equal(cresc_cgroup_parse_cpu_max(buf, n, &m), CRESC_OK);
    assert_true(m.limited);
    assert_int_equal(m.quota_us, 150000);
    assert_int_equal(m.period_us, 100000);
    assert_float_equal(cresc_cgroup_cpu_max_cores(&m), 1.5, 1e-9);
    buf = fixture("cgroup/unlimited/cpu.max", &n);
    assert_int_equal(cresc_cgroup_parse_cpu_max(buf, n, &m), CRESC_OK);
    assert_false(m.limited);
    assert_float_equal(cresc_cgroup_cpu_max_cores(&m), 0.0, 1e-9);
    assert_int_equal(cresc_cgroup_parse_cpu_max("max", 3, &m), CRESC_OK); /* no period */
    assert_false(m.limited);
    assert_int_equal(m.period_us, 100000);
    buf = fixture("cgroup/malformed/cpu.max", &n);
    assert_int_equal(cresc_cgroup_parse_cpu_max(buf, n, &m), CRESC_EPARSE);
    assert_int_equal(cresc_cgroup_parse_cpu_max("0 100000\n", 9, &m), CRESC_EPARSE);
    assert_int_equal(cresc_cgroup_parse_cpu_max("100 0\n", 6, &m), CRESC_EPARSE);
    assert_int_equal(cresc_cgroup_parse_cpu_max("100 100 7\n", 10, &m), CRESC_EPARSE);
    assert_int_equal(cresc_cgroup_parse_cpu_max("", 0, &m), CRESC_EPARSE);
}

static void test_cpu_stat_and_pct(void **state)
{
    (void)state;
    size_t n;
    uint64_t usage = 0;
    const char *buf = fixture("cgroup/limited/cpu.stat", &n);
    assert_int_equal(cresc_cgroup_parse_keyed(buf, n, "usage_usec", &usage), CRESC_OK);
    assert_int_equal(usage, 5000000);
    assert_int_equal(cresc_cgroup_parse_keyed(buf, n, "usage", &usage), CRESC_ENOTFOUND);
    buf = fixture("cgroup/malformed/cpu.stat", &n);
    assert_int_equal(cresc_cgroup_parse_keyed(buf, n, "usage_usec", &usage), CRESC_EPARSE);
    double pct = -1;
    /* 0.75 s of CPU in 1 s against a 1.5-core quota: 50 %. */
    assert_int_equal(cresc_cgroup_cpu_pct(5000000, 5750000, 1000000, 1.5, &pct), CRESC_OK);
    assert_float_equal(pct, 50.0, 1e-9);
    /* Bursting past the quota within one period is clamped. */
    assert_int_equal(cresc_cgroup_cpu_pct(0, 3000000, 1000000, 1.5, &pct), CRESC_OK);
    assert_float_equal(pct, 100.0, 1e-9);
    assert_int_equal(cresc_cgroup_cpu_pct(10, 5, 1000000, 1.5, &pct), CRESC_ERANGE);
    assert_int_equal(cresc_cgroup_cpu_pct(5, 10, 0, 1.5, &pct), CRESC_ERANGE);
    assert_int_equal(cresc_cgroup_cpu_pct(5, 10, 1000, 0.0, &pct), CRESC_ERANGE);
}

static void test_memory(void **state)
{
    (void)state;
    size_t n;
    bool limited = false;
    uint64_t max = 0, cur = 0, inactive = 0;
    const char *buf = fixture("cgroup/limited/memory.max", &n);
    assert_int_equal(cresc_cgroup_parse_value(buf, n, &limited, &max), CRESC_OK);
    assert_true(limited);
    assert_int_equal(max, 536870912);
    buf = fixture("cgroup/limited/memory.current", &n);
    assert_int_equal(cresc_cgroup_parse_value(buf, n, NULL, &cur), CRESC_OK);
    buf = fixture("cgroup/limited/memory.stat", &n);
    assert_int_equal(cresc_cgroup_parse_keyed(buf, n, "inactive_file", &inactive), CRESC_OK);
    assert_int_equal(inactive, 107374182);
    assert_float_equal(cresc_cgroup_mem_pct(cur, inactive, max), 30.0, 1e-6);
    /* Cache larger than current (racy reads) never goes negative; over the limit clamps. */
    assert_float_equal(cresc_cgroup_mem_pct(10, 20, 100), 0.0, 1e-9);
    assert_float_equal(cresc_cgroup_mem_pct(300, 0, 100), 100.0, 1e-9);
    assert_float_equal(cresc_cgroup_mem_pct(300, 0, 0), 0.0, 1e-9);

    buf = fixture("cgroup/unlimited/memory.max", &n);
    assert_int_equal(cresc_cgroup_parse_value(buf, n, &limited, &max), CRESC_OK);
    assert_false(limited);
    /* "max" is only a value where a limit is expected. */
    assert_int_equal(cresc_cgroup_parse_value(buf, n, NULL, &max), CRESC_EPARSE);

    buf = fixture("cgroup/malformed/memory.max", &n);
    assert_int_equal(cresc_cgroup_parse_value(buf, n, &limited, &max), CRESC_EPARSE);
    buf = fixture("cgroup/malformed/memory.current", &n);
    assert_int_equal(cresc_cgroup_parse_value(buf, n, NULL, &cur), CRESC_EPARSE);
    buf = fixture("cgroup/malformed/memory.stat", &n);
    assert_int_equal(cresc_cgroup_parse_keyed(buf, n, "inactive_file", &inactive), CRESC_ENOTFOUND);
    assert_int_equal(cresc_cgroup_parse_value("12 13\n", 6, NULL, &cur), CRESC_EPARSE);
    assert_int_equal(cresc_cgroup_parse_value("12kB\n", 5, NULL, &cur), CRESC_EPARSE);
    assert_int_equal(cresc_cgroup_parse_value("99999999999999999999999\n", 24, NULL, &cur),
                     CRESC_EPARSE);
}

static void test_io_stat(void **state)
{
    (void)state;
    size_t n;
    struct cresc_disk_set s;
    const char *buf = fixture("cgroup/limited/io.stat", &n);
    assert_int_equal(cresc_cgroup_parse_io_stat(buf, n, &s), CRESC_OK);
    assert_int_equal(s.unit_bytes, 1);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.n_excluded, 2); /* loop (7:0) and ram (1:0) */
    assert_string_equal(s.dev[0].name, "8:0");
    assert_int_equal(s.dev[0].read_units, 1048576);
    assert_int_equal(s.dev[0].write_units, 2097152);
    assert_int_equal(s.dev[0].read_ops, 256);
    assert_int_equal(s.dev[0].write_ops, 512);
    assert_string_equal(s.dev[1].name, "259:0");
    buf = fixture("cgroup/unlimited/io.stat", &n);
    assert_int_equal(cresc_cgroup_parse_io_stat(buf, n, &s), CRESC_OK);
    assert_int_equal(s.n, 0);
    buf = fixture("cgroup/malformed/io.stat", &n);
    assert_int_equal(cresc_cgroup_parse_io_stat(buf, n, &s), CRESC_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.n_malformed, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_max),
        cmocka_unit_test(test_cpu_stat_and_pct),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_io_stat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
