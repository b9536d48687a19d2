/* scaling.decisions codec: every evaluation of a service with its explanation (votes, guards,
 * reason), published by the coordinator for subscribers, and carried as `last_decision` in
 * the state snapshot (docs/messages.md#scaling-decisions). The decision's members sit at the
 * top level of the message so `jq .target_instances` works. */
#include "cresc/msg.h"

#include <string.h>

#include "msg_internal.h"

int cresc_decision_msg_fill(json_t *o, const struct cresc_decision_msg *d)
{
    int rc = 0;
    cresc_jsonv_set(o, "service", json_string(d->service), &rc);
    cresc_jsonv_set(o, "decision_id", json_string(d->decision_id), &rc);
    cresc_jsonv_set(o, "evaluated_at_ms", json_integer(d->evaluated_at_ms), &rc);
    cresc_jsonv_set(o, "config_version", json_integer(d->config_version), &rc);
    cresc_jsonv_set(o, "owner_epoch", json_integer(d->owner_epoch), &rc);
    cresc_jsonv_set(o, "live_instances", json_integer(d->live_instances), &rc);
    cresc_jsonv_set(o, "metrics", cresc_metrics_to_json(&d->metrics), &rc);
    if (rc == 0) {
        rc = cresc_decision_fill_json(o, &d->decision);
    }
    return rc;
}

int cresc_decision_msg_from_json_v(struct cresc_jsonv *v, const json_t *o,
                                   struct cresc_decision_msg *out)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(o)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "must be an object");
    }
    int rc;
    json_t *metrics = NULL;
    if ((rc = cresc_jsonv_str(v, o, "service", JV_REQUIRED | JV_ID, out->service,
                              sizeof(out->service), NULL)) ||
        (rc = cresc_jsonv_str(v, o, "decision_id", JV_REQUIRED | JV_ID, out->decision_id,
                              sizeof(out->decision_id), NULL)) ||
        (rc = cresc_jsonv_int(v, o, "evaluated_at_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS,
                              &out->evaluated_at_ms, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "config_version", JV_REQUIRED, 0, INT64_MAX,
                              &out->config_version, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "owner_epoch", JV_REQUIRED, 0, INT64_MAX, &out->owner_epoch,
                              NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "live_instances", JV_REQUIRED, 0, INT32_MAX,
                              &out->live_instances, NULL)) ||
        (rc = cresc_jsonv_obj(v, o, "metrics", JV_REQUIRED, &metrics))) {
        return rc;
    }
    size_t mark = cresc_jsonv_push_key(v, "metrics");
    rc = cresc_metrics_from_json_v(v, metrics, &out->metrics);
    cresc_jsonv_pop(v, mark);
    if (rc != 0) {
        return rc;
    }
    return cresc_decision_from_json_v(v, o, &out->decision);
}

int cresc_decision_msg_encode(const struct cresc_decision_msg *d, char *buf, size_t cap,
                              size_t *len)
{
    (void)cresc_msg_encode_slot(); /* no stale reason from an earlier encode */
    if (d == NULL || buf == NULL) {
        return CRESC_EINVAL;
    }
    int rc = 0;
    json_t *o = cresc_msg_new_root(&rc);
    if (rc == 0) {
        rc = cresc_decision_msg_fill(o, d);
    }
    if (rc == 0) {
        struct cresc_jsonv v;
        struct cresc_decision_msg check;
        cresc_msg_jsonv_init(&v, cresc_msg_encode_slot());
        rc = cresc_decision_msg_from_json_v(&v, o, &check);
    }
    return cresc_msg_finish(o, rc, buf, cap, (size_t)CRESC_DECISION_MAX_BYTES, len);
}

int cresc_decision_msg_decode(const char *buf, size_t len, struct cresc_decision_msg *out,
                              struct cresc_msg_error *err)
{
    struct cresc_jsonv v;
    json_t *root = NULL;
    cresc_msg_jsonv_init(&v, err);
    int rc = cresc_msg_parse(&v, buf, len, (size_t)CRESC_DECISION_MAX_BYTES, &root);
    if (rc == 0) {
        rc = cresc_decision_msg_from_json_v(&v, root, out);
    }
    json_decref(root);
    return rc;
}
