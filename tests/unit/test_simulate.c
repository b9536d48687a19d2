/* Unit tests for agent/simulate.c: profiles repeat with a seed, have their documented shape
 * (spike window, match day phases) and every simulated sample is in range. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "simulate.h"

#define PERIOD 600000 /* 10 min */

static double load_at(enum cresc_sim_profile p, uint64_t seed, double frac)
{
    return cresc_simulate_load(p, seed, (int64_t)(frac * PERIOD), PERIOD);
}

static void test_repeatable(void **state)
{
    (void)state;
    struct cresc_sample a, b;
    for (int64_t t = 0; t < PERIOD; t += 7919) {
        memset(&a, 0, sizeof(a));
        memset(&b, 0, sizeof(b));
        cresc_simulate_sample(CRESC_SIM_MATCHDAY, 42, t, PERIOD, 17, &a);
        cresc_simulate_sample(CRESC_SIM_MATCHDAY, 42, t, PERIOD, 17, &b);
        assert_memory_equal(&a, &b, sizeof(a));
    }
    /* Another seed moves the goals: the load curves differ somewhere. */
    bool differ = false;
    for (int64_t t = 0; t < PERIOD && !differ; t += 1000) {
        differ = cresc_simulate_load(CRESC_SIM_MATCHDAY, 1, t, PERIOD) !=
                 cresc_simulate_load(CRESC_SIM_MATCHDAY, 2, t, PERIOD);
    }
    assert_true(differ);
    /* Instances differ from one another (fixed bias). */
    cresc_simulate_sample(CRESC_SIM_STEADY, 1, 0, PERIOD, 1, &a);
    cresc_simulate_sample(CRESC_SIM_STEADY, 1, 0, PERIOD, 2, &b);
    assert_true(a.req_per_s != b.req_per_s);
}

static void test_shapes(void **state)
{
    (void)state;
    assert_float_equal(load_at(CRESC_SIM_STEADY, 1, 0.1), load_at(CRESC_SIM_STEADY, 1, 0.9), 1e-12);
    /* spike: quiet, surge between 30 % and 50 % of the cycle, quiet again; repeats. */
    assert_true(load_at(CRESC_SIM_SPIKE, 1, 0.35) > 2.5 * load_at(CRESC_SIM_SPIKE, 1, 0.2));
    assert_float_equal(load_at(CRESC_SIM_SPIKE, 1, 0.2), load_at(CRESC_SIM_SPIKE, 1, 0.6), 1e-12);
    assert_float_equal(cresc_simulate_load(CRESC_SIM_SPIKE, 1, PERIOD + PERIOD / 3, PERIOD),
                       load_at(CRESC_SIM_SPIKE, 1, 1.0 / 3), 1e-12);
    /* matchday: quiet before, kick-off surge, half-time dip, second half, final whistle,
       empty stadium. Check at times away from the seeded goals' influence by comparing
       against generous thresholds. */
    for (uint64_t seed = 1; seed <= 20; seed++) {
        double pre = load_at(CRESC_SIM_MATCHDAY, seed, 0.05);
        double kickoff = load_at(CRESC_SIM_MATCHDAY, seed, 0.205);
        double halftime = load_at(CRESC_SIM_MATCHDAY, seed, 0.50);
        double whistle = load_at(CRESC_SIM_MATCHDAY, seed, 0.805);
        double after = load_at(CRESC_SIM_MATCHDAY, seed, 0.97);
        assert_true(pre < 0.2);
        assert_true(kickoff > 2 * pre);
        assert_true(halftime < 0.45);
        assert_true(whistle > 0.85);
        assert_true(after < 0.2);
        /* Goals: at least three local peaks above the half's base level. */
        int peaks = 0;
        for (double x = 0.23; x < 0.80; x += 0.001) {
            double l = load_at(CRESC_SIM_MATCHDAY, seed, x);
            double before = load_at(CRESC_SIM_MATCHDAY, seed, x - 0.001);
            if (l - before > 0.15) {
                peaks++;
            }
        }
        assert_true(peaks >= 3);
    }
}

static void test_ranges(void **state)
{
    (void)state;
    for (int p = CRESC_SIM_STEADY; p <= CRESC_SIM_MATCHDAY; p++) {
        for (int64_t t = -5000; t < 2 * PERIOD; t += 3001) {
            for (uint32_t i = 0; i < 50; i += 7) {
                struct cresc_sample s;
                memset(&s, 0, sizeof(s));
                cresc_simulate_sample((enum cresc_sim_profile)p, 9, t, PERIOD, i, &s);
                assert_true(s.cpu_pct >= 0.0 && s.cpu_pct <= 100.0);
                assert_true(s.mem_pct >= 0.0 && s.mem_pct <= 100.0);
                assert_true(s.req_per_s >= 0.0);
                assert_true(s.active_connections >= 0.0);
                assert_true(s.disk_write_bytes_per_s >= 0.0);
                assert_int_equal(s.present, 0x1f);
            }
        }
    }
    /* A zero period does not divide by zero. */
    double l = cresc_simulate_load(CRESC_SIM_MATCHDAY, 1, 1000, 0);
    assert_true(l >= 0.0 && l <= 1.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_repeatable),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
