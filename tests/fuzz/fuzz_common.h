/* Shared by the fuzz targets: the libFuzzer entry point's prototype and a hard failure that
 * says which property broke (a fuzz finding must stop the run, never be logged and ignored). */
#ifndef CRESC_FUZZ_COMMON_H
#define CRESC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property of the code under test does not hold for this input: report and abort. */
#define CRESC_FUZZ_CHECK(cond, what)                                                          \
    do {                                                                                      \
        if (!(cond)) {                                                                        \
            fprintf(stderr, "fuzz property failed at %s:%d: %s\n", __FILE__, __LINE__, what); \
            abort();                                                                          \
        }                                                                                     \
    } while (0)

#endif
