/* Unit tests for coordinator/service.c: evaluation bookkeeping (commands, events, folded
 * recommendations, decision ids), cooldown, priorities and acks with their bounds, the state
 * snapshot round trip across two processes' clocks (what failover relies on), and the
 * service set. No Kafka. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service.h"

#define NOW0  1000000000000LL /* engine clock of "process A" */
#define WALL0 1790000000000LL /* wall clock at NOW0 */

static const struct cresc_window_opts wopts = {
    .window_ms = 0,
    .ttl_ms = 30000,
    .max_skew_ms = 60000,
    .max_instances = 100,
    .max_values_per_instance = 8,
};

static struct cresc_scaling_config base_config(int32_t cooldown_s)
{
    struct cresc_scaling_config c;
    cresc_scaling_config_defaults(&c);
    c.scaling_cooldown_s = cooldown_s;
    cresc_scaling_config_derive(&c);
    return c;
}

static struct cresc_service *mksvc(const char *name, int32_t cooldown_s)
{
    struct cresc_scaling_config c = base_config(cooldown_s);
    struct cresc_service *s = NULL;
    assert_int_equal(cresc_service_new(name, 1, &c, -1, 1, &wopts, &s), 0);
    return s;
}

static void feed(struct cresc_service *s, const char *inst, uint64_t seq, double cpu, int64_t now,
                 int64_t wall, bool *crossed)
{
    struct cresc_sample smp;
    memset(&smp, 0, sizeof(smp));
    snprintf(smp.service, sizeof(smp.service), "%s", s->name);
    snprintf(smp.instance_id, sizeof(smp.instance_id), "%s", inst);
    snprintf(smp.node, sizeof(smp.node), "node-1");
    smp.seq = seq;
    smp.ts_ms = wall;
    smp.interval_ms = 1000;
    smp.present =
        CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_REQ | CRESC_SAMPLE_HAS_CONNS;
    smp.cpu_pct = cpu;
    smp.mem_pct = 50.0;
    smp.req_per_s = 60.0;
    smp.active_connections = 4;
    enum cresc_window_verdict v;
    bool x = false;
    assert_int_equal(cresc_service_add_sample(s, &smp, now, wall, &v, &x), 0);
    if (crossed != NULL) {
        *crossed = x;
    }
}

static void test_new_service_starts_at_min(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc("svc", 300);
    assert_string_equal(s->name, "svc");
    assert_int_equal(s->current_instances, 2);
    assert_int_equal(s->config_version, 1);
    assert_int_equal(s->owner_epoch, 1);
    assert_false(s->paused);
    cresc_service_free(s);

    struct cresc_scaling_config c = base_config(300);
    struct cresc_service *t = NULL;
    assert_int_equal(cresc_service_new("svc", 0, &c, 5, 7, &wopts, &t), 0);
    assert_int_equal(t->current_instances, 5);
    assert_int_equal(t->owner_epoch, 7);
    cresc_service_free(t);
    assert_int_equal(cresc_service_new("bad name!", 0, &c, 5, 7, &wopts, &t), CRESC_EINVAL);
    cresc_service_free(NULL);
}

static void test_crossing_hint(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc("svc", 300);
    bool crossed = true;
    feed(s, "i-1", 1, 50.0, NOW0, WALL0, &crossed);
    assert_false(crossed);
    feed(s, "i-1", 2, 95.0, NOW0 + 10, WALL0 + 10, &crossed);
    assert_true(crossed);
    /* a duplicate (same seq) is no crossing even with a high value */
    feed(s, "i-1", 2, 99.0, NOW0 + 20, WALL0 + 20, &crossed);
    assert_false(crossed);
    cresc_service_free(s);
}

static void test_scale_up_command_and_cooldown(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc("svc", 60);
    feed(s, "i-1", 1, 90.0, NOW0, WALL0, NULL);
    feed(s, "i-2", 1, 90.0, NOW0, WALL0, NULL);
    struct cresc_service_eval ev;
    assert_int_equal(cresc_service_evaluate(s, NOW0 + 100, WALL0 + 100, &ev), 0);
    assert_true(ev.has_command);
    assert_int_equal(ev.command.from, 2);
    assert_int_equal(ev.command.to, 3);
    assert_string_equal(ev.command.reason, "Scaling up based on cpu-based-scaling");
    assert_string_equal(ev.command.decision_id, "svc:1:1");
    assert_string_equal(ev.decision.decision_id, "svc:1:1");
    assert_int_equal(ev.command.config_version, 1);
    assert_int_equal(ev.command.owner_epoch, 1);
    assert_int_equal(ev.command.issued_at_ms, WALL0 + 100);
    assert_false(ev.command.manual);
    assert_int_equal(ev.decision.live_instances, 2);
    assert_int_equal(s->current_instances, 3);
    assert_int_equal(s->n_events, 1);
    assert_int_equal(cresc_service_cooldown_remaining_ms(s, NOW0 + 100), 60000);
    assert_int_equal(cresc_service_cooldown_remaining_ms(s, NOW0 + 30100), 30000);

    /* still hot 30 s later: held by the cooldown, no command */
    feed(s, "i-1", 2, 95.0, NOW0 + 30000, WALL0 + 30000, NULL);
    feed(s, "i-2", 2, 95.0, NOW0 + 30000, WALL0 + 30000, NULL);
    assert_int_equal(cresc_service_evaluate(s, NOW0 + 30100, WALL0 + 30100, &ev), 0);
    assert_false(ev.has_command);
    assert_int_equal(s->current_instances, 3);
    bool held = false;
    for (size_t i = 0; i < ev.decision.decision.n_guards; i++) {
        held = held || ev.decision.decision.guards[i].kind == CRESC_GUARD_COOLDOWN;
    }
    assert_true(held);
    assert_string_equal(ev.decision.decision_id, "svc:1:2");

    /* after the cooldown it moves again */
    feed(s, "i-1", 3, 95.0, NOW0 + 60200, WALL0 + 60200, NULL);
    feed(s, "i-2", 3, 95.0, NOW0 + 60200, WALL0 + 60200, NULL);
    assert_int_equal(cresc_service_evaluate(s, NOW0 + 60200, WALL0 + 60200, &ev), 0);
    assert_true(ev.has_command);
    assert_int_equal(ev.command.from, 3);
    assert_true(ev.command.to > 3);
    cresc_service_free(s);
}

static void test_recommendations_fold_and_stay_bounded(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc("svc", 0);
    struct cresc_service_eval ev;
    for (int i = 0; i < 5; i++) {
        feed(s, "i-1", (uint64_t)i + 1, 50.0, NOW0 + i * 1000, WALL0 + i * 1000, NULL);
        assert_int_equal(cresc_service_evaluate(s, NOW0 + i * 1000, WALL0 + i * 1000, &ev), 0);
    }
    assert_int_equal(s->n_recs, 1); /* the same recommendation, refreshed */
    assert_int_equal(s->recs[0].at_ms, NOW0 + 4000);

    /* alternating recommendations are kept apart, but never more than CRESC_HISTORY_MAX */
    for (int i = 0; i < CRESC_HISTORY_MAX + 50; i++) {
        int64_t t = NOW0 + 10000 + i * 10;
        feed(s, "i-1", (uint64_t)i + 100, (i % 2) ? 50.0 : 10.0, t, WALL0 + 10000 + i * 10, NULL);
        s->current_instances = 4;
        assert_int_equal(cresc_service_evaluate(s, t, WALL0 + 10000 + i * 10, &ev), 0);
    }
    assert_true(s->n_recs <= CRESC_HISTORY_MAX);
    assert_true(s->n_events <= CRESC_HISTORY_MAX);
    for (size_t i = 1; i < s->n_recs; i++) {
        assert_true(s->recs[i - 1].at_ms <= s->recs[i].at_ms);
    }
    cresc_service_free(s);
}

static void test_decision_id_long_names_stay_unique(void **state)
{
    (void)state;
    char a[CRESC_ID_MAX + 1], b[CRESC_ID_MAX + 1];
    memset(a, 'x', CRESC_ID_MAX);
    a[CRESC_ID_MAX] = '\0';
    memcpy(b, a, sizeof(a));
    b[CRESC_ID_MAX - 1] = 'y';
    struct cresc_service *sa = mksvc(a, 0), *sb = mksvc(b, 0);
    struct cresc_scale_command ca, cb;
    bool has = false;
    cresc_service_manual_scale(sa, 4, "", "r-1", NOW0, WALL0, &ca, &has);
    assert_true(has);
    cresc_service_manual_scale(sb, 4, "", "r-1", NOW0, WALL0, &cb, &has);
    assert_true(has);
    assert_true(strlen(ca.decision_id) <= CRESC_ID_MAX);
    assert_true(cresc_id_valid(ca.decision_id));
    assert_string_not_equal(ca.decision_id, cb.decision_id);
    assert_string_equal(ca.reason, "Manual scaling to 4 instances");
    assert_true(ca.manual);
    assert_string_equal(ca.request_id, "r-1");
    cresc_service_free(sa);
    cresc_service_free(sb);
}

static void test_priorities_sorted_and_bounded(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc("svc", 0);
    assert_int_equal(cresc_service_priority_upsert(s, "m-b", 5, 30.0), 0);
    assert_int_equal(cresc_service_priority_upsert(s, "m-a", 9, 50.0), 0);
    assert_int_equal(cresc_service_priority_upsert(s, "m-c", 1, 10.0), 0);
    assert_int_equal(s->n_prio, 3);
    assert_string_equal(s->prio[0].match_id, "m-a");
    assert_string_equal(s->prio[2].match_id, "m-c");
    assert_int_equal(cresc_service_priority_upsert(s, "m-b", 7, 40.0), 0); /* update */
    assert_int_equal(s->n_prio, 3);
    assert_int_equal(cresc_service_priority_find(s, "m-b")->priority, 7);
    assert_int_equal(cresc_service_priority_upsert(s, "m-d", 11, 10.0), CRESC_EINVAL);
    assert_int_equal(cresc_service_priority_upsert(s, "m-d", 5, 0.0), CRESC_EINVAL);
    assert_int_equal(cresc_service_priority_upsert(s, "m-d", 5, 100.5), CRESC_EINVAL);
    assert_int_equal(cresc_service_priority_delete(s, "m-a"), 0);
    assert_int_equal(cresc_service_priority_delete(s, "m-a"), CRESC_ENOTFOUND);
    assert_null(cresc_service_priority_find(s, "m-a"));

    for (int i = 0; s->n_prio < CRESC_PRIORITIES_MAX; i++) {
        char id[32];
        snprintf(id, sizeof(id), "x-%05d", i);
        assert_int_equal(cresc_service_priority_upsert(s, id, 1 + i % 10, 1.0), 0);
    }
    assert_int_equal(cresc_service_priority_upsert(s, "zz-one-more", 5, 1.0), CRESC_EFULL);
    assert_int_equal(cresc_service_priority_upsert(s, "m-b", 2, 1.0), 0); /* update still ok */
    cresc_service_free(s);
}

static void test_allocation_and_placement(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc("svc", 0);
    feed(s, "i-1", 1, 40.0, NOW0, WALL0, NULL);
    feed(s, "i-2", 1, 40.0, NOW0, WALL0, NULL);
    assert_int_equal(cresc_service_priority_upsert(s, "final", 9, 80.0), 0);
    assert_int_equal(cresc_service_priority_upsert(s, "friendly", 2, 60.0), 0);
    assert_int_equal(cresc_service_allocate(s, NOW0), 0);
    assert_true(s->capacity_pct == 100.0);
    const struct cresc_priority *f = cresc_service_priority_find(s, "final");
    const struct cresc_priority *g = cresc_service_priority_find(s, "friendly");
    assert_true(f->allocated_pct == 80.0); /* the higher priority first, in full */
    assert_true(g->allocated_pct > 19.99 && g->allocated_pct < 20.01);
    assert_true(f->instance_id[0] != '\0' && g->instance_id[0] != '\0');
    cresc_service_free(s);
}

static void test_acks_bounded_newest_last(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc("svc", 0);
    for (int i = 0; i < CRESC_ACKS_MAX + 10; i++) {
        char id[32];
        snprintf(id, sizeof(id), "req-%d", i);
        assert_int_equal(cresc_service_ack_add(s, id, CRESC_ACK_APPLIED, "", WALL0 + i), 0);
    }
    assert_int_equal(s->n_acks, CRESC_ACKS_MAX);
    assert_null(cresc_service_ack_find(s, "req-0"));
    assert_null(cresc_service_ack_find(s, "req-9"));
    assert_non_null(cresc_service_ack_find(s, "req-10"));
    char last[32];
    snprintf(last, sizeof(last), "req-%d", CRESC_ACKS_MAX + 9);
    assert_string_equal(s->acks[s->n_acks - 1].request_id, last);
    cresc_service_free(s);
}

/* Process A scales and sets things up; its snapshot goes through the real codec; process B,
 * whose monotonic clock has another origin and whose wall clock is 5 s later, rebuilds. */
static void test_state_round_trip_across_clocks(void **state)
{
    (void)state;
    struct cresc_service *a = mksvc("svc", 60);
    a->owner_epoch = 4;
    feed(a, "i-1", 7, 90.0, NOW0, WALL0, NULL);
    feed(a, "i-2", 9, 90.0, NOW0, WALL0, NULL);
    struct cresc_service_eval ev;
    assert_int_equal(cresc_service_evaluate(a, NOW0 + 100, WALL0 + 100, &ev), 0);
    assert_true(ev.has_command);
    assert_int_equal(cresc_service_priority_upsert(a, "final", 9, 50.0), 0);
    assert_int_equal(cresc_service_ack_add(a, "req-1", CRESC_ACK_REJECTED, "nope", WALL0), 0);
    a->config.cpu_threshold = 65.0;
    cresc_scaling_config_derive(&a->config);
    a->config_version = 3;
    a->paused = true;
    assert_int_equal(cresc_service_allocate(a, NOW0 + 100), 0);

    struct cresc_state st;
    assert_int_equal(cresc_service_to_state(a, NOW0 + 1000, WALL0 + 1000, &st), 0);
    assert_int_equal(st.last_scale_at_ms, WALL0 + 100); /* wall clock in the snapshot */
    assert_int_equal(st.cooldown_remaining_ms, 59100);
    assert_int_equal(st.live_total, 2);
    assert_int_equal(st.state_seq, 1);
    char *json = NULL;
    size_t len = 0;
    assert_int_equal(cresc_state_encode(&st, &json, &len), 0);
    cresc_state_release(&st);
    struct cresc_state back;
    struct cresc_msg_error me;
    assert_int_equal(cresc_state_decode(json, len, &back, &me), 0);
    free(json);

    const int64_t now_b = 5000; /* another process, another origin */
    const int64_t wall_b = WALL0 + 6000;
    struct cresc_service *b = NULL;
    assert_int_equal(cresc_service_from_state(&back, 1, 0, &wopts, now_b, wall_b, &b), 0);
    cresc_state_release(&back);
    assert_int_equal(b->owner_epoch, 5); /* previous + 1 */
    assert_int_equal(b->current_instances, 3);
    assert_int_equal(b->config_version, 3);
    assert_true(b->config.cpu_threshold == 65.0);
    assert_true(b->paused);
    assert_int_equal(b->n_prio, 1);
    assert_true(b->prio[0].allocated_pct == 50.0);
    assert_non_null(cresc_service_ack_find(b, "req-1"));
    assert_string_equal(cresc_service_ack_find(b, "req-1")->reason, "nope");
    /* the cooldown began 5.9 s of wall time ago */
    assert_int_equal(cresc_service_cooldown_remaining_ms(b, now_b), 60000 - 5900);
    assert_true(b->has_last);
    /* live instances are back (their metrics count) and old samples are duplicates */
    assert_int_equal(b->agg.live_instances, 2);
    struct cresc_sample smp;
    memset(&smp, 0, sizeof(smp));
    snprintf(smp.service, sizeof(smp.service), "svc");
    snprintf(smp.instance_id, sizeof(smp.instance_id), "i-2");
    snprintf(smp.node, sizeof(smp.node), "node-1");
    smp.seq = 9;
    smp.ts_ms = WALL0;
    smp.interval_ms = 1000;
    smp.present = CRESC_SAMPLE_HAS_CPU;
    smp.cpu_pct = 1.0;
    enum cresc_window_verdict v;
    bool crossed;
    assert_int_equal(cresc_service_add_sample(b, &smp, now_b, wall_b, &v, &crossed), 0);
    assert_int_equal(v, CRESC_WINDOW_DUPLICATE);

    /* a newer owner's epoch also respects the group generation */
    struct cresc_state st2;
    assert_int_equal(cresc_service_to_state(b, now_b, wall_b, &st2), 0);
    struct cresc_service *c = NULL;
    assert_int_equal(cresc_service_from_state(&st2, 1, 42, &wopts, now_b, wall_b, &c), 0);
    assert_int_equal(c->owner_epoch, 42);
    cresc_state_release(&st2);
    cresc_service_free(a);
    cresc_service_free(b);
    cresc_service_free(c);
}

static void test_service_set(void **state)
{
    (void)state;
    struct cresc_services set;
    cresc_services_init(&set, 3);
    struct cresc_scaling_config cfg = base_config(0);
    const char *names[] = {"charlie", "alpha", "bravo"};
    for (int i = 0; i < 3; i++) {
        struct cresc_service *s = NULL;
        assert_int_equal(cresc_service_new(names[i], i % 2, &cfg, -1, 1, &wopts, &s), 0);
        assert_int_equal(cresc_services_insert(&set, s), 0);
    }
    assert_string_equal(set.items[0]->name, "alpha");
    assert_string_equal(set.items[2]->name, "charlie");
    struct cresc_service *extra = NULL;
    assert_int_equal(cresc_service_new("delta", 0, &cfg, -1, 1, &wopts, &extra), 0);
    assert_int_equal(cresc_services_insert(&set, extra), CRESC_EFULL);
    cresc_service_free(extra);
    struct cresc_service *dup = NULL;
    assert_int_equal(cresc_service_new("alpha", 0, &cfg, -1, 1, &wopts, &dup), 0);
    assert_int_equal(cresc_services_insert(&set, dup), CRESC_ECONFLICT);
    cresc_service_free(dup);
    assert_non_null(cresc_services_find(&set, "bravo"));
    assert_null(cresc_services_find(&set, "zulu"));
    /* alpha is partition 1, bravo 0, charlie 0 */
    assert_int_equal(cresc_services_drop_partition(&set, 0), 2);
    assert_int_equal(set.n, 1);
    assert_string_equal(set.items[0]->name, "alpha");
    assert_true(cresc_services_remove(&set, "alpha"));
    assert_false(cresc_services_remove(&set, "alpha"));
    cresc_services_release(&set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_service_starts_at_min),
        cmocka_unit_test(test_crossing_hint),
        cmocka_unit_test(test_scale_up_command_and_cooldown),
        cmocka_unit_test(test_recommendations_fold_and_stay_bounded),
        cmocka_unit_test(test_decision_id_long_names_stay_unique),
        cmocka_unit_test(test_priorities_sorted_and_bounded),
        cmocka_unit_test(test_allocation_and_placement),
        cmocka_unit_test(test_acks_bounded_newest_last),
        cmocka_unit_test(test_state_round_trip_across_clocks),
        cmocka_unit_test(test_service_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
