/* Unit tests for shared/src/kafka.c on librdkafka's in-process mock cluster: topic names,
 * configuration errors, produce with delivery-report counting, injected broker errors
 * (retried and permanent), the fatal flag, and both consumer modes. Topic creation through
 * the Admin API needs a real broker (the mock can't do CreateTopics): see
 * tests/integration/it_roundtrip.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "cresc/kafka.h"
#include "cresc/log.h"

#define KAFKA_API_PRODUCE 0 /* Kafka protocol ApiKey of ProduceRequest */

struct mock {
    rd_kafka_t *host;
    rd_kafka_mock_cluster_t *mc;
    char bootstraps[256];
};

static int mock_up(void **state)
{
    static struct mock m;
    char why[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", why, sizeof(why));
    m.host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (m.host == NULL) {
        return -1;
    }
    m.mc = rd_kafka_mock_cluster_new(m.host, 1);
    if (m.mc == NULL) {
        return -1;
    }
    snprintf(m.bootstraps, sizeof(m.bootstraps), "%s", rd_kafka_mock_cluster_bootstraps(m.mc));
    if (rd_kafka_mock_topic_create(m.mc, "t.samples", 4, 1) != 0 ||
        rd_kafka_mock_topic_create(m.mc, "t.state", 2, 1) != 0) {
        return -1;
    }
    *state = &m;
    return 0;
}

static int mock_down(void **state)
{
    struct mock *m = *state;
    rd_kafka_mock_cluster_destroy(m->mc);
    rd_kafka_destroy(m->host);
    return 0;
}

static void test_topics_init(void **state)
{
    (void)state;
    struct cresc_topics t;
    assert_int_equal(cresc_topics_init(&t, "scaling."), CRESC_OK);
    assert_string_equal(t.samples, "scaling.samples");
    assert_string_equal(t.control, "scaling.control");
    assert_string_equal(t.decisions, "scaling.decisions");
    assert_string_equal(t.commands, "scaling.commands");
    assert_string_equal(t.state, "scaling.state");
    assert_int_equal(cresc_topics_init(&t, ""), CRESC_OK);
    assert_string_equal(t.state, "state");
    assert_int_equal(cresc_topics_init(&t, "it_x-1_42."), CRESC_OK);
    assert_int_equal(cresc_topics_init(&t, "bad prefix"), CRESC_EINVAL);
    assert_int_equal(cresc_topics_init(&t, "bad/prefix"), CRESC_EINVAL);
    char longp[300];
    memset(longp, 'a', sizeof(longp) - 1);
    longp[sizeof(longp) - 1] = '\0';
    assert_int_equal(cresc_topics_init(&t, longp), CRESC_EINVAL);
    longp[240] = '\0'; /* 240 + strlen("decisions") = 249, Kafka's limit */
    assert_int_equal(cresc_topics_init(&t, longp), CRESC_OK);
    longp[240] = 'a';
    longp[241] = '\0';
    assert_int_equal(cresc_topics_init(&t, longp), CRESC_EINVAL);
}

static void test_conf_errors(void **state)
{
    (void)state;
    rd_kafka_conf_t *conf = NULL;
    char err[512] = "";
    struct cresc_kafka_conf kc = {.brokers = NULL, .client_id = "t", .props = NULL};
    assert_int_equal(cresc_kafka_conf_new(&kc, &conf, err, sizeof(err)), CRESC_EINVAL);
    assert_non_null(strstr(err, "KAFKA_BROKERS"));
    assert_null(conf);

    char k1[] = "security.protocol", v1[] = "SASL_SSL";
    char k2[] = "no.such.property", v2[] = "secret-value";
    struct cresc_kv items[] = {{k1, v1}, {k2, v2}};
    struct cresc_kv_list props = {2, items};
    kc.brokers = "127.0.0.1:1";
    kc.props = &props;
    assert_int_equal(cresc_kafka_conf_new(&kc, &conf, err, sizeof(err)), CRESC_EINVAL);
    assert_non_null(strstr(err, "no.such.property"));
    assert_null(strstr(err, "secret-value"));

    props.n = 1;
    assert_int_equal(cresc_kafka_conf_new(&kc, &conf, err, sizeof(err)), CRESC_OK);
    char val[64];
    size_t vlen = sizeof(val);
    assert_int_equal(rd_kafka_conf_get(conf, "security.protocol", val, &vlen), RD_KAFKA_CONF_OK);
    assert_string_equal(val, "sasl_ssl");
    vlen = sizeof(val);
    assert_int_equal(rd_kafka_conf_get(conf, "bootstrap.servers", val, &vlen), RD_KAFKA_CONF_OK);
    assert_string_equal(val, "127.0.0.1:1");
    rd_kafka_conf_destroy(conf);
}

struct dr_count {
    int ok, failed;
    int last_err;
    int64_t max_offset;
    int opaque_sum;
};

static void count_dr(void *opaque, void *msg_opaque, int err, int64_t offset)
{
    struct dr_count *c = opaque;
    if (err == 0) {
        c->ok++;
        assert_true(offset >= 0);
        if (offset > c->max_offset) {
            c->max_offset = offset;
        }
    } else {
        c->failed++;
        c->last_err = err;
        assert_int_equal(offset, -1);
    }
    c->opaque_sum += (int)(intptr_t)msg_opaque;
}

static struct cresc_producer *new_producer(struct mock *m, struct dr_count *dr, int timeout_ms)
{
    struct cresc_kafka_conf kc = {.brokers = m->bootstraps, .client_id = "test", .props = NULL};
    struct cresc_producer_opts o = {.kafka = &kc,
                                    .message_timeout_ms = timeout_ms,
                                    .linger_ms = 0,
                                    .on_delivery = count_dr,
                                    .opaque = dr};
    struct cresc_producer *p = NULL;
    char err[256] = "";
    assert_int_equal(cresc_producer_new(&o, &p, err, sizeof(err)), CRESC_OK);
    return p;
}

static void test_produce_counts(void **state)
{
    struct mock *m = *state;
    struct dr_count dr = {0};
    struct cresc_producer *p = new_producer(m, &dr, 10000);
    rd_kafka_t *rk = cresc_producer_handle(p);
    char val[16];
    size_t vlen = sizeof(val);
    assert_int_equal(rd_kafka_conf_get(rd_kafka_conf(rk), "enable.idempotence", val, &vlen),
                     RD_KAFKA_CONF_OK);
    assert_string_equal(val, "true");
    for (int i = 1; i <= 20; i++) {
        char msg[64];
        int n = snprintf(msg, sizeof(msg), "{\"i\":%d}", i);
        assert_int_equal(cresc_producer_send(p, "t.samples", i % 2 ? "svc-a" : "svc-b", msg,
                                             (size_t)n, (void *)(intptr_t)i),
                         CRESC_OK);
    }
    assert_int_equal(cresc_producer_flush(p, 10000), CRESC_OK);
    struct cresc_producer_stats s = cresc_producer_stats(p);
    assert_int_equal(s.sent, 20);
    assert_int_equal(s.delivered, 20);
    assert_int_equal(s.failed, 0);
    assert_int_equal(dr.ok, 20);
    assert_int_equal(dr.opaque_sum, 210);
    assert_int_equal(cresc_producer_outq_len(p), 0);
    assert_false(cresc_producer_fatal(p));
    assert_int_equal(cresc_producer_send(p, NULL, NULL, "x", 1, NULL), CRESC_EINVAL);
    cresc_producer_free(p);
    cresc_producer_free(NULL);
}

static void test_injected_errors(void **state)
{
    struct mock *m = *state;
    struct dr_count dr = {0};
    struct cresc_producer *p = new_producer(m, &dr, 5000);
    /* Retriable errors: the idempotent producer retries and the message gets through. */
    rd_kafka_mock_push_request_errors(
        m->mc, KAFKA_API_PRODUCE, 3, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT);
    assert_int_equal(cresc_producer_send(p, "t.samples", "k", "retry-me", 8, NULL), CRESC_OK);
    assert_int_equal(cresc_producer_flush(p, 10000), CRESC_OK);
    assert_int_equal(dr.ok, 1);
    assert_int_equal(dr.failed, 0);

    /* A permanent error fails the message: counted, reported with a negative code. */
    rd_kafka_mock_push_request_errors(m->mc, KAFKA_API_PRODUCE, 1,
                                      RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
    assert_int_equal(cresc_producer_send(p, "t.samples", "k", "denied", 6, NULL), CRESC_OK);
    assert_int_equal(cresc_producer_flush(p, 10000), CRESC_OK);
    assert_int_equal(dr.failed, 1);
    assert_int_equal(dr.last_err, CRESC_EAUTH);
    struct cresc_producer_stats s = cresc_producer_stats(p);
    assert_int_equal(s.sent, 2);
    assert_int_equal(s.delivered, 1);
    assert_int_equal(s.failed, 1);
    assert_false(cresc_producer_fatal(p));
    cresc_producer_free(p);
}

static void test_unreachable_times_out(void **state)
{
    (void)state;
    struct dr_count dr = {0};
    struct mock dead = {0};
    snprintf(dead.bootstraps, sizeof(dead.bootstraps), "127.0.0.1:1");
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_CRITICAL, NULL); /* connection refused noise */
    struct cresc_producer *p = new_producer(&dead, &dr, 300);
    assert_int_equal(cresc_producer_send(p, "t.samples", NULL, "x", 1, NULL), CRESC_OK);
    assert_int_equal(cresc_producer_flush(p, 5000), CRESC_OK);
    assert_int_equal(dr.failed, 1);
    assert_int_equal(dr.last_err, CRESC_ETIMEDOUT);
    /* Pending messages at free time are dropped without running the callback. */
    assert_int_equal(cresc_producer_send(p, "t.samples", NULL, "y", 1, NULL), CRESC_OK);
    cresc_producer_free(p);
    assert_int_equal(dr.failed, 1);
    cresc_log_setup(CRESC_LOG_TEXT, CRESC_LOG_INFO, NULL);
}

static void test_fatal_flag(void **state)
{
    struct mock *m = *state;
    struct dr_count dr = {0};
    struct cresc_producer *p = new_producer(m, &dr, 5000);
    assert_int_equal(cresc_producer_send(p, "t.samples", "k", "a", 1, NULL), CRESC_OK);
    assert_int_equal(cresc_producer_flush(p, 10000), CRESC_OK);
    assert_int_equal(rd_kafka_test_fatal_error(cresc_producer_handle(p),
                                               RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                                               "test-injected"),
                     RD_KAFKA_RESP_ERR_NO_ERROR);
    cresc_producer_poll(p, 100);
    assert_true(cresc_producer_fatal(p));
    assert_int_equal(cresc_producer_send(p, "t.samples", "k", "b", 1, NULL), CRESC_EKAFKA);
    cresc_producer_free(p);
}

static void test_partition_count(void **state)
{
    struct mock *m = *state;
    struct dr_count dr = {0};
    struct cresc_producer *p = new_producer(m, &dr, 5000);
    int n = 0;
    assert_int_equal(cresc_kafka_partition_count(cresc_producer_handle(p), "t.samples", 5000, &n),
                     CRESC_OK);
    assert_int_equal(n, 4);
    assert_int_equal(cresc_kafka_partition_count(cresc_producer_handle(p), "t.nope", 5000, &n),
                     CRESC_ENOTFOUND);
    cresc_producer_free(p);
}

/* On the mock (no Admin API) ensure_topics works when the topics exist, fast, and still checks
 * that samples and control have the same partition count. */
static void test_ensure_existing_topics(void **state)
{
    struct mock *m = *state;
    const char *const kinds[] = {"samples", "control", "decisions", "commands", "state"};
    for (size_t i = 0; i < 5; i++) {
        char name[64];
        snprintf(name, sizeof(name), "ok.%s", kinds[i]);
        assert_int_equal(rd_kafka_mock_topic_create(m->mc, name, 2, 1), 0);
        snprintf(name, sizeof(name), "odd.%s", kinds[i]);
        assert_int_equal(rd_kafka_mock_topic_create(m->mc, name, i == 1 ? 3 : 2, 1), 0);
    }
    struct cresc_kafka_conf kc = {.brokers = m->bootstraps, .client_id = "test", .props = NULL};
    struct cresc_topics t;
    char err[512] = "";
    assert_int_equal(cresc_topics_init(&t, "ok."), CRESC_OK);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(cresc_kafka_ensure_topics(&kc, &t, 2, -1, 20000, err, sizeof(err)), CRESC_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_true(t1.tv_sec - t0.tv_sec < 5); /* no Admin request waited out its timeout */
    assert_int_equal(cresc_topics_init(&t, "odd."), CRESC_OK);
    assert_int_equal(cresc_kafka_ensure_topics(&kc, &t, 2, -1, 20000, err, sizeof(err)),
                     CRESC_ECONFLICT);
    assert_non_null(strstr(err, "odd.control"));
}

/* Reads until `want` messages arrived (EOF events skipped) or the deadline passed. */
static int consume_n(struct cresc_consumer *c, int want, int timeout_ms, int *eofs)
{
    int got = 0;
    for (int waited = 0; got < want && waited < timeout_ms; waited += 100) {
        rd_kafka_message_t *msg = cresc_consumer_poll(c, 100);
        if (msg == NULL) {
            continue;
        }
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            (*eofs)++;
        } else if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            got++;
        }
        rd_kafka_message_destroy(msg);
    }
    return got;
}

static void test_consumer_assign_and_group(void **state)
{
    struct mock *m = *state;
    struct dr_count dr = {0};
    struct cresc_producer *p = new_producer(m, &dr, 5000);
    for (int i = 0; i < 10; i++) {
        char key[16];
        snprintf(key, sizeof(key), "svc-%d", i);
        assert_int_equal(cresc_producer_send(p, "t.state", key, "{}", 2, NULL), CRESC_OK);
    }
    assert_int_equal(cresc_producer_flush(p, 10000), CRESC_OK);
    cresc_producer_free(p);

    struct cresc_kafka_conf kc = {.brokers = m->bootstraps, .client_id = "test", .props = NULL};
    const char *const topics[] = {"t.state"};
    struct cresc_consumer_opts o = {.kafka = &kc,
                                    .group_id = "test-view",
                                    .topics = topics,
                                    .n_topics = 1,
                                    .assign_from_beginning = true,
                                    .read_committed = true,
                                    .partition_eof = true};
    struct cresc_consumer *c = NULL;
    char err[256] = "";
    assert_int_equal(cresc_consumer_new(&o, &c, err, sizeof(err)), CRESC_OK);
    int eofs = 0;
    assert_int_equal(consume_n(c, 10, 10000, &eofs), 10);
    cresc_consumer_free(c);

    /* Group mode: joins, gets both partitions, reads from the earliest offset. */
    o.assign_from_beginning = false;
    o.group_id = "test-group";
    assert_int_equal(cresc_consumer_new(&o, &c, err, sizeof(err)), CRESC_OK);
    eofs = 0;
    assert_int_equal(consume_n(c, 10, 20000, &eofs), 10);
    rd_kafka_topic_partition_list_t *asg = NULL;
    assert_int_equal(rd_kafka_assignment(cresc_consumer_handle(c), &asg), 0);
    assert_int_equal(asg->cnt, 2);
    rd_kafka_topic_partition_list_destroy(asg);
    cresc_consumer_free(c);
    cresc_consumer_free(NULL);

    /* Missing topic in assign mode: a clear error, not a hang. */
    const char *const missing[] = {"t.missing"};
    o.topics = missing;
    o.assign_from_beginning = true;
    assert_int_equal(cresc_consumer_new(&o, &c, err, sizeof(err)), CRESC_ENOTFOUND);
    assert_non_null(strstr(err, "t.missing"));
    o.n_topics = 0;
    assert_int_equal(cresc_consumer_new(&o, &c, err, sizeof(err)), CRESC_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topics_init),
        cmocka_unit_test(test_conf_errors),
        cmocka_unit_test(test_produce_counts),
        cmocka_unit_test(test_injected_errors),
        cmocka_unit_test(test_unreachable_times_out),
        cmocka_unit_test(test_fatal_flag),
        cmocka_unit_test(test_partition_count),
        cmocka_unit_test(test_ensure_existing_topics),
        cmocka_unit_test(test_consumer_assign_and_group),
    };
    return cmocka_run_group_tests(tests, mock_up, mock_down);
}
