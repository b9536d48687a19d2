/* Unit tests for agent/source.c over the fixture trees (tests/data): host mode reads /proc and
 * /sys/block, cgroup mode the cgroup v2 files (quota or not), auto picks by the files present,
 * and missing roots leave measures out without failing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cresc/log.h"
#include "source.h"

#define DATA CRESC_SOURCE_DIR "/tests/data"

static struct cresc_source *make(enum cresc_source_mode mode, const char *proc, const char *sys,
                                 const char *cgroup)
{
    struct cresc_source_opts o = {.proc_root = proc,
                                  .sys_root = sys,
                                  .cgroup_dir = cgroup,
                                  .mode = mode,
                                  .scrape_timeout_ms = 500};
    struct cresc_source *s = NULL;
    assert_int_equal(cresc_source_new(&o, &s), CRESC_OK);
    return s;
}

static struct cresc_reading reading;

static void test_host(void **state)
{
    (void)state;
    struct cresc_source *s =
        make(CRESC_SOURCE_AUTO, DATA "/proc/host", DATA "/sys/host", NULL); /* no cgroup there */
    assert_string_equal(cresc_source_kind(s), "host");
    cresc_source_read(s, 1000, &reading);
    assert_int_equal(reading.have, CRESC_READ_HOST_CPU | CRESC_READ_MEM | CRESC_READ_DISK);
    assert_int_equal(reading.mono_ms, 1000);
    assert_float_equal(reading.mem_pct, 25.0, 1e-9);
    assert_int_equal(reading.disk.n, 3); /* sda, nvme0n1, vda from sys/host/block */
    assert_int_equal(reading.host_cpu.n_cpus, 2);
    cresc_source_free(s);
}

static void test_cgroup_limited(void **state)
{
    (void)state;
    struct cresc_source *s =
        make(CRESC_SOURCE_AUTO, DATA "/proc/host", DATA "/sys/host", DATA "/cgroup/limited");
    assert_string_equal(cresc_source_kind(s), "cgroup");
    cresc_source_read(s, 5, &reading);
    assert_true(reading.have & CRESC_READ_CG_CPU);
    assert_int_equal(reading.cg_usage_us, 5000000);
    assert_float_equal(reading.cg_cores, 1.5, 1e-9);
    assert_true(reading.have & CRESC_READ_MEM);
    assert_float_equal(reading.mem_pct, 30.0, 1e-6);
    assert_true(reading.have & CRESC_READ_DISK);
    assert_int_equal(reading.disk.n, 2);
    assert_int_equal(reading.disk.unit_bytes, 1);
    cresc_source_free(s);
}

static void test_cgroup_unlimited(void **state)
{
    (void)state;
    struct cresc_source *s =
        make(CRESC_SOURCE_CGROUP, DATA "/proc/host", DATA "/sys/host", DATA "/cgroup/unlimited");
    cresc_source_read(s, 5, &reading);
    /* cpu.max "max": relative to the host's 2 CPUs; memory.max "max": against MemTotal. */
    assert_true(reading.have & CRESC_READ_CG_CPU);
    assert_float_equal(reading.cg_cores, 2.0, 1e-9);
    assert_true(reading.have & CRESC_READ_MEM);
    assert_true(reading.mem_pct >= 0.0 && reading.mem_pct < 0.001);
    cresc_source_free(s);
}

static void test_missing_and_malformed(void **state)
{
    (void)state;
    struct cresc_source *s = make(CRESC_SOURCE_HOST, "/nonexistent", "/nonexistent", NULL);
    cresc_source_read(s, 5, &reading);
    assert_int_equal(reading.have, 0);
    cresc_source_read(s, 6, &reading); /* logged once, still fine */
    assert_int_equal(reading.have, 0);
    cresc_source_free(s);
    s = make(CRESC_SOURCE_CGROUP, DATA "/proc/malformed", "/nonexistent", DATA "/cgroup/malformed");
    cresc_source_read(s, 5, &reading);
    /* Every cgroup file there is malformed; io.stat keeps its one good line. */
    assert_int_equal(reading.have, CRESC_READ_DISK);
    assert_int_equal(reading.disk.n, 1);
    cresc_source_free(s);
}

static void test_no_physical_disk(void **state)
{
    (void)state;
    /* Only loop and RAM devices: disk I/O is absent, not an idle zero; CPU and memory stay. */
    struct cresc_source *s = make(CRESC_SOURCE_HOST, DATA "/proc/nodisk", "/nonexistent", NULL);
    cresc_source_read(s, 5, &reading);
    assert_int_equal(reading.have, CRESC_READ_HOST_CPU | CRESC_READ_MEM);
    cresc_source_free(s);
}

static void test_bad_options(void **state)
{
    (void)state;
    char longpath[2048];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    struct cresc_source_opts o = {
        .proc_root = longpath, .sys_root = "/sys", .mode = CRESC_SOURCE_HOST};
    struct cresc_source *s = NULL;
    assert_int_equal(cresc_source_new(&o, &s), CRESC_EINVAL);
    assert_null(s);
    cresc_source_free(NULL);
}

int main(void)
{
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_ERROR, NULL); /* the WARNINGs are expected */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_host),
        cmocka_unit_test(test_cgroup_limited),
        cmocka_unit_test(test_cgroup_unlimited),
        cmocka_unit_test(test_missing_and_malformed),
        cmocka_unit_test(test_no_physical_disk),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
