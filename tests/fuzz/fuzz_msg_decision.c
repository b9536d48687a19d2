/* libFuzzer target for the decision decoder (shared/src/msg_decision.c): any bytes from the topic.
 * Nothing may crash or read out of bounds, and whatever the decoder accepts must encode,
 * decode again and re-encode to the same bytes (the contract both sides of a topic rely on). */
#include <string.h>

#include "cresc/limits.h"
#include "cresc/msg.h"
#include "fuzz_common.h"

static char enc1[CRESC_DECISION_MAX_BYTES + 1], enc2[CRESC_DECISION_MAX_BYTES + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cresc_decision_msg a, b;
    struct cresc_msg_error err;
    if (cresc_decision_msg_decode((const char *)data, size, &a, &err) != 0) {
        CRESC_FUZZ_CHECK(strlen(err.reason) > 0, "a rejected decision has a reason");
        return 0;
    }
    size_t n1 = 0, n2 = 0;
    CRESC_FUZZ_CHECK(cresc_decision_msg_encode(&a, enc1, sizeof enc1, &n1) == 0,
                     "an accepted decision encodes");
    CRESC_FUZZ_CHECK(cresc_decision_msg_decode(enc1, n1, &b, &err) == 0,
                     "an encoded decision decodes");
    CRESC_FUZZ_CHECK(cresc_decision_msg_encode(&b, enc2, sizeof enc2, &n2) == 0,
                     "a re-decoded decision encodes");
    CRESC_FUZZ_CHECK(n1 == n2 && memcmp(enc1, enc2, n1) == 0, "decision re-encoding is stable");
    return 0;
}
