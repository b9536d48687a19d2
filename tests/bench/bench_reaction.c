/* Reaction-time benchmark (run by bench_reaction.sh against a running coordinator with cooldown
 * and windows at zero): for each trial, one service that sits below the threshold gets one
 * over-threshold sample; the time from just before that produce to the scale command read
 * (read_committed) from <prefix>commands is one measurement. Prints min, p50, p90, p99, max. */
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

struct react_config {
    struct cresc_common_config common;
    int64_t trials;
    int64_t settle_ms;
    int64_t timeout_ms;
    double low_cpu, high_cpu;
    char *trace;
};

#define RO(f) offsetof(struct react_config, f)
static const struct cresc_opt react_options[] = {
    CRESC_COMMON_OPTIONS(struct react_config, common),
    {"REACT_TRIALS", "trials", CRESC_OPT_INT, RO(trials), "100", 1, 10000, NULL,
     "Trials (one fresh service each)", 0},
    {"REACT_SETTLE", "settle", CRESC_OPT_MS, RO(settle_ms), "3s", 0, 600000, NULL,
     "Wait after the below-threshold warm-up samples", 0},
    {"REACT_TIMEOUT", "timeout", CRESC_OPT_MS, RO(timeout_ms), "10s", 1, 600000, NULL,
     "Give up on one trial after this long", 0},
    {"REACT_LOW_CPU", "low-cpu", CRESC_OPT_DOUBLE, RO(low_cpu), "50", 0, 100, NULL,
     "Warm-up CPU percent: below the threshold, and its mean with high-cpu above it", 0},
    {"REACT_HIGH_CPU", "high-cpu", CRESC_OPT_DOUBLE, RO(high_cpu), "100", 0, 100, NULL,
     "Trigger CPU percent (above the threshold)", 0},
    {"REACT_TRACE", "trace", CRESC_OPT_STRING, RO(trace), "", 0, 4096, NULL,
     "Write one line per trial to this file: trial, wall-clock us at the produce, us to the "
     "sample read back (-1: not seen), us to the command (-1: none)",
     0},
};
#define REACT_OPTIONS_N (sizeof react_options / sizeof react_options[0])

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorts `v` and prints its distribution; returns p99 in ms. */
static double print_dist(const char *label, int64_t *v, int n, int trials)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += (double)v[i];
#define PCT(q) ((double)v[(size_t)((q) * (double)(n - 1) + 0.5)] / 1000.0)
    printf("reaction: %d/%d trials, %s: min %.1f ms, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, "
           "max %.1f ms, mean %.1f ms\n",
           n, trials, label, (double)v[0] / 1000.0, PCT(0.50), PCT(0.90), PCT(0.99),
           (double)v[n - 1] / 1000.0, sum / n / 1000.0);
    double p99 = PCT(0.99);
#undef PCT
    return p99;
}

static int send_sample(struct cresc_producer *p, const char *topic, int trial, int inst,
                       uint64_t seq, double cpu)
{
    struct cresc_sample s;
    memset(&s, 0, sizeof s);
    snprintf(s.service, sizeof s.service, "react-%04d", trial);
    snprintf(s.instance_id, sizeof s.instance_id, "react-%04d-%d", trial, inst);
    snprintf(s.node, sizeof s.node, "node-%d", inst);
    s.seq = seq;
    s.ts_ms = wall_ms();
    s.interval_ms = 1000;
    s.present = CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM;
    s.cpu_pct = cpu;
    s.mem_pct = 20;
    char buf[CRESC_SAMPLE_MAX_BYTES];
    size_t len = 0;
    int rc = cresc_sample_encode(&s, buf, sizeof buf, &len);
    if (rc == 0)
        rc = cresc_producer_send(p, topic, s.service, buf, len, NULL);
    return rc;
}

int main(int argc, char **argv)
{
    struct react_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct cresc_prog prog = {"bench_reaction", "sample-to-command latency of a coordinator", NULL};
    char err[512] = "";
    int first = 0, ret = 1;
    struct cresc_producer *p = NULL;
    struct cresc_consumer *c = NULL;
    int64_t *lat = NULL, *hop = NULL, *rest = NULL;
    FILE *trace = NULL;
    int rc = cresc_config_load(react_options, REACT_OPTIONS_N, &cfg, &prog, argc, argv, &first,
                               NULL, err, sizeof err);
    if (rc == CRESC_CONFIG_EXIT)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "bench_reaction: %s\n", err);
        return 2;
    }
    cresc_common_apply_logging(&cfg.common);
    struct cresc_topics t;
    if (cresc_topics_init(&t, cfg.common.topic_prefix) != 0)
        goto out;
    int ntrials = (int)cfg.trials;
    lat = calloc((size_t)ntrials, sizeof *lat);
    hop = calloc((size_t)ntrials, sizeof *hop);
    rest = calloc((size_t)ntrials, sizeof *rest);
    if (lat == NULL || hop == NULL || rest == NULL)
        goto out;
    struct cresc_kafka_conf kc = {.brokers = cfg.common.kafka_brokers,
                                  .client_id = "crescendo-bench-reaction"};
    /* A subscriber's low-latency settings: the broker answers a fetch at once when data is
     * there; fetch.wait.max.ms only bounds the wait for read_committed's LSO to move. */
    struct cresc_kv extra_items[] = {
        {(char *)(uintptr_t) "fetch.wait.max.ms", (char *)(uintptr_t) "5"},
        {(char *)(uintptr_t) "fetch.error.backoff.ms", (char *)(uintptr_t) "5"}};
    struct cresc_kv_list extra = {2, extra_items};
    /* The samples topic too: seeing our own sample come back splits the latency into the
     * broker hop and the coordinator's share (consume, decide, transaction commit). */
    const char *topics[] = {t.commands, t.samples};
    struct cresc_consumer_opts co = {.kafka = &kc,
                                     .group_id = "crescendo-bench-reaction",
                                     .topics = topics,
                                     .n_topics = 2,
                                     .assign_from_beginning = true,
                                     .read_committed = true,
                                     .extra = &extra};
    if (cresc_consumer_new(&co, &c, err, sizeof err) != 0) {
        fprintf(stderr, "bench_reaction: consumer: %s\n", err);
        goto out;
    }
    struct cresc_producer_opts po = {.kafka = &kc, .linger_ms = 0};
    if (cresc_producer_new(&po, &p, err, sizeof err) != 0) {
        fprintf(stderr, "bench_reaction: producer: %s\n", err);
        goto out;
    }

    /* Warm-up: every trial's service exists with two instances below the threshold. */
    for (int i = 0; i < ntrials; i++) {
        if (send_sample(p, t.samples, i, 0, 1, cfg.low_cpu) != 0 ||
            send_sample(p, t.samples, i, 1, 1, cfg.low_cpu) != 0) {
            fprintf(stderr, "bench_reaction: warm-up produce failed\n");
            goto out;
        }
    }
    if (cresc_producer_flush(p, 30000) != 0) {
        fprintf(stderr, "bench_reaction: warm-up flush failed\n");
        goto out;
    }
    /* Drain whatever is already on the commands topic (nothing is expected). */
    int64_t settle_end = mono_us() + cfg.settle_ms * 1000;
    int stray = 0;
    while (mono_us() < settle_end) {
        rd_kafka_message_t *m = cresc_consumer_poll(c, 50);
        if (m != NULL) {
            stray += m->err == 0 && m->rkt != NULL &&
                     strcmp(rd_kafka_topic_name(m->rkt), t.commands) == 0;
            rd_kafka_message_destroy(m);
        }
    }
    if (stray > 0)
        fprintf(stderr, "bench_reaction: %d commands during warm-up (below threshold?)\n", stray);

    if (cfg.trace != NULL && cfg.trace[0] != '\0' && (trace = fopen(cfg.trace, "w")) == NULL) {
        fprintf(stderr, "bench_reaction: cannot write %s\n", cfg.trace);
        goto out;
    }
    int done = 0, lost = 0, nsplit = 0;
    uint64_t rng = 88172645463325252ULL;
    for (int i = 0; i < ntrials; i++) {
        char want[CRESC_ID_MAX + 1];
        snprintf(want, sizeof want, "react-%04d", i);
        const int64_t t0_wall = wall_us();
        int64_t t0 = mono_us(), t_cmd = -1;
        if (send_sample(p, t.samples, i, 0, 2, cfg.high_cpu) != 0) {
            fprintf(stderr, "bench_reaction: produce failed\n");
            goto out;
        }
        cresc_producer_poll(p, 0);
        bool got = false;
        int64_t seen = -1; /* our sample read back from the samples topic */
        while (!got && mono_us() - t0 < cfg.timeout_ms * 1000) {
            cresc_producer_poll(p, 0);
            rd_kafka_message_t *m = cresc_consumer_poll(c, 1);
            if (m == NULL)
                continue;
            int64_t now = mono_us();
            if (m->err == 0 && m->rkt != NULL &&
                strcmp(rd_kafka_topic_name(m->rkt), t.samples) == 0) {
                struct cresc_sample smp;
                struct cresc_msg_error me;
                if (seen < 0 && cresc_sample_decode(m->payload, m->len, &smp, &me) == 0 &&
                    strcmp(smp.service, want) == 0 && smp.seq == 2)
                    seen = now;
            } else if (m->err == 0) {
                struct cresc_scale_command cmd;
                struct cresc_msg_error me;
                if (cresc_command_decode(m->payload, m->len, &cmd, &me) == 0 &&
                    strcmp(cmd.service, want) == 0 && cmd.to > cmd.from) {
                    if (seen >= 0) {
                        hop[nsplit] = seen - t0;
                        rest[nsplit] = now - seen;
                        nsplit++;
                    }
                    lat[done++] = now - t0;
                    t_cmd = now - t0;
                    got = true;
                }
            }
            rd_kafka_message_destroy(m);
        }
        if (trace != NULL)
            fprintf(trace, "%d %lld %lld %lld\n", i, (long long)t0_wall,
                    (long long)(seen >= 0 ? seen - t0 : -1), (long long)t_cmd);
        if (!got)
            lost++;
        if (!got && done == 0 && i >= 2) {
            fprintf(stderr, "bench_reaction: no command for the first %d trials; giving up\n",
                    i + 1);
            break;
        }
        /* Random phase against the coordinator's tick. */
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        sleep_ms(20 + (int64_t)(rng % 80));
    }
    if (done == 0) {
        fprintf(stderr, "bench_reaction: no scale command seen in %d trials\n", ntrials);
        goto out;
    }
    double p99 =
        print_dist("sample produce -> scale command consumed (read_committed)", lat, done, ntrials);
    if (nsplit > 0) {
        print_dist("  of which: sample produce -> sample consumed (broker hop)", hop, nsplit,
                   ntrials);
        print_dist("  of which: sample consumed -> command consumed (coordinator + txn)", rest,
                   nsplit, ntrials);
    }
    printf("reaction: target p99 < 100 ms: %s\n", p99 < 100.0 ? "met" : "NOT met");
    ret = lost == 0 ? 0 : 1;
    if (lost > 0)
        fprintf(stderr, "bench_reaction: %d trials without a command\n", lost);
out:
    if (trace != NULL)
        fclose(trace);
    cresc_producer_free(p);
    cresc_consumer_free(c);
    free(lat);
    free(hop);
    free(rest);
    cresc_config_release(react_options, REACT_OPTIONS_N, &cfg);
    return ret;
}
