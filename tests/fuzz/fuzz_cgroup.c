/* libFuzzer target for the agent's cgroup v2 parsers (agent/cgroup.c): the first byte picks
 * cpu.max, a keyed file (cpu.stat, memory.stat), a single value (memory.max/current) or
 * io.stat; the rest is the file. Nothing may crash or read past the buffer. */
#include <math.h>
#include <string.h>

#include "cgroup.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    static struct cresc_disk_set disks;
    uint64_t v = 0;
    bool limited = false;
    switch (data[0] % 6) {
    case 0: {
        struct cresc_cgroup_cpu_max m;
        if (cresc_cgroup_parse_cpu_max(buf, len, &m) == 0) {
            double cores = cresc_cgroup_cpu_max_cores(&m);
            CRESC_FUZZ_CHECK(!isnan(cores) && cores >= 0.0, "cores not negative");
            double pct = -1.0;
            if (cresc_cgroup_cpu_pct(0, 1000000, 1000000, cores, &pct) == 0) {
                CRESC_FUZZ_CHECK(!isnan(pct) && pct >= 0.0 && pct <= 100.0, "cpu pct in range");
            }
        }
        break;
    }
    case 1:
        /* The return value is the property under test only in that it must not crash. */
        v = cresc_cgroup_parse_keyed(buf, len, "usage_usec", &v) == 0 ? v : 0;
        break;
    case 2:
        v = cresc_cgroup_parse_keyed(buf, len, "inactive_file", &v) == 0 ? v : 0;
        break;
    case 3:
        if (cresc_cgroup_parse_value(buf, len, &limited, &v) == 0 && limited) {
            double pct = cresc_cgroup_mem_pct(v / 2, v / 4, v);
            CRESC_FUZZ_CHECK(!isnan(pct) && pct >= 0.0 && pct <= 100.0, "mem pct in range");
        }
        break;
    case 4:
        v = cresc_cgroup_parse_value(buf, len, NULL, &v) == 0 ? v : 0;
        break;
    default:
        if (cresc_cgroup_parse_io_stat(buf, len, &disks) == 0) {
            CRESC_FUZZ_CHECK(disks.n <= CRESC_DISKS_MAX, "disk count bounded");
            for (size_t i = 0; i < disks.n; i++) {
                CRESC_FUZZ_CHECK(memchr(disks.dev[i].name, '\0', CRESC_DISK_NAME_MAX) != NULL,
                                 "disk names terminated");
            }
        }
        break;
    }
    (void)v;
    return 0;
}
