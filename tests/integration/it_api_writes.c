/* Integration test of crescendo-api's write path (api/writes.c) against a real broker, without
 * HTTP: delivery with no coordinator gives "timeout" (delivered, not acknowledged), an ack
 * in a snapshot resolves the write, and after a fatal producer error the producer is
 * replaced so later writes are delivered again. Env: KAFKA_BROKERS, TOPIC_PREFIX. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "cresc/kafka.h"
#include "cresc/log.h"
#include "writes.h"

static struct cresc_writes *w;
static struct cresc_topics topics;
static struct cresc_kafka_conf kc;

static atomic_int woken;

static void wake(void *arg)
{
    (void)arg;
    atomic_fetch_add(&woken, 1);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Submit one priority upsert and wait for its outcome. */
static enum cresc_write_outcome run_write(const char *rid, const struct cresc_view_snap *snap)
{
    struct cresc_control ctl;
    memset(&ctl, 0, sizeof(ctl));
    snprintf(ctl.service, sizeof(ctl.service), "svc-writes");
    snprintf(ctl.request_id, sizeof(ctl.request_id), "%s", rid);
    ctl.type = CRESC_CTL_PRIORITY_UPSERT;
    snprintf(ctl.match_id, sizeof(ctl.match_id), "m1");
    ctl.priority = 5;
    ctl.resource_allocation = 10;
    struct cresc_write wr;
    memset(&wr, 0, sizeof(wr));
    wr.wake = wake;
    int before = atomic_load(&woken);
    bool final = cresc_writes_submit(w, &wr, &ctl, snap);
    if (!final) {
        for (int i = 0; i < 1000 && atomic_load(&woken) == before; i++) {
            sleep_ms(10);
        }
        assert_int_equal(atomic_load(&woken), before + 1);
    }
    enum cresc_write_outcome o = wr.outcome;
    cresc_writes_finish(w, &wr);
    return o;
}

static void test_delivered_then_timeout(void **st)
{
    (void)st;
    /* No coordinator: the command is delivered but never acknowledged. */
    assert_int_equal(run_write("it-w-1", NULL), CRESC_WRITE_TIMEOUT);
}

static void test_ack_in_view(void **st)
{
    (void)st;
    struct cresc_state s;
    cresc_state_init(&s);
    snprintf(s.service, sizeof(s.service), "svc-writes");
    s.n_acks = 1;
    s.acks = calloc(1, sizeof(*s.acks));
    assert_non_null(s.acks);
    snprintf(s.acks[0].request_id, sizeof(s.acks[0].request_id), "it-w-2");
    s.acks[0].status = CRESC_ACK_REJECTED;
    snprintf(s.acks[0].reason, sizeof(s.acks[0].reason), "no");
    struct cresc_view_snap *snap = cresc_view_snap_new(&s);
    assert_non_null(snap);
    /* A retry whose ack the view already holds is answered without sending. */
    assert_int_equal(run_write("it-w-2", snap), CRESC_WRITE_REJECTED);
    uint64_t rejected = cresc_writes_count(w, CRESC_WRITE_REJECTED);
    assert_true(rejected >= 1);

    /* An ack arriving through the view's hook resolves a waiting write. */
    struct cresc_control ctl;
    memset(&ctl, 0, sizeof(ctl));
    snprintf(ctl.service, sizeof(ctl.service), "svc-writes");
    snprintf(ctl.request_id, sizeof(ctl.request_id), "it-w-3");
    ctl.type = CRESC_CTL_PRIORITY_DELETE;
    snprintf(ctl.match_id, sizeof(ctl.match_id), "m1");
    struct cresc_write wr;
    memset(&wr, 0, sizeof(wr));
    wr.wake = wake;
    int before = atomic_load(&woken);
    assert_false(cresc_writes_submit(w, &wr, &ctl, NULL));
    struct cresc_state s2;
    cresc_state_init(&s2);
    snprintf(s2.service, sizeof(s2.service), "svc-writes");
    s2.n_acks = 1;
    s2.acks = calloc(1, sizeof(*s2.acks));
    assert_non_null(s2.acks);
    snprintf(s2.acks[0].request_id, sizeof(s2.acks[0].request_id), "it-w-3");
    s2.acks[0].status = CRESC_ACK_APPLIED;
    struct cresc_view_snap *snap2 = cresc_view_snap_new(&s2);
    assert_non_null(snap2);
    cresc_writes_on_state(w, snap2);
    assert_int_equal(atomic_load(&woken), before + 1);
    assert_int_equal(wr.outcome, CRESC_WRITE_APPLIED);
    assert_ptr_equal(wr.snap, snap2);
    cresc_writes_finish(w, &wr);
    cresc_view_snap_put(snap2);
    cresc_view_snap_put(snap);
}

static void test_fatal_producer_replaced(void **st)
{
    (void)st;
    cresc_writes_test_fatal(w);
    /* The write thread notices within its poll loop and replaces the producer. */
    sleep_ms(300);
    assert_int_equal(run_write("it-w-4", NULL), CRESC_WRITE_TIMEOUT);
}

int main(void)
{
    const char *brokers = getenv("KAFKA_BROKERS");
    const char *prefix = getenv("TOPIC_PREFIX");
    if (brokers == NULL || prefix == NULL) {
        fprintf(stderr, "KAFKA_BROKERS and TOPIC_PREFIX are required\n");
        return 2;
    }
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_INFO, NULL);
    char err[512] = "";
    if (cresc_topics_init(&topics, prefix) != 0) {
        return 2;
    }
    kc.brokers = brokers;
    kc.client_id = "it_api_writes";
    kc.props = NULL;
    if (cresc_kafka_ensure_topics(&kc, &topics, 2, -1, 30000, err, sizeof(err)) != 0) {
        fprintf(stderr, "topics: %s\n", err);
        return 1;
    }
    struct cresc_writes_opts wo = {&kc, topics.control, 1500, 16};
    if (cresc_writes_new(&wo, &w, err, sizeof(err)) != 0) {
        fprintf(stderr, "writes: %s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delivered_then_timeout),
        cmocka_unit_test(test_ack_in_view),
        cmocka_unit_test(test_fatal_producer_replaced),
    };
    int rc = cmocka_run_group_tests_name("api_writes", tests, NULL, NULL);
    cresc_writes_free(w);
    return rc;
}
