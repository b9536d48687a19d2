/* libFuzzer target for `crescendo-coordinator evaluate`: any bytes as the input object
 * (config, metrics, history parsing, then the policy engine on whatever validated). Nothing
 * may crash, leak or read out of bounds; the exit status is 0 or 2, never anything else. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "offline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink) {
        sink = fopen("/dev/null", "w");
        if (!sink) {
            abort();
        }
    }
    if (size == 0) {
        return 0;
    }
    /* fmemopen on a copy: the input buffer is read-only. */
    char *copy = malloc(size);
    if (!copy) {
        return 0;
    }
    for (size_t i = 0; i < size; i++) {
        copy[i] = (char)data[i];
    }
    FILE *in = fmemopen(copy, size, "r");
    if (in) {
        int rc = cresc_offline_evaluate(in, sink, sink);
        if (rc != 0 && rc != 2) {
            abort();
        }
        fclose(in);
    }
    free(copy);
    return 0;
}
