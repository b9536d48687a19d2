/* Unit tests for coordinator/decode.c: a batch decoded by worker threads gives exactly what
 * decoding each item inline gives (valid, invalid and skipped items, small and large batches,
 * repeated batches on one pool, in one call or split into start and wait). */
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decode.h"

#define N 1000

static char bufs[N][512];

static void fill(struct cresc_decode_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i % 7 == 3) {
            snprintf(bufs[i], sizeof(bufs[i]), "{\"schema_version\":1,\"service\":\"bad\"}");
        } else {
            snprintf(bufs[i], sizeof(bufs[i]),
                     "{\"schema_version\":1,\"service\":\"svc-%zu\",\"instance_id\":\"i-%zu\","
                     "\"node\":\"n\",\"seq\":%zu,\"ts_ms\":1790000000000,\"interval_ms\":1000,"
                     "\"cpu_pct\":%zu.5}",
                     i % 13, i, i + 1, i % 100);
        }
        memset(&items[i], 0, sizeof(items[i]));
        items[i].buf = bufs[i];
        items[i].len = strlen(bufs[i]);
        items[i].want = (i % 11) != 5;
        items[i].rc = 12345;
    }
}

static void check(const struct cresc_decode_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!items[i].want) {
            assert_int_equal(items[i].rc, 12345); /* untouched */
            continue;
        }
        struct cresc_sample s;
        struct cresc_msg_error me;
        int rc = cresc_sample_decode(bufs[i], strlen(bufs[i]), &s, &me);
        assert_int_equal(items[i].rc, rc);
        if (rc == 0) {
            assert_string_equal(items[i].sample.instance_id, s.instance_id);
            assert_int_equal(items[i].sample.seq, s.seq);
            assert_true(items[i].sample.cpu_pct == s.cpu_pct);
        } else {
            assert_string_equal(items[i].err.field, me.field);
        }
    }
}

static void run_with(size_t workers)
{
    struct cresc_decode_pool *p = NULL;
    assert_int_equal(cresc_decode_pool_new(workers, &p), 0);
    static struct cresc_decode_item items[N];
    const size_t sizes[] = {0, 1, 63, 64, 500, N, N};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        fill(items, sizes[k]);
        cresc_decode_pool_run(p, items, sizes[k]);
        check(items, sizes[k]);
    }
    cresc_decode_pool_free(p);
}

/* start + wait, with the caller busy in between (as the coordinator applies the previous
 * batch meanwhile): the same results as run, batch after batch on one pool. */
static void split_with(size_t workers)
{
    struct cresc_decode_pool *p = NULL;
    assert_int_equal(cresc_decode_pool_new(workers, &p), 0);
    static struct cresc_decode_item items[N];
    const size_t sizes[] = {0, 1, 63, 64, 500, N, N, 7};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        fill(items, sizes[k]);
        cresc_decode_pool_start(p, items, sizes[k], NULL, 0);
        volatile unsigned spin = 0;
        for (unsigned i = 0; i < 100000; i++) {
            spin = spin + i;
        }
        cresc_decode_pool_wait(p);
        check(items, sizes[k]);
    }
    cresc_decode_pool_free(p);
}

static void test_start_wait(void **state)
{
    (void)state;
    split_with(0);
    split_with(1);
    split_with(2);
}

static void test_inline(void **state)
{
    (void)state;
    run_with(0);
}

static void test_workers(void **state)
{
    (void)state;
    run_with(1);
    run_with(3);
    assert_true(cresc_decode_pool_default_workers() <= 7);
    cresc_decode_pool_free(NULL);
}

/* map: fn runs exactly once for every index, on whichever thread, and the pool decodes
 * batches as before afterwards (the job does not stick). */
struct map_ctx {
    atomic_int calls[64];
};

static void count_call(void *ctx, size_t i)
{
    struct map_ctx *m = ctx;
    atomic_fetch_add(&m->calls[i], 1);
}

static void map_with(size_t workers)
{
    struct cresc_decode_pool *p = NULL;
    assert_int_equal(cresc_decode_pool_new(workers, &p), 0);
    static struct cresc_decode_item items[N];
    const size_t sizes[] = {0, 1, 2, 33, 64};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        struct map_ctx m;
        for (size_t i = 0; i < 64; i++) {
            atomic_init(&m.calls[i], 0);
        }
        cresc_decode_pool_map(p, sizes[k], count_call, &m);
        for (size_t i = 0; i < 64; i++) {
            assert_int_equal(atomic_load(&m.calls[i]), i < sizes[k] ? 1 : 0);
        }
        fill(items, 500);
        cresc_decode_pool_run(p, items, 500);
        check(items, 500);
    }
    cresc_decode_pool_free(p);
}

static void test_map(void **state)
{
    (void)state;
    map_with(0);
    map_with(1);
    map_with(3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inline),
        cmocka_unit_test(test_workers),
        cmocka_unit_test(test_start_wait),
        cmocka_unit_test(test_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
