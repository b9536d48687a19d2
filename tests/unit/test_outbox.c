/* Unit tests for agent/outbox.c: FIFO order, drop-oldest when full, and the drop count that
 * the next handed-over sample carries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "outbox.h"

static struct cresc_sample sample(uint64_t seq)
{
    struct cresc_sample s;
    memset(&s, 0, sizeof(s));
    s.seq = seq;
    return s;
}

static void test_fifo(void **state)
{
    (void)state;
    struct cresc_outbox o;
    assert_int_equal(cresc_outbox_init(&o, 3), CRESC_OK);
    assert_null(cresc_outbox_front(&o));
    for (uint64_t i = 1; i <= 3; i++) {
        struct cresc_sample s = sample(i);
        assert_false(cresc_outbox_push(&o, &s));
    }
    for (uint64_t i = 1; i <= 3; i++) {
        assert_int_equal(cresc_outbox_front(&o)->seq, i);
        assert_int_equal(cresc_outbox_pending_drops(&o), 0);
        cresc_outbox_pop(&o);
    }
    assert_int_equal(cresc_outbox_len(&o), 0);
    cresc_outbox_pop(&o); /* empty: no-op */
    cresc_outbox_release(&o);
}

static void test_drop_oldest(void **state)
{
    (void)state;
    struct cresc_outbox o;
    assert_int_equal(cresc_outbox_init(&o, 3), CRESC_OK);
    /* 10 samples while Kafka is away: 1..7 are dropped, 8, 9, 10 kept. */
    for (uint64_t i = 1; i <= 10; i++) {
        struct cresc_sample s = sample(i);
        assert_int_equal(cresc_outbox_push(&o, &s), i > 3);
    }
    assert_int_equal(cresc_outbox_len(&o), 3);
    assert_int_equal(cresc_outbox_front(&o)->seq, 8);
    /* The first handed-over sample reports the 7 lost before it: 8 - 7 - 1 == 0 gap. */
    assert_int_equal(cresc_outbox_pending_drops(&o), 7);
    cresc_outbox_pop(&o);
    assert_int_equal(cresc_outbox_pending_drops(&o), 0);
    /* Interleave: one more push drops nothing, a delivery failure is counted. */
    struct cresc_sample s = sample(11);
    assert_false(cresc_outbox_push(&o, &s));
    cresc_outbox_count_lost(&o, 2);
    assert_int_equal(cresc_outbox_pending_drops(&o), 2);
    assert_int_equal(o.total_drops, 9);
    uint64_t expect = 9;
    while (cresc_outbox_front(&o) != NULL) {
        assert_int_equal(cresc_outbox_front(&o)->seq, expect++);
        cresc_outbox_pop(&o);
    }
    assert_int_equal(expect, 12);
    cresc_outbox_release(&o);
}

static void test_bounds(void **state)
{
    (void)state;
    struct cresc_outbox o;
    assert_int_equal(cresc_outbox_init(&o, 0), CRESC_ERANGE);
    assert_int_equal(cresc_outbox_init(&o, CRESC_OUTBOX_MAX + 1), CRESC_ERANGE);
    assert_int_equal(cresc_outbox_init(&o, 1), CRESC_OK);
    struct cresc_sample a = sample(1), b = sample(2);
    assert_false(cresc_outbox_push(&o, &a));
    assert_true(cresc_outbox_push(&o, &b));
    assert_int_equal(cresc_outbox_front(&o)->seq, 2);
    assert_int_equal(cresc_outbox_pending_drops(&o), 1);
    cresc_outbox_release(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo),
        cmocka_unit_test(test_drop_oldest),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
