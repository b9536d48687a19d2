/* Benchmark helper: fills <prefix>samples with N agent samples from I instances spread over S
 * services (keyed by service, as agents publish them), encoded with the real sample codec, and
 * creates the five topics first with the coordinator's partition count. Used by
 * bench_ingest.sh; prints the fill rate. Not part of the pass/fail suite. */
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

struct fill_config {
    struct cresc_common_config common;
    int64_t samples;
    int64_t instances;
    int64_t services;
    int64_t partitions;
    double cpu_max;
    int64_t interval_ms;
};

#define FO(f) offsetof(struct fill_config, f)
static const struct cresc_opt fill_options[] = {
    CRESC_COMMON_OPTIONS(struct fill_config, common),
    {"FILL_SAMPLES", "samples", CRESC_OPT_INT, FO(samples), "1000000", 1, 1e9, NULL,
     "Samples to produce", 0},
    {"FILL_INSTANCES", "instances", CRESC_OPT_INT, FO(instances), "10000", 1, 1e7, NULL,
     "Distinct instances (round robin, so each instance's seq increases by 1)", 0},
    {"FILL_SERVICES", "services", CRESC_OPT_INT, FO(services), "100", 1, 1e5, NULL,
     "Services the instances are spread over", 0},
    {"PARTITIONS", "partitions", CRESC_OPT_INT, FO(partitions), "6", 1, 1000, NULL,
     "Partitions of the topics (must match the coordinator's)", 0},
    {"FILL_CPU_MAX", "cpu-max", CRESC_OPT_DOUBLE, FO(cpu_max), "60", 0, 100, NULL,
     "CPU percent varies in [10, cpu-max]", 0},
    {"FILL_INTERVAL", "interval", CRESC_OPT_MS, FO(interval_ms), "1s", 1, 3600000, NULL,
     "Sampling interval written in the samples (timestamps end now)", 0},
};
#define FILL_OPTIONS_N (sizeof fill_options / sizeof fill_options[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    struct fill_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct cresc_prog prog = {"bench_fill", "fill <prefix>samples for the ingest benchmark", NULL};
    char err[512] = "";
    int first = 0, ret = 1;
    struct cresc_producer *p = NULL;
    int rc = cresc_config_load(fill_options, FILL_OPTIONS_N, &cfg, &prog, argc, argv, &first, NULL,
                               err, sizeof err);
    if (rc == CRESC_CONFIG_EXIT)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "bench_fill: %s\n", err);
        return 2;
    }
    cresc_common_apply_logging(&cfg.common);
    struct cresc_topics topics;
    if (cresc_topics_init(&topics, cfg.common.topic_prefix) != 0) {
        fprintf(stderr, "bench_fill: bad topic prefix\n");
        goto out;
    }
    struct cresc_kafka_conf kc = {.brokers = cfg.common.kafka_brokers,
                                  .client_id = "crescendo-bench-fill"};
    if (cresc_kafka_ensure_topics(&kc, &topics, (int)cfg.partitions, -1, 30000, err, sizeof err) !=
        0) {
        fprintf(stderr, "bench_fill: topics: %s\n", err);
        goto out;
    }
    struct cresc_producer_opts po = {
        .kafka = &kc, .queue_max_msgs = 1000000, .linger_ms = 50, .message_timeout_ms = 120000};
    if (cresc_producer_new(&po, &p, err, sizeof err) != 0) {
        fprintf(stderr, "bench_fill: producer: %s\n", err);
        goto out;
    }

    int64_t rounds = (cfg.samples + cfg.instances - 1) / cfg.instances;
    int64_t end_ms = wall_ms();
    uint64_t rng = 0x2545f4914f6cdd1dULL;
    size_t bytes = 0;
    double t0 = now_s();
    int64_t produced = 0;
    struct cresc_sample s;
    char buf[CRESC_SAMPLE_MAX_BYTES];
    for (int64_t k = 0; k < rounds && produced < cfg.samples; k++) {
        for (int64_t i = 0; i < cfg.instances && produced < cfg.samples; i++) {
            memset(&s, 0, sizeof s);
            int64_t svc = i % cfg.services;
            snprintf(s.service, sizeof s.service, "bench-svc-%05lld", (long long)svc);
            snprintf(s.instance_id, sizeof s.instance_id, "bench-svc-%05lld-i%06lld",
                     (long long)svc, (long long)i);
            snprintf(s.node, sizeof s.node, "node-%03lld", (long long)(i % 50));
            s.seq = (uint64_t)k + 1;
            s.ts_ms = end_ms - (rounds - 1 - k) * cfg.interval_ms;
            s.interval_ms = cfg.interval_ms;
            s.present = CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_REQ |
                        CRESC_SAMPLE_HAS_CONNS;
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            s.cpu_pct = 10.0 + (cfg.cpu_max - 10.0) * (double)(rng % 1000) / 1000.0;
            s.mem_pct = 30.0 + (double)(rng % 300) / 10.0;
            s.req_per_s = (double)(rng % 5000) / 10.0;
            s.active_connections = (double)(rng % 200);
            size_t len = 0;
            if (cresc_sample_encode(&s, buf, sizeof buf, &len) != 0) {
                fprintf(stderr, "bench_fill: encode failed\n");
                goto out;
            }
            for (;;) {
                rc = cresc_producer_send(p, topics.samples, s.service, buf, len, NULL);
                if (rc != CRESC_EFULL)
                    break;
                cresc_producer_poll(p, 10);
            }
            if (rc != 0) {
                fprintf(stderr, "bench_fill: produce failed: %s\n", cresc_strerror(rc));
                goto out;
            }
            bytes += len;
            produced++;
            if ((produced & 0x3ff) == 0)
                cresc_producer_poll(p, 0);
        }
    }
    if (cresc_producer_flush(p, 120000) != 0) {
        fprintf(stderr, "bench_fill: flush timed out\n");
        goto out;
    }
    double dt = now_s() - t0;
    struct cresc_producer_stats st = cresc_producer_stats(p);
    if (st.delivered != (uint64_t)produced) {
        fprintf(stderr, "bench_fill: %llu of %lld delivered\n", (unsigned long long)st.delivered,
                (long long)produced);
        goto out;
    }
    printf("fill: %lld samples (%lld instances, %lld services, %.1f MB, avg %zu B) in %.2f s: "
           "%.0f samples/s\n",
           (long long)produced, (long long)cfg.instances, (long long)cfg.services,
           (double)bytes / 1e6, bytes / (size_t)(produced > 0 ? produced : 1), dt,
           (double)produced / dt);
    ret = 0;
out:
    cresc_producer_free(p);
    cresc_config_release(fill_options, FILL_OPTIONS_N, &cfg);
    return ret;
}
