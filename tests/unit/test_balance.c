/* Unit tests for shared/src/balance.c: round-robin order, least-connections ties and batch
 * accounting, and the consistent-hash bounds of ip_hash (growing N -> N+1 moves at most
 * 1/(N+1) + 2% of 10,000 keys, all to the new instance; with 10 instances none holds more
 * than 10% above the mean). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cresc/balance.h"

enum { NKEYS = 10000, MAXI = 64 };

static char key_buf[NKEYS][32];
static const char *keys[NKEYS];
static char inst_buf[MAXI][32];

static void make_keys(void)
{
    for (size_t i = 0; i < NKEYS; i++) {
        /* client addresses, as ip_hash sees them */
        snprintf(key_buf[i], sizeof(key_buf[i]), "10.%zu.%zu.%zu", (i >> 16) & 255u,
                 (i >> 8) & 255u, i & 255u);
        keys[i] = key_buf[i];
    }
}

static void make_insts(struct cresc_balance_instance *in, size_t n, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(inst_buf[i], sizeof(inst_buf[i]), "%s%02zu", prefix, i);
        in[i].instance_id = inst_buf[i];
        in[i].active_connections = 0;
    }
}

static void test_round_robin(void **state)
{
    (void)state;
    struct cresc_balance_instance in[3] = {{"c", 0}, {"a", 0}, {"b", 0}};
    const char *k[5] = {"m1", "m2", "m3", "m4", "m5"};
    size_t out[5];
    assert_int_equal(cresc_balance_place(CRESC_LB_ROUND_ROBIN, in, 3, k, 5, 0, out), 0);
    /* sorted by id: a, b, c */
    const char *want0[5] = {"a", "b", "c", "a", "b"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(in[out[i]].instance_id, want0[i]);
    }
    assert_int_equal(cresc_balance_place(CRESC_LB_ROUND_ROBIN, in, 3, k, 5, 1, out), 0);
    const char *want1[5] = {"b", "c", "a", "b", "c"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(in[out[i]].instance_id, want1[i]);
    }
}

static void test_least_connections(void **state)
{
    (void)state;
    struct cresc_balance_instance in[4] = {{"a", 5}, {"d", 7}, {"c", 2}, {"b", 2}};
    const char *k[6] = {"k0", "k1", "k2", "k3", "k4", "k5"};
    size_t out[6];
    assert_int_equal(cresc_balance_place(CRESC_LB_LEAST_CONNECTIONS, in, 4, k, 6, 0, out), 0);
    /* b and c tie at 2 -> b (smaller id); then each placed key counts as a connection:
     * b3 c2 -> c; b3 c3 -> b; b4 c3 -> c; b4 c4 -> b; b5 c4 -> c. */
    const char *want[6] = {"b", "c", "b", "c", "b", "c"};
    for (int i = 0; i < 6; i++) {
        assert_string_equal(in[out[i]].instance_id, want[i]);
    }
    /* Missing or broken connection counts are 0. */
    struct cresc_balance_instance in2[3] = {{"x", 1}, {"y", -4}, {"z", 0.0 / 0.0}};
    assert_int_equal(cresc_balance_place(CRESC_LB_LEAST_CONNECTIONS, in2, 3, k, 2, 0, out), 0);
    assert_string_equal(in2[out[0]].instance_id, "y");
    assert_string_equal(in2[out[1]].instance_id, "z");
    /* A batch of many keys over equal instances spreads evenly. */
    struct cresc_balance_instance in3[MAXI];
    make_insts(in3, 7, "inst-");
    size_t *o = calloc(NKEYS, sizeof(*o));
    assert_non_null(o);
    make_keys();
    assert_int_equal(cresc_balance_place(CRESC_LB_LEAST_CONNECTIONS, in3, 7, keys, 700, 0, o), 0);
    size_t cnt[7] = {0};
    for (size_t i = 0; i < 700; i++) {
        cnt[o[i]]++;
    }
    for (int i = 0; i < 7; i++) {
        assert_int_equal(cnt[i], 100);
    }
    free(o);
}

static void test_no_instances_and_errors(void **state)
{
    (void)state;
    const char *k[2] = {"a", "b"};
    size_t out[2] = {0, 0};
    assert_int_equal(cresc_balance_place(CRESC_LB_IP_HASH, NULL, 0, k, 2, 0, out), 0);
    assert_true(out[0] == CRESC_BALANCE_NONE && out[1] == CRESC_BALANCE_NONE);
    struct cresc_balance_instance in[1] = {{NULL, 0}};
    assert_int_equal(cresc_balance_place(CRESC_LB_IP_HASH, in, 1, k, 2, 0, out), CRESC_EINVAL);
    const char *bad[1] = {NULL};
    in[0].instance_id = "a";
    assert_int_equal(cresc_balance_place(CRESC_LB_IP_HASH, in, 1, bad, 1, 0, out), CRESC_EINVAL);
    assert_int_equal(cresc_balance_place(CRESC_LB_IP_HASH, in, 1, k, 2, 0, NULL), CRESC_EINVAL);
    assert_int_equal(cresc_balance_place((enum cresc_lb_strategy)99, in, 1, k, 2, 0, out),
                     CRESC_EINVAL);
}

static void test_hash64(void **state)
{
    (void)state;
    assert_true(cresc_balance_hash64("10.0.0.1") == cresc_balance_hash64("10.0.0.1"));
    assert_true(cresc_balance_hash64("10.0.0.1") != cresc_balance_hash64("10.0.0.2"));
    /* Pinned: placements must not change between releases. */
    assert_true(cresc_balance_hash64("") == 0xf52a15e9a9b5e89bull);
}

static void hash_place(struct cresc_balance_instance *in, size_t n, size_t *out)
{
    assert_int_equal(cresc_balance_place(CRESC_LB_IP_HASH, in, n, keys, NKEYS, 0, out), 0);
}

static void check_consistency(const char *prefix)
{
    struct cresc_balance_instance in[MAXI];
    size_t *a = calloc(NKEYS, sizeof(*a)), *b = calloc(NKEYS, sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    make_keys();
    for (size_t n = 1; n < 40; n++) {
        make_insts(in, n + 1, prefix);
        hash_place(in, n, a);
        hash_place(in, n + 1, b);
        size_t moved = 0;
        for (size_t k = 0; k < NKEYS; k++) {
            if (a[k] != b[k]) {
                moved++;
                assert_int_equal(b[k], n); /* only to the new instance */
            }
        }
        double bound = (1.0 / (double)(n + 1) + 0.02) * NKEYS;
        if ((double)moved > bound) {
            print_error("%s: %zu -> %zu moved %zu > %.0f\n", prefix, n, n + 1, moved, bound);
        }
        assert_true((double)moved <= bound);
        /* Removing an instance from the middle moves only the keys it held. */
        struct cresc_balance_instance less[MAXI];
        size_t gone = n / 2, m = 0;
        for (size_t i = 0; i <= n; i++) {
            if (i != gone) {
                less[m++] = in[i];
            }
        }
        size_t *c = calloc(NKEYS, sizeof(*c));
        assert_non_null(c);
        hash_place(less, n, c);
        for (size_t k = 0; k < NKEYS; k++) {
            if (b[k] != gone) {
                assert_string_equal(less[c[k]].instance_id, in[b[k]].instance_id);
            }
        }
        free(c);
    }
    /* 10 instances: none more than 10% above the mean. */
    make_insts(in, 10, prefix);
    hash_place(in, 10, a);
    size_t cnt[10] = {0};
    for (size_t k = 0; k < NKEYS; k++) {
        cnt[a[k]]++;
    }
    for (int i = 0; i < 10; i++) {
        if ((double)cnt[i] > 1.1 * NKEYS / 10.0) {
            print_error("%s: instance %d holds %zu keys\n", prefix, i, cnt[i]);
        }
        assert_true((double)cnt[i] <= 1.1 * NKEYS / 10.0);
    }
    /* Order of the instance array does not matter. */
    struct cresc_balance_instance rev[10];
    for (int i = 0; i < 10; i++) {
        rev[i] = in[9 - i];
    }
    hash_place(rev, 10, b);
    for (size_t k = 0; k < NKEYS; k++) {
        assert_string_equal(rev[b[k]].instance_id, in[a[k]].instance_id);
    }
    free(a);
    free(b);
}

static void test_ip_hash_consistent(void **state)
{
    (void)state;
    check_consistency("instance-");
    check_consistency("game-server-7f9c4d-");
    check_consistency("10.1.2.");
}

static void test_place_priorities(void **state)
{
    (void)state;
    struct cresc_live_instance live[2];
    memset(live, 0, sizeof(live));
    snprintf(live[0].instance_id, sizeof(live[0].instance_id), "i-2");
    live[0].present = CRESC_SAMPLE_HAS_CONNS;
    live[0].active_connections = 10;
    snprintf(live[1].instance_id, sizeof(live[1].instance_id), "i-1");
    live[1].present = 0;
    live[1].active_connections = 99; /* not reported: counts 0 */
    struct cresc_priority p[3];
    memset(p, 0, sizeof(p));
    for (int i = 0; i < 3; i++) {
        snprintf(p[i].match_id, sizeof(p[i].match_id), "m-%d", i);
    }
    assert_int_equal(cresc_balance_place_priorities(CRESC_LB_LEAST_CONNECTIONS, live, 2, p, 3), 0);
    for (int i = 0; i < 3; i++) {
        assert_string_equal(p[i].instance_id, "i-1"); /* 0,1,2 connections < 10 */
    }
    assert_int_equal(cresc_balance_place_priorities(CRESC_LB_ROUND_ROBIN, live, 2, p, 3), 0);
    assert_string_equal(p[0].instance_id, "i-1");
    assert_string_equal(p[1].instance_id, "i-2");
    assert_string_equal(p[2].instance_id, "i-1");
    assert_int_equal(cresc_balance_place_priorities(CRESC_LB_IP_HASH, NULL, 0, p, 3), 0);
    assert_string_equal(p[0].instance_id, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_robin),
        cmocka_unit_test(test_least_connections),
        cmocka_unit_test(test_no_instances_and_errors),
        cmocka_unit_test(test_hash64),
        cmocka_unit_test(test_ip_hash_consistent),
        cmocka_unit_test(test_place_priorities),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
