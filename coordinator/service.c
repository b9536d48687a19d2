/* Per-service state of the coordinator (service.h): history bookkeeping around the pure
 * decision core, priorities, acknowledgements, and the conversion to and from the
 * scaling.state snapshot that makes all of it survive a change of owner. */
#include "service.h"

#include "cresc/alloc.h"
#include "cresc/balance.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Recommendations older than the longest stabilization window the config allows are of no
 * use to the core; scale events older than the longest rate-limit period neither (the latest
 * one is always kept: it carries the cooldown). */
#define REC_KEEP_MS   (3600LL * 1000 + 1000)
#define EVENT_KEEP_MS (1800LL * 1000 + 1000)

static void copy_str(char *dst, size_t cap, const char *src)
{
    (void)snprintf(dst, cap, "%s", src != NULL ? src : "");
}

int cresc_service_new(const char *name, int32_t partition,
                      const struct cresc_scaling_config *initial, int32_t initial_instances,
                      int64_t owner_epoch, const struct cresc_window_opts *wopts,
                      struct cresc_service **out)
{
    if (name == NULL || !cresc_id_valid(name) || initial == NULL || wopts == NULL || out == NULL) {
        return CRESC_EINVAL;
    }
    struct cresc_service *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return CRESC_ENOMEM;
    }
    int rc = cresc_window_new(wopts, &s->window);
    if (rc != 0) {
        free(s);
        return rc;
    }
    copy_str(s->name, sizeof(s->name), name);
    s->partition = partition;
    s->owner_epoch = owner_epoch > 0 ? owner_epoch : 1;
    s->config = *initial;
    s->config_version = 1;
    s->current_instances = initial_instances >= 0 ? initial_instances : initial->min_instances;
    s->capacity_pct = 100.0;
    s->dirty = true;
    *out = s;
    return 0;
}

void cresc_service_free(struct cresc_service *s)
{
    if (s == NULL) {
        return;
    }
    cresc_window_free(s->window);
    free(s->prio);
    free(s->acks);
    free(s);
}

/* Whether one sample alone is above a scale-up threshold of an enabled policy: a hint that
 * the service should be evaluated now rather than at the next tick (the evaluation itself
 * works on the aggregates and decides). */
static bool sample_crosses(const struct cresc_scaling_config *cfg, const struct cresc_sample *smp)
{
    for (size_t i = 0; i < cfg->n_policies; i++) {
        const struct cresc_policy_spec *p = &cfg->policies[i];
        if (!p->enabled) {
            continue;
        }
        double v;
        switch (p->metric) {
        case CRESC_METRIC_CPU:
            if (!(smp->present & CRESC_SAMPLE_HAS_CPU)) {
                continue;
            }
            v = smp->cpu_pct;
            break;
        case CRESC_METRIC_MEM:
            if (!(smp->present & CRESC_SAMPLE_HAS_MEM)) {
                continue;
            }
            v = smp->mem_pct;
            break;
        case CRESC_METRIC_REQ_RATE:
            if (!(smp->present & CRESC_SAMPLE_HAS_REQ)) {
                continue;
            }
            v = smp->req_per_s;
            break;
        case CRESC_METRIC_COUNT:
        default:
            continue;
        }
        double limit =
            p->mode == CRESC_MODE_THRESHOLD ? p->threshold : p->target * (1.0 + cfg->tolerance);
        if (v > limit) {
            return true;
        }
    }
    return false;
}

int cresc_service_add_sample(struct cresc_service *s, const struct cresc_sample *smp,
                             int64_t now_ms, int64_t wall_ms, enum cresc_window_verdict *verdict,
                             bool *crossed)
{
    *crossed = false;
    int rc = cresc_window_add(s->window, smp, now_ms, wall_ms, verdict);
    if (rc != 0) {
        return rc;
    }
    if (*verdict == CRESC_WINDOW_ACCEPTED) {
        *crossed = sample_crosses(&s->config, smp);
    }
    return 0;
}

static void prune_history(struct cresc_service *s, int64_t now_ms)
{
    size_t drop = 0;
    while (drop < s->n_recs && s->recs[drop].at_ms < now_ms - REC_KEEP_MS) {
        drop++;
    }
    if (drop > 0) {
        memmove(s->recs, s->recs + drop, (s->n_recs - drop) * sizeof(s->recs[0]));
        s->n_recs -= drop;
    }
    drop = 0;
    while (drop + 1 < s->n_events && s->events[drop].at_ms < now_ms - EVENT_KEEP_MS) {
        drop++;
    }
    if (drop > 0) {
        memmove(s->events, s->events + drop, (s->n_events - drop) * sizeof(s->events[0]));
        s->n_events -= drop;
    }
}

static void record_recommendation(struct cresc_service *s, int64_t now_ms, int32_t instances)
{
    if (s->n_recs > 0 && s->recs[s->n_recs - 1].instances == instances) {
        s->recs[s->n_recs - 1].at_ms = now_ms;
        return;
    }
    if (s->n_recs == CRESC_HISTORY_MAX) {
        memmove(s->recs, s->recs + 1, (s->n_recs - 1) * sizeof(s->recs[0]));
        s->n_recs--;
    }
    s->recs[s->n_recs++] = (struct cresc_recommendation){.at_ms = now_ms, .instances = instances};
}

static void record_event(struct cresc_service *s, int64_t now_ms, int32_t from, int32_t to)
{
    if (s->n_events == CRESC_HISTORY_MAX) {
        memmove(s->events, s->events + 1, (s->n_events - 1) * sizeof(s->events[0]));
        s->n_events--;
    }
    s->events[s->n_events++] = (struct cresc_scale_event){.at_ms = now_ms, .from = from, .to = to};
    s->last_scale_ms = now_ms;
}

/* "<service>:<owner_epoch>:<seq>", unique per service and owner. A name too long for the id
 * is cut and followed by "." and its FNV-1a hash so that two long names still differ. */
static void make_decision_id(struct cresc_service *s, char *buf, size_t cap)
{
    s->decision_seq++;
    char tail[64];
    (void)snprintf(tail, sizeof(tail), ":%" PRId64 ":%" PRIu64, s->owner_epoch, s->decision_seq);
    size_t name_len = strlen(s->name);
    size_t tail_len = strlen(tail);
    if (name_len + tail_len < cap) {
        memcpy(buf, s->name, name_len);
        memcpy(buf + name_len, tail, tail_len + 1);
        return;
    }
    uint32_t h = 2166136261U;
    for (size_t i = 0; i < name_len; i++) {
        h = (h ^ (uint8_t)s->name[i]) * 16777619U;
    }
    char hash[16];
    (void)snprintf(hash, sizeof(hash), ".%08" PRIx32, h);
    int keep = (int)(cap - 1 - tail_len - strlen(hash));
    (void)snprintf(buf, cap, "%.*s%s%s", keep, s->name, hash, tail);
}

static void fill_command(struct cresc_service *s, struct cresc_scale_command *cmd,
                         const char *decision_id, int32_t from, int32_t to, const char *reason,
                         int64_t wall_ms)
{
    memset(cmd, 0, sizeof(*cmd));
    copy_str(cmd->service, sizeof(cmd->service), s->name);
    copy_str(cmd->decision_id, sizeof(cmd->decision_id), decision_id);
    cmd->from = from;
    cmd->to = to;
    copy_str(cmd->reason, sizeof(cmd->reason), reason);
    cmd->config_version = s->config_version;
    cmd->owner_epoch = s->owner_epoch;
    cmd->issued_at_ms = wall_ms;
}

int cresc_service_evaluate(struct cresc_service *s, int64_t now_ms, int64_t wall_ms,
                           struct cresc_service_eval *out)
{
    memset(out, 0, sizeof(*out));
    (void)cresc_window_expire(s->window, now_ms);
    cresc_window_aggregate(s->window, now_ms, &s->agg);
    prune_history(s, now_ms);

    struct cresc_eval_input in = {
        .now_ms = now_ms,
        .current_instances = s->current_instances,
        .config = &s->config,
        .metrics = s->agg.metrics,
        .history = {.n_recs = s->n_recs,
                    .recs = s->recs,
                    .n_events = s->n_events,
                    .events = s->events},
        .paused = s->paused,
    };
    struct cresc_decision_msg *m = &out->decision;
    int rc = cresc_policy_evaluate(&in, &m->decision);
    if (rc != 0) {
        return rc;
    }
    record_recommendation(s, now_ms, m->decision.recommendation);

    copy_str(m->service, sizeof(m->service), s->name);
    make_decision_id(s, m->decision_id, sizeof(m->decision_id));
    m->evaluated_at_ms = wall_ms;
    m->config_version = s->config_version;
    m->owner_epoch = s->owner_epoch;
    m->metrics = s->agg.metrics;
    m->live_instances = s->agg.live_instances;

    const struct cresc_decision *d = &m->decision;
    if (d->scale && d->target_instances != s->current_instances) {
        out->has_command = true;
        fill_command(s, &out->command, m->decision_id, s->current_instances, d->target_instances,
                     d->reason, wall_ms);
        record_event(s, now_ms, s->current_instances, d->target_instances);
        s->current_instances = d->target_instances;
    }
    /* Only an outcome that differs from the last one makes the snapshot urgent; the rest
     * (metrics, countdowns) goes out with the periodic snapshot. */
    if (out->has_command || !s->has_last ||
        s->last.decision.target_instances != d->target_instances ||
        s->last.decision.direction != d->direction ||
        strcmp(s->last.decision.deciding_policy, d->deciding_policy) != 0) {
        s->dirty = true;
    }
    s->last = *m;
    s->has_last = true;
    s->last_cooldown_ms = cresc_service_cooldown_remaining_ms(s, now_ms);
    return 0;
}

void cresc_service_manual_scale(struct cresc_service *s, int32_t target, const char *reason,
                                const char *request_id, int64_t now_ms, int64_t wall_ms,
                                struct cresc_scale_command *cmd, bool *has_cmd)
{
    *has_cmd = false;
    if (target == s->current_instances) {
        return;
    }
    char id[CRESC_ID_MAX + 1];
    make_decision_id(s, id, sizeof(id));
    char why[CRESC_REASON_MAX];
    if (reason != NULL && reason[0] != '\0') {
        copy_str(why, sizeof(why), reason);
    } else {
        (void)snprintf(why, sizeof(why), "Manual scaling to %" PRId32 " instances", target);
    }
    fill_command(s, cmd, id, s->current_instances, target, why, wall_ms);
    cmd->manual = true;
    copy_str(cmd->request_id, sizeof(cmd->request_id), request_id);
    record_event(s, now_ms, s->current_instances, target);
    s->current_instances = target;
    s->last_cooldown_ms = cresc_service_cooldown_remaining_ms(s, now_ms);
    s->dirty = true;
    *has_cmd = true;
}

int64_t cresc_service_cooldown_remaining_ms(const struct cresc_service *s, int64_t now_ms)
{
    if (s->n_events == 0) {
        return 0;
    }
    const struct cresc_scaling_config *c = &s->config;
    int64_t cd = c->scaling_cooldown_s;
    if (c->scale_up_cooldown_s > cd) {
        cd = c->scale_up_cooldown_s;
    }
    if (c->scale_down_cooldown_s > cd) {
        cd = c->scale_down_cooldown_s;
    }
    int64_t rem = s->last_scale_ms + cd * 1000 - now_ms;
    return rem > 0 ? rem : 0;
}

/* ---- priorities ---------------------------------------------------------------------- */

static size_t prio_lower_bound(const struct cresc_service *s, const char *match_id)
{
    size_t lo = 0, hi = s->n_prio;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->prio[mid].match_id, match_id) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

const struct cresc_priority *cresc_service_priority_find(const struct cresc_service *s,
                                                         const char *match_id)
{
    size_t i = prio_lower_bound(s, match_id);
    if (i < s->n_prio && strcmp(s->prio[i].match_id, match_id) == 0) {
        return &s->prio[i];
    }
    return NULL;
}

int cresc_service_priority_upsert(struct cresc_service *s, const char *match_id, int32_t priority,
                                  double resource_allocation)
{
    if (match_id == NULL || !cresc_id_valid(match_id) || priority < 1 || priority > 10 ||
        !(resource_allocation > 0.0 && resource_allocation <= 100.0)) {
        return CRESC_EINVAL;
    }
    size_t i = prio_lower_bound(s, match_id);
    if (i < s->n_prio && strcmp(s->prio[i].match_id, match_id) == 0) {
        s->prio[i].priority = priority;
        s->prio[i].resource_allocation = resource_allocation;
        s->dirty = true;
        return 0;
    }
    if (s->n_prio >= CRESC_PRIORITIES_MAX) {
        return CRESC_EFULL;
    }
    if (s->n_prio == s->cap_prio) {
        size_t cap = s->cap_prio ? s->cap_prio * 2 : 16;
        if (cap > CRESC_PRIORITIES_MAX) {
            cap = CRESC_PRIORITIES_MAX;
        }
        struct cresc_priority *p = realloc(s->prio, cap * sizeof(*p));
        if (p == NULL) {
            return CRESC_ENOMEM;
        }
        s->prio = p;
        s->cap_prio = cap;
    }
    memmove(s->prio + i + 1, s->prio + i, (s->n_prio - i) * sizeof(s->prio[0]));
    memset(&s->prio[i], 0, sizeof(s->prio[i]));
    copy_str(s->prio[i].match_id, sizeof(s->prio[i].match_id), match_id);
    s->prio[i].priority = priority;
    s->prio[i].resource_allocation = resource_allocation;
    s->n_prio++;
    s->dirty = true;
    return 0;
}

int cresc_service_priority_delete(struct cresc_service *s, const char *match_id)
{
    size_t i = prio_lower_bound(s, match_id);
    if (i >= s->n_prio || strcmp(s->prio[i].match_id, match_id) != 0) {
        return CRESC_ENOTFOUND;
    }
    memmove(s->prio + i, s->prio + i + 1, (s->n_prio - i - 1) * sizeof(s->prio[0]));
    s->n_prio--;
    s->dirty = true;
    return 0;
}

int cresc_service_allocate(struct cresc_service *s, int64_t now_ms)
{
    int32_t needed =
        s->has_last ? cresc_alloc_needed_instances(&s->last.decision) : s->current_instances;
    s->capacity_pct = cresc_alloc_capacity_pct(s->current_instances, needed);
    if (s->n_prio == 0) {
        return 0;
    }
    struct cresc_alloc_summary sum;
    int rc = cresc_alloc_priorities(s->prio, s->n_prio, s->capacity_pct, &sum);
    if (rc != 0) {
        return rc;
    }
    size_t cap = cresc_window_count(s->window);
    struct cresc_live_instance *live = NULL;
    if (cap > 0) {
        live = malloc(cap * sizeof(*live));
        if (live == NULL) {
            return CRESC_ENOMEM;
        }
    }
    size_t n = cap > 0 ? cresc_window_live(s->window, now_ms, live, cap) : 0;
    if (n > cap) {
        n = cap;
    }
    rc = cresc_balance_place_priorities(s->config.load_balancer_strategy, live, n, s->prio,
                                        s->n_prio);
    free(live);
    return rc;
}

/* ---- acknowledgements ---------------------------------------------------------------- */

const struct cresc_ack *cresc_service_ack_find(const struct cresc_service *s,
                                               const char *request_id)
{
    for (size_t i = s->n_acks; i-- > 0;) {
        if (strcmp(s->acks[i].request_id, request_id) == 0) {
            return &s->acks[i];
        }
    }
    return NULL;
}

int cresc_service_ack_add(struct cresc_service *s, const char *request_id,
                          enum cresc_ack_status status, const char *reason, int64_t wall_ms)
{
    if (s->n_acks == CRESC_ACKS_MAX) {
        memmove(s->acks, s->acks + 1, (s->n_acks - 1) * sizeof(s->acks[0]));
        s->n_acks--;
    }
    if (s->n_acks == s->cap_acks) {
        size_t cap = s->cap_acks ? s->cap_acks * 2 : 8;
        if (cap > CRESC_ACKS_MAX) {
            cap = CRESC_ACKS_MAX;
        }
        struct cresc_ack *a = realloc(s->acks, cap * sizeof(*a));
        if (a == NULL) {
            return CRESC_ENOMEM;
        }
        s->acks = a;
        s->cap_acks = cap;
    }
    struct cresc_ack *a = &s->acks[s->n_acks++];
    memset(a, 0, sizeof(*a));
    copy_str(a->request_id, sizeof(a->request_id), request_id);
    a->status = status;
    copy_str(a->reason, sizeof(a->reason), reason);
    a->at_ms = wall_ms;
    s->dirty = true;
    return 0;
}

/* ---- state snapshot ------------------------------------------------------------------ */

static void *dup_array(const void *src, size_t n, size_t size, int *rc)
{
    if (n == 0) {
        return NULL;
    }
    void *p = malloc(n * size);
    if (p == NULL) {
        *rc = CRESC_ENOMEM;
        return NULL;
    }
    memcpy(p, src, n * size);
    return p;
}

int cresc_service_to_state(struct cresc_service *s, int64_t now_ms, int64_t wall_ms,
                           struct cresc_state *st)
{
    int rc = 0;
    cresc_state_init(st);
    const int64_t to_wall = wall_ms - now_ms;
    copy_str(st->service, sizeof(st->service), s->name);
    st->owner_epoch = s->owner_epoch;
    st->state_seq = ++s->state_seq;
    st->updated_at_ms = wall_ms;
    st->config_version = s->config_version;
    st->config = s->config;
    st->current_instances = s->current_instances;
    st->paused = s->paused;
    st->last_scale_at_ms = s->n_events > 0 ? s->last_scale_ms + to_wall : 0;
    st->cooldown_remaining_ms = cresc_service_cooldown_remaining_ms(s, now_ms);
    st->metrics = s->agg.metrics;
    st->active_connections_total = s->agg.active_connections_total;
    st->disk_read_ops_per_s = s->agg.disk_read_ops_per_s;
    st->disk_write_ops_per_s = s->agg.disk_write_ops_per_s;
    st->disk_read_bytes_per_s = s->agg.disk_read_bytes_per_s;
    st->disk_write_bytes_per_s = s->agg.disk_write_bytes_per_s;

    st->live = calloc(CRESC_STATE_LIVE_MAX, sizeof(*st->live));
    if (st->live == NULL) {
        rc = CRESC_ENOMEM;
        goto out;
    }
    size_t live = cresc_window_live(s->window, now_ms, st->live, CRESC_STATE_LIVE_MAX);
    st->live_total = (int32_t)live;
    st->n_live = live < CRESC_STATE_LIVE_MAX ? live : CRESC_STATE_LIVE_MAX;

    st->has_last_decision = s->has_last;
    if (s->has_last) {
        st->last_decision = s->last;
    }
    st->recs = dup_array(s->recs, s->n_recs, sizeof(s->recs[0]), &rc);
    st->n_recs = st->recs ? s->n_recs : 0;
    for (size_t i = 0; i < st->n_recs; i++) {
        st->recs[i].at_ms += to_wall;
    }
    st->events = dup_array(s->events, s->n_events, sizeof(s->events[0]), &rc);
    st->n_events = st->events ? s->n_events : 0;
    for (size_t i = 0; i < st->n_events; i++) {
        st->events[i].at_ms += to_wall;
    }
    st->capacity_pct = s->capacity_pct;
    st->priorities = dup_array(s->prio, s->n_prio, sizeof(s->prio[0]), &rc);
    st->n_priorities = st->priorities ? s->n_prio : 0;
    st->acks = dup_array(s->acks, s->n_acks, sizeof(s->acks[0]), &rc);
    st->n_acks = st->acks ? s->n_acks : 0;
    copy_str(st->actuator, sizeof(st->actuator), "none");
    copy_str(st->actuator_status, sizeof(st->actuator_status), "ok");
out:
    if (rc != 0) {
        cresc_state_release(st);
    }
    return rc;
}

/* Put a live instance of the snapshot back into the window as the sample it came from, at
 * the engine-clock time it was last seen, so its values count until its TTL runs out and a
 * re-delivered older sample is recognised as a duplicate. */
static void seed_live(struct cresc_service *s, const struct cresc_live_instance *li,
                      int64_t to_mono, int64_t now_ms, int64_t wall_ms)
{
    struct cresc_sample smp;
    memset(&smp, 0, sizeof(smp));
    copy_str(smp.service, sizeof(smp.service), s->name);
    copy_str(smp.instance_id, sizeof(smp.instance_id), li->instance_id);
    copy_str(smp.node, sizeof(smp.node), li->node);
    smp.seq = li->seq;
    smp.ts_ms = li->last_seen_ms;
    smp.present = li->present;
    smp.cpu_pct = li->cpu_pct;
    smp.mem_pct = li->mem_pct;
    smp.req_per_s = li->req_per_s;
    smp.active_connections = li->active_connections;
    smp.disk_read_ops_per_s = li->disk_read_ops_per_s;
    smp.disk_write_ops_per_s = li->disk_write_ops_per_s;
    smp.disk_read_bytes_per_s = li->disk_read_bytes_per_s;
    smp.disk_write_bytes_per_s = li->disk_write_bytes_per_s;
    int64_t seen = li->last_seen_ms + to_mono;
    if (seen > now_ms) {
        seen = now_ms;
    }
    enum cresc_window_verdict v;
    int rc = cresc_window_add(s->window, &smp, seen, wall_ms, &v);
    (void)rc; /* a stale or skewed instance is simply not seeded */
}

int cresc_service_from_state(const struct cresc_state *st, int32_t partition, int64_t min_epoch,
                             const struct cresc_window_opts *wopts, int64_t now_ms, int64_t wall_ms,
                             struct cresc_service **out)
{
    int64_t epoch = st->owner_epoch + 1;
    if (epoch < min_epoch) {
        epoch = min_epoch;
    }
    struct cresc_service *s = NULL;
    int rc = cresc_service_new(st->service, partition, &st->config, st->current_instances, epoch,
                               wopts, &s);
    if (rc != 0) {
        return rc;
    }
    const int64_t to_mono = now_ms - wall_ms;
    s->config_version = st->config_version > 0 ? st->config_version : 1;
    s->paused = st->paused;
    size_t n = st->n_recs < CRESC_HISTORY_MAX ? st->n_recs : CRESC_HISTORY_MAX;
    size_t skip = st->n_recs - n;
    for (size_t i = 0; i < n; i++) {
        s->recs[i] = st->recs[skip + i];
        s->recs[i].at_ms += to_mono;
    }
    s->n_recs = n;
    n = st->n_events < CRESC_HISTORY_MAX ? st->n_events : CRESC_HISTORY_MAX;
    skip = st->n_events - n;
    for (size_t i = 0; i < n; i++) {
        s->events[i] = st->events[skip + i];
        s->events[i].at_ms += to_mono;
        if (i == 0 || s->events[i].at_ms > s->last_scale_ms) {
            s->last_scale_ms = s->events[i].at_ms;
        }
    }
    s->n_events = n;
    if (n == 0 && st->last_scale_at_ms > 0) {
        /* A snapshot whose event list was cut still carries the time of the last scale. */
        s->events[0] = (struct cresc_scale_event){.at_ms = st->last_scale_at_ms + to_mono,
                                                  .from = st->current_instances,
                                                  .to = st->current_instances};
        s->last_scale_ms = s->events[0].at_ms;
        s->n_events = 1;
    }
    for (size_t i = 0; i < st->n_priorities && rc == 0; i++) {
        const struct cresc_priority *p = &st->priorities[i];
        int x = cresc_service_priority_upsert(s, p->match_id, p->priority, p->resource_allocation);
        if (x == 0) {
            struct cresc_priority *q = &s->prio[prio_lower_bound(s, p->match_id)];
            q->allocated_pct = p->allocated_pct;
            copy_str(q->instance_id, sizeof(q->instance_id), p->instance_id);
        } else if (x == CRESC_ENOMEM) {
            rc = x;
        } /* else: a bad entry of an old snapshot is dropped, the others are kept */
    }
    size_t a0 = st->n_acks > CRESC_ACKS_MAX ? st->n_acks - CRESC_ACKS_MAX : 0;
    for (size_t i = a0; i < st->n_acks && rc == 0; i++) {
        const struct cresc_ack *a = &st->acks[i];
        rc = cresc_service_ack_add(s, a->request_id, a->status, a->reason, a->at_ms);
    }
    if (rc != 0) {
        cresc_service_free(s);
        return rc;
    }
    s->capacity_pct = st->capacity_pct;
    if (st->has_last_decision) {
        s->last = st->last_decision;
        s->has_last = true;
    }
    for (size_t i = 0; i < st->n_live; i++) {
        seed_live(s, &st->live[i], to_mono, now_ms, wall_ms);
    }
    cresc_window_aggregate(s->window, now_ms, &s->agg);
    s->last_cooldown_ms = cresc_service_cooldown_remaining_ms(s, now_ms);
    s->dirty = true; /* the new epoch is published at the next flush */
    *out = s;
    return 0;
}

/* ---- the set ------------------------------------------------------------------------- */

void cresc_services_init(struct cresc_services *set, size_t max)
{
    memset(set, 0, sizeof(*set));
    set->max = max;
    cresc_idindex_init(&set->index, offsetof(struct cresc_service, name));
    set->indexed = true;
}

/* Make the index mirror the array again (after removals, or after it ran out of memory:
 * finds use the binary search meanwhile). */
static void reindex(struct cresc_services *set)
{
    set->indexed = cresc_idindex_rebuild(&set->index, (void *const *)set->items, set->n) == 0;
}

void cresc_services_clear(struct cresc_services *set)
{
    for (size_t i = 0; i < set->n; i++) {
        cresc_service_free(set->items[i]);
    }
    set->n = 0;
    reindex(set);
}

void cresc_services_release(struct cresc_services *set)
{
    cresc_services_clear(set);
    free(set->items);
    set->items = NULL;
    set->cap = 0;
    cresc_idindex_release(&set->index);
}

static size_t set_lower_bound(const struct cresc_services *set, const char *name)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(set->items[mid]->name, name) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct cresc_service *cresc_services_find(const struct cresc_services *set, const char *name)
{
    if (set->indexed) {
        return cresc_idindex_find(&set->index, name, cresc_id_hash(name));
    }
    size_t i = set_lower_bound(set, name);
    if (i < set->n && strcmp(set->items[i]->name, name) == 0) {
        return set->items[i];
    }
    return NULL;
}

int cresc_services_insert(struct cresc_services *set, struct cresc_service *s)
{
    size_t i = set_lower_bound(set, s->name);
    if (i < set->n && strcmp(set->items[i]->name, s->name) == 0) {
        return CRESC_ECONFLICT;
    }
    if (set->n >= set->max) {
        return CRESC_EFULL;
    }
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        struct cresc_service **p = realloc(set->items, cap * sizeof(struct cresc_service *));
        if (p == NULL) {
            return CRESC_ENOMEM;
        }
        set->items = p;
        set->cap = cap;
    }
    memmove(set->items + i + 1, set->items + i, (set->n - i) * sizeof(struct cresc_service *));
    set->items[i] = s;
    set->n++;
    if (!set->indexed || cresc_idindex_put(&set->index, s) != 0) {
        reindex(set);
    }
    return 0;
}

bool cresc_services_remove(struct cresc_services *set, const char *name)
{
    size_t i = set_lower_bound(set, name);
    if (i >= set->n || strcmp(set->items[i]->name, name) != 0) {
        return false;
    }
    cresc_service_free(set->items[i]);
    memmove(set->items + i, set->items + i + 1, (set->n - i - 1) * sizeof(struct cresc_service *));
    set->n--;
    reindex(set);
    return true;
}

size_t cresc_services_drop_partition(struct cresc_services *set, int32_t partition)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (set->items[i]->partition == partition) {
            cresc_service_free(set->items[i]);
            dropped++;
        } else {
            set->items[kept++] = set->items[i];
        }
    }
    set->n = kept;
    if (dropped > 0) {
        reindex(set);
    }
    return dropped;
}
