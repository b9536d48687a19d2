/* scaling.samples codec: one agent sample per message (docs/messages.md#scaling-samples).
 * Produced by crescendo-agent, consumed by the coordinator and `replay`. The encoder runs the
 * decoder's checks on what it built, so nothing we produce is something we would reject. */
#include "cresc/msg.h"

#include <math.h>
#include <string.h>

#include "msg_internal.h"

static json_t *sample_to_json(const struct cresc_sample *s, int *rc)
{
    json_t *o = cresc_msg_new_root(rc);
    if (s->seq > (uint64_t)INT64_MAX || s->dropped > (uint64_t)INT64_MAX) {
        *rc = CRESC_ERANGE;
    }
    cresc_jsonv_set(o, "service", json_string(s->service), rc);
    cresc_jsonv_set(o, "instance_id", json_string(s->instance_id), rc);
    cresc_jsonv_set(o, "node", json_string(s->node), rc);
    cresc_jsonv_set(o, "seq", json_integer((json_int_t)s->seq), rc);
    cresc_jsonv_set(o, "ts_ms", json_integer(s->ts_ms), rc);
    cresc_jsonv_set(o, "interval_ms", json_integer(s->interval_ms), rc);
    cresc_jsonv_set(o, "dropped", json_integer((json_int_t)s->dropped), rc);
    unsigned p = s->present;
    cresc_jsonv_set(o, "cpu_pct",
                    cresc_jsonv_real_or_null((p & CRESC_SAMPLE_HAS_CPU) != 0, s->cpu_pct, rc), rc);
    cresc_jsonv_set(o, "mem_pct",
                    cresc_jsonv_real_or_null((p & CRESC_SAMPLE_HAS_MEM) != 0, s->mem_pct, rc), rc);
    cresc_jsonv_set(o, "req_per_s",
                    cresc_jsonv_real_or_null((p & CRESC_SAMPLE_HAS_REQ) != 0, s->req_per_s, rc),
                    rc);
    cresc_jsonv_set(
        o, "active_connections",
        cresc_jsonv_real_or_null((p & CRESC_SAMPLE_HAS_CONNS) != 0, s->active_connections, rc), rc);
    if ((p & CRESC_SAMPLE_HAS_DISK) != 0) {
        const double disk[4] = {s->disk_read_ops_per_s, s->disk_write_ops_per_s,
                                s->disk_read_bytes_per_s, s->disk_write_bytes_per_s};
        cresc_jsonv_set(o, "disk", cresc_msg_disk_to_json(disk, rc), rc);
    } else {
        cresc_jsonv_set(o, "disk", json_null(), rc);
    }
    return o;
}

static int sample_from_json(struct cresc_jsonv *v, const json_t *o, struct cresc_sample *out)
{
    memset(out, 0, sizeof(*out));
    int rc;
    int64_t seq = 0, dropped = 0;
    bool has = false;
    json_t *disk = NULL;
    if ((rc = cresc_jsonv_str(v, o, "service", JV_REQUIRED | JV_ID, out->service,
                              sizeof(out->service), NULL)) ||
        (rc = cresc_jsonv_str(v, o, "instance_id", JV_REQUIRED | JV_ID, out->instance_id,
                              sizeof(out->instance_id), NULL)) ||
        (rc = cresc_jsonv_str(v, o, "node", JV_REQUIRED | JV_ID, out->node, sizeof(out->node),
                              NULL)) ||
        (rc = cresc_jsonv_int(v, o, "seq", JV_REQUIRED, 1, INT64_MAX, &seq, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "ts_ms", JV_REQUIRED, 0, CRESC_TS_MAX_MS, &out->ts_ms, NULL)) ||
        (rc = cresc_jsonv_int(v, o, "interval_ms", JV_REQUIRED, 1, 86400000, &out->interval_ms,
                              NULL)) ||
        (rc = cresc_jsonv_int(v, o, "dropped", 0, 0, INT64_MAX, &dropped, NULL))) {
        return rc;
    }
    out->seq = (uint64_t)seq;
    out->dropped = (uint64_t)dropped;
    if ((rc = cresc_jsonv_num(v, o, "cpu_pct", JV_NULLABLE, 0.0, 100.0, &out->cpu_pct, &has))) {
        return rc;
    }
    out->present |= has ? CRESC_SAMPLE_HAS_CPU : 0U;
    if ((rc = cresc_jsonv_num(v, o, "mem_pct", JV_NULLABLE, 0.0, 100.0, &out->mem_pct, &has))) {
        return rc;
    }
    out->present |= has ? CRESC_SAMPLE_HAS_MEM : 0U;
    if ((rc = cresc_jsonv_num(v, o, "req_per_s", JV_NULLABLE, 0.0, HUGE_VAL, &out->req_per_s,
                              &has))) {
        return rc;
    }
    out->present |= has ? CRESC_SAMPLE_HAS_REQ : 0U;
    if ((rc = cresc_jsonv_num(v, o, "active_connections", JV_NULLABLE, 0.0, HUGE_VAL,
                              &out->active_connections, &has))) {
        return rc;
    }
    out->present |= has ? CRESC_SAMPLE_HAS_CONNS : 0U;
    if ((rc = cresc_jsonv_obj(v, o, "disk", JV_NULLABLE, &disk))) {
        return rc;
    }
    if (disk != NULL) {
        double vals[4];
        size_t mark = cresc_jsonv_push_key(v, "disk");
        rc = cresc_msg_disk_from_json(v, disk, vals);
        cresc_jsonv_pop(v, mark);
        if (rc != 0) {
            return rc;
        }
        out->disk_read_ops_per_s = vals[0];
        out->disk_write_ops_per_s = vals[1];
        out->disk_read_bytes_per_s = vals[2];
        out->disk_write_bytes_per_s = vals[3];
        out->present |= CRESC_SAMPLE_HAS_DISK;
    }
    return 0;
}

int cresc_sample_encode(const struct cresc_sample *s, char *buf, size_t cap, size_t *len)
{
    (void)cresc_msg_encode_slot(); /* no stale reason from an earlier encode */
    if (s == NULL || buf == NULL) {
        return CRESC_EINVAL;
    }
    int rc = 0;
    json_t *o = sample_to_json(s, &rc);
    if (rc == 0) {
        struct cresc_jsonv v;
        struct cresc_sample check;
        cresc_msg_jsonv_init(&v, cresc_msg_encode_slot());
        rc = sample_from_json(&v, o, &check);
    }
    return cresc_msg_finish(o, rc, buf, cap, (size_t)CRESC_SAMPLE_MAX_BYTES, len);
}

int cresc_sample_decode(const char *buf, size_t len, struct cresc_sample *out,
                        struct cresc_msg_error *err)
{
    if (cresc_sample_decode_fast(buf, len, out)) {
        if (err != NULL) {
            err->field[0] = '\0';
            err->reason[0] = '\0';
        }
        return 0;
    }
    return cresc_sample_decode_reference(buf, len, out, err);
}

int cresc_sample_decode_reference(const char *buf, size_t len, struct cresc_sample *out,
                                  struct cresc_msg_error *err)
{
    struct cresc_jsonv v;
    json_t *root = NULL;
    cresc_msg_jsonv_init(&v, err);
    int rc = cresc_msg_parse(&v, buf, len, (size_t)CRESC_SAMPLE_MAX_BYTES, &root);
    if (rc == 0) {
        rc = sample_from_json(&v, root, out);
    }
    json_decref(root);
    return rc;
}
