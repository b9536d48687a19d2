/* Integration helper for issue 2's round trip: creates the topics through the Admin API (twice:
 * idempotent), encodes every message kind with the codecs, produces them with the wrapper's
 * idempotent producer, consumes them back in a consumer group, decodes and compares field by
 * field (then re-encodes and compares bytes, which covers every field the encoder writes).
 *
 *   it_roundtrip                 the full round trip (env KAFKA_BROKERS, TOPIC_PREFIX;
 *                                IT_EMBEDDED_BROKER=1 skips the compaction check)
 *   it_roundtrip --sample TOPIC  produce one sample to TOPIC and print its JSON (kcat test) */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "cresc/kafka.h"
#include "cresc/log.h"
#include "cresc/msg.h"

#define SERVICE "music-generator"
#define N_MSGS  7 /* 1 sample, 3 controls, 1 decision, 1 command, 1 state */

static int g_failures;

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "it_roundtrip: FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    g_failures++;
}

#define EQ_STR(what, a, b)                                                 \
    do {                                                                   \
        if (strcmp((a), (b)) != 0) {                                       \
            fail("%s: %s: sent \"%s\", got \"%s\"", (what), #a, (a), (b)); \
        }                                                                  \
    } while (0)
#define EQ_INT(what, a, b)                                                                   \
    do {                                                                                     \
        if ((long long)(a) != (long long)(b)) {                                              \
            fail("%s: %s: sent %lld, got %lld", (what), #a, (long long)(a), (long long)(b)); \
        }                                                                                    \
    } while (0)
#define EQ_DBL(what, a, b)                                               \
    do {                                                                 \
        if (fabs((a) - (b)) > 1e-9) {                                    \
            fail("%s: %s: sent %.17g, got %.17g", (what), #a, (a), (b)); \
        }                                                                \
    } while (0)

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the messages ---------------------------------------------------------------------------- */

static void make_sample(struct cresc_sample *s, int64_t ts)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->service, sizeof(s->service), SERVICE);
    snprintf(s->instance_id, sizeof(s->instance_id), "mg-7f9c-1");
    snprintf(s->node, sizeof(s->node), "node-a");
    s->seq = 42;
    s->ts_ms = ts;
    s->interval_ms = 5000;
    s->dropped = 1;
    s->present = CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_DISK |
                 CRESC_SAMPLE_HAS_REQ | CRESC_SAMPLE_HAS_CONNS;
    s->cpu_pct = 72.5;
    s->mem_pct = 41.25;
    s->disk_read_ops_per_s = 12.5;
    s->disk_write_ops_per_s = 3.75;
    s->disk_read_bytes_per_s = 204800;
    s->disk_write_bytes_per_s = 65536;
    s->req_per_s = 180.5;
    s->active_connections = 37;
}

static void make_controls(struct cresc_control c[3], int64_t ts)
{
    memset(c, 0, 3 * sizeof(c[0]));
    for (int i = 0; i < 3; i++) {
        snprintf(c[i].request_id, sizeof(c[i].request_id), "req-%d-%lld", i, (long long)ts);
        snprintf(c[i].service, sizeof(c[i].service), SERVICE);
        c[i].issued_at_ms = ts + i;
    }
    c[0].type = CRESC_CTL_CONFIG_UPDATE;
    c[0].config = json_pack("{s:i,s:f}", "min_instances", 3, "cpu_threshold", 65.5);
    c[1].type = CRESC_CTL_SCALE;
    c[1].target_instances = 5;
    snprintf(c[1].reason, sizeof(c[1].reason), "derby kick-off");
    c[2].type = CRESC_CTL_PRIORITY_UPSERT;
    snprintf(c[2].match_id, sizeof(c[2].match_id), "match-2026-final");
    c[2].priority = 9;
    c[2].resource_allocation = 37.5;
}

static void make_decision(struct cresc_decision_msg *d, int64_t ts)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->service, sizeof(d->service), SERVICE);
    snprintf(d->decision_id, sizeof(d->decision_id), SERVICE ":3:42");
    d->evaluated_at_ms = ts;
    d->config_version = 4;
    d->owner_epoch = 3;
    d->metrics = (struct cresc_metrics){.has_cpu = true,
                                        .has_mem = true,
                                        .has_req = true,
                                        .cpu_pct = 85.5,
                                        .mem_pct = 60.25,
                                        .req_per_s = 420.5};
    d->live_instances = 2;
    struct cresc_decision *x = &d->decision;
    x->current_instances = 2;
    x->recommendation = 3;
    x->target_instances = 3;
    x->scale = true;
    x->direction = CRESC_DIR_UP;
    snprintf(x->reason, sizeof(x->reason), "Scaling up based on cpu-based-scaling");
    snprintf(x->deciding_policy, sizeof(x->deciding_policy), "cpu-based-scaling");
    x->cooldown_remaining_ms = 0;
    x->n_votes = 2;
    snprintf(x->votes[0].policy, sizeof(x->votes[0].policy), "cpu-based-scaling");
    x->votes[0].metric = CRESC_METRIC_CPU;
    x->votes[0].mode = CRESC_MODE_THRESHOLD;
    x->votes[0].has_value = true;
    x->votes[0].value = 85.5;
    x->votes[0].threshold = 70;
    x->votes[0].lower_threshold = 35;
    x->votes[0].desired = 3;
    x->votes[0].direction = CRESC_DIR_UP;
    snprintf(x->votes[1].policy, sizeof(x->votes[1].policy), "memory-based-scaling");
    x->votes[1].metric = CRESC_METRIC_MEM;
    x->votes[1].mode = CRESC_MODE_THRESHOLD;
    x->votes[1].has_value = true;
    x->votes[1].value = 60.25;
    x->votes[1].threshold = 80;
    x->votes[1].lower_threshold = 40;
    x->votes[1].desired = 2;
    x->votes[1].direction = CRESC_DIR_NONE;
    x->n_guards = 1;
    x->guards[0].kind = CRESC_GUARD_RATE_LIMIT;
    x->guards[0].before = 4;
    x->guards[0].after = 3;
    snprintf(x->guards[0].detail, sizeof(x->guards[0].detail), "at most +1 instance per 15 s");
}

static void make_command(struct cresc_scale_command *c, int64_t ts)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->service, sizeof(c->service), SERVICE);
    snprintf(c->decision_id, sizeof(c->decision_id), SERVICE ":3:42");
    c->from = 2;
    c->to = 3;
    snprintf(c->reason, sizeof(c->reason), "Scaling up based on cpu-based-scaling");
    c->config_version = 4;
    c->owner_epoch = 3;
    c->issued_at_ms = ts;
    c->manual = false;
}

/* Heap arrays: released by cresc_state_release. */
static int make_state(struct cresc_state *st, const struct cresc_decision_msg *d, int64_t ts)
{
    cresc_state_init(st);
    snprintf(st->service, sizeof(st->service), SERVICE);
    st->owner_epoch = 3;
    st->state_seq = 17;
    st->updated_at_ms = ts;
    st->config_version = 4;
    st->current_instances = 3;
    st->paused = false;
    st->last_scale_at_ms = ts - 1000;
    st->cooldown_remaining_ms = 299000;
    st->metrics = d->metrics;
    st->active_connections_total = 74;
    st->disk_read_ops_per_s = 25;
    st->disk_write_ops_per_s = 7.5;
    st->disk_read_bytes_per_s = 409600;
    st->disk_write_bytes_per_s = 131072;
    st->live_total = 2;
    st->n_live = 2;
    st->live = calloc(2, sizeof(*st->live));
    st->n_recs = 2;
    st->recs = calloc(2, sizeof(*st->recs));
    st->n_events = 1;
    st->events = calloc(1, sizeof(*st->events));
    st->n_priorities = 2;
    st->priorities = calloc(2, sizeof(*st->priorities));
    st->n_acks = 1;
    st->acks = calloc(1, sizeof(*st->acks));
    if (st->live == NULL || st->recs == NULL || st->events == NULL || st->priorities == NULL ||
        st->acks == NULL) {
        return -1;
    }
    for (size_t i = 0; i < 2; i++) {
        struct cresc_live_instance *l = &st->live[i];
        snprintf(l->instance_id, sizeof(l->instance_id), "mg-7f9c-%zu", i + 1);
        snprintf(l->node, sizeof(l->node), "node-%c", (char)('a' + i));
        l->last_seen_ms = ts - (int64_t)i * 100;
        l->seq = 40 + i;
        l->present = CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_REQ;
        l->cpu_pct = 80 + (double)i;
        l->mem_pct = 60 + (double)i;
        l->req_per_s = 200 + (double)i;
    }
    st->recs[0] = (struct cresc_recommendation){ts - 15000, 2};
    st->recs[1] = (struct cresc_recommendation){ts, 3};
    st->events[0] = (struct cresc_scale_event){ts - 1000, 2, 3};
    st->has_last_decision = true;
    st->last_decision = *d;
    st->capacity_pct = 100;
    snprintf(st->priorities[0].match_id, sizeof(st->priorities[0].match_id), "match-a");
    st->priorities[0].priority = 9;
    st->priorities[0].resource_allocation = 40;
    st->priorities[0].allocated_pct = 40;
    snprintf(st->priorities[0].instance_id, sizeof(st->priorities[0].instance_id), "mg-7f9c-1");
    snprintf(st->priorities[1].match_id, sizeof(st->priorities[1].match_id), "match-b");
    st->priorities[1].priority = 3;
    st->priorities[1].resource_allocation = 30;
    st->priorities[1].allocated_pct = 30;
    snprintf(st->priorities[1].instance_id, sizeof(st->priorities[1].instance_id), "mg-7f9c-2");
    snprintf(st->acks[0].request_id, sizeof(st->acks[0].request_id), "req-0");
    st->acks[0].status = CRESC_ACK_APPLIED;
    st->acks[0].at_ms = ts;
    snprintf(st->actuator, sizeof(st->actuator), "none");
    snprintf(st->actuator_status, sizeof(st->actuator_status), "ok");
    return 0;
}

/* ---- field-by-field comparison ----------------------------------------------------------------
 */

static void cmp_sample(const struct cresc_sample *a, const struct cresc_sample *b)
{
    const char *w = "sample";
    EQ_STR(w, a->service, b->service);
    EQ_STR(w, a->instance_id, b->instance_id);
    EQ_STR(w, a->node, b->node);
    EQ_INT(w, a->seq, b->seq);
    EQ_INT(w, a->ts_ms, b->ts_ms);
    EQ_INT(w, a->interval_ms, b->interval_ms);
    EQ_INT(w, a->dropped, b->dropped);
    EQ_INT(w, a->present, b->present);
    EQ_DBL(w, a->cpu_pct, b->cpu_pct);
    EQ_DBL(w, a->mem_pct, b->mem_pct);
    EQ_DBL(w, a->disk_read_ops_per_s, b->disk_read_ops_per_s);
    EQ_DBL(w, a->disk_write_ops_per_s, b->disk_write_ops_per_s);
    EQ_DBL(w, a->disk_read_bytes_per_s, b->disk_read_bytes_per_s);
    EQ_DBL(w, a->disk_write_bytes_per_s, b->disk_write_bytes_per_s);
    EQ_DBL(w, a->req_per_s, b->req_per_s);
    EQ_DBL(w, a->active_connections, b->active_connections);
}

static void cmp_control(const struct cresc_control *a, const struct cresc_control *b)
{
    const char *w = "control";
    EQ_STR(w, a->request_id, b->request_id);
    EQ_STR(w, a->service, b->service);
    EQ_INT(w, a->type, b->type);
    EQ_INT(w, a->issued_at_ms, b->issued_at_ms);
    switch (a->type) {
    case CRESC_CTL_CONFIG_UPDATE:
        if (b->config == NULL || !json_equal(a->config, b->config)) {
            fail("control: config object differs");
        }
        break;
    case CRESC_CTL_SCALE:
        EQ_INT(w, a->target_instances, b->target_instances);
        EQ_STR(w, a->reason, b->reason);
        break;
    case CRESC_CTL_PRIORITY_UPSERT:
        EQ_STR(w, a->match_id, b->match_id);
        EQ_INT(w, a->priority, b->priority);
        EQ_DBL(w, a->resource_allocation, b->resource_allocation);
        break;
    case CRESC_CTL_PRIORITY_DELETE:
    case CRESC_CTL_PAUSE:
    case CRESC_CTL_RESUME:
        break;
    }
}

static void cmp_decision_core(const char *w, const struct cresc_decision *a,
                              const struct cresc_decision *b)
{
    EQ_INT(w, a->current_instances, b->current_instances);
    EQ_INT(w, a->recommendation, b->recommendation);
    EQ_INT(w, a->target_instances, b->target_instances);
    EQ_INT(w, a->scale, b->scale);
    EQ_INT(w, a->direction, b->direction);
    EQ_STR(w, a->reason, b->reason);
    EQ_STR(w, a->deciding_policy, b->deciding_policy);
    EQ_INT(w, a->cooldown_remaining_ms, b->cooldown_remaining_ms);
    EQ_INT(w, a->n_votes, b->n_votes);
    for (size_t i = 0; i < a->n_votes && i < b->n_votes; i++) {
        EQ_STR(w, a->votes[i].policy, b->votes[i].policy);
        EQ_INT(w, a->votes[i].metric, b->votes[i].metric);
        EQ_INT(w, a->votes[i].mode, b->votes[i].mode);
        EQ_INT(w, a->votes[i].has_value, b->votes[i].has_value);
        EQ_DBL(w, a->votes[i].value, b->votes[i].value);
        EQ_DBL(w, a->votes[i].threshold, b->votes[i].threshold);
        EQ_DBL(w, a->votes[i].lower_threshold, b->votes[i].lower_threshold);
        EQ_INT(w, a->votes[i].desired, b->votes[i].desired);
        EQ_INT(w, a->votes[i].direction, b->votes[i].direction);
    }
    EQ_INT(w, a->n_guards, b->n_guards);
    for (size_t i = 0; i < a->n_guards && i < b->n_guards; i++) {
        EQ_INT(w, a->guards[i].kind, b->guards[i].kind);
        EQ_INT(w, a->guards[i].before, b->guards[i].before);
        EQ_INT(w, a->guards[i].after, b->guards[i].after);
        EQ_STR(w, a->guards[i].detail, b->guards[i].detail);
    }
}

static void cmp_metrics(const char *w, const struct cresc_metrics *a, const struct cresc_metrics *b)
{
    EQ_INT(w, a->has_cpu, b->has_cpu);
    EQ_INT(w, a->has_mem, b->has_mem);
    EQ_INT(w, a->has_req, b->has_req);
    EQ_DBL(w, a->cpu_pct, b->cpu_pct);
    EQ_DBL(w, a->mem_pct, b->mem_pct);
    EQ_DBL(w, a->req_per_s, b->req_per_s);
}

static void cmp_decision(const struct cresc_decision_msg *a, const struct cresc_decision_msg *b)
{
    const char *w = "decision";
    EQ_STR(w, a->service, b->service);
    EQ_STR(w, a->decision_id, b->decision_id);
    EQ_INT(w, a->evaluated_at_ms, b->evaluated_at_ms);
    EQ_INT(w, a->config_version, b->config_version);
    EQ_INT(w, a->owner_epoch, b->owner_epoch);
    EQ_INT(w, a->live_instances, b->live_instances);
    cmp_metrics(w, &a->metrics, &b->metrics);
    cmp_decision_core(w, &a->decision, &b->decision);
}

static void cmp_command(const struct cresc_scale_command *a, const struct cresc_scale_command *b)
{
    const char *w = "command";
    EQ_STR(w, a->service, b->service);
    EQ_STR(w, a->decision_id, b->decision_id);
    EQ_INT(w, a->from, b->from);
    EQ_INT(w, a->to, b->to);
    EQ_STR(w, a->reason, b->reason);
    EQ_INT(w, a->config_version, b->config_version);
    EQ_INT(w, a->owner_epoch, b->owner_epoch);
    EQ_INT(w, a->issued_at_ms, b->issued_at_ms);
    EQ_INT(w, a->manual, b->manual);
    EQ_STR(w, a->request_id, b->request_id);
}

static void cmp_state(const struct cresc_state *a, const struct cresc_state *b)
{
    const char *w = "state";
    EQ_STR(w, a->service, b->service);
    EQ_INT(w, a->owner_epoch, b->owner_epoch);
    EQ_INT(w, a->state_seq, b->state_seq);
    EQ_INT(w, a->updated_at_ms, b->updated_at_ms);
    EQ_INT(w, a->config_version, b->config_version);
    EQ_INT(w, a->config.min_instances, b->config.min_instances);
    EQ_INT(w, a->config.max_instances, b->config.max_instances);
    EQ_DBL(w, a->config.cpu_threshold, b->config.cpu_threshold);
    EQ_DBL(w, a->config.memory_threshold, b->config.memory_threshold);
    EQ_INT(w, a->config.scaling_cooldown_s, b->config.scaling_cooldown_s);
    EQ_INT(w, a->config.load_balancer_strategy, b->config.load_balancer_strategy);
    EQ_INT(w, a->config.n_policies, b->config.n_policies);
    EQ_INT(w, a->current_instances, b->current_instances);
    EQ_INT(w, a->paused, b->paused);
    EQ_INT(w, a->last_scale_at_ms, b->last_scale_at_ms);
    EQ_INT(w, a->cooldown_remaining_ms, b->cooldown_remaining_ms);
    cmp_metrics(w, &a->metrics, &b->metrics);
    EQ_DBL(w, a->active_connections_total, b->active_connections_total);
    EQ_DBL(w, a->disk_read_ops_per_s, b->disk_read_ops_per_s);
    EQ_DBL(w, a->disk_write_ops_per_s, b->disk_write_ops_per_s);
    EQ_DBL(w, a->disk_read_bytes_per_s, b->disk_read_bytes_per_s);
    EQ_DBL(w, a->disk_write_bytes_per_s, b->disk_write_bytes_per_s);
    EQ_INT(w, a->live_total, b->live_total);
    EQ_INT(w, a->n_live, b->n_live);
    for (size_t i = 0; i < a->n_live && i < b->n_live; i++) {
        EQ_STR(w, a->live[i].instance_id, b->live[i].instance_id);
        EQ_STR(w, a->live[i].node, b->live[i].node);
        EQ_INT(w, a->live[i].last_seen_ms, b->live[i].last_seen_ms);
        EQ_INT(w, a->live[i].seq, b->live[i].seq);
        EQ_INT(w, a->live[i].present, b->live[i].present);
        EQ_DBL(w, a->live[i].cpu_pct, b->live[i].cpu_pct);
        EQ_DBL(w, a->live[i].mem_pct, b->live[i].mem_pct);
        EQ_DBL(w, a->live[i].req_per_s, b->live[i].req_per_s);
    }
    EQ_INT(w, a->has_last_decision, b->has_last_decision);
    if (a->has_last_decision && b->has_last_decision) {
        cmp_decision(&a->last_decision, &b->last_decision);
    }
    EQ_INT(w, a->n_recs, b->n_recs);
    for (size_t i = 0; i < a->n_recs && i < b->n_recs; i++) {
        EQ_INT(w, a->recs[i].at_ms, b->recs[i].at_ms);
        EQ_INT(w, a->recs[i].instances, b->recs[i].instances);
    }
    EQ_INT(w, a->n_events, b->n_events);
    for (size_t i = 0; i < a->n_events && i < b->n_events; i++) {
        EQ_INT(w, a->events[i].at_ms, b->events[i].at_ms);
        EQ_INT(w, a->events[i].from, b->events[i].from);
        EQ_INT(w, a->events[i].to, b->events[i].to);
    }
    EQ_DBL(w, a->capacity_pct, b->capacity_pct);
    EQ_INT(w, a->n_priorities, b->n_priorities);
    for (size_t i = 0; i < a->n_priorities && i < b->n_priorities; i++) {
        EQ_STR(w, a->priorities[i].match_id, b->priorities[i].match_id);
        EQ_INT(w, a->priorities[i].priority, b->priorities[i].priority);
        EQ_DBL(w, a->priorities[i].resource_allocation, b->priorities[i].resource_allocation);
        EQ_DBL(w, a->priorities[i].allocated_pct, b->priorities[i].allocated_pct);
        EQ_STR(w, a->priorities[i].instance_id, b->priorities[i].instance_id);
    }
    EQ_INT(w, a->n_acks, b->n_acks);
    for (size_t i = 0; i < a->n_acks && i < b->n_acks; i++) {
        EQ_STR(w, a->acks[i].request_id, b->acks[i].request_id);
        EQ_INT(w, a->acks[i].status, b->acks[i].status);
        EQ_STR(w, a->acks[i].reason, b->acks[i].reason);
        EQ_INT(w, a->acks[i].at_ms, b->acks[i].at_ms);
    }
    EQ_STR(w, a->actuator, b->actuator);
    EQ_STR(w, a->actuator_status, b->actuator_status);
}

/* ---- Kafka ------------------------------------------------------------------------------------
 */

/* Asserts the state topic really is compacted, as the broker reports it. */
static void check_compacted(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    const char *policy = NULL;
    if (ev != NULL && rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        size_t n = 0;
        const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            size_t ne = 0;
            const rd_kafka_ConfigEntry_t **e = rd_kafka_ConfigResource_configs(rs[i], &ne);
            for (size_t j = 0; j < ne; j++) {
                if (strcmp(rd_kafka_ConfigEntry_name(e[j]), "cleanup.policy") == 0) {
                    policy = rd_kafka_ConfigEntry_value(e[j]);
                }
            }
        }
    }
    if (policy == NULL || strcmp(policy, "compact") != 0) {
        fail("topic %s: cleanup.policy is %s, expected compact", topic,
             policy != NULL ? policy : "(unknown)");
    } else {
        printf("it_roundtrip: %s has cleanup.policy=compact\n", topic);
    }
    if (ev != NULL) {
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
}

static int produce_sample_only(const struct cresc_kafka_conf *kc, const char *topic)
{
    struct cresc_sample s;
    make_sample(&s, now_ms());
    char buf[CRESC_SAMPLE_MAX_BYTES];
    size_t len = 0;
    char err[512];
    struct cresc_producer *p = NULL;
    struct cresc_producer_opts po = {.kafka = kc, .message_timeout_ms = 30000, .linger_ms = 0};
    if (cresc_sample_encode(&s, buf, sizeof(buf), &len) != 0) {
        fprintf(stderr, "it_roundtrip: sample does not encode\n");
        return 1;
    }
    if (cresc_producer_new(&po, &p, err, sizeof(err)) != 0) {
        fprintf(stderr, "it_roundtrip: %s\n", err);
        return 1;
    }
    int rc = cresc_producer_send(p, topic, s.service, buf, len, NULL);
    if (rc == 0) {
        rc = cresc_producer_flush(p, 30000);
    }
    struct cresc_producer_stats st = cresc_producer_stats(p);
    cresc_producer_free(p);
    if (rc != 0 || st.delivered != 1) {
        fprintf(stderr, "it_roundtrip: sample not delivered (%s)\n", cresc_strerror(rc));
        return 1;
    }
    printf("%s\n", buf);
    return 0;
}

struct sent {
    const char *topic;
    char *json;
    size_t len;
};

int main(int argc, char **argv)
{
    const char *brokers = getenv("KAFKA_BROKERS");
    if (brokers == NULL || brokers[0] == '\0') {
        fprintf(stderr, "it_roundtrip: KAFKA_BROKERS is not set\n");
        return 2;
    }
    struct cresc_kafka_conf kc = {.brokers = brokers, .client_id = "it_roundtrip", .props = NULL};
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_WARNING, NULL);
    if (argc == 3 && strcmp(argv[1], "--sample") == 0) {
        return produce_sample_only(&kc, argv[2]);
    }

    char prefix[128];
    const char *env_prefix = getenv("TOPIC_PREFIX");
    if (env_prefix != NULL && env_prefix[0] != '\0') {
        snprintf(prefix, sizeof(prefix), "%s", env_prefix);
    } else {
        snprintf(prefix, sizeof(prefix), "it_roundtrip_%d.", (int)getpid());
    }
    struct cresc_topics t;
    char err[512] = "";
    if (cresc_topics_init(&t, prefix) != 0) {
        fprintf(stderr, "it_roundtrip: bad prefix %s\n", prefix);
        return 2;
    }

    /* Topic creation, twice: the second call finds them all and must succeed too. */
    for (int round = 0; round < 2; round++) {
        int rc = cresc_kafka_ensure_topics(&kc, &t, 3, -1, 30000, err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "it_roundtrip: FAIL: ensure_topics (round %d): %s: %s\n", round + 1,
                    cresc_err_name(rc), err);
            return 1;
        }
    }

    int64_t ts = now_ms();
    struct cresc_sample sample;
    struct cresc_control ctl[3];
    struct cresc_decision_msg dec;
    struct cresc_scale_command cmd;
    struct cresc_state st;
    make_sample(&sample, ts);
    make_controls(ctl, ts);
    make_decision(&dec, ts);
    make_command(&cmd, ts);
    if (make_state(&st, &dec, ts) != 0) {
        fprintf(stderr, "it_roundtrip: out of memory\n");
        return 1;
    }

    struct sent sent[N_MSGS];
    memset(sent, 0, sizeof(sent));
    static char bufs[6][CRESC_DECISION_MAX_BYTES];
    int rc = cresc_sample_encode(&sample, bufs[0], sizeof(bufs[0]), &sent[0].len);
    sent[0] = (struct sent){t.samples, bufs[0], sent[0].len};
    for (int i = 0; i < 3 && rc == 0; i++) {
        rc = cresc_control_encode(&ctl[i], bufs[1 + i], sizeof(bufs[1 + i]), &sent[1 + i].len);
        sent[1 + i] = (struct sent){t.control, bufs[1 + i], sent[1 + i].len};
    }
    if (rc == 0) {
        rc = cresc_decision_msg_encode(&dec, bufs[4], sizeof(bufs[4]), &sent[4].len);
        sent[4] = (struct sent){t.decisions, bufs[4], sent[4].len};
    }
    if (rc == 0) {
        rc = cresc_command_encode(&cmd, bufs[5], sizeof(bufs[5]), &sent[5].len);
        sent[5] = (struct sent){t.commands, bufs[5], sent[5].len};
    }
    char *state_json = NULL;
    size_t state_len = 0;
    if (rc == 0) {
        rc = cresc_state_encode(&st, &state_json, &state_len);
        sent[6] = (struct sent){t.state, state_json, state_len};
    }
    if (rc != 0) {
        fprintf(stderr, "it_roundtrip: FAIL: a message does not encode: %s\n", cresc_err_name(rc));
        return 1;
    }

    struct cresc_producer *p = NULL;
    struct cresc_producer_opts po = {.kafka = &kc, .message_timeout_ms = 30000, .linger_ms = 5};
    if (cresc_producer_new(&po, &p, err, sizeof(err)) != 0) {
        fprintf(stderr, "it_roundtrip: FAIL: producer: %s\n", err);
        return 1;
    }
    for (int i = 0; i < N_MSGS; i++) {
        if (cresc_producer_send(p, sent[i].topic, SERVICE, sent[i].json, sent[i].len, NULL) != 0) {
            fail("send to %s refused", sent[i].topic);
        }
    }
    if (cresc_producer_flush(p, 30000) != 0) {
        fail("flush timed out");
    }
    struct cresc_producer_stats ps = cresc_producer_stats(p);
    if (ps.delivered != N_MSGS || ps.failed != 0) {
        fail("delivery reports: %llu delivered, %llu failed (expected %d, 0)",
             (unsigned long long)ps.delivered, (unsigned long long)ps.failed, N_MSGS);
    }
    /* The embedded broker (librdkafka's mock) has no DescribeConfigs and no compaction. */
    const char *mock = getenv("IT_EMBEDDED_BROKER");
    if (mock == NULL || strcmp(mock, "1") != 0) {
        check_compacted(cresc_producer_handle(p), t.state);
    }
    int n_parts = 0;
    const char *all[] = {t.samples, t.control, t.decisions, t.commands, t.state};
    for (size_t i = 0; i < 5; i++) {
        if (cresc_kafka_partition_count(cresc_producer_handle(p), all[i], 10000, &n_parts) != 0 ||
            n_parts != 3) {
            fail("topic %s has %d partitions, expected 3", all[i], n_parts);
        }
    }
    cresc_producer_free(p);

    /* Consume in a consumer group and decode. */
    char group[160];
    snprintf(group, sizeof(group), "%sroundtrip-group", prefix);
    struct cresc_consumer_opts co = {.kafka = &kc,
                                     .group_id = group,
                                     .topics = all,
                                     .n_topics = 5,
                                     .read_committed = true,
                                     .session_timeout_ms = 6000};
    struct cresc_consumer *c = NULL;
    if (cresc_consumer_new(&co, &c, err, sizeof(err)) != 0) {
        fprintf(stderr, "it_roundtrip: FAIL: consumer: %s\n", err);
        return 1;
    }
    bool seen[N_MSGS] = {false};
    int got = 0;
    int64_t deadline = now_ms() + 60000;
    while (got < N_MSGS && now_ms() < deadline) {
        rd_kafka_message_t *m = cresc_consumer_poll(c, 500);
        if (m == NULL) {
            continue;
        }
        if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                fprintf(stderr, "it_roundtrip: consumer event: %s\n", rd_kafka_message_errstr(m));
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        const char *topic = rd_kafka_topic_name(m->rkt);
        const char *val = m->payload;
        size_t len = m->len;
        struct cresc_msg_error me = {{0}, {0}};
        char again[CRESC_DECISION_MAX_BYTES];
        size_t again_len = 0;
        int idx = -1;
        if (m->key_len != strlen(SERVICE) || memcmp(m->key, SERVICE, m->key_len) != 0) {
            fail("%s: message key is not the service name", topic);
        }
        if (strcmp(topic, t.samples) == 0) {
            struct cresc_sample s;
            idx = 0;
            if (cresc_sample_decode(val, len, &s, &me) != 0) {
                fail("sample does not decode: %s: %s", me.field, me.reason);
            } else {
                cmp_sample(&sample, &s);
                if (cresc_sample_encode(&s, again, sizeof(again), &again_len) != 0) {
                    fail("decoded sample does not re-encode");
                }
            }
        } else if (strcmp(topic, t.control) == 0) {
            struct cresc_control x;
            if (cresc_control_decode(val, len, &x, &me) != 0) {
                fail("control does not decode: %s: %s", me.field, me.reason);
            } else {
                for (int i = 0; i < 3; i++) {
                    if (strcmp(ctl[i].request_id, x.request_id) == 0) {
                        idx = 1 + i;
                        cmp_control(&ctl[i], &x);
                    }
                }
                if (cresc_control_encode(&x, again, sizeof(again), &again_len) != 0) {
                    fail("decoded control does not re-encode");
                }
                cresc_control_release(&x);
            }
        } else if (strcmp(topic, t.decisions) == 0) {
            struct cresc_decision_msg x;
            idx = 4;
            if (cresc_decision_msg_decode(val, len, &x, &me) != 0) {
                fail("decision does not decode: %s: %s", me.field, me.reason);
            } else {
                cmp_decision(&dec, &x);
                if (cresc_decision_msg_encode(&x, again, sizeof(again), &again_len) != 0) {
                    fail("decoded decision does not re-encode");
                }
            }
        } else if (strcmp(topic, t.commands) == 0) {
            struct cresc_scale_command x;
            idx = 5;
            if (cresc_command_decode(val, len, &x, &me) != 0) {
                fail("command does not decode: %s: %s", me.field, me.reason);
            } else {
                cmp_command(&cmd, &x);
                if (cresc_command_encode(&x, again, sizeof(again), &again_len) != 0) {
                    fail("decoded command does not re-encode");
                }
            }
        } else if (strcmp(topic, t.state) == 0) {
            struct cresc_state x;
            idx = 6;
            if (cresc_state_decode(val, len, &x, &me) != 0) {
                fail("state does not decode: %s: %s", me.field, me.reason);
            } else {
                cmp_state(&st, &x);
                char *s2 = NULL;
                if (cresc_state_encode(&x, &s2, &again_len) != 0 || again_len >= sizeof(again)) {
                    fail("decoded state does not re-encode");
                    again_len = 0;
                } else {
                    memcpy(again, s2, again_len);
                }
                free(s2);
                cresc_state_release(&x);
            }
        }
        if (idx < 0) {
            fail("unexpected message on %s", topic);
        } else if (seen[idx]) {
            fail("message %d on %s delivered twice", idx, topic);
        } else {
            seen[idx] = true;
            got++;
            if (again_len != len || memcmp(again, val, len) != 0) {
                fail("%s: decode+encode does not give back the bytes sent:\n  sent %.*s\n  "
                     "again %.*s",
                     topic, (int)len, val, (int)again_len, again);
            }
        }
        rd_kafka_message_destroy(m);
    }
    cresc_consumer_free(c);
    if (got != N_MSGS) {
        fail("consumed %d of %d messages within 60 s", got, N_MSGS);
    }
    for (int i = 0; i < 3; i++) {
        cresc_control_release(&ctl[i]);
    }
    cresc_state_release(&st);
    free(state_json);
    if (g_failures > 0) {
        fprintf(stderr, "it_roundtrip: %d mismatch(es)\n", g_failures);
        return 1;
    }
    printf("it_roundtrip: OK: %d messages of 5 kinds produced, consumed in group %s, decoded "
           "and compared field by field\n",
           N_MSGS, group);
    return 0;
}
