/* Read documents of crescendo-api (docs/api.md): what an operator asks about a service,
 * built from the coordinator's state snapshot with jansson. Missing metrics are null, not 0,
 * so a dashboard can tell "idle" from "no data". */
#include "render.h"

#include <stdlib.h>
#include <string.h>

static json_t *num_or_null(bool has, double v)
{
    return has ? json_real(v) : json_null();
}

static json_t *render_live(const struct cresc_live_instance *li)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "instance_id", json_string(li->instance_id));
    json_object_set_new(o, "node", json_string(li->node));
    json_object_set_new(o, "last_seen_ms", json_integer(li->last_seen_ms));
    json_object_set_new(o, "cpu_pct", num_or_null(li->present & CRESC_SAMPLE_HAS_CPU, li->cpu_pct));
    json_object_set_new(o, "memory_pct",
                        num_or_null(li->present & CRESC_SAMPLE_HAS_MEM, li->mem_pct));
    json_object_set_new(o, "request_rate_per_s",
                        num_or_null(li->present & CRESC_SAMPLE_HAS_REQ, li->req_per_s));
    json_object_set_new(o, "active_connections",
                        num_or_null(li->present & CRESC_SAMPLE_HAS_CONNS, li->active_connections));
    json_object_set_new(o, "disk_read_ops_per_s",
                        num_or_null(li->present & CRESC_SAMPLE_HAS_DISK, li->disk_read_ops_per_s));
    json_object_set_new(o, "disk_write_ops_per_s",
                        num_or_null(li->present & CRESC_SAMPLE_HAS_DISK, li->disk_write_ops_per_s));
    return o;
}

static json_t *render_decision_summary(const struct cresc_state *st)
{
    if (!st->has_last_decision) {
        return json_null();
    }
    const struct cresc_decision_msg *d = &st->last_decision;
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "decision_id", json_string(d->decision_id));
    json_object_set_new(o, "evaluated_at_ms", json_integer(d->evaluated_at_ms));
    json_object_set_new(o, "scaling_needed", json_boolean(d->decision.scale));
    json_object_set_new(o, "current_instances", json_integer(d->decision.current_instances));
    json_object_set_new(o, "target_instances", json_integer(d->decision.target_instances));
    json_object_set_new(o, "direction", json_string(cresc_direction_name(d->decision.direction)));
    json_object_set_new(o, "reason", json_string(d->decision.reason));
    return o;
}

json_t *cresc_render_status(const struct cresc_state *st)
{
    const struct cresc_scaling_config *c = &st->config;
    json_t *o = json_object();
    json_t *thr = json_object();
    json_t *met = json_object();
    json_t *disk = json_object();
    json_t *live = json_object();
    json_t *insts = json_array();
    json_t *events = json_array();
    json_t *act = json_object();
    if (!o || !thr || !met || !disk || !live || !insts || !events || !act) {
        goto fail;
    }
    json_object_set_new(o, "service", json_string(st->service));
    json_object_set_new(o, "current_instances", json_integer(st->current_instances));
    json_object_set_new(o, "min_instances", json_integer(c->min_instances));
    json_object_set_new(o, "max_instances", json_integer(c->max_instances));
    json_object_set_new(o, "paused", json_boolean(st->paused));

    json_object_set_new(thr, "cpu_pct", json_real(c->cpu_threshold));
    json_object_set_new(thr, "memory_pct", json_real(c->memory_threshold));
    json_object_set_new(thr, "request_rate_per_instance", json_real(c->request_rate_threshold));
    json_object_set_new(o, "thresholds", thr);
    thr = NULL;

    const struct cresc_metrics *m = &st->metrics;
    json_object_set_new(met, "cpu_pct", num_or_null(m->has_cpu, m->cpu_pct));
    json_object_set_new(met, "memory_pct", num_or_null(m->has_mem, m->mem_pct));
    json_object_set_new(met, "request_rate_per_s", num_or_null(m->has_req, m->req_per_s));
    json_object_set_new(met, "active_connections", json_real(st->active_connections_total));
    json_object_set_new(disk, "read_ops_per_s", json_real(st->disk_read_ops_per_s));
    json_object_set_new(disk, "write_ops_per_s", json_real(st->disk_write_ops_per_s));
    json_object_set_new(disk, "read_bytes_per_s", json_real(st->disk_read_bytes_per_s));
    json_object_set_new(disk, "write_bytes_per_s", json_real(st->disk_write_bytes_per_s));
    json_object_set_new(met, "disk_io", disk);
    disk = NULL;
    json_object_set_new(o, "metrics", met);
    met = NULL;

    for (size_t i = 0; i < st->n_live; i++) {
        json_array_append_new(insts, render_live(&st->live[i]));
    }
    json_object_set_new(live, "total", json_integer(st->live_total));
    json_object_set_new(live, "instances", insts);
    insts = NULL;
    json_object_set_new(o, "live_instances", live);
    live = NULL;

    json_object_set_new(o, "last_decision", render_decision_summary(st));
    json_object_set_new(o, "cooldown_remaining_s",
                        json_real((double)st->cooldown_remaining_ms / 1000.0));
    json_object_set_new(o, "last_scale_at_ms",
                        st->last_scale_at_ms ? json_integer(st->last_scale_at_ms) : json_null());
    json_object_set_new(o, "config_version", json_integer(st->config_version));
    json_object_set_new(o, "capacity_pct", json_real(st->capacity_pct));
    json_object_set_new(o, "updated_at_ms", json_integer(st->updated_at_ms));
    json_object_set_new(o, "owner_epoch", json_integer(st->owner_epoch));

    for (size_t i = 0; i < st->n_events; i++) {
        json_t *e = json_object();
        if (e == NULL) {
            goto fail;
        }
        json_object_set_new(e, "at_ms", json_integer(st->events[i].at_ms));
        json_object_set_new(e, "from", json_integer(st->events[i].from));
        json_object_set_new(e, "to", json_integer(st->events[i].to));
        json_array_append_new(events, e);
    }
    json_object_set_new(o, "scale_events", events);
    events = NULL;

    json_object_set_new(act, "name", json_string(st->actuator));
    json_object_set_new(act, "status", json_string(st->actuator_status));
    json_object_set_new(o, "actuator", act);
    return o;
fail:
    json_decref(o);
    json_decref(thr);
    json_decref(met);
    json_decref(disk);
    json_decref(live);
    json_decref(insts);
    json_decref(events);
    json_decref(act);
    return NULL;
}

json_t *cresc_render_decision(const struct cresc_state *st)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "service", json_string(st->service));
    if (!st->has_last_decision) {
        json_object_set_new(o, "scaling_needed", json_false());
        json_object_set_new(o, "current_instances", json_integer(st->current_instances));
        json_object_set_new(o, "target_instances", json_integer(st->current_instances));
        json_object_set_new(o, "direction", json_string("none"));
        json_object_set_new(o, "reason", json_string("no evaluation yet"));
        json_object_set_new(o, "decision_id", json_null());
        json_object_set_new(o, "evaluated_at_ms", json_null());
        json_object_set_new(o, "config_version", json_integer(st->config_version));
        json_object_set_new(o, "explanation", json_null());
        return o;
    }
    const struct cresc_decision_msg *d = &st->last_decision;
    json_object_set_new(o, "scaling_needed", json_boolean(d->decision.scale));
    json_object_set_new(o, "current_instances", json_integer(d->decision.current_instances));
    json_object_set_new(o, "target_instances", json_integer(d->decision.target_instances));
    json_object_set_new(o, "direction", json_string(cresc_direction_name(d->decision.direction)));
    json_object_set_new(o, "reason", json_string(d->decision.reason));
    json_object_set_new(o, "decision_id", json_string(d->decision_id));
    json_object_set_new(o, "evaluated_at_ms", json_integer(d->evaluated_at_ms));
    json_object_set_new(o, "config_version", json_integer(d->config_version));
    json_object_set_new(o, "live_instances", json_integer(d->live_instances));
    json_t *met = json_object();
    if (met != NULL) {
        json_object_set_new(met, "cpu_pct", num_or_null(d->metrics.has_cpu, d->metrics.cpu_pct));
        json_object_set_new(met, "memory_pct", num_or_null(d->metrics.has_mem, d->metrics.mem_pct));
        json_object_set_new(met, "request_rate_per_s",
                            num_or_null(d->metrics.has_req, d->metrics.req_per_s));
    }
    json_object_set_new(o, "metrics", met ? met : json_null());
    json_t *expl = cresc_decision_to_json(&d->decision);
    json_object_set_new(o, "explanation", expl ? expl : json_null());
    return o;
}

json_t *cresc_render_config(const struct cresc_state *st)
{
    return cresc_scaling_config_to_json(&st->config);
}

json_t *cresc_render_priority(const struct cresc_priority *p)
{
    json_t *o = json_object();
    if (o == NULL) {
        return NULL;
    }
    json_object_set_new(o, "match_id", json_string(p->match_id));
    json_object_set_new(o, "priority", json_integer(p->priority));
    json_object_set_new(o, "resource_allocation", json_real(p->resource_allocation));
    json_object_set_new(o, "allocated_pct", json_real(p->allocated_pct));
    json_object_set_new(o, "instance_id",
                        p->instance_id[0] ? json_string(p->instance_id) : json_null());
    return o;
}

json_t *cresc_render_priorities(const struct cresc_state *st)
{
    json_t *o = json_object();
    json_t *arr = json_array();
    if (o == NULL || arr == NULL) {
        json_decref(o);
        json_decref(arr);
        return NULL;
    }
    for (size_t i = 0; i < st->n_priorities; i++) {
        json_array_append_new(arr, cresc_render_priority(&st->priorities[i]));
    }
    json_object_set_new(o, "service", json_string(st->service));
    json_object_set_new(o, "capacity_pct", json_real(st->capacity_pct));
    json_object_set_new(o, "priorities", arr);
    return o;
}

char *cresc_render_dump(const json_t *doc, size_t *len)
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(16));
    if (s != NULL && len != NULL) {
        *len = strlen(s);
    }
    return s;
}
