/* Control-command application (control.h). Every outcome is an acknowledgement in the
 * service's state, which the API reads back to answer its caller (read-your-writes). */
#include "control.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int reject(struct cresc_control_result *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int reject(struct cresc_control_result *out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(out->reason, sizeof(out->reason), fmt, ap);
    va_end(ap);
    out->status = CRESC_ACK_REJECTED;
    return 0;
}

static int apply_config(struct cresc_service *s, const struct cresc_control *c,
                        struct cresc_control_result *out)
{
    if (c->config == NULL || !json_is_object(c->config)) {
        return reject(out, "config: must be an object");
    }
    struct cresc_scaling_config next = s->config;
    char field[96] = "";
    char why[CRESC_REASON_MAX] = "";
    int rc =
        cresc_scaling_config_apply_json(&next, c->config, field, sizeof(field), why, sizeof(why));
    if (rc == CRESC_ENOMEM) {
        return rc;
    }
    if (rc != 0) {
        return reject(out, "%s%s%s", field, field[0] ? ": " : "", why[0] ? why : "invalid");
    }
    s->config = next;
    s->config_version++;
    s->dirty = true;
    return 0;
}

static int apply_scale(struct cresc_service *s, const struct cresc_control *c, int64_t now_ms,
                       int64_t wall_ms, struct cresc_control_result *out)
{
    const int32_t t = c->target_instances;
    if (t < s->config.min_instances || t > s->config.max_instances) {
        return reject(out,
                      "target_instances %" PRId32 " is outside [min_instances %" PRId32
                      ", max_instances %" PRId32 "]",
                      t, s->config.min_instances, s->config.max_instances);
    }
    cresc_service_manual_scale(s, t, c->reason, c->request_id, now_ms, wall_ms, &out->command,
                               &out->has_command);
    return 0;
}

static int apply_one(struct cresc_service *s, const struct cresc_control *c, int64_t now_ms,
                     int64_t wall_ms, struct cresc_control_result *out)
{
    int rc;
    switch (c->type) {
    case CRESC_CTL_CONFIG_UPDATE:
        return apply_config(s, c, out);
    case CRESC_CTL_SCALE:
        return apply_scale(s, c, now_ms, wall_ms, out);
    case CRESC_CTL_PRIORITY_UPSERT:
        rc = cresc_service_priority_upsert(s, c->match_id, c->priority, c->resource_allocation);
        if (rc == CRESC_EFULL) {
            return reject(out, "too many priorities: at most %d per service", CRESC_PRIORITIES_MAX);
        }
        if (rc == CRESC_EINVAL) {
            return reject(out, "priority must be 1..10 and resource_allocation in (0, 100]");
        }
        return rc;
    case CRESC_CTL_PRIORITY_DELETE:
        rc = cresc_service_priority_delete(s, c->match_id);
        if (rc == CRESC_ENOTFOUND) {
            return reject(out, "no priority for match_id %s", c->match_id);
        }
        return rc;
    case CRESC_CTL_PAUSE:
        s->paused = true;
        s->dirty = true;
        return 0;
    case CRESC_CTL_RESUME:
        s->paused = false;
        s->dirty = true;
        return 0;
    }
    return reject(out, "unknown command type");
}

int cresc_control_apply(struct cresc_service *s, const struct cresc_control *c, int64_t now_ms,
                        int64_t wall_ms, struct cresc_control_result *out)
{
    memset(out, 0, sizeof(*out));
    const struct cresc_ack *seen = cresc_service_ack_find(s, c->request_id);
    if (seen != NULL) {
        out->duplicate = true;
        out->status = seen->status;
        (void)snprintf(out->reason, sizeof(out->reason), "%s", seen->reason);
        return 0;
    }
    out->status = CRESC_ACK_APPLIED;
    int rc = apply_one(s, c, now_ms, wall_ms, out);
    if (rc == 0 && out->status == CRESC_ACK_APPLIED && c->type != CRESC_CTL_PAUSE &&
        c->type != CRESC_CTL_RESUME) {
        /* The snapshot carrying this acknowledgement also carries the allocation and
         * placement that follow from it (read-your-writes for the API). */
        rc = cresc_service_allocate(s, now_ms);
    }
    if (rc != 0) {
        return rc;
    }
    return cresc_service_ack_add(s, c->request_id, out->status,
                                 out->status == CRESC_ACK_REJECTED ? out->reason : "", wall_ms);
}
