/* libFuzzer target for the agent's /proc parsers (agent/procfs.c): the first byte picks
 * /proc/stat, /proc/meminfo or /proc/diskstats (with or without a /sys/block list), the rest
 * is the file. Nothing may crash or read past the buffer; results stay in range. */
#include <math.h>
#include <string.h>

#include "fuzz_common.h"
#include "procfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const char *buf = (const char *)data + 1;
    size_t len = size - 1;
    static const char *const whole[] = {"sda", "vda", "nvme0n1", "8:0", NULL};
    static struct cresc_disk_set disks; /* large: keep it off the stack */
    switch (data[0] % 4) {
    case 0: {
        struct cresc_cpu_times a = {0}, b;
        if (cresc_procfs_parse_stat(buf, len, &b) == 0) {
            double pct = -1.0;
            if (cresc_procfs_cpu_pct(&a, &b, &pct) == 0) {
                CRESC_FUZZ_CHECK(pct >= 0.0 && pct <= 100.0, "cpu percent in 0..100");
            }
        }
        break;
    }
    case 1: {
        struct cresc_meminfo m;
        if (cresc_procfs_parse_meminfo(buf, len, &m) == 0) {
            double pct = cresc_procfs_mem_pct(&m);
            CRESC_FUZZ_CHECK(!isnan(pct) && pct >= 0.0 && pct <= 100.0, "mem percent in 0..100");
        }
        break;
    }
    default:
        if (cresc_procfs_parse_diskstats(buf, len, data[0] % 4 == 2 ? whole : NULL, &disks) == 0) {
            CRESC_FUZZ_CHECK(disks.n <= CRESC_DISKS_MAX, "disk count bounded");
            for (size_t i = 0; i < disks.n; i++) {
                CRESC_FUZZ_CHECK(memchr(disks.dev[i].name, '\0', CRESC_DISK_NAME_MAX) != NULL,
                                 "disk names terminated");
            }
        }
        break;
    }
    return 0;
}
