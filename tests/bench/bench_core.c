/* Benchmark of the decision core (not a pass/fail test): one evaluation of a service with
 * 1,000 live instances (window aggregate + policy engine) in microseconds, the allocation of
 * 100,000 matches in milliseconds, plus window ingest and placement figures.
 * Run: build/tests/bench/bench_core [instances] [matches] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cresc/alloc.h"
#include "cresc/balance.h"
#include "cresc/policy.h"
#include "cresc/window.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static uint64_t rng_state = 42;
static uint64_t rng(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    qsort(v, n, sizeof(*v), cmp_double);
    size_t i = (size_t)(p * (double)(n - 1));
    return v[i];
}

static int bench_evaluate(size_t n_inst)
{
    struct cresc_window_opts o = {.window_ms = 30000,
                                  .ttl_ms = 30000,
                                  .max_skew_ms = 300000,
                                  .max_instances = 20000,
                                  .max_values_per_instance = 64};
    struct cresc_window *w = NULL;
    if (cresc_window_new(&o, &w) < 0) {
        return 1;
    }
    const int64_t t0 = 1767225600000;
    struct cresc_sample s;
    memset(&s, 0, sizeof(s));
    snprintf(s.service, sizeof(s.service), "bench");
    s.interval_ms = 1000;
    s.present = CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_REQ |
                CRESC_SAMPLE_HAS_CONNS | CRESC_SAMPLE_HAS_DISK;
    /* 30 s of 1 Hz samples from every instance: each window ring holds 30 values. */
    double a0 = now_us();
    size_t added = 0;
    for (int sec = 0; sec < 30; sec++) {
        for (size_t i = 0; i < n_inst; i++) {
            snprintf(s.instance_id, sizeof(s.instance_id), "pod-%06zu", (i * 7919) % n_inst);
            snprintf(s.node, sizeof(s.node), "node-%zu", i % 50);
            s.seq = (uint64_t)sec + 1;
            s.ts_ms = t0 + sec * 1000;
            s.cpu_pct = (double)(rng() % 10000) / 100.0;
            s.mem_pct = (double)(rng() % 10000) / 100.0;
            s.req_per_s = (double)(rng() % 1000);
            s.active_connections = (double)(rng() % 100);
            enum cresc_window_verdict v;
            if (cresc_window_add(w, &s, s.ts_ms, s.ts_ms, &v) < 0 || v != CRESC_WINDOW_ACCEPTED) {
                fprintf(stderr, "bench_core: sample rejected\n");
                return 1;
            }
            added++;
        }
    }
    double add_us = now_us() - a0;

    struct cresc_scaling_config cfg;
    cresc_scaling_config_defaults(&cfg);
    cfg.max_instances = 10000;
    /* A full history, as a long-running service has. */
    static struct cresc_recommendation recs[CRESC_HISTORY_MAX];
    static struct cresc_scale_event evs[CRESC_HISTORY_MAX];
    int64_t now = t0 + 30000;
    for (size_t i = 0; i < CRESC_HISTORY_MAX; i++) {
        recs[i] = (struct cresc_recommendation){now - (int64_t)(CRESC_HISTORY_MAX - i) * 1000,
                                                (int32_t)(n_inst + i % 7)};
        evs[i] = (struct cresc_scale_event){now - (int64_t)(CRESC_HISTORY_MAX - i) * 60000,
                                            (int32_t)n_inst, (int32_t)n_inst + 1};
    }
    enum { RUNS = 2000 };
    static double t[RUNS];
    struct cresc_decision d;
    int32_t sink = 0;
    for (int r = 0; r < RUNS; r++) {
        double b = now_us();
        struct cresc_window_agg agg;
        cresc_window_aggregate(w, now, &agg);
        struct cresc_eval_input in = {.now_ms = now,
                                      .current_instances = agg.live_instances,
                                      .config = &cfg,
                                      .metrics = agg.metrics,
                                      .history = {CRESC_HISTORY_MAX, recs, CRESC_HISTORY_MAX, evs}};
        if (cresc_policy_evaluate(&in, &d) < 0) {
            return 1;
        }
        t[r] = now_us() - b;
        sink += d.target_instances;
    }
    double sum = 0;
    for (int r = 0; r < RUNS; r++) {
        sum += t[r];
    }
    printf("evaluate: %zu live instances x 30 window values: aggregate+evaluate mean %.1f us, "
           "p50 %.1f us, p99 %.1f us (%d runs)\n",
           n_inst, sum / RUNS, pct(t, RUNS, 0.5), pct(t, RUNS, 0.99), RUNS);
    printf("window ingest: %zu samples in %.1f ms (%.2f M samples/s)\n", added, add_us / 1e3,
           (double)added / add_us);

    /* Placement of 4096 matches over the live instances. */
    static struct cresc_live_instance live[20000];
    size_t nl = cresc_window_live(w, now, live, 20000);
    enum { NM = 4096 };
    static struct cresc_priority pr[NM];
    for (size_t i = 0; i < NM; i++) {
        snprintf(pr[i].match_id, sizeof(pr[i].match_id), "match-%05zu", i);
    }
    enum cresc_lb_strategy strat[3] = {CRESC_LB_ROUND_ROBIN, CRESC_LB_LEAST_CONNECTIONS,
                                       CRESC_LB_IP_HASH};
    for (int k = 0; k < 3; k++) {
        double b = now_us();
        if (cresc_balance_place_priorities(strat[k], live, nl, pr, NM) < 0) {
            return 1;
        }
        printf("placement %s: %d matches on %zu instances in %.2f ms\n",
               cresc_lb_strategy_name(strat[k]), NM, nl, (now_us() - b) / 1e3);
    }
    cresc_window_free(w);
    return sink == 0; /* keep the loop observable */
}

/* The sorted instance index: inserting 20,000 distinct instances in scrambled order. */
static int bench_index(void)
{
    enum { N = 20000 };
    struct cresc_window_opts o = {.window_ms = 0,
                                  .ttl_ms = 0,
                                  .max_skew_ms = 0,
                                  .max_instances = N,
                                  .max_values_per_instance = 4};
    struct cresc_window *w = NULL;
    if (cresc_window_new(&o, &w) < 0) {
        return 1;
    }
    static struct cresc_sample smp[N];
    for (size_t i = 0; i < N; i++) {
        snprintf(smp[i].service, sizeof(smp[i].service), "bench");
        snprintf(smp[i].instance_id, sizeof(smp[i].instance_id), "pod-%08zu",
                 (size_t)(rng() % 100000000));
        snprintf(smp[i].node, sizeof(smp[i].node), "n");
        smp[i].seq = 1;
        smp[i].present = CRESC_SAMPLE_HAS_CPU;
    }
    double b = now_us();
    for (size_t i = 0; i < N; i++) {
        enum cresc_window_verdict v;
        if (cresc_window_add(w, &smp[i], 0, 0, &v) < 0) {
            return 1;
        }
    }
    double us = now_us() - b;
    printf("window index: %zu distinct instances inserted in %.1f ms (%.2f us each)\n",
           cresc_window_count(w), us / 1e3, us / (double)N);
    cresc_window_free(w);
    return 0;
}

static int bench_alloc(size_t n)
{
    struct cresc_alloc_item *it = calloc(n, sizeof(*it));
    char(*ids)[32] = calloc(n, sizeof(*ids));
    if (!it || !ids) {
        return 1;
    }
    static const double asks[] = {0.001, 0.01, 0.05, 0.1, 0.5, 1, 2.5};
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof(ids[i]), "match-%07zu", (i * 7919) % n);
        it[i] = (struct cresc_alloc_item){ids[i], (int32_t)(1 + rng() % 10), asks[rng() % 7], 0, 0};
    }
    const char *label[2] = {"10 priorities", "one priority (worst case)"};
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            for (size_t i = 0; i < n; i++) {
                it[i].priority = 5;
            }
        }
        enum { RUNS = 11 };
        double t[RUNS];
        struct cresc_alloc_summary s;
        for (int r = 0; r < RUNS; r++) {
            double b = now_us();
            if (cresc_alloc_compute(it, n, 100.0, &s) < 0) {
                return 1;
            }
            t[r] = now_us() - b;
        }
        printf("allocation: %zu matches, %s: median %.2f ms, max %.2f ms (requested %.0f%%, "
               "squeezed %zu, cut-off priority %d)\n",
               n, label[pass], pct(t, RUNS, 0.5) / 1e3, pct(t, RUNS, 1.0) / 1e3, s.requested_pct,
               s.n_squeezed, (int)s.cutoff_priority);
    }
    free(ids);
    free(it);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n_inst = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 1000;
    size_t n_match = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 100000;
    if (n_inst == 0 || n_inst > 20000 || n_match == 0) {
        fprintf(stderr, "usage: bench_core [instances 1..20000] [matches]\n");
        return 2;
    }
    int rc = bench_evaluate(n_inst);
    rc |= bench_index();
    rc |= bench_alloc(n_match);
    return rc;
}
