/* libFuzzer target for the sample decoder (shared/src/msg_sample.c): any bytes from the topic.
 * Nothing may crash or read out of bounds; the decoder (fast path first, msg_sample_fast.c)
 * must give the same verdict, reason and struct as the jansson reference decoder; and
 * whatever it accepts must encode, decode again and re-encode to the same bytes (the contract
 * both sides of a topic rely on). */
#include <string.h>

#include "cresc/limits.h"
#include "cresc/msg.h"
#include "fuzz_common.h"

static char enc1[CRESC_SAMPLE_MAX_BYTES + 1], enc2[CRESC_SAMPLE_MAX_BYTES + 1];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cresc_sample a, b, ref;
    struct cresc_msg_error err, ref_err;
    int rc = cresc_sample_decode((const char *)data, size, &a, &err);
    int ref_rc = cresc_sample_decode_reference((const char *)data, size, &ref, &ref_err);
    CRESC_FUZZ_CHECK(rc == ref_rc, "decode and the reference decoder agree on the verdict");
    if (rc != 0) {
        CRESC_FUZZ_CHECK(strlen(err.reason) > 0, "a rejected sample has a reason");
        CRESC_FUZZ_CHECK(strcmp(err.field, ref_err.field) == 0 &&
                             strcmp(err.reason, ref_err.reason) == 0,
                         "a rejection names the reference's field and reason");
        return 0;
    }
    CRESC_FUZZ_CHECK(memcmp(&a, &ref, sizeof a) == 0,
                     "an accepted sample decodes to the reference's struct");
    size_t n1 = 0, n2 = 0;
    CRESC_FUZZ_CHECK(cresc_sample_encode(&a, enc1, sizeof enc1, &n1) == 0,
                     "an accepted sample encodes");
    CRESC_FUZZ_CHECK(cresc_sample_decode(enc1, n1, &b, &err) == 0, "an encoded sample decodes");
    CRESC_FUZZ_CHECK(cresc_sample_encode(&b, enc2, sizeof enc2, &n2) == 0,
                     "a re-decoded sample encodes");
    CRESC_FUZZ_CHECK(n1 == n2 && memcmp(enc1, enc2, n1) == 0, "sample re-encoding is stable");
    return 0;
}
