/* libFuzzer target for the state snapshot decoder (shared/src/msg_state.c): any bytes from
 * the compacted state topic, as the API and a new owner read them. Nothing may crash, leak or
 * read out of bounds; an accepted snapshot encodes, decodes again and re-encodes identically. */
#include <string.h>

#include "cresc/msg.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cresc_state a, b;
    struct cresc_msg_error err;
    char *enc1 = NULL, *enc2 = NULL;
    size_t n1 = 0, n2 = 0;
    if (cresc_state_decode((const char *)data, size, &a, &err) != 0) {
        CRESC_FUZZ_CHECK(strlen(err.reason) > 0, "a rejected state has a reason");
        return 0;
    }
    CRESC_FUZZ_CHECK(cresc_state_encode(&a, &enc1, &n1) == 0, "an accepted state encodes");
    CRESC_FUZZ_CHECK(cresc_state_decode(enc1, n1, &b, &err) == 0, "an encoded state decodes");
    CRESC_FUZZ_CHECK(cresc_state_encode(&b, &enc2, &n2) == 0, "a re-decoded state encodes");
    CRESC_FUZZ_CHECK(n1 == n2 && memcmp(enc1, enc2, n1) == 0, "state re-encoding is stable");
    json_t *j = cresc_state_to_json(&b);
    CRESC_FUZZ_CHECK(j != NULL, "an accepted state renders as JSON");
    json_decref(j);
    free(enc1);
    free(enc2);
    cresc_state_release(&b);
    cresc_state_release(&a);
    return 0;
}
