/* scaling.state codec: the full snapshot of one service (compacted topic, keyed by service):
 * the API's view and the failover source, so every field of struct cresc_state round-trips
 * (docs/messages.md#scaling-state). Arrays are heap and bounded by limits.h. */
#include "cresc/msg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg_internal.h"

static const char *const ack_names[] = {"applied", "rejected"};

void cresc_state_init(struct cresc_state *st)
{
    memset(st, 0, sizeof(*st));
    cresc_scaling_config_defaults(&st->config);
}

void cresc_state_release(struct cresc_state *st)
{
    if (st == NULL) {
        return;
    }
    free(st->live);
    free(st->recs);
    free(st->events);
    free(st->priorities);
    free(st->acks);
    st->live = NULL;
    st->recs = NULL;
    st->events = NULL;
    st->priorities = NULL;
    st->acks = NULL;
    st->n_live = st->n_recs = st->n_events = st->n_priorities = st->n_acks = 0;
}

/* ---- encode --------------------------------------------------------------------------- */

static json_t *live_to_json(const struct cresc_live_instance *li, int *rc)
{
    json_t *o = json_object();
    unsigned p = li->present;
    cresc_jsonv_set(o, "instance_id", json_string(li->instance_id), rc);
    cresc_jsonv_set(o, "node", json_string(li->node), rc);
    cresc_jsonv_set(o, "last_seen_ms", json_integer(li->last_seen_ms), rc);
    if (li->seq > (uint64_t)INT64_MAX) {
        *rc = *rc != 0 ? *rc : CRESC_ERANGE;
    }
    cresc_jsonv_set(o, "seq", json_integer((json_int_t)li->seq), rc);
    cresc_jsonv_set(o, "cpu_pct",
                    cresc_jsonv_real_or_null((p & CRESC_SAMPLE_HAS_CPU) != 0, li->cpu_pct, rc), rc);
    cresc_jsonv_set(o, "mem_pct",
                    cresc_jsonv_real_or_null((p & CRESC_SAMPLE_HAS_MEM) != 0, li->mem_pct, rc), rc);
    cresc_jsonv_set(o, "req_per_s",
                    cresc_jsonv_real_or_null((p & CRESC_SAMPLE_HAS_REQ) != 0, li->req_per_s, rc),
                    rc);
    cresc_jsonv_set(
        o, "active_connections",
        cresc_jsonv_real_or_null((p & CRESC_SAMPLE_HAS_CONNS) != 0, li->active_connections, rc),
        rc);
    if ((p & CRESC_SAMPLE_HAS_DISK) != 0) {
        const double disk[4] = {li->disk_read_ops_per_s, li->disk_write_ops_per_s,
                                li->disk_read_bytes_per_s, li->disk_write_bytes_per_s};
        cresc_jsonv_set(o, "disk", cresc_msg_disk_to_json(disk, rc), rc);
    } else {
        cresc_jsonv_set(o, "disk", json_null(), rc);
    }
    return o;
}

static json_t *history_to_json(const struct cresc_state *st, int *rc)
{
    json_t *h = json_object();
    json_t *recs = json_array();
    for (size_t i = 0; i < st->n_recs && *rc == 0; i++) {
        json_t *r = json_object();
        cresc_jsonv_set(r, "at_ms", json_integer(st->recs[i].at_ms), rc);
        cresc_jsonv_set(r, "instances", json_integer(st->recs[i].instances), rc);
        cresc_jsonv_append(recs, r, rc);
    }
    cresc_jsonv_set(h, "recommendations", recs, rc);
    json_t *evs = json_array();
    for (size_t i = 0; i < st->n_events && *rc == 0; i++) {
        json_t *e = json_object();
        cresc_jsonv_set(e, "at_ms", json_integer(st->events[i].at_ms), rc);
        cresc_jsonv_set(e, "from", json_integer(st->events[i].from), rc);
        cresc_jsonv_set(e, "to", json_integer(st->events[i].to), rc);
        cresc_jsonv_append(evs, e, rc);
    }
    cresc_jsonv_set(h, "scale_events", evs, rc);
    return h;
}

static json_t *priorities_to_json(const struct cresc_state *st, int *rc)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < st->n_priorities && *rc == 0; i++) {
        const struct cresc_priority *p = &st->priorities[i];
        json_t *o = json_object();
        cresc_jsonv_set(o, "match_id", json_string(p->match_id), rc);
        cresc_jsonv_set(o, "priority", json_integer(p->priority), rc);
        cresc_jsonv_set(o, "resource_allocation", cresc_jsonv_real(p->resource_allocation, rc), rc);
        cresc_jsonv_set(o, "allocated_pct", cresc_jsonv_real(p->allocated_pct, rc), rc);
        cresc_jsonv_set(o, "instance_id", json_string(p->instance_id), rc);
        cresc_jsonv_append(arr, o, rc);
    }
    return arr;
}

static json_t *acks_to_json(const struct cresc_state *st, int *rc)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < st->n_acks && *rc == 0; i++) {
        const struct cresc_ack *a = &st->acks[i];
        json_t *o = json_object();
        cresc_jsonv_set(o, "request_id", json_string(a->request_id), rc);
        cresc_jsonv_set(o, "status",
                        json_string((unsigned)a->status < 2 ? ack_names[a->status] : "unknown"),
                        rc);
        cresc_jsonv_set(o, "reason", json_string(a->reason), rc);
        cresc_jsonv_set(o, "at_ms", json_integer(a->at_ms), rc);
        cresc_jsonv_append(arr, o, rc);
    }
    return arr;
}

static int check_counts(const struct cresc_state *st)
{
    if (st->n_live > CRESC_STATE_LIVE_MAX || st->n_recs > CRESC_HISTORY_MAX ||
        st->n_events > CRESC_HISTORY_MAX || st->n_priorities > CRESC_PRIORITIES_MAX ||
        st->n_acks > CRESC_ACKS_MAX) {
        struct cresc_msg_error *why = cresc_msg_encode_slot();
        (void)snprintf(
            why->reason, sizeof(why->reason),
            "a list exceeds its limit (live %zu/%d, history %zu+%zu/%d, priorities %zu/%d, "
            "acks %zu/%d)",
            st->n_live, CRESC_STATE_LIVE_MAX, st->n_recs, st->n_events, CRESC_HISTORY_MAX,
            st->n_priorities, CRESC_PRIORITIES_MAX, st->n_acks, CRESC_ACKS_MAX);
        return CRESC_ERANGE;
    }
    if ((st->n_live > 0 && st->live == NULL) || (st->n_recs > 0 && st->recs == NULL) ||
        (st->n_events > 0 && st->events == NULL) ||
        (st->n_priorities > 0 && st->priorities == NULL) || (st->n_acks > 0 && st->acks == NULL)) {
        return CRESC_EINVAL;
    }
    return 0;
}

static json_t *state_build(const struct cresc_state *st, int *rc)
{
    *rc = check_counts(st);
    if (*rc != 0) {
        return NULL;
    }
    json_t *o = cresc_msg_new_root(rc);
    cresc_jsonv_set(o, "service", json_string(st->service), rc);
    cresc_jsonv_set(o, "owner_epoch", json_integer(st->owner_epoch), rc);
    cresc_jsonv_set(o, "state_seq", json_integer(st->state_seq), rc);
    cresc_jsonv_set(o, "updated_at_ms", json_integer(st->updated_at_ms), rc);
    cresc_jsonv_set(o, "config_version", json_integer(st->config_version), rc);
    cresc_jsonv_set(o, "config", cresc_scaling_config_to_json(&st->config), rc);
    cresc_jsonv_set(o, "current_instances", json_integer(st->current_instances), rc);
    cresc_jsonv_set(o, "paused", json_boolean(st->paused), rc);
    cresc_jsonv_set(o, "last_scale_at_ms", json_integer(st->last_scale_at_ms), rc);
    cresc_jsonv_set(o, "cooldown_remaining_ms", json_integer(st->cooldown_remaining_ms), rc);
    cresc_jsonv_set(o, "metrics", cresc_metrics_to_json(&st->metrics), rc);
    cresc_jsonv_set(o, "active_connections_total",
                    cresc_jsonv_real(st->active_connections_total, rc), rc);
    const double disk[4] = {st->disk_read_ops_per_s, st->disk_write_ops_per_s,
                            st->disk_read_bytes_per_s, st->disk_write_bytes_per_s};
    cresc_jsonv_set(o, "disk", cresc_msg_disk_to_json(disk, rc), rc);
    cresc_jsonv_set(o, "live_total", json_integer(st->live_total), rc);
    json_t *live = json_array();
    for (size_t i = 0; i < st->n_live && *rc == 0; i++) {
        cresc_jsonv_append(live, live_to_json(&st->live[i], rc), rc);
    }
    cresc_jsonv_set(o, "live", live, rc);
    if (st->has_last_decision) {
        json_t *d = json_object();
        if (*rc == 0 && d != NULL) {
            *rc = cresc_decision_msg_fill(d, &st->last_decision);
        }
        cresc_jsonv_set(o, "last_decision", d, rc);
    } else {
        cresc_jsonv_set(o, "last_decision", json_null(), rc);
    }
    cresc_jsonv_set(o, "history", history_to_json(st, rc), rc);
    cresc_jsonv_set(o, "capacity_pct", cresc_jsonv_real(st->capacity_pct, rc), rc);
    cresc_jsonv_set(o, "priorities", priorities_to_json(st, rc), rc);
    cresc_jsonv_set(o, "acks", acks_to_json(st, rc), rc);
    cresc_jsonv_set(o, "actuator", json_string(st->actuator), rc);
    cresc_jsonv_set(o, "actuator_status", json_string(st->actuator_status), rc);
    if (*rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *cresc_state_to_json(const struct cresc_state *st)
{
    if (st == NULL) {
        return NULL;
    }
    int rc = 0;
    return state_build(st, &rc);
}

/* ---- decode --------------------------------------------------------------------------- */

/* Run `fn` on each element of the array member `key` (path "key[i]"). */
typedef int (*elem_fn)(struct cresc_jsonv *v, const json_t *o, void *elem);

static int read_array(struct cresc_jsonv *v, const json_t *arr, const char *key, void *base,
                      size_t elem_size, elem_fn fn)
{
    size_t i;
    json_t *item;
    json_array_foreach(arr, i, item)
    {
        size_t mark = cresc_jsonv_push_key(v, key);
        cresc_jsonv_push_index(v, i);
        int rc = json_is_object(item) ? fn(v, item, (char *)base + i * elem_size)
                                      : cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "must be an object");
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int live_from_json(struct cresc_jsonv *v, const json_t *o, void *elem)
{
    struct cresc_live_instance *li = elem;
    int rc;
    int64_t seq = 0;
    bool has = false;
    json_t *disk = NULL;
    if ((rc = cresc_jsonv_str(v, o, "instance_id", JV_REQUIRED | JV_ID, li->instance_id,
                              sizeof(li->instance_id), NULL)) ||
        (rc = cresc_jsonv_str(v, o, "node", JV_REQUIRED | JV_ID, li->node, sizeof(li->node),
                              NULL)) ||
        (rc = cresc_jsonv_int(v, o, "last_seen_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS,
                              &li->last_seen_ms, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "seq", JV_REQUIRED, 0, INT64_MAX, &seq, NULL))) {
        return rc;
    }
    li->seq = (uint64_t)seq;
    const char *keys[4] = {"cpu_pct", "mem_pct", "req_per_s", "active_connections"};
    double *vals[4] = {&li->cpu_pct, &li->mem_pct, &li->req_per_s, &li->active_connections};
    const double his[4] = {100.0, 100.0, HUGE_VAL, HUGE_VAL};
    const unsigned bits[4] = {CRESC_SAMPLE_HAS_CPU, CRESC_SAMPLE_HAS_MEM, CRESC_SAMPLE_HAS_REQ,
                              CRESC_SAMPLE_HAS_CONNS};
    for (size_t k = 0; k < 4; k++) {
        if ((rc = cresc_jsonv_num(v, o, keys[k], JV_NULLABLE, 0.0, his[k], vals[k], &has))) {
            return rc;
        }
        li->present |= has ? bits[k] : 0U;
    }
    if ((rc = cresc_jsonv_obj(v, o, "disk", JV_NULLABLE, &disk))) {
        return rc;
    }
    if (disk != NULL) {
        double d[4];
        size_t mark = cresc_jsonv_push_key(v, "disk");
        rc = cresc_msg_disk_from_json(v, disk, d);
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
        li->disk_read_ops_per_s = d[0];
        li->disk_write_ops_per_s = d[1];
        li->disk_read_bytes_per_s = d[2];
        li->disk_write_bytes_per_s = d[3];
        li->present |= CRESC_SAMPLE_HAS_DISK;
    }
    return 0;
}

static int rec_from_json(struct cresc_jsonv *v, const json_t *o, void *elem)
{
    struct cresc_recommendation *r = elem;
    int rc;
    if ((rc = cresc_jsonv_int(v, o, "at_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS, &r->at_ms, NULL))) {
        return rc;
    }
    return cresc_jsonv_i32(v, o, "instances", JV_REQUIRED, 0, INT32_MAX, &r->instances, NULL);
}

static int event_from_json(struct cresc_jsonv *v, const json_t *o, void *elem)
{
    struct cresc_scale_event *e = elem;
    int rc;
    if ((rc = cresc_jsonv_int(v, o, "at_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS, &e->at_ms, NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "from", JV_REQUIRED, 0, INT32_MAX, &e->from, NULL))) {
        return rc;
    }
    return cresc_jsonv_i32(v, o, "to", JV_REQUIRED, 0, INT32_MAX, &e->to, NULL);
}

static int priority_from_json(struct cresc_jsonv *v, const json_t *o, void *elem)
{
    struct cresc_priority *p = elem;
    int rc;
    if ((rc = cresc_jsonv_str(v, o, "match_id", JV_REQUIRED | JV_ID, p->match_id,
                              sizeof(p->match_id), NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "priority", JV_REQUIRED, 1, 10, &p->priority, NULL)) ||
        (rc = cresc_jsonv_num(v, o, "resource_allocation", JV_REQUIRED | JV_LO_OPEN, 0.0, 100.0,
                              &p->resource_allocation, NULL)) ||
        /* The allocator's arithmetic may land a hair above the request; 1e-6 points of
         * slack keep a correct allocation from making the whole snapshot unpublishable. */
        (rc = cresc_jsonv_num(v, o, "allocated_pct", JV_REQUIRED, 0.0,
                              p->resource_allocation + 1e-6, &p->allocated_pct, NULL)) ||
        (rc = cresc_jsonv_str(v, o, "instance_id", JV_NULLABLE, p->instance_id,
                              sizeof(p->instance_id), NULL))) {
        return rc;
    }
    if (p->instance_id[0] != '\0' && !cresc_id_valid(p->instance_id)) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, "instance_id", "not an identifier");
    }
    return 0;
}

static int ack_from_json(struct cresc_jsonv *v, const json_t *o, void *elem)
{
    struct cresc_ack *a = elem;
    int rc;
    int status = 0;
    if ((rc = cresc_jsonv_str(v, o, "request_id", JV_REQUIRED | JV_ID, a->request_id,
                              sizeof(a->request_id), NULL)) ||
        (rc = cresc_jsonv_enum(v, o, "status", JV_REQUIRED, ack_names, 2, &status, NULL)) ||
        (rc = cresc_jsonv_str(v, o, "reason", JV_REQUIRED, a->reason, sizeof(a->reason), NULL)) ||
        (rc = cresc_jsonv_int(v, o, "at_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS, &a->at_ms, NULL))) {
        return rc;
    }
    a->status = (enum cresc_ack_status)status;
    return 0;
}

/* Allocate *base for the array member `key` (required, at most max items) and read it. */
static int read_list(struct cresc_jsonv *v, const json_t *o, const char *key, size_t max,
                     size_t elem_size, elem_fn fn, void **base, size_t *n)
{
    json_t *arr = NULL;
    int rc = cresc_jsonv_arr(v, o, key, JV_REQUIRED, max, &arr);
    if (rc != 0) {
        return rc;
    }
    size_t count = json_array_size(arr);
    if (count == 0) {
        return 0;
    }
    *base = calloc(count, elem_size);
    if (*base == NULL) {
        return cresc_jsonv_fail(v, CRESC_ENOMEM, key, "out of memory");
    }
    *n = count;
    return read_array(v, arr, key, *base, elem_size, fn);
}

static int state_scalars(struct cresc_jsonv *v, const json_t *o, struct cresc_state *st)
{
    int rc;
    if ((rc = cresc_jsonv_str(v, o, "service", JV_REQUIRED | JV_ID, st->service,
                              sizeof(st->service), NULL)) ||
        (rc = cresc_jsonv_int(v, o, "owner_epoch", JV_REQUIRED, 0, INT64_MAX, &st->owner_epoch,
                              NULL)) ||
        (rc =
             cresc_jsonv_int(v, o, "state_seq", JV_REQUIRED, 0, INT64_MAX, &st->state_seq, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "updated_at_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS,
                              &st->updated_at_ms, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "config_version", JV_REQUIRED, 0, INT64_MAX,
                              &st->config_version, NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "current_instances", JV_REQUIRED, 0, INT32_MAX,
                              &st->current_instances, NULL)) ||
        (rc = cresc_jsonv_bool(v, o, "paused", JV_REQUIRED, &st->paused, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "last_scale_at_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS,
                              &st->last_scale_at_ms, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "cooldown_remaining_ms", JV_REQUIRED, 0, INT64_MAX,
                              &st->cooldown_remaining_ms, NULL)) ||
        (rc = cresc_jsonv_num(v, o, "active_connections_total", JV_REQUIRED, 0.0, HUGE_VAL,
                              &st->active_connections_total, NULL)) ||
        (rc = cresc_jsonv_i32(v, o, "live_total", JV_REQUIRED, 0, INT32_MAX, &st->live_total,
                              NULL)) ||
        (rc = cresc_jsonv_num(v, o, "capacity_pct", JV_REQUIRED, 0.0, HUGE_VAL, &st->capacity_pct,
                              NULL)) ||
        (rc = cresc_jsonv_str(v, o, "actuator", JV_REQUIRED, st->actuator, sizeof(st->actuator),
                              NULL)) ||
        (rc = cresc_jsonv_str(v, o, "actuator_status", JV_REQUIRED, st->actuator_status,
                              sizeof(st->actuator_status), NULL))) {
        return rc;
    }
    return 0;
}

static int state_objects(struct cresc_jsonv *v, const json_t *o, struct cresc_state *st)
{
    int rc;
    json_t *cfg = NULL, *metrics = NULL, *disk = NULL, *last = NULL;
    if ((rc = cresc_jsonv_obj(v, o, "config", JV_REQUIRED, &cfg)) ||
        (rc = cresc_jsonv_obj(v, o, "metrics", JV_REQUIRED, &metrics)) ||
        (rc = cresc_jsonv_obj(v, o, "disk", JV_REQUIRED, &disk)) ||
        (rc = cresc_jsonv_obj(v, o, "last_decision", JV_NULLABLE, &last))) {
        return rc;
    }
    size_t mark = cresc_jsonv_push_key(v, "config");
    /* The state carries the whole config (a snapshot, not an update): every member the
     * encoder writes must be there, so a truncated config is not silently filled with
     * defaults on failover. */
    static const char *const config_keys[] = {
        "min_instances",     "max_instances",          "cpu_threshold",
        "memory_threshold",  "request_rate_threshold", "scaling_cooldown",
        "scale_up_cooldown", "scale_down_cooldown",    "load_balancer_strategy",
        "tolerance",         "policies_explicit",      "policies",
        "behavior"};
    for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++) {
        if (json_object_get(cfg, config_keys[i]) == NULL) {
            rc = cresc_jsonv_fail(v, CRESC_EMISSING, config_keys[i], "required field is missing");
            cresc_jsonv_pop(v, mark);
            return rc;
        }
    }
    rc = cresc_scaling_config_apply_json_v(v, &st->config, cfg);
    cresc_jsonv_pop(v, mark);
    if (rc != 0) {
        return rc;
    }
    mark = cresc_jsonv_push_key(v, "metrics");
    rc = cresc_metrics_from_json_v(v, metrics, &st->metrics);
    cresc_jsonv_pop(v, mark);
    if (rc != 0) {
        return rc;
    }
    double d[4];
    mark = cresc_jsonv_push_key(v, "disk");
    rc = cresc_msg_disk_from_json(v, disk, d);
    cresc_jsonv_pop(v, mark);
    if (rc != 0) {
        return rc;
    }
    st->disk_read_ops_per_s = d[0];
    st->disk_write_ops_per_s = d[1];
    st->disk_read_bytes_per_s = d[2];
    st->disk_write_bytes_per_s = d[3];
    if (last != NULL) {
        mark = cresc_jsonv_push_key(v, "last_decision");
        rc = cresc_decision_msg_from_json_v(v, last, &st->last_decision);
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
        st->has_last_decision = true;
    }
    return 0;
}

static int state_lists(struct cresc_jsonv *v, const json_t *o, struct cresc_state *st)
{
    int rc;
    json_t *hist = NULL;
    if ((rc = read_list(v, o, "live", CRESC_STATE_LIVE_MAX, sizeof(*st->live), live_from_json,
                        (void **)&st->live, &st->n_live))) {
        return rc;
    }
    if ((size_t)st->live_total < st->n_live) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, "live_total",
                                "%d is less than the %zu live instances listed",
                                (int)st->live_total, st->n_live);
    }
    if ((rc = cresc_jsonv_obj(v, o, "history", JV_REQUIRED, &hist))) {
        return rc;
    }
    size_t mark = cresc_jsonv_push_key(v, "history");
    rc = read_list(v, hist, "recommendations", CRESC_HISTORY_MAX, sizeof(*st->recs), rec_from_json,
                   (void **)&st->recs, &st->n_recs);
    if (rc == 0) {
        rc = read_list(v, hist, "scale_events", CRESC_HISTORY_MAX, sizeof(*st->events),
                       event_from_json, (void **)&st->events, &st->n_events);
    }
    cresc_jsonv_pop(v, mark);
    if (rc != 0) {
        return rc;
    }
    if ((rc = read_list(v, o, "priorities", CRESC_PRIORITIES_MAX, sizeof(*st->priorities),
                        priority_from_json, (void **)&st->priorities, &st->n_priorities))) {
        return rc;
    }
    for (size_t i = 1; st->priorities != NULL && i < st->n_priorities; i++) {
        /* Sorted and unique by match_id: consumers binary-search it and a duplicate would be
         * two answers for one match. */
        if (strcmp(st->priorities[i - 1].match_id, st->priorities[i].match_id) >= 0) {
            mark = cresc_jsonv_push_key(v, "priorities");
            cresc_jsonv_push_index(v, i);
            rc = cresc_jsonv_fail(v, CRESC_EINVAL, "match_id",
                                  "priorities must be sorted by match_id without duplicates");
            cresc_jsonv_pop(v, mark);
            return rc;
        }
    }
    return read_list(v, o, "acks", CRESC_ACKS_MAX, sizeof(*st->acks), ack_from_json,
                     (void **)&st->acks, &st->n_acks);
}

static int state_from_json(struct cresc_jsonv *v, const json_t *o, struct cresc_state *st)
{
    cresc_state_init(st);
    int rc;
    if ((rc = state_scalars(v, o, st)) || (rc = state_objects(v, o, st)) ||
        (rc = state_lists(v, o, st))) {
        cresc_state_release(st);
        return rc;
    }
    return 0;
}

int cresc_state_encode(const struct cresc_state *st, char **out, size_t *len)
{
    (void)cresc_msg_encode_slot(); /* no stale reason from an earlier encode */
    if (st == NULL || out == NULL) {
        return CRESC_EINVAL;
    }
    *out = NULL;
    int rc = 0;
    json_t *o = state_build(st, &rc);
    if (rc != 0) {
        return rc;
    }
    struct cresc_state *check = malloc(sizeof(*check));
    if (check == NULL) {
        json_decref(o);
        return CRESC_ENOMEM;
    }
    struct cresc_jsonv v;
    cresc_msg_jsonv_init(&v, cresc_msg_encode_slot());
    rc = state_from_json(&v, o, check);
    cresc_state_release(check);
    free(check);
    if (rc != 0) {
        json_decref(o);
        return rc;
    }
    /* One pass into a buffer of the limit + 1: a document that fills it is too big. Large
     * allocations are mmap-backed, so untouched pages cost nothing. */
    char *buf = malloc((size_t)CRESC_STATE_MAX_BYTES + 1);
    if (buf == NULL) {
        json_decref(o);
        return CRESC_ENOMEM;
    }
    size_t n = 0;
    rc = cresc_jsonv_dump(o, buf, (size_t)CRESC_STATE_MAX_BYTES + 1, (size_t)CRESC_STATE_MAX_BYTES,
                          &n);
    json_decref(o);
    if (rc != 0) {
        free(buf);
        if (rc == CRESC_ETOOBIG) {
            struct cresc_msg_error *why = cresc_msg_encode_slot();
            (void)snprintf(why->reason, sizeof(why->reason), "state exceeds the limit of %d bytes",
                           CRESC_STATE_MAX_BYTES);
        }
        return rc;
    }
    char *shrunk = realloc(buf, n + 1);
    if (shrunk != NULL) {
        buf = shrunk;
    }
    if (len != NULL) {
        *len = n;
    }
    *out = buf;
    return 0;
}

int cresc_state_decode(const char *buf, size_t len, struct cresc_state *out,
                       struct cresc_msg_error *err)
{
    struct cresc_jsonv v;
    json_t *root = NULL;
    if (out == NULL) {
        return CRESC_EINVAL;
    }
    cresc_state_init(out);
    cresc_msg_jsonv_init(&v, err);
    int rc = cresc_msg_parse(&v, buf, len, (size_t)CRESC_STATE_MAX_BYTES, &root);
    if (rc == 0) {
        rc = state_from_json(&v, root, out);
    }
    json_decref(root);
    return rc;
}
