/* libFuzzer target for the agent's Prometheus text parser (agent/promtext.c): the first line
 * of the input is a metric name to look for (besides two fixed ones), the rest the page.
 * Nothing may crash or read past the buffer; counts are consistent. */
#include <string.h>

#include "fuzz_common.h"
#include "promtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    const char *nl = memchr(buf, '\n', size);
    size_t name_len = nl ? (size_t)(nl - buf) : 0;
    char name[CRESC_PROMTEXT_NAME_MAX + 1];
    if (name_len > CRESC_PROMTEXT_NAME_MAX) {
        name_len = CRESC_PROMTEXT_NAME_MAX;
    }
    memcpy(name, buf, name_len);
    name[name_len] = '\0';
    size_t skip = nl ? (size_t)(nl - buf) + 1 : 0;
    struct cresc_promtext_query q[3] = {
        {.name = "http_requests_total"}, {.name = "active_connections"}, {.name = name}};
    size_t n_malformed = 0;
    if (cresc_promtext_parse(buf + skip, size - skip, q, 3, &n_malformed) == 0) {
        for (size_t i = 0; i < 3; i++) {
            CRESC_FUZZ_CHECK(q[i].n_series > 0 || q[i].sum == 0.0, "absent metric sums to 0");
        }
    }
    return 0;
}
