/* Unit tests for shared/src/window.c: dedupe by (instance, seq), skew rejection, TTL expiry,
 * window means, aggregates (mean cpu/mem, totals), bounds, and sorted live listing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cresc/window.h"

static struct cresc_sample mk(const char *id, uint64_t seq, int64_t ts_ms, double cpu, double mem,
                              double req)
{
    struct cresc_sample s;
    memset(&s, 0, sizeof(s));
    snprintf(s.service, sizeof(s.service), "svc");
    snprintf(s.instance_id, sizeof(s.instance_id), "%s", id);
    snprintf(s.node, sizeof(s.node), "node-%s", id);
    s.seq = seq;
    s.ts_ms = ts_ms;
    s.interval_ms = 1000;
    s.present =
        CRESC_SAMPLE_HAS_CPU | CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_REQ | CRESC_SAMPLE_HAS_CONNS;
    s.cpu_pct = cpu;
    s.mem_pct = mem;
    s.req_per_s = req;
    s.active_connections = req / 10.0;
    return s;
}

static struct cresc_window *mkwin(int64_t window_ms, int64_t ttl_ms, size_t max_inst)
{
    struct cresc_window_opts o = {.window_ms = window_ms,
                                  .ttl_ms = ttl_ms,
                                  .max_skew_ms = 60000,
                                  .max_instances = max_inst,
                                  .max_values_per_instance = 8};
    struct cresc_window *w = NULL;
    assert_int_equal(cresc_window_new(&o, &w), 0);
    assert_non_null(w);
    return w;
}

static enum cresc_window_verdict add(struct cresc_window *w, struct cresc_sample s, int64_t now)
{
    enum cresc_window_verdict v;
    assert_int_equal(cresc_window_add(w, &s, now, s.ts_ms, &v), 0);
    return v;
}

static void test_bad_opts(void **state)
{
    (void)state;
    struct cresc_window *w = NULL;
    struct cresc_window_opts o = {.window_ms = 0, .max_instances = 0, .max_values_per_instance = 1};
    assert_int_equal(cresc_window_new(&o, &w), CRESC_EINVAL);
    o.max_instances = 1;
    o.max_values_per_instance = 0;
    assert_int_equal(cresc_window_new(&o, &w), CRESC_EINVAL);
    o.max_values_per_instance = 1;
    o.window_ms = -1;
    assert_int_equal(cresc_window_new(&o, &w), CRESC_EINVAL);
    cresc_window_free(NULL);
}

static void test_dedupe_and_order(void **state)
{
    (void)state;
    struct cresc_window *w = mkwin(0, 10000, 16);
    assert_int_equal(add(w, mk("a", 5, 1000, 50, 10, 1), 1000), CRESC_WINDOW_ACCEPTED);
    assert_int_equal(add(w, mk("a", 5, 1000, 90, 10, 1), 1001), CRESC_WINDOW_DUPLICATE);
    assert_int_equal(add(w, mk("a", 4, 999, 90, 10, 1), 1002), CRESC_WINDOW_DUPLICATE);
    struct cresc_window_agg agg;
    cresc_window_aggregate(w, 1003, &agg);
    assert_true(agg.metrics.has_cpu);
    assert_true(agg.metrics.cpu_pct == 50.0); /* the duplicates changed nothing */
    assert_int_equal(add(w, mk("a", 6, 2000, 70, 10, 1), 2000), CRESC_WINDOW_ACCEPTED);
    cresc_window_aggregate(w, 2000, &agg);
    assert_true(agg.metrics.cpu_pct == 70.0);
    /* Agent restart: seq 1 again with a newer timestamp is a new run. */
    assert_int_equal(add(w, mk("a", 1, 3000, 20, 10, 1), 3000), CRESC_WINDOW_ACCEPTED);
    assert_int_equal(add(w, mk("a", 1, 3000, 20, 10, 1), 3001), CRESC_WINDOW_DUPLICATE);
    cresc_window_aggregate(w, 3001, &agg);
    assert_true(agg.metrics.cpu_pct == 20.0);
    cresc_window_free(w);
}

static void test_skew(void **state)
{
    (void)state;
    struct cresc_window *w = mkwin(0, 10000, 16);
    enum cresc_window_verdict v;
    struct cresc_sample s = mk("a", 1, 1000000, 50, 10, 1);
    assert_int_equal(cresc_window_add(w, &s, 0, 1000000 - 60001, &v), 0);
    assert_int_equal(v, CRESC_WINDOW_SKEWED); /* 60.001 s in the future */
    assert_int_equal(cresc_window_add(w, &s, 0, 1000000 + 60001, &v), 0);
    assert_int_equal(v, CRESC_WINDOW_SKEWED); /* in the past */
    assert_int_equal(cresc_window_count(w), 0);
    assert_int_equal(cresc_window_add(w, &s, 0, 1000000 + 60000, &v), 0);
    assert_int_equal(v, CRESC_WINDOW_ACCEPTED);
    cresc_window_free(w);
}

static void test_ttl(void **state)
{
    (void)state;
    struct cresc_window *w = mkwin(0, 5000, 16);
    assert_int_equal(add(w, mk("a", 1, 0, 80, 10, 100), 0), CRESC_WINDOW_ACCEPTED);
    assert_int_equal(add(w, mk("b", 1, 3000, 40, 20, 50), 3000), CRESC_WINDOW_ACCEPTED);
    struct cresc_window_agg agg;
    cresc_window_aggregate(w, 5000, &agg);
    assert_int_equal(agg.live_instances, 2);
    assert_true(agg.metrics.cpu_pct == 60.0);
    assert_true(agg.metrics.req_per_s == 150.0);
    /* a is gone at 5001 even before expire() runs; aggregates exclude it. */
    cresc_window_aggregate(w, 5001, &agg);
    assert_int_equal(agg.live_instances, 1);
    assert_true(agg.metrics.cpu_pct == 40.0);
    assert_true(agg.metrics.req_per_s == 50.0);
    assert_int_equal(cresc_window_count(w), 2);
    assert_int_equal(cresc_window_expire(w, 5001), 1);
    assert_int_equal(cresc_window_count(w), 1);
    /* All gone: every metric absent. */
    cresc_window_aggregate(w, 9000, &agg);
    assert_int_equal(agg.live_instances, 0);
    assert_false(agg.metrics.has_cpu);
    assert_false(agg.metrics.has_mem);
    assert_false(agg.metrics.has_req);
    /* An expired instance that comes back starts a new seq run. */
    assert_int_equal(add(w, mk("b", 1, 20000, 10, 10, 1), 20000), CRESC_WINDOW_ACCEPTED);
    cresc_window_free(w);
}

static void test_window_mean(void **state)
{
    (void)state;
    struct cresc_window *w = mkwin(3000, 60000, 16);
    /* Samples at t=0,1000,...,5000 with cpu 10,20,...,60. */
    for (int i = 0; i < 6; i++) {
        int64_t t = i * 1000;
        assert_int_equal(add(w, mk("a", (uint64_t)i + 1, t, 10.0 * (i + 1), 0, 0), t),
                         CRESC_WINDOW_ACCEPTED);
    }
    struct cresc_window_agg agg;
    /* Window 3 s at now=5000 covers t=2000..5000: cpu 30,40,50,60 -> 45. */
    cresc_window_aggregate(w, 5000, &agg);
    assert_true(agg.metrics.cpu_pct == 45.0);
    /* Long after the last sample the latest value still counts (the instance is live). */
    cresc_window_aggregate(w, 50000, &agg);
    assert_true(agg.metrics.cpu_pct == 60.0);
    cresc_window_free(w);

    /* The ring keeps at most max_values_per_instance (8) values. */
    w = mkwin(1000000, 1000000, 4);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(add(w, mk("a", (uint64_t)i + 1, i, (double)i, 0, 0), i),
                         CRESC_WINDOW_ACCEPTED);
    }
    cresc_window_aggregate(w, 20, &agg);
    /* the last 8 values: 12..19 -> mean 15.5 */
    assert_true(agg.metrics.cpu_pct == 15.5);
    cresc_window_free(w);
}

static void test_partial_metrics(void **state)
{
    (void)state;
    struct cresc_window *w = mkwin(0, 60000, 16);
    struct cresc_sample s = mk("a", 1, 0, 90, 0, 0);
    s.present = CRESC_SAMPLE_HAS_CPU;
    assert_int_equal(add(w, s, 0), CRESC_WINDOW_ACCEPTED);
    s = mk("b", 1, 0, 0, 30, 10);
    s.present = CRESC_SAMPLE_HAS_MEM | CRESC_SAMPLE_HAS_REQ;
    assert_int_equal(add(w, s, 0), CRESC_WINDOW_ACCEPTED);
    struct cresc_window_agg agg;
    cresc_window_aggregate(w, 0, &agg);
    assert_int_equal(agg.live_instances, 2);
    assert_true(agg.metrics.has_cpu && agg.metrics.cpu_pct == 90.0); /* not diluted by b */
    assert_true(agg.metrics.has_mem && agg.metrics.mem_pct == 30.0);
    assert_true(agg.metrics.has_req && agg.metrics.req_per_s == 10.0);
    assert_false(agg.has_conns);
    assert_false(agg.has_disk);
    cresc_window_free(w);
}

static void test_full_and_live(void **state)
{
    (void)state;
    struct cresc_window *w = mkwin(0, 1000, 3);
    assert_int_equal(add(w, mk("c", 1, 0, 1, 1, 1), 0), CRESC_WINDOW_ACCEPTED);
    assert_int_equal(add(w, mk("a", 1, 0, 2, 2, 2), 0), CRESC_WINDOW_ACCEPTED);
    assert_int_equal(add(w, mk("b", 1, 500, 3, 3, 3), 500), CRESC_WINDOW_ACCEPTED);
    assert_int_equal(add(w, mk("d", 1, 600, 4, 4, 4), 600), CRESC_WINDOW_FULL);
    struct cresc_live_instance live[2];
    assert_int_equal(cresc_window_live(w, 600, live, 2), 3); /* count exceeds cap */
    assert_string_equal(live[0].instance_id, "a");
    assert_string_equal(live[1].instance_id, "b");
    assert_string_equal(live[1].node, "node-b");
    assert_true(live[1].cpu_pct == 3.0);
    assert_true(live[1].active_connections == 0.3);
    /* At 1200 a and c are stale: the newcomer evicts them instead of being refused. */
    assert_int_equal(add(w, mk("d", 1, 1200, 4, 4, 4), 1200), CRESC_WINDOW_ACCEPTED);
    assert_int_equal(cresc_window_count(w), 2);
    struct cresc_live_instance all[4];
    assert_int_equal(cresc_window_live(w, 1200, all, 4), 2);
    assert_string_equal(all[0].instance_id, "b");
    assert_string_equal(all[1].instance_id, "d");
    cresc_window_free(w);
}

static void test_many_instances(void **state)
{
    (void)state;
    enum { N = 10000 };
    struct cresc_window *w = mkwin(0, 0, N);
    char id[32];
    /* Insert in a scrambled order so the sorted insert path is exercised. */
    for (unsigned i = 0; i < N; i++) {
        unsigned k = (i * 7919u) % N;
        snprintf(id, sizeof(id), "i-%05u", k);
        assert_int_equal(add(w, mk(id, 1, 0, (double)(k % 100), 0, 1), 0), CRESC_WINDOW_ACCEPTED);
    }
    assert_int_equal(cresc_window_count(w), N);
    struct cresc_window_agg agg;
    cresc_window_aggregate(w, 0, &agg);
    assert_int_equal(agg.live_instances, N);
    assert_true(agg.metrics.req_per_s == (double)N);
    assert_true(agg.metrics.cpu_pct == 49.5);
    struct cresc_live_instance one;
    assert_int_equal(cresc_window_live(w, 0, &one, 1), N);
    assert_string_equal(one.instance_id, "i-00000");
    cresc_window_free(w);
}

/* The aggregate (cached sums minus what aged out) against a brute-force reference over
 * random arrivals, gaps, partial metrics and TTL expiry. */
static void test_random_against_reference(void **state)
{
    (void)state;
    enum { NI = 5, MAXV = 8, WIN = 3000, TTL = 10000 };
    struct ref_val {
        int64_t at;
        bool has_cpu, has_req;
        double cpu, req;
    };
    struct ref_inst {
        size_t n;
        struct ref_val v[MAXV];
        int64_t last;
        uint64_t seq;
    } ref[NI];
    memset(ref, 0, sizeof(ref));
    struct cresc_window *w = mkwin(WIN, TTL, NI);
    uint64_t x = 12345;
    int64_t clock = 0;
    for (int step = 0; step < 20000; step++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        unsigned r = (unsigned)(x >> 33);
        clock += (int64_t)(r % 1500);
        if (r % 97 == 0) {
            clock += 12000; /* a gap longer than the TTL */
        }
        size_t i = (r >> 8) % NI;
        struct ref_inst *ri = &ref[i];
        if (ri->seq > 0 && clock - ri->last > TTL) {
            ri->n = 0; /* gone and back: a new run */
        }
        char id[8];
        snprintf(id, sizeof(id), "i%zu", i);
        struct cresc_sample smp =
            mk(id, ++ri->seq, clock, (double)(r % 1000) / 10.0, 0, (double)(r % 77) * 1.25);
        smp.present =
            ((r >> 3) % 4 ? CRESC_SAMPLE_HAS_CPU : 0u) | ((r >> 5) % 3 ? CRESC_SAMPLE_HAS_REQ : 0u);
        assert_int_equal(add(w, smp, clock), CRESC_WINDOW_ACCEPTED);
        if (ri->n == MAXV) {
            memmove(ri->v, ri->v + 1, sizeof(ri->v[0]) * (MAXV - 1));
            ri->n--;
        }
        ri->v[ri->n++] =
            (struct ref_val){clock, (smp.present & CRESC_SAMPLE_HAS_CPU) != 0,
                             (smp.present & CRESC_SAMPLE_HAS_REQ) != 0, smp.cpu_pct, smp.req_per_s};
        ri->last = clock;

        int64_t at = clock + (int64_t)((r >> 12) % 4000);
        double cpu_sum = 0, req_sum = 0;
        int cpu_n = 0, req_n = 0, live = 0;
        for (size_t k = 0; k < NI; k++) {
            struct ref_inst *q = &ref[k];
            if (q->seq == 0 || at - q->last > TTL) {
                continue;
            }
            live++;
            double cs = 0, rs = 0;
            int cn = 0, rn = 0;
            for (size_t j = q->n; j-- > 0;) {
                if (j + 1 < q->n && at - q->v[j].at > WIN) {
                    break;
                }
                if (q->v[j].has_cpu) {
                    cs += q->v[j].cpu;
                    cn++;
                }
                if (q->v[j].has_req) {
                    rs += q->v[j].req;
                    rn++;
                }
            }
            if (cn) {
                cpu_sum += cs / cn;
                cpu_n++;
            }
            if (rn) {
                req_sum += rs / rn;
                req_n++;
            }
        }
        struct cresc_window_agg agg;
        cresc_window_aggregate(w, at, &agg);
        assert_int_equal(agg.live_instances, live);
        assert_int_equal(agg.metrics.has_cpu, cpu_n > 0);
        assert_int_equal(agg.metrics.has_req, req_n > 0);
        if (cpu_n) {
            assert_true(fabs(agg.metrics.cpu_pct - cpu_sum / cpu_n) < 1e-9);
        }
        if (req_n) {
            assert_true(fabs(agg.metrics.req_per_s - req_sum) < 1e-9);
        }
    }
    cresc_window_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_opts),
        cmocka_unit_test(test_dedupe_and_order),
        cmocka_unit_test(test_skew),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_window_mean),
        cmocka_unit_test(test_partial_metrics),
        cmocka_unit_test(test_full_and_live),
        cmocka_unit_test(test_many_instances),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
