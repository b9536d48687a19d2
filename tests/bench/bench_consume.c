/* Benchmark helper for bench_ingest.sh: the floor under the coordinator's ingest rate. Reads a
 * topic from the beginning to the end of every partition with librdkafka (as kcat does) and,
 * with --decode, decodes each message with the real sample codec; prints the rate. The gap
 * between this and the coordinator is the coordinator's own work (windows, aggregation,
 * state); the gap between this and kcat is the codec's. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cresc/config.h"
#include "cresc/kafka.h"
#include "cresc/log.h"
#include "cresc/msg.h"

struct consume_config {
    struct cresc_common_config common;
    char *topic;
    bool decode;
    bool batch;
    int64_t expect;
};

#define CO(f) offsetof(struct consume_config, f)
static const struct cresc_opt consume_options[] = {
    CRESC_COMMON_OPTIONS(struct consume_config, common),
    {"CONSUME_TOPIC", "topic", CRESC_OPT_STRING, CO(topic), NULL, 1, 255, NULL,
     "Topic to read from the beginning to its end", 0},
    {"CONSUME_DECODE", "decode", CRESC_OPT_BOOL, CO(decode), "false", 0, 0, NULL,
     "Decode every message with cresc_sample_decode", 0},
    {"CONSUME_BATCH", "batch", CRESC_OPT_BOOL, CO(batch), "false", 0, 0, NULL,
     "Read with rd_kafka_consume_batch_queue on the consumer queue instead of one "
     "rd_kafka_consumer_poll per message",
     0},
    {"CONSUME_EXPECT", "expect", CRESC_OPT_INT, CO(expect), "0", 0, 1e10, NULL,
     "Fail unless exactly this many messages are read (0: any)", 0},
};
#define CONSUME_OPTIONS_N (sizeof consume_options / sizeof consume_options[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    struct consume_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct cresc_prog prog = {"bench_consume", "read a topic to its end, optionally decoding",
                              NULL};
    char err[512] = "";
    int first = 0, ret = 1;
    struct cresc_consumer *c = NULL;
    int rc = cresc_config_load(consume_options, CONSUME_OPTIONS_N, &cfg, &prog, argc, argv, &first,
                               NULL, err, sizeof err);
    if (rc == CRESC_CONFIG_EXIT) {
        return 0;
    }
    if (rc != 0 || cfg.topic == NULL) {
        fprintf(stderr, "bench_consume: %s\n", rc != 0 ? err : "--topic is required");
        goto out;
    }
    cresc_common_apply_logging(&cfg.common);
    double t0 = now_s();
    struct cresc_kafka_conf kc = {.brokers = cfg.common.kafka_brokers,
                                  .client_id = "crescendo-bench-consume"};
    const char *topics[] = {cfg.topic};
    struct cresc_consumer_opts co = {.kafka = &kc,
                                     .group_id = "crescendo-bench-consume",
                                     .topics = topics,
                                     .n_topics = 1,
                                     .assign_from_beginning = true,
                                     .read_committed = true,
                                     .partition_eof = true};
    if (cresc_consumer_new(&co, &c, err, sizeof err) != 0) {
        fprintf(stderr, "bench_consume: %s\n", err);
        goto out;
    }
    int parts = 0;
    if (cresc_kafka_partition_count(cresc_consumer_handle(c), cfg.topic, 10000, &parts) != 0 ||
        parts <= 0) {
        fprintf(stderr, "bench_consume: no partitions for %s\n", cfg.topic);
        goto out;
    }
    bool *eof = calloc((size_t)parts, sizeof *eof);
    if (eof == NULL) {
        goto out;
    }
    int n_eof = 0;
    int64_t n = 0, bad = 0;
    size_t bytes = 0;
    struct cresc_sample s;
    struct cresc_msg_error me;
    rd_kafka_queue_t *q = cfg.batch ? rd_kafka_queue_get_consumer(cresc_consumer_handle(c)) : NULL;
    rd_kafka_message_t *msgs[1000];
    size_t n_msgs = 0, next = 0;
    while (n_eof < parts) {
        rd_kafka_message_t *m = NULL;
        if (q == NULL) {
            m = cresc_consumer_poll(c, 1000);
        } else {
            if (next == n_msgs) {
                ssize_t got = rd_kafka_consume_batch_queue(q, 1000, msgs, 1000);
                n_msgs = got > 0 ? (size_t)got : 0;
                next = 0;
            }
            m = next < n_msgs ? msgs[next++] : NULL;
        }
        if (m == NULL) {
            continue;
        }
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (m->partition >= 0 && m->partition < parts && !eof[m->partition]) {
                eof[m->partition] = true;
                n_eof++;
            }
        } else if (m->err == 0) {
            n++;
            bytes += m->len;
            if (cfg.decode && cresc_sample_decode(m->payload, m->len, &s, &me) != 0) {
                bad++;
            }
        }
        rd_kafka_message_destroy(m);
    }
    while (next < n_msgs) {
        rd_kafka_message_destroy(msgs[next++]);
    }
    if (q != NULL) {
        rd_kafka_queue_destroy(q);
    }
    free(eof);
    double dt = now_s() - t0;
    printf("consume%s%s: %lld messages (%.1f MB) in %.3f s: %.0f messages/s%s\n",
           cfg.decode ? "+decode" : "", cfg.batch ? " (batch)" : "", (long long)n,
           (double)bytes / 1e6, dt, (double)n / dt, bad > 0 ? " (some failed to decode)" : "");
    ret = (cfg.expect == 0 || n == cfg.expect) && bad == 0 ? 0 : 1;
out:
    cresc_consumer_free(c);
    cresc_config_release(consume_options, CONSUME_OPTIONS_N, &cfg);
    return ret;
}
