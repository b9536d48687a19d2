/* scaling.commands codec: a scale command (service, from, to, reason, decision id, config
 * version, owner epoch), published by the coordinator when the count changes and applied by
 * actuators or any subscriber (docs/messages.md#scaling-commands). */
#include "cresc/msg.h"

#include <string.h>

#include "msg_internal.h"

static json_t *command_to_json(const struct cresc_scale_command *c, int *rc)
{
    json_t *o = cresc_msg_new_root(rc);
    cresc_jsonv_set(o, "service", json_string(c->service), rc);
    cresc_jsonv_set(o, "decision_id", json_string(c->decision_id), rc);
    cresc_jsonv_set(o, "from", json_integer(c->from), rc);
    cresc_jsonv_set(o, "to", json_integer(c->to), rc);
    cresc_jsonv_set(o, "reason", json_string(c->reason), rc);
    cresc_jsonv_set(o, "config_version", json_integer(c->config_version), rc);
    cresc_jsonv_set(o, "owner_epoch", json_integer(c->owner_epoch), rc);
    cresc_jsonv_set(o, "issued_at_ms", json_integer(c->issued_at_ms), rc);
    cresc_jsonv_set(o, "manual", json_boolean(c->manual), rc);
    cresc_jsonv_set(o, "request_id", json_string(c->request_id), rc);
    return o;
}

static int command_from_json(struct cresc_jsonv *v, const json_t *o,
                             struct cresc_scale_command *out)
{
    memset(out, 0, sizeof(*out));
    int rc;
    if ((rc = cresc_jsonv_str(v, o, "service", JV_REQUIRED | JV_ID, out->service,
                              sizeof(out->service), NULL)) ||
        (rc = cresc_jsonv_str(v, o, "decision_id", JV_REQUIRED | JV_ID, out->decision_id,
                              sizeof(out->decision_id), NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "from", JV_REQUIRED, 0, INT32_MAX, &out->from, NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "to", JV_REQUIRED, 0, CRESC_COUNT_MAX, &out->to, NULL)) ||
        (rc = cresc_jsonv_str(v, o, "reason", JV_REQUIRED, out->reason, sizeof(out->reason),
                              NULL)) ||
        (rc = cresc_jsonv_int(v, o, "config_version", JV_REQUIRED, 0, INT64_MAX,
                              &out->config_version, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "owner_epoch", JV_REQUIRED, 0, INT64_MAX, &out->owner_epoch,
                              NULL)) ||
        (rc = cresc_jsonv_int(v, o, "issued_at_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS,
                              &out->issued_at_ms, NULL)) ||
        (rc = cresc_jsonv_bool(v, o, "manual", 0, &out->manual, NULL)) ||
        (rc = cresc_jsonv_str(v, o, "request_id", JV_NULLABLE, out->request_id,
                              sizeof(out->request_id), NULL))) {
        return rc;
    }
    if (out->request_id[0] != '\0' && !cresc_id_valid(out->request_id)) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, "request_id",
                                "not an identifier (1..%d bytes of [A-Za-z0-9._:-])", CRESC_ID_MAX);
    }
    if (out->manual && out->request_id[0] == '\0') {
        return cresc_jsonv_fail(v, CRESC_EMISSING, "request_id",
                                "a manual command must carry the API request id");
    }
    return 0;
}

int cresc_command_encode(const struct cresc_scale_command *c, char *buf, size_t cap, size_t *len)
{
    (void)cresc_msg_encode_slot(); /* no stale reason from an earlier encode */
    if (c == NULL || buf == NULL) {
        return CRESC_EINVAL;
    }
    int rc = 0;
    json_t *o = command_to_json(c, &rc);
    if (rc == 0) {
        struct cresc_jsonv v;
        struct cresc_scale_command check;
        cresc_msg_jsonv_init(&v, cresc_msg_encode_slot());
        rc = command_from_json(&v, o, &check);
    }
    return cresc_msg_finish(o, rc, buf, cap, (size_t)CRESC_COMMAND_MAX_BYTES, len);
}

int cresc_command_decode(const char *buf, size_t len, struct cresc_scale_command *out,
                         struct cresc_msg_error *err)
{
    struct cresc_jsonv v;
    json_t *root = NULL;
    cresc_msg_jsonv_init(&v, err);
    int rc = cresc_msg_parse(&v, buf, len, (size_t)CRESC_COMMAND_MAX_BYTES, &root);
    if (rc == 0) {
        rc = command_from_json(&v, root, out);
    }
    json_decref(root);
    return rc;
}
