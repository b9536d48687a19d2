/* Unit tests for agent/procfs.c: /proc/stat, /proc/meminfo and /proc/diskstats fixtures
 * (tests/data/proc), including skipped partitions and virtual disks and malformed lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent_fixture.h"
#include "procfs.h"

static void test_stat_delta(void **state)
{
    (void)state;
    size_t n;
    struct cresc_cpu_times a, b;
    const char *buf = fixture("proc/host/stat", &n);
    assert_int_equal(cresc_procfs_parse_stat(buf, n, &a), CRESC_OK);
    assert_int_equal(a.total_ticks, 95000);
    assert_int_equal(a.idle_ticks, 81000);
    assert_int_equal(a.n_cpus, 2);
    buf = fixture("proc/host-next/stat", &n);
    assert_int_equal(cresc_procfs_parse_stat(buf, n, &b), CRESC_OK);
    double pct = -1;
    assert_int_equal(cresc_procfs_cpu_pct(&a, &b, &pct), CRESC_OK);
    assert_float_equal(pct, 50.0, 1e-9);
    /* Backwards (counters reset) or no time passed: no value, never negative. */
    assert_int_equal(cresc_procfs_cpu_pct(&b, &a, &pct), CRESC_ERANGE);
    assert_int_equal(cresc_procfs_cpu_pct(&a, &a, &pct), CRESC_ERANGE);
}

static void test_stat_malformed(void **state)
{
    (void)state;
    size_t n;
    struct cresc_cpu_times t;
    const char *buf = fixture("proc/malformed/stat", &n);
    assert_int_equal(cresc_procfs_parse_stat(buf, n, &t), CRESC_EPARSE);
    buf = fixture("proc/malformed/stat-nocpu", &n);
    assert_int_equal(cresc_procfs_parse_stat(buf, n, &t), CRESC_EPARSE);
    assert_int_equal(cresc_procfs_parse_stat("", 0, &t), CRESC_EPARSE);
    assert_int_equal(cresc_procfs_parse_stat(NULL, 0, &t), CRESC_EPARSE);
    /* Old kernels have only four fields. */
    const char *old = "cpu 1 2 3 4\n";
    assert_int_equal(cresc_procfs_parse_stat(old, strlen(old), &t), CRESC_OK);
    assert_int_equal(t.total_ticks, 10);
    assert_int_equal(t.idle_ticks, 4);
    /* Overflowing sum. */
    const char *huge = "cpu 18446744073709551615 1 0 0\n";
    assert_int_equal(cresc_procfs_parse_stat(huge, strlen(huge), &t), CRESC_EPARSE);
    /* Not NUL-terminated: the parser must stop at len. */
    char raw[] = {'c', 'p', 'u', ' ', '1', ' ', '2', ' ', '3', ' ', '4', '5'};
    assert_int_equal(cresc_procfs_parse_stat(raw, 11, &t), CRESC_OK);
    assert_int_equal(t.total_ticks, 10);
}

static void test_meminfo(void **state)
{
    (void)state;
    size_t n;
    struct cresc_meminfo m;
    const char *buf = fixture("proc/host/meminfo", &n);
    assert_int_equal(cresc_procfs_parse_meminfo(buf, n, &m), CRESC_OK);
    assert_int_equal(m.total_kib, 8000000);
    assert_int_equal(m.available_kib, 6000000);
    assert_float_equal(cresc_procfs_mem_pct(&m), 25.0, 1e-9);
    buf = fixture("proc/host-next/meminfo", &n);
    assert_int_equal(cresc_procfs_parse_meminfo(buf, n, &m), CRESC_OK);
    assert_float_equal(cresc_procfs_mem_pct(&m), 75.0, 1e-9);
    /* Before MemAvailable existed: free + buffers + cached. */
    buf = fixture("proc/legacy/meminfo", &n);
    assert_int_equal(cresc_procfs_parse_meminfo(buf, n, &m), CRESC_OK);
    assert_float_equal(cresc_procfs_mem_pct(&m), 50.0, 1e-9);
    buf = fixture("proc/malformed/meminfo", &n);
    assert_int_equal(cresc_procfs_parse_meminfo(buf, n, &m), CRESC_EPARSE);
    const char *zero = "MemTotal: 0 kB\nMemAvailable: 0 kB\n";
    assert_int_equal(cresc_procfs_parse_meminfo(zero, strlen(zero), &m), CRESC_EPARSE);
    /* MemTotalX is not MemTotal. */
    const char *prefix = "MemTotalX: 5 kB\nMemAvailable: 1 kB\n";
    assert_int_equal(cresc_procfs_parse_meminfo(prefix, strlen(prefix), &m), CRESC_EPARSE);
    struct cresc_meminfo odd = {.total_kib = 100, .available_kib = 200};
    assert_float_equal(cresc_procfs_mem_pct(&odd), 0.0, 1e-9);
}

static const struct cresc_disk_counters *dev(const struct cresc_disk_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->dev[i].name, name) == 0) {
            return &s->dev[i];
        }
    }
    return NULL;
}

static void check_host_disks(const struct cresc_disk_set *s)
{
    assert_int_equal(s->n, 3);
    assert_int_equal(s->unit_bytes, 512);
    assert_int_equal(s->n_excluded, 9); /* sda1 sda2 nvme0n1p1 vda1 loop0 ram0 dm-0 zram0 sr0 */
    assert_int_equal(s->n_malformed, 0);
    const struct cresc_disk_counters *sda = dev(s, "sda");
    if (sda == NULL) {
        fail_msg("sda missing");
        return;
    }
    assert_int_equal(sda->read_ops, 1000);
    assert_int_equal(sda->read_units, 20000);
    assert_int_equal(sda->write_ops, 2000);
    assert_int_equal(sda->write_units, 40000);
    assert_non_null(dev(s, "nvme0n1"));
    assert_non_null(dev(s, "vda")); /* 11-field line of an older kernel */
    assert_null(dev(s, "sda1"));
    assert_null(dev(s, "dm-0"));
    assert_null(dev(s, "loop0"));
}

static void test_diskstats_by_name(void **state)
{
    (void)state;
    size_t n;
    struct cresc_disk_set s;
    const char *buf = fixture("proc/host/diskstats", &n);
    assert_int_equal(cresc_procfs_parse_diskstats(buf, n, NULL, &s), CRESC_OK);
    check_host_disks(&s);
}

static void test_diskstats_sys_block(void **state)
{
    (void)state;
    size_t n;
    struct cresc_disk_set s;
    /* What /sys/block lists: whole devices, including virtual ones (still excluded by kind). */
    const char *const block[] = {"sda", "nvme0n1", "vda", "loop0", "dm-0", NULL};
    const char *buf = fixture("proc/host/diskstats", &n);
    assert_int_equal(cresc_procfs_parse_diskstats(buf, n, block, &s), CRESC_OK);
    check_host_disks(&s);
    /* A device not in /sys/block is never counted, whatever its name. */
    const char *const only_sda[] = {"sda", NULL};
    assert_int_equal(cresc_procfs_parse_diskstats(buf, n, only_sda, &s), CRESC_OK);
    assert_int_equal(s.n, 1);
}

static void test_diskstats_malformed(void **state)
{
    (void)state;
    size_t n;
    struct cresc_disk_set s;
    const char *buf = fixture("proc/malformed/diskstats", &n);
    assert_int_equal(cresc_procfs_parse_diskstats(buf, n, NULL, &s), CRESC_OK);
    assert_int_equal(s.n, 2); /* sda, nvme1n1 */
    assert_int_equal(s.n_malformed, 5);
    assert_non_null(dev(&s, "nvme1n1"));
    assert_int_equal(cresc_procfs_parse_diskstats("", 0, NULL, &s), CRESC_OK);
    assert_int_equal(s.n, 0);
}

static void test_partition_names(void **state)
{
    (void)state;
    assert_true(cresc_procfs_disk_is_partition("sda1"));
    assert_true(cresc_procfs_disk_is_partition("xvdb12"));
    assert_true(cresc_procfs_disk_is_partition("nvme0n1p3"));
    assert_true(cresc_procfs_disk_is_partition("mmcblk0p1"));
    assert_false(cresc_procfs_disk_is_partition("sda"));
    assert_false(cresc_procfs_disk_is_partition("nvme0n1"));
    assert_false(cresc_procfs_disk_is_partition("mmcblk0"));
    assert_false(cresc_procfs_disk_is_partition(""));
    assert_true(cresc_procfs_disk_excluded("loop3"));
    assert_true(cresc_procfs_disk_excluded("dm-1"));
    assert_true(cresc_procfs_disk_excluded("md127"));
    assert_false(cresc_procfs_disk_excluded("sda"));
}

static void test_diskstats_too_many(void **state)
{
    (void)state;
    static char big[CRESC_DISKS_MAX * 2 * 64];
    size_t off = 0;
    for (int i = 0; i < CRESC_DISKS_MAX + 5; i++) {
        off += (size_t)snprintf(big + off, sizeof(big) - off, "8 %d xd%c%c 1 0 1 0 1 0 1 0 0 0 0\n",
                                i, 'a' + i / 26, 'a' + i % 26);
    }
    struct cresc_disk_set s;
    assert_int_equal(cresc_procfs_parse_diskstats(big, off, NULL, &s), CRESC_OK);
    assert_int_equal(s.n, CRESC_DISKS_MAX);
    assert_true(s.truncated);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stat_delta),
        cmocka_unit_test(test_stat_malformed),
        cmocka_unit_test(test_meminfo),
        cmocka_unit_test(test_diskstats_by_name),
        cmocka_unit_test(test_diskstats_sys_block),
        cmocka_unit_test(test_diskstats_malformed),
        cmocka_unit_test(test_partition_names),
        cmocka_unit_test(test_diskstats_too_many),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
