/* libFuzzer target for the config JSON of PUT /scaling/config and of config_update controls
 * (cresc_scaling_config_apply_json): any bytes as a partial config on top of the defaults.
 * Nothing may crash or leak; an accepted config validates, and its JSON applies again onto
 * the defaults to the same config (what the coordinator stores is what it reloads). */
#include <string.h>

#include <jansson.h>

#include "cresc/policy.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *obj = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
    if (!obj) {
        return 0;
    }
    struct cresc_scaling_config cfg, again;
    char field[128], err[256];
    cresc_scaling_config_defaults(&cfg);
    struct cresc_scaling_config before = cfg;
    field[0] = err[0] = '\0';
    if (cresc_scaling_config_apply_json(&cfg, obj, field, sizeof field, err, sizeof err) != 0) {
        CRESC_FUZZ_CHECK(err[0] != '\0', "a rejected config has a reason");
        CRESC_FUZZ_CHECK(memcmp(&before, &cfg, sizeof cfg) == 0,
                         "a rejected config leaves the old one unchanged");
        json_decref(obj);
        return 0;
    }
    CRESC_FUZZ_CHECK(cresc_scaling_config_validate(&cfg, field, sizeof field, err, sizeof err) == 0,
                     "an applied config validates");
    json_t *out = cresc_scaling_config_to_json(&cfg);
    CRESC_FUZZ_CHECK(out != NULL, "an applied config renders as JSON");
    cresc_scaling_config_defaults(&again);
    CRESC_FUZZ_CHECK(
        cresc_scaling_config_apply_json(&again, out, field, sizeof field, err, sizeof err) == 0,
        "a rendered config applies again");
    json_t *out2 = cresc_scaling_config_to_json(&again);
    CRESC_FUZZ_CHECK(out2 != NULL && json_equal(out, out2), "a reloaded config is the same");
    json_decref(out2);
    json_decref(out);
    json_decref(obj);
    return 0;
}
