/* scaling.control codec: operators' writes turned into commands by crescendo-api (config
 * update, manual scale, priority upsert/delete, pause, resume), each with a request id the
 * coordinator acknowledges in the state (docs/messages.md#scaling-control). */
#include "cresc/msg.h"

#include <string.h>

#include "msg_internal.h"

static const char *const type_names[] = {"config_update",   "scale", "priority_upsert",
                                         "priority_delete", "pause", "resume"};
#define N_TYPES (sizeof(type_names) / sizeof(type_names[0]))

const char *cresc_control_type_name(enum cresc_control_type t)
{
    return (unsigned)t < N_TYPES ? type_names[t] : "unknown";
}

static json_t *control_to_json(const struct cresc_control *c, int *rc)
{
    json_t *o = cresc_msg_new_root(rc);
    cresc_jsonv_set(o, "request_id", json_string(c->request_id), rc);
    cresc_jsonv_set(o, "service", json_string(c->service), rc);
    cresc_jsonv_set(o, "type", json_string(cresc_control_type_name(c->type)), rc);
    cresc_jsonv_set(o, "issued_at_ms", json_integer(c->issued_at_ms), rc);
    switch (c->type) {
    case CRESC_CTL_CONFIG_UPDATE:
        if (!json_is_object(c->config)) {
            *rc = *rc != 0 ? *rc : CRESC_EINVAL;
            break;
        }
        cresc_jsonv_set(o, "config", json_incref(c->config), rc);
        break;
    case CRESC_CTL_SCALE:
        cresc_jsonv_set(o, "target_instances", json_integer(c->target_instances), rc);
        cresc_jsonv_set(o, "reason", json_string(c->reason), rc);
        break;
    case CRESC_CTL_PRIORITY_UPSERT:
        cresc_jsonv_set(o, "match_id", json_string(c->match_id), rc);
        cresc_jsonv_set(o, "priority", json_integer(c->priority), rc);
        cresc_jsonv_set(o, "resource_allocation", cresc_jsonv_real(c->resource_allocation, rc), rc);
        break;
    case CRESC_CTL_PRIORITY_DELETE:
        cresc_jsonv_set(o, "match_id", json_string(c->match_id), rc);
        break;
    case CRESC_CTL_PAUSE:
    case CRESC_CTL_RESUME:
        break;
    default:
        *rc = *rc != 0 ? *rc : CRESC_EINVAL;
        break;
    }
    return o;
}

/* Reads everything but takes no reference: *config_out is borrowed from `o`. */
static int control_from_json(struct cresc_jsonv *v, const json_t *o, struct cresc_control *out,
                             json_t **config_out)
{
    memset(out, 0, sizeof(*out));
    *config_out = NULL;
    int rc;
    int type = 0;
    if ((rc = cresc_jsonv_str(v, o, "request_id", JV_REQUIRED | JV_ID, out->request_id,
                              sizeof(out->request_id), NULL)) ||
        (rc = cresc_jsonv_str(v, o, "service", JV_REQUIRED | JV_ID, out->service,
                              sizeof(out->service), NULL)) ||
        (rc = cresc_jsonv_enum(v, o, "type", JV_REQUIRED, type_names, N_TYPES, &type, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "issued_at_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS,
                              &out->issued_at_ms, NULL))) {
        return rc;
    }
    out->type = (enum cresc_control_type)type;
    switch (out->type) {
    case CRESC_CTL_CONFIG_UPDATE:
        /* Only the shape is checked here: a partial config is validated as a whole against
         * the service's current config by the coordinator, which acks the result. */
        return cresc_jsonv_obj(v, o, "config", JV_REQUIRED, config_out);
    case CRESC_CTL_SCALE:
        if ((rc = cresc_jsonv_i32(v, o, "target_instances", JV_REQUIRED, 0, CRESC_COUNT_MAX,
                                  &out->target_instances, NULL))) {
            return rc;
        }
        return cresc_jsonv_str(v, o, "reason", JV_NULLABLE, out->reason, sizeof(out->reason), NULL);
    case CRESC_CTL_PRIORITY_UPSERT:
        if ((rc = cresc_jsonv_i32(v, o, "priority", JV_REQUIRED, 1, 10, &out->priority, NULL)) ||
            (rc = cresc_jsonv_num(v, o, "resource_allocation", JV_REQUIRED | JV_LO_OPEN, 0.0, 100.0,
                                  &out->resource_allocation, NULL))) {
            return rc;
        }
        return cresc_jsonv_str(v, o, "match_id", JV_REQUIRED | JV_ID, out->match_id,
                               sizeof(out->match_id), NULL);
    case CRESC_CTL_PRIORITY_DELETE:
        return cresc_jsonv_str(v, o, "match_id", JV_REQUIRED | JV_ID, out->match_id,
                               sizeof(out->match_id), NULL);
    case CRESC_CTL_PAUSE:
    case CRESC_CTL_RESUME:
        return 0;
    }
    return cresc_jsonv_fail(v, CRESC_EINVAL, "type", "unknown type");
}

int cresc_control_encode(const struct cresc_control *c, char *buf, size_t cap, size_t *len)
{
    (void)cresc_msg_encode_slot(); /* no stale reason from an earlier encode */
    if (c == NULL || buf == NULL) {
        return CRESC_EINVAL;
    }
    int rc = 0;
    json_t *o = control_to_json(c, &rc);
    if (rc == 0) {
        struct cresc_jsonv v;
        struct cresc_control check;
        json_t *cfg;
        cresc_msg_jsonv_init(&v, cresc_msg_encode_slot());
        rc = control_from_json(&v, o, &check, &cfg);
    }
    return cresc_msg_finish(o, rc, buf, cap, (size_t)CRESC_CONTROL_MAX_BYTES, len);
}

int cresc_control_decode(const char *buf, size_t len, struct cresc_control *out,
                         struct cresc_msg_error *err)
{
    struct cresc_jsonv v;
    json_t *root = NULL;
    if (out == NULL) {
        return CRESC_EINVAL;
    }
    memset(out, 0, sizeof(*out)); /* so a failed decode leaves nothing to release */
    cresc_msg_jsonv_init(&v, err);
    int rc = cresc_msg_parse(&v, buf, len, (size_t)CRESC_CONTROL_MAX_BYTES, &root);
    if (rc == 0) {
        json_t *cfg = NULL;
        rc = control_from_json(&v, root, out, &cfg);
        if (rc == 0 && cfg != NULL) {
            out->config = json_incref(cfg);
        }
        if (rc != 0) {
            out->config = NULL;
        }
    }
    json_decref(root);
    return rc;
}

void cresc_control_release(struct cresc_control *c)
{
    if (c == NULL) {
        return;
    }
    json_decref(c->config);
    c->config = NULL;
}
