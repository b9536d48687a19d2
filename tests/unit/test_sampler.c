/* Unit tests for agent/sampler.c: rates from two fixture readings, 32-bit counter wraps,
 * counter resets (never a negative or huge rate), and gauges on the first reading. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent_fixture.h"
#include "sampler.h"

static void read_host(const char *dir, int64_t mono_ms, struct cresc_reading *r)
{
    char rel[128];
    size_t n;
    memset(r, 0, sizeof(*r));
    r->mono_ms = mono_ms;
    snprintf(rel, sizeof(rel), "proc/%s/stat", dir);
    const char *buf = fixture(rel, &n);
    assert_int_equal(cresc_procfs_parse_stat(buf, n, &r->host_cpu), CRESC_OK);
    snprintf(rel, sizeof(rel), "proc/%s/meminfo", dir);
    buf = fixture(rel, &n);
    struct cresc_meminfo m;
    assert_int_equal(cresc_procfs_parse_meminfo(buf, n, &m), CRESC_OK);
    r->mem_pct = cresc_procfs_mem_pct(&m);
    snprintf(rel, sizeof(rel), "proc/%s/diskstats", dir);
    buf = fixture(rel, &n);
    assert_int_equal(cresc_procfs_parse_diskstats(buf, n, NULL, &r->disk), CRESC_OK);
    r->have = CRESC_READ_HOST_CPU | CRESC_READ_MEM | CRESC_READ_DISK;
}

static void test_counter_delta(void **state)
{
    (void)state;
    uint64_t d = 7;
    assert_int_equal(cresc_counter_delta(10, 15, &d), CRESC_COUNTER_OK);
    assert_int_equal(d, 5);
    assert_int_equal(cresc_counter_delta(4294967290u, 4, &d), CRESC_COUNTER_WRAPPED);
    assert_int_equal(d, 10);
    /* A big drop of a 32-bit value is a reset, not a wrap of ~4e9. */
    assert_int_equal(cresc_counter_delta(900000, 5, &d), CRESC_COUNTER_RESET);
    assert_int_equal(d, 0);
    /* 64-bit values never wrap in practice: a decrease is a reset. */
    assert_int_equal(cresc_counter_delta(UINT64_C(1) << 40, 3, &d), CRESC_COUNTER_RESET);
    assert_int_equal(d, 0);
}

static void test_host_rates(void **state)
{
    (void)state;
    struct cresc_sampler s;
    struct cresc_reading r;
    struct cresc_sample out;
    memset(&out, 0, sizeof(out));
    cresc_sampler_init(&s);
    read_host("host", 1000, &r);
    cresc_sampler_update(&s, &r, &out);
    /* First reading: gauges only, no rates yet. */
    assert_int_equal(out.present, CRESC_SAMPLE_HAS_MEM);
    assert_float_equal(out.mem_pct, 25.0, 1e-9);
    read_host("host-next", 2000, &r);
    cresc_sampler_update(&s, &r, &out);
    assert_int_equal(out.present,
                     CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_DISK);
    assert_float_equal(out.cpu_pct, 50.0, 1e-9);
    assert_float_equal(out.mem_pct, 75.0, 1e-9);
    /* sda +100, nvme0n1 +10 reads; partitions, loop, ram, dm, zram excluded. */
    assert_float_equal(out.disk_read_ops_per_s, 110.0, 1e-9);
    assert_float_equal(out.disk_write_ops_per_s, 70.0, 1e-9);
    assert_float_equal(out.disk_read_bytes_per_s, 280.0 * 512, 1e-9);
    assert_float_equal(out.disk_write_bytes_per_s, 1160.0 * 512, 1e-9);
}

static void test_disk_wrap_and_reset(void **state)
{
    (void)state;
    struct cresc_sampler s;
    struct cresc_reading r;
    struct cresc_sample out;
    size_t n;
    memset(&out, 0, sizeof(out));
    cresc_sampler_init(&s);
    memset(&r, 0, sizeof(r));
    r.have = CRESC_READ_DISK;
    r.mono_ms = 0;
    const char *buf = fixture("proc/wrap/diskstats", &n);
    assert_int_equal(cresc_procfs_parse_diskstats(buf, n, NULL, &r.disk), CRESC_OK);
    cresc_sampler_update(&s, &r, &out);
    r.mono_ms = 2000;
    buf = fixture("proc/wrap-next/diskstats", &n);
    assert_int_equal(cresc_procfs_parse_diskstats(buf, n, NULL, &r.disk), CRESC_OK);
    cresc_sampler_update(&s, &r, &out);
    assert_true(out.present & CRESC_SAMPLE_HAS_DISK);
    /* sda wrapped: +200 reads, +1000 sectors, +16 writes, +1000 sectors over 2 s.
       vdb was replaced (reset): left out of this interval. */
    assert_float_equal(out.disk_read_ops_per_s, 100.0, 1e-9);
    assert_float_equal(out.disk_read_bytes_per_s, 1000.0 * 512 / 2, 1e-9);
    assert_float_equal(out.disk_write_ops_per_s, 8.0, 1e-9);
    assert_float_equal(out.disk_write_bytes_per_s, 1000.0 * 512 / 2, 1e-9);
    assert_int_equal(s.counter_resets, 1);
}

static void test_cgroup_and_workload(void **state)
{
    (void)state;
    struct cresc_sampler s;
    struct cresc_sample out;
    memset(&out, 0, sizeof(out));
    cresc_sampler_init(&s);
    struct cresc_reading r = {.mono_ms = 0,
                              .have = CRESC_READ_CG_CPU | CRESC_READ_REQ | CRESC_READ_CONNS |
                                      CRESC_READ_HOST_CPU,
                              .cg_usage_us = 1000000,
                              .cg_cores = 0.5,
                              .req_total = 1000,
                              .connections = 4};
    cresc_sampler_update(&s, &r, &out);
    assert_int_equal(out.present, CRESC_SAMPLE_HAS_CONNS);
    r.mono_ms = 500;
    r.cg_usage_us = 1125000; /* 0.125 s CPU in 0.5 s against half a core: 50 % */
    r.req_total = 1100;
    r.connections = 6;
    cresc_sampler_update(&s, &r, &out);
    /* cgroup CPU wins over the host's when both are read. */
    assert_float_equal(out.cpu_pct, 50.0, 1e-9);
    assert_float_equal(out.req_per_s, 200.0, 1e-9);
    assert_float_equal(out.active_connections, 6.0, 1e-9);
    /* The workload restarted: its counter went back to 10. */
    r.mono_ms = 1500;
    r.cg_usage_us = 1200000;
    r.req_total = 10;
    cresc_sampler_update(&s, &r, &out);
    assert_float_equal(out.req_per_s, 10.0, 1e-9);
    assert_true(out.req_per_s >= 0.0);
    /* Time did not move (clock hiccup): gauges but no rates. */
    cresc_sampler_update(&s, &r, &out);
    assert_int_equal(out.present, CRESC_SAMPLE_HAS_CONNS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counter_delta),
        cmocka_unit_test(test_host_rates),
        cmocka_unit_test(test_disk_wrap_and_reset),
        cmocka_unit_test(test_cgroup_and_workload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
