/* Unit tests for the message codecs (shared/src/msg_*.c): round trips field by field for
 * every kind, the reject paths (wrong type, out of range, missing field, oversized, not JSON,
 * newer version, bad id, duplicate key), unknown fields ignored, rejected-message counters,
 * and the contract in docs/schemas/: encoder output carries every required field and every
 * schema example decodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cresc/log.h"
#include "cresc/msg.h"

#define BUF_CAP (64 * 1024)

/* ---- fixtures ------------------------------------------------------------------------- */

static void make_sample(struct cresc_sample *s)
{
    memset(s, 0, sizeof(*s));
    strcpy(s->service, "game-server");
    strcpy(s->instance_id, "game-server-7d9f-x2k4");
    strcpy(s->node, "node-a.eu-west-1");
    s->seq = 42;
    s->ts_ms = 1764400000123;
    s->interval_ms = 1000;
    s->dropped = 3;
    s->present = CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_DISK |
                 CRESC_SAMPLE_HAS_REQ | CRESC_SAMPLE_HAS_CONNS;
    s->cpu_pct = 73.25;
    s->mem_pct = 41.5;
    s->disk_read_ops_per_s = 12.5;
    s->disk_write_ops_per_s = 7.0;
    s->disk_read_bytes_per_s = 1048576.0;
    s->disk_write_bytes_per_s = 524288.0;
    s->req_per_s = 180.75;
    s->active_connections = 64.0;
}

static void make_decision(struct cresc_decision *d)
{
    memset(d, 0, sizeof(*d));
    d->current_instances = 2;
    d->recommendation = 3;
    d->target_instances = 3;
    d->scale = true;
    d->direction = CRESC_DIR_UP;
    strcpy(d->reason, "Scaling up based on cpu-based-scaling");
    strcpy(d->deciding_policy, "cpu-based-scaling");
    d->cooldown_remaining_ms = 0;
    d->n_votes = 3;
    const char *names[3] = {"cpu-based-scaling", "memory-based-scaling",
                            "request-rate-based-scaling"};
    for (size_t i = 0; i < 3; i++) {
        strcpy(d->votes[i].policy, names[i]);
        d->votes[i].metric = (enum cresc_metric)i;
        d->votes[i].mode = CRESC_MODE_THRESHOLD;
        d->votes[i].has_value = i != 2;
        d->votes[i].value = i == 0 ? 85.5 : (i == 1 ? 40.0 : 0.0);
        d->votes[i].threshold = i == 0 ? 70 : (i == 1 ? 80 : 100);
        d->votes[i].lower_threshold = d->votes[i].threshold / 2;
        d->votes[i].desired = i == 0 ? 3 : 2;
        d->votes[i].direction = i == 0 ? CRESC_DIR_UP : CRESC_DIR_NONE;
    }
    d->n_guards = 2;
    d->guards[0].kind = CRESC_GUARD_RATE_LIMIT;
    d->guards[0].before = 3;
    d->guards[0].after = 3;
    strcpy(d->guards[0].detail, "within 100% per 15 s");
    d->guards[1].kind = CRESC_GUARD_MAX;
    d->guards[1].before = 3;
    d->guards[1].after = 3;
    strcpy(d->guards[1].detail, "below max_instances 10");
}

static void make_decision_msg(struct cresc_decision_msg *m)
{
    memset(m, 0, sizeof(*m));
    strcpy(m->service, "game-server");
    strcpy(m->decision_id, "game-server:4:1187");
    m->evaluated_at_ms = 1764400001000;
    m->config_version = 7;
    m->owner_epoch = 4;
    m->metrics.has_cpu = true;
    m->metrics.cpu_pct = 85.5;
    m->metrics.has_mem = true;
    m->metrics.mem_pct = 40.0;
    m->live_instances = 2;
    make_decision(&m->decision);
}

static void make_command(struct cresc_scale_command *c)
{
    memset(c, 0, sizeof(*c));
    strcpy(c->service, "game-server");
    strcpy(c->decision_id, "game-server:4:1187");
    c->from = 2;
    c->to = 3;
    strcpy(c->reason, "Scaling up based on cpu-based-scaling");
    c->config_version = 7;
    c->owner_epoch = 4;
    c->issued_at_ms = 1764400001002;
}

/* A state with every array filled and every scalar away from zero. */
static void make_state(struct cresc_state *st)
{
    cresc_state_init(st);
    strcpy(st->service, "game-server");
    st->owner_epoch = 4;
    st->state_seq = 991;
    st->updated_at_ms = 1764400001005;
    st->config_version = 7;
    char f[96], e[256];
    json_t *cfg = json_loads("{\"cpu_threshold\": 75, \"max_instances\": 40,"
                             " \"load_balancer_strategy\": \"least_connections\","
                             " \"scale_down_cooldown\": 600,"
                             " \"policies\": [{\"name\": \"cpu-target\", \"metric\": \"cpu_pct\","
                             " \"mode\": \"target\", \"target\": 60}]}",
                             0, NULL);
    assert_non_null(cfg);
    assert_int_equal(cresc_scaling_config_apply_json(&st->config, cfg, f, 96, e, 256), 0);
    json_decref(cfg);
    st->current_instances = 3;
    st->paused = true;
    st->last_scale_at_ms = 1764400000000;
    st->cooldown_remaining_ms = 298995;
    st->metrics.has_cpu = true;
    st->metrics.cpu_pct = 85.5;
    st->metrics.has_req = true;
    st->metrics.req_per_s = 361.5;
    st->active_connections_total = 128;
    st->disk_read_ops_per_s = 25;
    st->disk_write_ops_per_s = 14;
    st->disk_read_bytes_per_s = 2097152;
    st->disk_write_bytes_per_s = 1048576;
    st->live_total = 3;
    st->n_live = 2;
    st->live = calloc(2, sizeof(*st->live));
    assert_non_null(st->live);
    for (size_t i = 0; i < 2; i++) {
        struct cresc_live_instance *li = &st->live[i];
        snprintf(li->instance_id, sizeof(li->instance_id), "gs-%zu", i);
        strcpy(li->node, "node-a");
        li->last_seen_ms = 1764400000900 + (int64_t)i;
        li->seq = 100 + i;
        li->present = i == 0
                          ? (CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_DISK |
                             CRESC_SAMPLE_HAS_REQ | CRESC_SAMPLE_HAS_CONNS)
                          : CRESC_SAMPLE_HAS_CPU;
        li->cpu_pct = 80.0 + (double)i;
        if (i == 0) {
            li->mem_pct = 40;
            li->req_per_s = 180.75;
            li->active_connections = 64;
            li->disk_read_ops_per_s = 12.5;
            li->disk_write_ops_per_s = 7;
            li->disk_read_bytes_per_s = 1048576;
            li->disk_write_bytes_per_s = 524288;
        }
    }
    st->has_last_decision = true;
    make_decision_msg(&st->last_decision);
    st->n_recs = 3;
    st->recs = calloc(3, sizeof(*st->recs));
    assert_non_null(st->recs);
    for (size_t i = 0; i < 3; i++) {
        st->recs[i].at_ms = 1764400000000 + (int64_t)i * 1000;
        st->recs[i].instances = 2 + (int32_t)i;
    }
    st->n_events = 1;
    st->events = calloc(1, sizeof(*st->events));
    assert_non_null(st->events);
    st->events[0] = (struct cresc_scale_event){1764400000000, 2, 3};
    st->capacity_pct = 150.0;
    st->n_priorities = 2;
    st->priorities = calloc(2, sizeof(*st->priorities));
    assert_non_null(st->priorities);
    strcpy(st->priorities[0].match_id, "match-123");
    st->priorities[0].priority = 8;
    st->priorities[0].resource_allocation = 30;
    st->priorities[0].allocated_pct = 30;
    strcpy(st->priorities[0].instance_id, "gs-0");
    strcpy(st->priorities[1].match_id, "match-456");
    st->priorities[1].priority = 2;
    st->priorities[1].resource_allocation = 90;
    st->priorities[1].allocated_pct = 45.5;
    st->n_acks = 2;
    st->acks = calloc(2, sizeof(*st->acks));
    assert_non_null(st->acks);
    strcpy(st->acks[0].request_id, "req-1");
    st->acks[0].status = CRESC_ACK_APPLIED;
    st->acks[0].at_ms = 1764400000500;
    strcpy(st->acks[1].request_id, "req-2");
    st->acks[1].status = CRESC_ACK_REJECTED;
    strcpy(st->acks[1].reason, "target_instances 50 is above max_instances 40");
    st->acks[1].at_ms = 1764400000600;
    strcpy(st->actuator, "kubernetes");
    strcpy(st->actuator_status, "ok");
}

/* ---- generic decode by kind ----------------------------------------------------------- */

static int decode_kind(enum cresc_msg_kind kind, const char *buf, size_t len,
                       struct cresc_msg_error *err)
{
    int rc = CRESC_EINVAL;
    switch (kind) {
    case CRESC_MSG_SAMPLE: {
        struct cresc_sample s;
        rc = cresc_sample_decode(buf, len, &s, err);
        break;
    }
    case CRESC_MSG_CONTROL: {
        struct cresc_control c;
        rc = cresc_control_decode(buf, len, &c, err);
        if (rc == 0) {
            cresc_control_release(&c);
        }
        break;
    }
    case CRESC_MSG_DECISION: {
        struct cresc_decision_msg *d = malloc(sizeof(*d));
        assert_non_null(d);
        rc = cresc_decision_msg_decode(buf, len, d, err);
        free(d);
        break;
    }
    case CRESC_MSG_COMMAND: {
        struct cresc_scale_command c;
        rc = cresc_command_decode(buf, len, &c, err);
        break;
    }
    case CRESC_MSG_STATE: {
        struct cresc_state *st = malloc(sizeof(*st));
        assert_non_null(st);
        rc = cresc_state_decode(buf, len, st, err);
        if (rc == 0) {
            cresc_state_release(st);
        }
        free(st);
        break;
    }
    case CRESC_MSG_KIND_COUNT:
        break;
    }
    return rc;
}

/* Encode a representative message of each kind as a jansson object. */
static json_t *encode_kind(enum cresc_msg_kind kind)
{
    char *buf = malloc(BUF_CAP);
    assert_non_null(buf);
    size_t len = 0;
    char *heap = NULL;
    switch (kind) {
    case CRESC_MSG_SAMPLE: {
        struct cresc_sample s;
        make_sample(&s);
        assert_int_equal(cresc_sample_encode(&s, buf, BUF_CAP, &len), 0);
        break;
    }
    case CRESC_MSG_CONTROL: {
        struct cresc_control c;
        memset(&c, 0, sizeof(c));
        strcpy(c.request_id, "req-9f2c");
        strcpy(c.service, "game-server");
        c.type = CRESC_CTL_PRIORITY_UPSERT;
        c.issued_at_ms = 1764400000000;
        strcpy(c.match_id, "match-123");
        c.priority = 8;
        c.resource_allocation = 30;
        assert_int_equal(cresc_control_encode(&c, buf, BUF_CAP, &len), 0);
        break;
    }
    case CRESC_MSG_DECISION: {
        struct cresc_decision_msg d;
        make_decision_msg(&d);
        assert_int_equal(cresc_decision_msg_encode(&d, buf, BUF_CAP, &len), 0);
        break;
    }
    case CRESC_MSG_COMMAND: {
        struct cresc_scale_command c;
        make_command(&c);
        assert_int_equal(cresc_command_encode(&c, buf, BUF_CAP, &len), 0);
        break;
    }
    case CRESC_MSG_STATE: {
        struct cresc_state *st = malloc(sizeof(*st));
        assert_non_null(st);
        make_state(st);
        assert_int_equal(cresc_state_encode(st, &heap, &len), 0);
        cresc_state_release(st);
        free(st);
        break;
    }
    case CRESC_MSG_KIND_COUNT:
        fail();
    }
    json_error_t e;
    json_t *j = json_loadb(heap != NULL ? heap : buf, len, 0, &e);
    assert_non_null(j);
    free(heap);
    free(buf);
    return j;
}

/* Dump j and decode it as `kind`; returns the code, err filled. */
static int decode_json(enum cresc_msg_kind kind, const json_t *j, struct cresc_msg_error *err)
{
    char *text = json_dumps(j, JSON_COMPACT);
    assert_non_null(text);
    int rc = decode_kind(kind, text, strlen(text), err);
    free(text);
    return rc;
}

/* Resolve a path like "a.b[2].c" inside j: *parent gets the container, *key the last key
 * (or NULL with *index for an array element). */
static json_t *resolve(json_t *j, const char *path, const char **last_key, size_t *last_index)
{
    static char keybuf[128];
    json_t *cur = j;
    const char *p = path;
    for (;;) {
        if (*p == '[') {
            char *end;
            size_t idx = strtoul(p + 1, &end, 10);
            p = end + 1;
            if (*p == '\0') {
                *last_key = NULL;
                *last_index = idx;
                return cur;
            }
            cur = json_array_get(cur, idx);
            if (*p == '.') {
                p++;
            }
            continue;
        }
        size_t n = strcspn(p, ".[");
        assert_true(n < sizeof(keybuf));
        memcpy(keybuf, p, n);
        keybuf[n] = '\0';
        if (p[n] == '\0') {
            *last_key = keybuf;
            return cur;
        }
        cur = json_object_get(cur, keybuf);
        assert_non_null(cur);
        p += n;
        if (*p == '.') {
            p++;
        }
    }
}

/* Copy base, set path to `value_json` (NULL = delete), decode as kind. */
static int mutate(enum cresc_msg_kind kind, const json_t *base, const char *path,
                  const char *value_json, struct cresc_msg_error *err)
{
    json_t *j = json_deep_copy(base);
    const char *key;
    size_t index = 0;
    json_t *parent = resolve(j, path, &key, &index);
    assert_non_null(parent);
    if (value_json == NULL) {
        if (key != NULL) {
            assert_int_equal(json_object_del(parent, key), 0);
        } else {
            assert_int_equal(json_array_remove(parent, index), 0);
        }
    } else {
        json_t *v = json_loads(value_json, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        if (key != NULL) {
            json_object_set_new(parent, key, v);
        } else {
            assert_int_equal(json_array_set_new(parent, index, v), 0);
        }
    }
    int rc = decode_json(kind, j, err);
    json_decref(j);
    return rc;
}

struct reject_case {
    enum cresc_msg_kind kind;
    const char *path;
    const char *value; /* NULL: delete */
    int code;
    const char *field;
};

static const struct reject_case reject_cases[] = {
    /* sample */
    {CRESC_MSG_SAMPLE, "service", NULL, CRESC_EMISSING, "service"},
    {CRESC_MSG_SAMPLE, "service", "7", CRESC_ETYPE, "service"},
    {CRESC_MSG_SAMPLE, "service", "\"game server\"", CRESC_EINVAL, "service"},
    {CRESC_MSG_SAMPLE, "service", "\"\"", CRESC_EINVAL, "service"},
    {CRESC_MSG_SAMPLE, "instance_id", "\"a/b\"", CRESC_EINVAL, "instance_id"},
    {CRESC_MSG_SAMPLE, "node", NULL, CRESC_EMISSING, "node"},
    {CRESC_MSG_SAMPLE, "seq", "0", CRESC_ERANGE, "seq"},
    {CRESC_MSG_SAMPLE, "seq", "\"42\"", CRESC_ETYPE, "seq"},
    {CRESC_MSG_SAMPLE, "seq", "4.5", CRESC_ETYPE, "seq"},
    {CRESC_MSG_SAMPLE, "ts_ms", "-1", CRESC_ERANGE, "ts_ms"},
    {CRESC_MSG_SAMPLE, "interval_ms", "0", CRESC_ERANGE, "interval_ms"},
    {CRESC_MSG_SAMPLE, "dropped", "-3", CRESC_ERANGE, "dropped"},
    {CRESC_MSG_SAMPLE, "cpu_pct", "100.5", CRESC_ERANGE, "cpu_pct"},
    {CRESC_MSG_SAMPLE, "cpu_pct", "-0.5", CRESC_ERANGE, "cpu_pct"},
    {CRESC_MSG_SAMPLE, "cpu_pct", "\"73\"", CRESC_ETYPE, "cpu_pct"},
    {CRESC_MSG_SAMPLE, "mem_pct", "true", CRESC_ETYPE, "mem_pct"},
    {CRESC_MSG_SAMPLE, "req_per_s", "-1", CRESC_ERANGE, "req_per_s"},
    {CRESC_MSG_SAMPLE, "disk", "[]", CRESC_ETYPE, "disk"},
    {CRESC_MSG_SAMPLE, "disk.read_bytes_per_s", NULL, CRESC_EMISSING, "disk.read_bytes_per_s"},
    {CRESC_MSG_SAMPLE, "disk.write_ops_per_s", "-2", CRESC_ERANGE, "disk.write_ops_per_s"},
    {CRESC_MSG_SAMPLE, "schema_version", NULL, CRESC_EMISSING, "schema_version"},
    {CRESC_MSG_SAMPLE, "schema_version", "\"1\"", CRESC_ETYPE, "schema_version"},
    {CRESC_MSG_SAMPLE, "schema_version", "0", CRESC_ERANGE, "schema_version"},
    {CRESC_MSG_SAMPLE, "schema_version", "2", CRESC_EVERSION, "schema_version"},
    /* control */
    {CRESC_MSG_CONTROL, "request_id", NULL, CRESC_EMISSING, "request_id"},
    {CRESC_MSG_CONTROL, "type", "\"explode\"", CRESC_EINVAL, "type"},
    {CRESC_MSG_CONTROL, "priority", "11", CRESC_ERANGE, "priority"},
    {CRESC_MSG_CONTROL, "priority", "0", CRESC_ERANGE, "priority"},
    {CRESC_MSG_CONTROL, "priority", "8.5", CRESC_ETYPE, "priority"},
    {CRESC_MSG_CONTROL, "resource_allocation", "0", CRESC_ERANGE, "resource_allocation"},
    {CRESC_MSG_CONTROL, "resource_allocation", "100.01", CRESC_ERANGE, "resource_allocation"},
    {CRESC_MSG_CONTROL, "resource_allocation", "\"30\"", CRESC_ETYPE, "resource_allocation"},
    {CRESC_MSG_CONTROL, "match_id", "\"match 1\"", CRESC_EINVAL, "match_id"},
    {CRESC_MSG_CONTROL, "issued_at_ms", "253402300800000", CRESC_ERANGE, "issued_at_ms"},
    /* decision */
    {CRESC_MSG_DECISION, "decision_id", NULL, CRESC_EMISSING, "decision_id"},
    {CRESC_MSG_DECISION, "target_instances", "-1", CRESC_ERANGE, "target_instances"},
    {CRESC_MSG_DECISION, "target_instances", "2147483648", CRESC_ERANGE, "target_instances"},
    {CRESC_MSG_DECISION, "scale", "1", CRESC_ETYPE, "scale"},
    {CRESC_MSG_DECISION, "direction", "\"sideways\"", CRESC_EINVAL, "direction"},
    {CRESC_MSG_DECISION, "metrics.cpu_pct", "101", CRESC_ERANGE, "metrics.cpu_pct"},
    {CRESC_MSG_DECISION, "votes[1].desired", "\"2\"", CRESC_ETYPE, "votes[1].desired"},
    {CRESC_MSG_DECISION, "votes[0].metric", "\"gpu\"", CRESC_EINVAL, "votes[0].metric"},
    {CRESC_MSG_DECISION, "guards[1].before", NULL, CRESC_EMISSING, "guards[1].before"},
    {CRESC_MSG_DECISION, "guards", "{}", CRESC_ETYPE, "guards"},
    {CRESC_MSG_DECISION, "reason", NULL, CRESC_EMISSING, "reason"},
    /* command */
    {CRESC_MSG_COMMAND, "to", "10001", CRESC_ERANGE, "to"},
    {CRESC_MSG_COMMAND, "to", "-1", CRESC_ERANGE, "to"},
    {CRESC_MSG_COMMAND, "from", "null", CRESC_ETYPE, "from"},
    {CRESC_MSG_COMMAND, "owner_epoch", "-1", CRESC_ERANGE, "owner_epoch"},
    {CRESC_MSG_COMMAND, "decision_id", "\"a b\"", CRESC_EINVAL, "decision_id"},
    {CRESC_MSG_COMMAND, "manual", "true", CRESC_EMISSING, "request_id"},
    {CRESC_MSG_COMMAND, "config_version", NULL, CRESC_EMISSING, "config_version"},
    {CRESC_MSG_COMMAND, "schema_version", "99", CRESC_EVERSION, "schema_version"},
    /* state */
    {CRESC_MSG_STATE, "config.min_instances", "50", CRESC_EINVAL, "config.min_instances"},
    {CRESC_MSG_STATE, "config.tolerance", NULL, CRESC_EMISSING, "config.tolerance"},
    {CRESC_MSG_STATE, "config.behavior", NULL, CRESC_EMISSING, "config.behavior"},
    {CRESC_MSG_STATE, "config", "[]", CRESC_ETYPE, "config"},
    {CRESC_MSG_STATE, "config.policies[0].target", "-5", CRESC_ERANGE, "config.policies[0].target"},
    {CRESC_MSG_STATE, "live[1].cpu_pct", "\"x\"", CRESC_ETYPE, "live[1].cpu_pct"},
    {CRESC_MSG_STATE, "live[0].instance_id", "\"\"", CRESC_EINVAL, "live[0].instance_id"},
    {CRESC_MSG_STATE, "live_total", "1", CRESC_ERANGE, "live_total"},
    {CRESC_MSG_STATE, "last_decision.votes[0].desired", "-4", CRESC_ERANGE,
     "last_decision.votes[0].desired"},
    {CRESC_MSG_STATE, "history.recommendations[2].instances", NULL, CRESC_EMISSING,
     "history.recommendations[2].instances"},
    {CRESC_MSG_STATE, "history.scale_events", NULL, CRESC_EMISSING, "history.scale_events"},
    {CRESC_MSG_STATE, "priorities[1].priority", "12", CRESC_ERANGE, "priorities[1].priority"},
    {CRESC_MSG_STATE, "priorities[1].allocated_pct", "95", CRESC_ERANGE,
     "priorities[1].allocated_pct"},
    {CRESC_MSG_STATE, "priorities[1].match_id", "\"match-123\"", CRESC_EINVAL,
     "priorities[1].match_id"},
    {CRESC_MSG_STATE, "acks[1].status", "\"maybe\"", CRESC_EINVAL, "acks[1].status"},
    {CRESC_MSG_STATE, "acks[0]", "7", CRESC_ETYPE, "acks[0]"},
    {CRESC_MSG_STATE, "paused", "\"no\"", CRESC_ETYPE, "paused"},
    {CRESC_MSG_STATE, "owner_epoch", NULL, CRESC_EMISSING, "owner_epoch"},
    {CRESC_MSG_STATE, "actuator", "\"0123456789012345678901234567890123\"", CRESC_ERANGE,
     "actuator"},
};

static void test_rejects_name_the_field(void **state)
{
    (void)state;
    json_t *base[CRESC_MSG_KIND_COUNT];
    for (int k = 0; k < CRESC_MSG_KIND_COUNT; k++) {
        base[k] = encode_kind((enum cresc_msg_kind)k);
        struct cresc_msg_error err;
        assert_int_equal(decode_json((enum cresc_msg_kind)k, base[k], &err), 0);
    }
    for (size_t i = 0; i < sizeof(reject_cases) / sizeof(reject_cases[0]); i++) {
        const struct reject_case *c = &reject_cases[i];
        struct cresc_msg_error err;
        memset(&err, 0, sizeof(err));
        int rc = mutate(c->kind, base[c->kind], c->path, c->value, &err);
        if (rc != c->code || strcmp(err.field, c->field) != 0) {
            print_error("case %zu (%s %s=%s): rc %d field '%s' reason '%s'\n", i,
                        cresc_msg_kind_name(c->kind), c->path, c->value ? c->value : "<deleted>",
                        rc, err.field, err.reason);
        }
        assert_int_equal(rc, c->code);
        assert_string_equal(err.field, c->field);
        assert_true(err.reason[0] != '\0');
    }
    for (int k = 0; k < CRESC_MSG_KIND_COUNT; k++) {
        json_decref(base[k]);
    }
}

static void test_common_rejects(void **state)
{
    (void)state;
    static const size_t limits[CRESC_MSG_KIND_COUNT] = {
        CRESC_SAMPLE_MAX_BYTES, CRESC_CONTROL_MAX_BYTES, CRESC_DECISION_MAX_BYTES,
        CRESC_COMMAND_MAX_BYTES, CRESC_STATE_MAX_BYTES};
    for (int k = 0; k < CRESC_MSG_KIND_COUNT; k++) {
        enum cresc_msg_kind kind = (enum cresc_msg_kind)k;
        struct cresc_msg_error err;
        json_t *base = encode_kind(kind);

        /* Newer schema version: rejected with the documented reason. */
        json_object_set_new(base, "schema_version", json_integer(2));
        assert_int_equal(decode_json(kind, base, &err), CRESC_EVERSION);
        assert_string_equal(err.reason, "schema_version 2 is newer than supported 1");
        json_object_set_new(base, "schema_version", json_integer(1));

        /* Unknown extra fields are ignored, at the top and nested. */
        json_object_set_new(base, "x_future_field", json_pack("{s:[i,i]}", "a", 1, 2));
        assert_int_equal(decode_json(kind, base, &err), 0);

        /* Oversized: valid JSON padded past the limit is refused before parsing. */
        char *text = json_dumps(base, JSON_COMPACT);
        assert_non_null(text);
        size_t n = strlen(text);
        size_t big = limits[k] + 1;
        char *pad = malloc(big);
        assert_non_null(pad);
        memset(pad, ' ', big);
        memcpy(pad, text, n);
        assert_int_equal(decode_kind(kind, pad, big, &err), CRESC_ETOOBIG);
        assert_string_equal(err.field, "");
        /* Exactly at the limit is fine. */
        assert_int_equal(decode_kind(kind, pad, limits[k], &err), 0);
        free(pad);

        /* Not JSON, truncated JSON, trailing garbage, duplicate keys, not an object. */
        assert_int_equal(decode_kind(kind, "hello", 5, &err), CRESC_EPARSE);
        assert_int_equal(decode_kind(kind, text, n - 1, &err), CRESC_EPARSE);
        assert_int_equal(decode_kind(kind, "{} {}", 5, &err), CRESC_EPARSE);
        assert_int_equal(decode_kind(kind, "", 0, &err), CRESC_EPARSE);
        const char *dup = "{\"schema_version\":1,\"schema_version\":1}";
        assert_int_equal(decode_kind(kind, dup, strlen(dup), &err), CRESC_EPARSE);
        assert_int_equal(decode_kind(kind, "[1]", 3, &err), CRESC_ETYPE);
        assert_int_equal(decode_kind(kind, "null", 4, &err), CRESC_EPARSE);
        assert_int_equal(decode_kind(kind, NULL, 0, &err), CRESC_EINVAL);
        /* Invalid UTF-8 in a string. */
        const char *bad_utf8 = "{\"schema_version\":1,\"service\":\"\xff\xfe\"}";
        assert_int_equal(decode_kind(kind, bad_utf8, strlen(bad_utf8), &err), CRESC_EPARSE);
        /* Deep nesting: jansson's depth limit turns it into a parse error, not a crash. */
        size_t depth = 5000;
        char *deep = malloc(depth * 2 + 64);
        assert_non_null(deep);
        size_t off = (size_t)sprintf(deep, "{\"schema_version\":1,\"x\":");
        memset(deep + off, '[', depth);
        memset(deep + off + depth, ']', depth);
        deep[off + 2 * depth] = '}';
        assert_int_equal(decode_kind(kind, deep, off + 2 * depth + 1, &err), CRESC_EPARSE);
        free(deep);
        /* An embedded NUL byte inside the buffer. */
        char withnul[64] = "{\"schema_version\":1}";
        withnul[5] = '\0';
        assert_int_equal(decode_kind(kind, withnul, 20, &err), CRESC_EPARSE);
        free(text);
        json_decref(base);
    }
}

/* Random corruption of valid messages (byte flips, truncation, splices): every decode
 * returns a code and never crashes or leaks (run under ASan/valgrind in CI). */
static void test_corruption_never_crashes(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15u; /* xorshift: deterministic, no libc rand state */
    static const char junk[] = "{}[]\",:0123456789.eE+-truefalsenull\\u00ff ";
    for (int k = 0; k < CRESC_MSG_KIND_COUNT; k++) {
        json_t *j = encode_kind((enum cresc_msg_kind)k);
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        assert_non_null(text);
        size_t n = strlen(text);
        char *buf = malloc(n + 1);
        assert_non_null(buf);
        int accepted = 0;
        int rounds = k == CRESC_MSG_STATE ? 300 : 3000;
        for (int r = 0; r < rounds; r++) {
            memcpy(buf, text, n + 1);
            size_t len = n;
            int edits = 1 + (int)(x % 4);
            for (int e = 0; e < edits; e++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                size_t at = (size_t)(x % len);
                switch ((x >> 32) % 3) {
                case 0:
                    buf[at] = junk[(x >> 40) % (sizeof(junk) - 1)];
                    break;
                case 1:
                    len = at + 1; /* truncate */
                    break;
                default:
                    buf[at] = (char)(x >> 48); /* any byte, including NUL and non-UTF-8 */
                    break;
                }
            }
            struct cresc_msg_error err;
            int rc = decode_kind((enum cresc_msg_kind)k, buf, len, &err);
            assert_true(rc <= 0);
            if (rc == 0) {
                accepted++;
            } else {
                assert_true(err.reason[0] != '\0');
            }
        }
        (void)accepted;
        free(buf);
        free(text);
    }
}

/* ---- round trips ---------------------------------------------------------------------- */

static void test_sample_round_trip(void **state)
{
    (void)state;
    struct cresc_sample a, b;
    make_sample(&a);
    char buf[4096];
    size_t len = 0;
    assert_int_equal(cresc_sample_encode(&a, buf, sizeof(buf), &len), 0);
    assert_int_equal(strlen(buf), len);
    assert_null(strchr(buf, ' ')); /* compact */
    assert_null(strchr(buf, '\n'));
    struct cresc_msg_error err;
    assert_int_equal(cresc_sample_decode(buf, len, &b, &err), 0);
    assert_string_equal(b.service, a.service);
    assert_string_equal(b.instance_id, a.instance_id);
    assert_string_equal(b.node, a.node);
    assert_true(b.seq == a.seq);
    assert_true(b.ts_ms == a.ts_ms);
    assert_true(b.interval_ms == a.interval_ms);
    assert_true(b.dropped == a.dropped);
    assert_int_equal(b.present, a.present);
    assert_true(b.cpu_pct == a.cpu_pct);
    assert_true(b.mem_pct == a.mem_pct);
    assert_true(b.disk_read_ops_per_s == a.disk_read_ops_per_s);
    assert_true(b.disk_write_ops_per_s == a.disk_write_ops_per_s);
    assert_true(b.disk_read_bytes_per_s == a.disk_read_bytes_per_s);
    assert_true(b.disk_write_bytes_per_s == a.disk_write_bytes_per_s);
    assert_true(b.req_per_s == a.req_per_s);
    assert_true(b.active_connections == a.active_connections);
    assert_memory_equal(&a, &b, sizeof(a)); /* nothing else differs either */

    /* Missing metrics travel as null and come back as not present. */
    a.present = CRESC_SAMPLE_HAS_MEM;
    a.cpu_pct = a.req_per_s = a.active_connections = 0;
    a.disk_read_ops_per_s = a.disk_write_ops_per_s = 0;
    a.disk_read_bytes_per_s = a.disk_write_bytes_per_s = 0;
    assert_int_equal(cresc_sample_encode(&a, buf, sizeof(buf), &len), 0);
    assert_non_null(strstr(buf, "\"cpu_pct\":null"));
    assert_int_equal(cresc_sample_decode(buf, len, &b, &err), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    /* An absent member is the same as null. */
    const char *min = "{\"schema_version\":1,\"service\":\"s\",\"instance_id\":\"i\","
                      "\"node\":\"n\",\"seq\":1,\"ts_ms\":5,\"interval_ms\":1000}";
    assert_int_equal(cresc_sample_decode(min, strlen(min), &b, &err), 0);
    assert_int_equal(b.present, 0);
    assert_true(b.dropped == 0);

    /* Integers: an integral real is accepted (as JSON Schema does); a value past int64 is a
     * parse error (jansson refuses it before any field is read). */
    const char *real_seq = "{\"schema_version\":1.0,\"service\":\"s\",\"instance_id\":\"i\","
                           "\"node\":\"n\",\"seq\":7.0,\"ts_ms\":5,\"interval_ms\":1e3}";
    assert_int_equal(cresc_sample_decode(real_seq, strlen(real_seq), &b, &err), 0);
    assert_true(b.seq == 7 && b.interval_ms == 1000);
    const char *huge = "{\"schema_version\":1,\"service\":\"s\",\"instance_id\":\"i\","
                       "\"node\":\"n\",\"seq\":99999999999999999999,\"ts_ms\":5,"
                       "\"interval_ms\":1000}";
    assert_int_equal(cresc_sample_decode(huge, strlen(huge), &b, &err), CRESC_EPARSE);
    assert_non_null(strstr(err.reason, "not JSON"));
    const char *big_real = "{\"schema_version\":1,\"service\":\"s\",\"instance_id\":\"i\","
                           "\"node\":\"n\",\"seq\":1e300,\"ts_ms\":5,\"interval_ms\":1000}";
    assert_int_equal(cresc_sample_decode(big_real, strlen(big_real), &b, &err), CRESC_ETYPE);
    assert_string_equal(err.field, "seq");

    /* Encoder refuses what a decoder would reject, and buffers too small. */
    make_sample(&a);
    assert_int_equal(cresc_sample_encode(&a, buf, 20, &len), CRESC_ETOOBIG);
    a.cpu_pct = 140;
    assert_int_equal(cresc_sample_encode(&a, buf, sizeof(buf), &len), CRESC_ERANGE);
    assert_string_equal(cresc_msg_encode_error()->field, "cpu_pct");
    assert_non_null(strstr(cresc_msg_encode_error()->reason, "140"));
    make_sample(&a);
    strcpy(a.service, "bad service");
    assert_int_equal(cresc_sample_encode(&a, buf, sizeof(buf), &len), CRESC_EINVAL);
    assert_string_equal(cresc_msg_encode_error()->field, "service");
    make_sample(&a);
    assert_int_equal(cresc_sample_encode(&a, buf, sizeof(buf), &len), 0);
    assert_string_equal(cresc_msg_encode_error()->field, "");
    make_sample(&a);
    a.seq = UINT64_MAX;
    assert_int_equal(cresc_sample_encode(&a, buf, sizeof(buf), &len), CRESC_ERANGE);
}

static void test_control_round_trip(void **state)
{
    (void)state;
    char buf[8192];
    size_t len;
    struct cresc_msg_error err;
    for (int t = CRESC_CTL_CONFIG_UPDATE; t <= CRESC_CTL_RESUME; t++) {
        struct cresc_control a, b;
        memset(&a, 0, sizeof(a));
        snprintf(a.request_id, sizeof(a.request_id), "req-%d", t);
        strcpy(a.service, "game-server");
        a.type = (enum cresc_control_type)t;
        a.issued_at_ms = 1764400000000 + t;
        switch (a.type) {
        case CRESC_CTL_CONFIG_UPDATE:
            a.config = json_pack("{s:i,s:{s:{s:i}}}", "max_instances", 20, "behavior", "scale_up",
                                 "stabilization_window_s", 30);
            break;
        case CRESC_CTL_SCALE:
            a.target_instances = 5;
            strcpy(a.reason, "Handling major tournament");
            break;
        case CRESC_CTL_PRIORITY_UPSERT:
            strcpy(a.match_id, "match-123");
            a.priority = 8;
            a.resource_allocation = 30.0;
            break;
        case CRESC_CTL_PRIORITY_DELETE:
            strcpy(a.match_id, "match-123");
            break;
        case CRESC_CTL_PAUSE:
        case CRESC_CTL_RESUME:
            break;
        }
        assert_int_equal(cresc_control_encode(&a, buf, sizeof(buf), &len), 0);
        assert_int_equal(cresc_control_decode(buf, len, &b, &err), 0);
        assert_string_equal(b.request_id, a.request_id);
        assert_string_equal(b.service, a.service);
        assert_int_equal(b.type, a.type);
        assert_true(b.issued_at_ms == a.issued_at_ms);
        assert_int_equal(b.target_instances, a.target_instances);
        assert_string_equal(b.reason, a.reason);
        assert_string_equal(b.match_id, a.match_id);
        assert_int_equal(b.priority, a.priority);
        assert_true(b.resource_allocation == a.resource_allocation);
        if (a.type == CRESC_CTL_CONFIG_UPDATE) {
            assert_non_null(b.config);
            assert_true(json_equal(a.config, b.config));
        } else {
            assert_null(b.config);
        }
        cresc_control_release(&a);
        cresc_control_release(&b);
    }
    assert_string_equal(cresc_control_type_name(CRESC_CTL_PRIORITY_DELETE), "priority_delete");
    /* Type-specific required fields. */
    const char *missing_cfg = "{\"schema_version\":1,\"request_id\":\"r1\",\"service\":\"s\","
                              "\"type\":\"config_update\",\"issued_at_ms\":1}";
    struct cresc_control c;
    assert_int_equal(cresc_control_decode(missing_cfg, strlen(missing_cfg), &c, &err),
                     CRESC_EMISSING);
    assert_string_equal(err.field, "config");
    cresc_control_release(&c); /* safe after a failed decode */
    const char *cfg_str = "{\"schema_version\":1,\"request_id\":\"r1\",\"service\":\"s\","
                          "\"type\":\"config_update\",\"issued_at_ms\":1,\"config\":\"x\"}";
    assert_int_equal(cresc_control_decode(cfg_str, strlen(cfg_str), &c, &err), CRESC_ETYPE);
    const char *scale_nt = "{\"schema_version\":1,\"request_id\":\"r1\",\"service\":\"s\","
                           "\"type\":\"scale\",\"issued_at_ms\":1}";
    assert_int_equal(cresc_control_decode(scale_nt, strlen(scale_nt), &c, &err), CRESC_EMISSING);
    assert_string_equal(err.field, "target_instances");
    /* config_update without a config object cannot be encoded. */
    struct cresc_control bad;
    memset(&bad, 0, sizeof(bad));
    strcpy(bad.request_id, "r");
    strcpy(bad.service, "s");
    bad.type = CRESC_CTL_CONFIG_UPDATE;
    assert_int_equal(cresc_control_encode(&bad, buf, sizeof(buf), &len), CRESC_EINVAL);
}

static void test_command_round_trip(void **state)
{
    (void)state;
    struct cresc_scale_command a, b;
    char buf[4096];
    size_t len;
    struct cresc_msg_error err;
    make_command(&a);
    assert_int_equal(cresc_command_encode(&a, buf, sizeof(buf), &len), 0);
    assert_int_equal(cresc_command_decode(buf, len, &b, &err), 0);
    assert_memory_equal(&a, &b, sizeof(a));
    a.manual = true;
    strcpy(a.request_id, "req-77");
    a.to = 5;
    assert_int_equal(cresc_command_encode(&a, buf, sizeof(buf), &len), 0);
    assert_int_equal(cresc_command_decode(buf, len, &b, &err), 0);
    assert_true(b.manual);
    assert_string_equal(b.request_id, "req-77");
    assert_int_equal(b.to, 5);
    assert_string_equal(b.reason, a.reason);
    assert_true(b.owner_epoch == 4 && b.config_version == 7 && b.issued_at_ms == a.issued_at_ms);
    assert_memory_equal(&a, &b, sizeof(a));
}

static void assert_decision_equal(const struct cresc_decision *a, const struct cresc_decision *b)
{
    assert_int_equal(b->current_instances, a->current_instances);
    assert_int_equal(b->recommendation, a->recommendation);
    assert_int_equal(b->target_instances, a->target_instances);
    assert_int_equal(b->scale, a->scale);
    assert_int_equal(b->direction, a->direction);
    assert_string_equal(b->reason, a->reason);
    assert_string_equal(b->deciding_policy, a->deciding_policy);
    assert_true(b->cooldown_remaining_ms == a->cooldown_remaining_ms);
    assert_int_equal(b->n_votes, a->n_votes);
    for (size_t i = 0; i < a->n_votes; i++) {
        assert_string_equal(b->votes[i].policy, a->votes[i].policy);
        assert_int_equal(b->votes[i].metric, a->votes[i].metric);
        assert_int_equal(b->votes[i].mode, a->votes[i].mode);
        assert_int_equal(b->votes[i].has_value, a->votes[i].has_value);
        assert_true(b->votes[i].value == a->votes[i].value);
        assert_true(b->votes[i].threshold == a->votes[i].threshold);
        assert_true(b->votes[i].lower_threshold == a->votes[i].lower_threshold);
        assert_int_equal(b->votes[i].desired, a->votes[i].desired);
        assert_int_equal(b->votes[i].direction, a->votes[i].direction);
    }
    assert_int_equal(b->n_guards, a->n_guards);
    for (size_t i = 0; i < a->n_guards; i++) {
        assert_int_equal(b->guards[i].kind, a->guards[i].kind);
        assert_int_equal(b->guards[i].before, a->guards[i].before);
        assert_int_equal(b->guards[i].after, a->guards[i].after);
        assert_string_equal(b->guards[i].detail, a->guards[i].detail);
    }
}

static void assert_decision_msg_equal(const struct cresc_decision_msg *a,
                                      const struct cresc_decision_msg *b)
{
    assert_string_equal(b->service, a->service);
    assert_string_equal(b->decision_id, a->decision_id);
    assert_true(b->evaluated_at_ms == a->evaluated_at_ms);
    assert_true(b->config_version == a->config_version);
    assert_true(b->owner_epoch == a->owner_epoch);
    assert_int_equal(b->live_instances, a->live_instances);
    assert_memory_equal(&b->metrics, &a->metrics, sizeof(a->metrics));
    assert_decision_equal(&a->decision, &b->decision);
}

static void test_decision_round_trip(void **state)
{
    (void)state;
    struct cresc_decision_msg a, b;
    char buf[BUF_CAP];
    size_t len;
    struct cresc_msg_error err;
    make_decision_msg(&a);
    assert_int_equal(cresc_decision_msg_encode(&a, buf, sizeof(buf), &len), 0);
    assert_int_equal(cresc_decision_msg_decode(buf, len, &b, &err), 0);
    assert_decision_msg_equal(&a, &b);
    /* A full decision (every vote and guard slot used) fits the limit. */
    a.decision.n_votes = CRESC_POLICIES_MAX;
    a.decision.n_guards = CRESC_GUARDS_MAX;
    for (size_t i = 0; i < CRESC_POLICIES_MAX; i++) {
        memset(a.decision.votes[i].policy, 'p', CRESC_POLICY_NAME_MAX);
        a.decision.votes[i].policy[CRESC_POLICY_NAME_MAX] = '\0';
        a.decision.votes[i].policy[0] = (char)('a' + i);
    }
    for (size_t i = 0; i < CRESC_GUARDS_MAX; i++) {
        memset(a.decision.guards[i].detail, 'd', CRESC_REASON_MAX - 1);
        a.decision.guards[i].detail[CRESC_REASON_MAX - 1] = '\0';
    }
    memset(a.decision.reason, 'r', CRESC_REASON_MAX - 1);
    a.decision.reason[CRESC_REASON_MAX - 1] = '\0';
    assert_int_equal(cresc_decision_msg_encode(&a, buf, sizeof(buf), &len), 0);
    assert_true(len <= CRESC_DECISION_MAX_BYTES);
    assert_int_equal(cresc_decision_msg_decode(buf, len, &b, &err), 0);
    assert_decision_msg_equal(&a, &b);
    /* A reason longer than CRESC_REASON_MAX - 1 bytes is out of range. */
    json_t *j = json_loadb(buf, len, 0, NULL);
    char longreason[CRESC_REASON_MAX + 1];
    memset(longreason, 'x', CRESC_REASON_MAX);
    longreason[CRESC_REASON_MAX] = '\0';
    json_object_set_new(j, "reason", json_string(longreason));
    assert_int_equal(decode_json(CRESC_MSG_DECISION, j, &err), CRESC_ERANGE);
    assert_string_equal(err.field, "reason");
    /* Too many votes. */
    json_t *votes = json_object_get(j, "votes");
    json_array_append(votes, json_array_get(votes, 0));
    json_object_set_new(j, "reason", json_string("ok"));
    assert_int_equal(decode_json(CRESC_MSG_DECISION, j, &err), CRESC_ERANGE);
    assert_string_equal(err.field, "votes");
    json_decref(j);
}

static void test_state_round_trip(void **state)
{
    (void)state;
    struct cresc_state *a = malloc(sizeof(*a));
    struct cresc_state *b = malloc(sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    make_state(a);
    char *text = NULL;
    size_t len = 0;
    struct cresc_msg_error err;
    assert_int_equal(cresc_state_encode(a, &text, &len), 0);
    assert_int_equal(strlen(text), len);
    assert_int_equal(cresc_state_decode(text, len, b, &err), 0);
    free(text);

    assert_string_equal(b->service, a->service);
    assert_true(b->owner_epoch == a->owner_epoch);
    assert_true(b->state_seq == a->state_seq);
    assert_true(b->updated_at_ms == a->updated_at_ms);
    assert_true(b->config_version == a->config_version);
    /* The config struct as a whole (explicit policies, behavior, cooldowns). */
    assert_memory_equal(&b->config, &a->config, sizeof(a->config));
    assert_true(b->config.policies_explicit);
    assert_int_equal(b->config.load_balancer_strategy, CRESC_LB_LEAST_CONNECTIONS);
    assert_int_equal(b->config.scale_down_cooldown_s, 600);
    assert_int_equal(b->current_instances, a->current_instances);
    assert_int_equal(b->paused, a->paused);
    assert_true(b->last_scale_at_ms == a->last_scale_at_ms);
    assert_true(b->cooldown_remaining_ms == a->cooldown_remaining_ms);
    assert_memory_equal(&b->metrics, &a->metrics, sizeof(a->metrics));
    assert_true(b->active_connections_total == a->active_connections_total);
    assert_true(b->disk_read_ops_per_s == a->disk_read_ops_per_s);
    assert_true(b->disk_write_ops_per_s == a->disk_write_ops_per_s);
    assert_true(b->disk_read_bytes_per_s == a->disk_read_bytes_per_s);
    assert_true(b->disk_write_bytes_per_s == a->disk_write_bytes_per_s);
    assert_int_equal(b->live_total, a->live_total);
    assert_int_equal(b->n_live, a->n_live);
    for (size_t i = 0; i < a->n_live; i++) {
        assert_memory_equal(&b->live[i], &a->live[i], sizeof(a->live[i]));
    }
    assert_true(b->has_last_decision);
    assert_decision_msg_equal(&a->last_decision, &b->last_decision);
    assert_int_equal(b->n_recs, a->n_recs);
    assert_memory_equal(b->recs, a->recs, a->n_recs * sizeof(*a->recs));
    assert_int_equal(b->n_events, a->n_events);
    assert_memory_equal(b->events, a->events, a->n_events * sizeof(*a->events));
    assert_true(b->capacity_pct == a->capacity_pct);
    assert_int_equal(b->n_priorities, a->n_priorities);
    for (size_t i = 0; i < a->n_priorities; i++) {
        assert_memory_equal(&b->priorities[i], &a->priorities[i], sizeof(a->priorities[i]));
    }
    assert_int_equal(b->n_acks, a->n_acks);
    for (size_t i = 0; i < a->n_acks; i++) {
        assert_memory_equal(&b->acks[i], &a->acks[i], sizeof(a->acks[i]));
    }
    assert_string_equal(b->actuator, a->actuator);
    assert_string_equal(b->actuator_status, a->actuator_status);
    cresc_state_release(b);

    /* A derived (non-explicit) config stays derived through the round trip. */
    cresc_state_release(a);
    cresc_state_init(a);
    strcpy(a->service, "svc");
    a->config.cpu_threshold = 60;
    cresc_scaling_config_derive(&a->config);
    a->has_last_decision = false;
    assert_int_equal(cresc_state_encode(a, &text, &len), 0);
    assert_non_null(strstr(text, "\"last_decision\":null"));
    assert_int_equal(cresc_state_decode(text, len, b, &err), 0);
    free(text);
    assert_false(b->config.policies_explicit);
    assert_memory_equal(&b->config, &a->config, sizeof(a->config));
    assert_false(b->has_last_decision);
    assert_null(b->live);
    cresc_state_release(b);

    /* cresc_state_to_json is the same document. */
    json_t *j = cresc_state_to_json(a);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "schema_version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "service")), "svc");
    json_decref(j);
    cresc_state_release(a);
    free(a);
    free(b);
}

static void test_state_limits(void **state)
{
    (void)state;
    struct cresc_state *a = malloc(sizeof(*a));
    assert_non_null(a);
    cresc_state_init(a);
    strcpy(a->service, "svc");
    /* Every list at its maximum with the longest ids: the encoder must refuse, not produce
     * more than CRESC_STATE_MAX_BYTES. */
    a->n_priorities = CRESC_PRIORITIES_MAX;
    a->priorities = calloc(CRESC_PRIORITIES_MAX, sizeof(*a->priorities));
    assert_non_null(a->priorities);
    for (size_t i = 0; i < CRESC_PRIORITIES_MAX; i++) {
        struct cresc_priority *p = &a->priorities[i];
        memset(p->match_id, 'm', CRESC_ID_MAX);
        snprintf(p->match_id + CRESC_ID_MAX - 8, 9, "%08zu", i);
        memset(p->instance_id, 'i', CRESC_ID_MAX);
        p->priority = 5;
        p->resource_allocation = 33.333333333333336;
        p->allocated_pct = 12.345678901234567;
    }
    char *text = (char *)1;
    size_t len = 0;
    assert_int_equal(cresc_state_encode(a, &text, &len), CRESC_ETOOBIG);
    assert_null(text);
    assert_non_null(strstr(cresc_msg_encode_error()->reason, "exceeds the limit"));
    /* With short ids the same count fits. */
    for (size_t i = 0; i < CRESC_PRIORITIES_MAX; i++) {
        snprintf(a->priorities[i].match_id, sizeof(a->priorities[i].match_id), "m%05zu", i);
        a->priorities[i].instance_id[0] = '\0';
    }
    assert_int_equal(cresc_state_encode(a, &text, &len), 0);
    assert_true(len <= CRESC_STATE_MAX_BYTES);
    struct cresc_state *b = malloc(sizeof(*b));
    assert_non_null(b);
    struct cresc_msg_error err;
    assert_int_equal(cresc_state_decode(text, len, b, &err), 0);
    assert_int_equal(b->n_priorities, CRESC_PRIORITIES_MAX);
    assert_string_equal(b->priorities[4095].match_id, "m04095");
    cresc_state_release(b);
    free(text);
    /* Counts above the caps are refused. */
    a->n_priorities = CRESC_PRIORITIES_MAX + 1;
    assert_int_equal(cresc_state_encode(a, &text, &len), CRESC_ERANGE);
    a->n_priorities = 0;
    a->n_live = 1; /* with a NULL array */
    assert_int_equal(cresc_state_encode(a, &text, &len), CRESC_EINVAL);
    a->n_live = 0;
    /* A live list longer than the cap is rejected by the decoder. */
    json_t *j = cresc_state_to_json(a);
    json_t *live = json_array();
    for (size_t i = 0; i <= CRESC_STATE_LIVE_MAX; i++) {
        json_array_append_new(live, json_pack("{s:s,s:s,s:i,s:i}", "instance_id", "i", "node", "n",
                                              "last_seen_ms", 1, "seq", 1));
    }
    json_object_set_new(j, "live", live);
    json_object_set_new(j, "live_total", json_integer(1000));
    assert_int_equal(decode_json(CRESC_MSG_STATE, j, &err), CRESC_ERANGE);
    assert_string_equal(err.field, "live");
    json_decref(j);
    cresc_state_release(a);
    free(a);
    free(b);
}

static void test_reject_accounting(void **state)
{
    (void)state;
    struct cresc_msg_error err;
    memset(&err, 0, sizeof(err));
    strcpy(err.field, "cpu_pct");
    strcpy(err.reason, "140 is out of range [0, 100]");
    uint64_t before = cresc_msg_rejected_count(CRESC_MSG_SAMPLE);
    uint64_t before_cmd = cresc_msg_rejected_count(CRESC_MSG_COMMAND);
    char path[] = "/tmp/cresc_test_msg_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *sink = fdopen(fd, "w+");
    assert_non_null(sink);
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_DEBUG, sink);
    for (int i = 0; i < 5; i++) {
        cresc_msg_reject(CRESC_MSG_SAMPLE, &err);
    }
    cresc_msg_reject(CRESC_MSG_COMMAND, NULL);
    cresc_msg_reject(CRESC_MSG_KIND_COUNT, &err); /* ignored */
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_INFO, NULL);
    assert_true(cresc_msg_rejected_count(CRESC_MSG_SAMPLE) == before + 5);
    assert_true(cresc_msg_rejected_count(CRESC_MSG_COMMAND) == before_cmd + 1);
    assert_true(cresc_msg_rejected_count(CRESC_MSG_KIND_COUNT) == 0);
    fflush(sink);
    rewind(sink);
    char log[4096] = "";
    size_t n = fread(log, 1, sizeof(log) - 1, sink);
    log[n] = '\0';
    fclose(sink);
    unlink(path);
    /* Logged once per kind, naming the kind, the field and the reason. */
    const char *first = strstr(log, "WARNING:crescendo.codec:Rejected a sample message: field "
                                    "cpu_pct: 140 is out of range [0, 100]");
    assert_non_null(first);
    const char *again = strstr(first, "Rejected a sample message");
    assert_non_null(again);
    assert_null(strstr(again + 1, "Rejected a sample message"));
    assert_non_null(strstr(log, "Rejected a command message"));
}

static void test_ids(void **state)
{
    (void)state;
    assert_true(cresc_id_valid("game-server"));
    assert_true(cresc_id_valid("a.b_c:d-E9"));
    assert_false(cresc_id_valid(""));
    assert_false(cresc_id_valid(NULL));
    assert_false(cresc_id_valid("a b"));
    assert_false(cresc_id_valid("a/b"));
    assert_false(cresc_id_valid("caf\xc3\xa9"));
    char id[CRESC_ID_MAX + 2];
    memset(id, 'a', sizeof(id));
    id[CRESC_ID_MAX] = '\0';
    assert_true(cresc_id_valid(id));
    id[CRESC_ID_MAX] = 'a';
    id[CRESC_ID_MAX + 1] = '\0';
    assert_false(cresc_id_valid(id));
    assert_string_equal(cresc_msg_kind_name(CRESC_MSG_STATE), "state");
    assert_string_equal(cresc_msg_kind_name(CRESC_MSG_KIND_COUNT), "unknown");
}

/* ---- the written contract: docs/schemas/<kind>.schema.json ---------------------------- */

static json_t *load_schema(enum cresc_msg_kind kind)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/docs/schemas/%s.schema.json", CRESC_SOURCE_DIR,
             cresc_msg_kind_name(kind));
    json_error_t e;
    json_t *schema = json_load_file(path, 0, &e);
    if (schema == NULL) {
        print_error("cannot load %s: %s\n", path, e.text);
    }
    assert_non_null(schema);
    return schema;
}

/* Follow a local "$ref": "#/$defs/name" (or "#/definitions/name"). */
static const json_t *deref(const json_t *root, const json_t *s)
{
    for (int hops = 0; hops < 8 && s != NULL; hops++) {
        const char *ref = json_string_value(json_object_get(s, "$ref"));
        if (ref == NULL) {
            return s;
        }
        assert_true(strncmp(ref, "#/", 2) == 0);
        const char *p = ref + 2;
        const json_t *cur = root;
        while (*p != '\0' && cur != NULL) {
            char seg[128];
            size_t n = strcspn(p, "/");
            assert_true(n < sizeof(seg));
            memcpy(seg, p, n);
            seg[n] = '\0';
            cur = json_object_get(cur, seg);
            p += n;
            if (*p == '/') {
                p++;
            }
        }
        s = cur;
    }
    return s;
}

/* Every `required` member of every object schema is present in the value, recursively
 * through properties, items and (for nullable members) the non-null alternative. */
static void check_required(const json_t *root, const json_t *schema, const json_t *value,
                           const char *path)
{
    schema = deref(root, schema);
    if (schema == NULL || json_is_null(value)) {
        return;
    }
    const json_t *alts = json_object_get(schema, "anyOf");
    if (alts == NULL) {
        alts = json_object_get(schema, "oneOf");
    }
    if (alts != NULL) {
        size_t i;
        const json_t *alt;
        json_array_foreach(alts, i, alt)
        {
            const json_t *d = deref(root, alt);
            const char *type = json_string_value(json_object_get(d, "type"));
            if (type != NULL && strcmp(type, "object") == 0 && json_is_object(value)) {
                check_required(root, d, value, path);
            }
        }
        return;
    }
    if (json_is_object(value)) {
        const json_t *req = json_object_get(schema, "required");
        size_t i;
        const json_t *name;
        json_array_foreach(req, i, name)
        {
            if (json_object_get(value, json_string_value(name)) == NULL) {
                print_error("%s: required member '%s' missing from the encoder's output\n", path,
                            json_string_value(name));
                fail();
            }
        }
        json_t *props = json_object_get(schema, "properties");
        const char *key;
        json_t *sub;
        json_object_foreach(props, key, sub)
        {
            const json_t *member = json_object_get(value, key);
            if (member != NULL) {
                char p2[512];
                snprintf(p2, sizeof(p2), "%s.%s", path, key);
                check_required(root, sub, member, p2);
            }
        }
    } else if (json_is_array(value)) {
        const json_t *items = json_object_get(schema, "items");
        size_t i;
        const json_t *item;
        json_array_foreach(value, i, item)
        {
            char p2[512];
            snprintf(p2, sizeof(p2), "%s[%zu]", path, i);
            check_required(root, items, item, p2);
        }
    }
}

static void test_schemas_match_codecs(void **state)
{
    (void)state;
    for (int k = 0; k < CRESC_MSG_KIND_COUNT; k++) {
        enum cresc_msg_kind kind = (enum cresc_msg_kind)k;
        json_t *schema = load_schema(kind);
        /* The schema pins the version and lists schema_version as required. */
        const json_t *req = json_object_get(schema, "required");
        bool has_version = false;
        size_t i;
        const json_t *name;
        json_array_foreach(req, i, name)
        {
            has_version |= strcmp(json_string_value(name), "schema_version") == 0;
        }
        assert_true(has_version);
        /* What our encoder produces carries every required field. */
        json_t *encoded = encode_kind(kind);
        check_required(schema, schema, encoded, cresc_msg_kind_name(kind));
        json_decref(encoded);
        /* Every documented example decodes with our decoder. */
        const json_t *examples = json_object_get(schema, "examples");
        assert_true(json_is_array(examples));
        assert_true(json_array_size(examples) >= 1);
        const json_t *ex;
        json_array_foreach(examples, i, ex)
        {
            struct cresc_msg_error err;
            memset(&err, 0, sizeof(err));
            int rc = decode_json(kind, ex, &err);
            if (rc != 0) {
                print_error("%s example %zu: %s: %s\n", cresc_msg_kind_name(kind), i, err.field,
                            err.reason);
            }
            assert_int_equal(rc, 0);
            check_required(schema, schema, ex, "example");
        }
        json_decref(schema);
    }
}

/* `test_msg --dump DIR` writes one encoded message per kind (DIR/<kind>.json) for
 * tests/unit/check_schemas.py, which validates them with an independent JSON Schema
 * implementation. */
static int dump_examples(const char *dir)
{
    for (int k = 0; k < CRESC_MSG_KIND_COUNT; k++) {
        json_t *j = encode_kind((enum cresc_msg_kind)k);
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s.json", dir,
                 cresc_msg_kind_name((enum cresc_msg_kind)k));
        int rc = json_dump_file(j, path, JSON_COMPACT);
        json_decref(j);
        if (rc != 0) {
            fprintf(stderr, "cannot write %s\n", path);
            return 1;
        }
    }
    return 0;
}

/* The type words of validation errors ("must be a string, got an integer"), shared by the
 * decoders and the API's request checks. */
static void test_json_type_text(void **state)
{
    (void)state;
    json_t *v[] = {json_object(),  json_array(), json_string("x"), json_integer(1),
                   json_real(1.5), json_true(),  json_false(),     json_null()};
    const char *want[] = {"an object", "an array",  "a string",  "an integer",
                          "a number",  "a boolean", "a boolean", "null"};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_string_equal(cresc_json_type_text(v[i]), want[i]);
        json_decref(v[i]);
    }
    assert_string_equal(cresc_json_type_text(NULL), "nothing");
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
        return dump_examples(argv[2]);
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_round_trip),
        cmocka_unit_test(test_control_round_trip),
        cmocka_unit_test(test_command_round_trip),
        cmocka_unit_test(test_decision_round_trip),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_state_limits),
        cmocka_unit_test(test_rejects_name_the_field),
        cmocka_unit_test(test_common_rejects),
        cmocka_unit_test(test_reject_accounting),
        cmocka_unit_test(test_corruption_never_crashes),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_schemas_match_codecs),
        cmocka_unit_test(test_json_type_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
