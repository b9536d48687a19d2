/* Unit tests for coordinator/control.c: each control command's effect and acknowledgement
 * (applied, or rejected with the reason), validation of partial config updates with the
 * version bump, manual scale outside [min, max] rejected (never clamped), priorities,
 * pause/resume, and requests that are acknowledged once and never applied twice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "control.h"

#define NOW  1000000000000LL
#define WALL 1790000000000LL

static const struct cresc_window_opts wopts = {
    .window_ms = 0,
    .ttl_ms = 30000,
    .max_skew_ms = 60000,
    .max_instances = 100,
    .max_values_per_instance = 8,
};

static struct cresc_service *mksvc(void)
{
    struct cresc_scaling_config c;
    cresc_scaling_config_defaults(&c);
    cresc_scaling_config_derive(&c);
    struct cresc_service *s = NULL;
    assert_int_equal(cresc_service_new("svc", 0, &c, -1, 3, &wopts, &s), 0);
    return s;
}

static struct cresc_control ctl(const char *rid, enum cresc_control_type type)
{
    struct cresc_control c;
    memset(&c, 0, sizeof(c));
    snprintf(c.request_id, sizeof(c.request_id), "%s", rid);
    snprintf(c.service, sizeof(c.service), "svc");
    c.type = type;
    c.issued_at_ms = WALL;
    return c;
}

static struct cresc_control_result apply(struct cresc_service *s, const struct cresc_control *c)
{
    struct cresc_control_result r;
    assert_int_equal(cresc_control_apply(s, c, NOW, WALL, &r), 0);
    return r;
}

static void test_config_update_partial_and_versioned(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc();
    struct cresc_control c = ctl("cfg-1", CRESC_CTL_CONFIG_UPDATE);
    c.config = json_pack("{s:f, s:i}", "cpu_threshold", 60.0, "max_instances", 20);
    struct cresc_control_result r = apply(s, &c);
    assert_false(r.duplicate);
    assert_int_equal(r.status, CRESC_ACK_APPLIED);
    assert_int_equal(s->config_version, 2);
    assert_true(s->config.cpu_threshold == 60.0);
    assert_int_equal(s->config.max_instances, 20);
    assert_int_equal(s->config.min_instances, 2); /* untouched field kept */
    const struct cresc_ack *a = cresc_service_ack_find(s, "cfg-1");
    assert_non_null(a);
    assert_int_equal(a->status, CRESC_ACK_APPLIED);
    assert_string_equal(a->reason, "");
    assert_int_equal(a->at_ms, WALL);
    json_decref(c.config);

    /* invalid as a whole: min above max. Rejected with the field, config and version kept. */
    c = ctl("cfg-2", CRESC_CTL_CONFIG_UPDATE);
    c.config = json_pack("{s:i}", "min_instances", 50);
    r = apply(s, &c);
    assert_int_equal(r.status, CRESC_ACK_REJECTED);
    assert_non_null(strstr(r.reason, "min_instances"));
    assert_int_equal(s->config_version, 2);
    assert_int_equal(s->config.min_instances, 2);
    a = cresc_service_ack_find(s, "cfg-2");
    assert_int_equal(a->status, CRESC_ACK_REJECTED);
    assert_string_equal(a->reason, r.reason);
    json_decref(c.config);

    c = ctl("cfg-3", CRESC_CTL_CONFIG_UPDATE);
    c.config = json_pack("{s:s}", "cpu_threshold", "high");
    r = apply(s, &c);
    assert_int_equal(r.status, CRESC_ACK_REJECTED);
    assert_non_null(strstr(r.reason, "cpu_threshold"));
    json_decref(c.config);

    c = ctl("cfg-4", CRESC_CTL_CONFIG_UPDATE);
    c.config = json_array();
    r = apply(s, &c);
    assert_int_equal(r.status, CRESC_ACK_REJECTED);
    json_decref(c.config);
    assert_int_equal(s->config_version, 2);
    cresc_service_free(s);
}

static void test_manual_scale_rejected_outside_range(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc();
    struct cresc_control c = ctl("scale-1", CRESC_CTL_SCALE);
    c.target_instances = 11; /* max 10 */
    struct cresc_control_result r = apply(s, &c);
    assert_int_equal(r.status, CRESC_ACK_REJECTED);
    assert_string_equal(r.reason,
                        "target_instances 11 is outside [min_instances 2, max_instances 10]");
    assert_false(r.has_command);
    assert_int_equal(s->current_instances, 2); /* not clamped to 10 */

    c = ctl("scale-2", CRESC_CTL_SCALE);
    c.target_instances = 1;
    r = apply(s, &c);
    assert_int_equal(r.status, CRESC_ACK_REJECTED);
    assert_int_equal(s->current_instances, 2);
    assert_int_equal(s->n_events, 0);

    c = ctl("scale-3", CRESC_CTL_SCALE);
    c.target_instances = 6;
    snprintf(c.reason, sizeof(c.reason), "derby kick-off");
    r = apply(s, &c);
    assert_int_equal(r.status, CRESC_ACK_APPLIED);
    assert_true(r.has_command);
    assert_int_equal(r.command.from, 2);
    assert_int_equal(r.command.to, 6);
    assert_true(r.command.manual);
    assert_string_equal(r.command.request_id, "scale-3");
    assert_string_equal(r.command.reason, "derby kick-off");
    assert_int_equal(r.command.owner_epoch, 3);
    assert_int_equal(s->current_instances, 6);
    assert_int_equal(s->n_events, 1); /* the cooldown applies after a manual scale too */

    c = ctl("scale-4", CRESC_CTL_SCALE);
    c.target_instances = 6; /* already there: applied, nothing to command */
    r = apply(s, &c);
    assert_int_equal(r.status, CRESC_ACK_APPLIED);
    assert_false(r.has_command);
    cresc_service_free(s);
}

static void test_request_applied_once(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc();
    struct cresc_control c = ctl("scale-x", CRESC_CTL_SCALE);
    c.target_instances = 5;
    struct cresc_control_result r = apply(s, &c);
    assert_true(r.has_command);
    /* redelivered after a failover, or sent twice: acknowledged, not applied again */
    s->current_instances = 4; /* something else moved it meanwhile */
    r = apply(s, &c);
    assert_true(r.duplicate);
    assert_false(r.has_command);
    assert_int_equal(r.status, CRESC_ACK_APPLIED);
    assert_int_equal(s->current_instances, 4);
    assert_int_equal(s->n_events, 1);
    size_t n = 0;
    for (size_t i = 0; i < s->n_acks; i++) {
        n += strcmp(s->acks[i].request_id, "scale-x") == 0;
    }
    assert_int_equal(n, 1);

    struct cresc_control cfg = ctl("cfg-x", CRESC_CTL_CONFIG_UPDATE);
    cfg.config = json_pack("{s:i}", "scaling_cooldown", 30);
    apply(s, &cfg);
    apply(s, &cfg);
    assert_int_equal(s->config_version, 2);
    json_decref(cfg.config);

    /* a rejected request stays rejected on redelivery, with its reason */
    struct cresc_control bad = ctl("bad-x", CRESC_CTL_SCALE);
    bad.target_instances = 99;
    r = apply(s, &bad);
    assert_int_equal(r.status, CRESC_ACK_REJECTED);
    r = apply(s, &bad);
    assert_true(r.duplicate);
    assert_int_equal(r.status, CRESC_ACK_REJECTED);
    assert_non_null(strstr(r.reason, "outside"));
    cresc_service_free(s);
}

static void test_priorities(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc();
    struct cresc_control c = ctl("p-1", CRESC_CTL_PRIORITY_UPSERT);
    snprintf(c.match_id, sizeof(c.match_id), "final");
    c.priority = 10;
    c.resource_allocation = 70.0;
    assert_int_equal(apply(s, &c).status, CRESC_ACK_APPLIED);
    c = ctl("p-2", CRESC_CTL_PRIORITY_UPSERT);
    snprintf(c.match_id, sizeof(c.match_id), "friendly");
    c.priority = 2;
    c.resource_allocation = 60.0;
    assert_int_equal(apply(s, &c).status, CRESC_ACK_APPLIED);
    assert_int_equal(s->n_prio, 2);
    /* the acknowledging snapshot already carries the allocation */
    assert_true(cresc_service_priority_find(s, "final")->allocated_pct == 70.0);
    assert_true(cresc_service_priority_find(s, "friendly")->allocated_pct < 30.01);

    c = ctl("p-3", CRESC_CTL_PRIORITY_DELETE);
    snprintf(c.match_id, sizeof(c.match_id), "final");
    assert_int_equal(apply(s, &c).status, CRESC_ACK_APPLIED);
    assert_null(cresc_service_priority_find(s, "final"));
    c = ctl("p-4", CRESC_CTL_PRIORITY_DELETE);
    snprintf(c.match_id, sizeof(c.match_id), "final");
    struct cresc_control_result r = apply(s, &c);
    assert_int_equal(r.status, CRESC_ACK_REJECTED);
    assert_string_equal(r.reason, "no priority for match_id final");

    c = ctl("p-5", CRESC_CTL_PRIORITY_UPSERT);
    snprintf(c.match_id, sizeof(c.match_id), "x");
    c.priority = 0;
    c.resource_allocation = 10.0;
    assert_int_equal(apply(s, &c).status, CRESC_ACK_REJECTED);
    cresc_service_free(s);
}

static void test_pause_resume(void **state)
{
    (void)state;
    struct cresc_service *s = mksvc();
    struct cresc_control c = ctl("pause-1", CRESC_CTL_PAUSE);
    assert_int_equal(apply(s, &c).status, CRESC_ACK_APPLIED);
    assert_true(s->paused);

    struct cresc_sample smp;
    memset(&smp, 0, sizeof(smp));
    snprintf(smp.service, sizeof(smp.service), "svc");
    snprintf(smp.instance_id, sizeof(smp.instance_id), "i-1");
    snprintf(smp.node, sizeof(smp.node), "n");
    smp.seq = 1;
    smp.ts_ms = WALL;
    smp.interval_ms = 1000;
    smp.present = CRESC_SAMPLE_HAS_CPU;
    smp.cpu_pct = 99.0;
    enum cresc_window_verdict v;
    bool crossed;
    assert_int_equal(cresc_service_add_sample(s, &smp, NOW, WALL, &v, &crossed), 0);
    struct cresc_service_eval ev;
    assert_int_equal(cresc_service_evaluate(s, NOW + 1, WALL + 1, &ev), 0);
    assert_false(ev.has_command);
    assert_int_equal(s->current_instances, 2);

    /* a manual scale still works while paused */
    struct cresc_control m = ctl("scale-p", CRESC_CTL_SCALE);
    m.target_instances = 3;
    assert_true(apply(s, &m).has_command);

    c = ctl("resume-1", CRESC_CTL_RESUME);
    assert_int_equal(apply(s, &c).status, CRESC_ACK_APPLIED);
    assert_false(s->paused);
    cresc_service_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_update_partial_and_versioned),
        cmocka_unit_test(test_manual_scale_rejected_outside_range),
        cmocka_unit_test(test_request_applied_once),
        cmocka_unit_test(test_priorities),
        cmocka_unit_test(test_pause_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
