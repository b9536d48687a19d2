/* Unit tests for shared/src/idindex.c: every id put is found (its own item, through probe
 * chains: 20,000 ids with long common prefixes grow the table from 16 slots), absent ids are
 * not, clear forgets everything and the table is reused (then rebuilt from survivors), and
 * the hash spreads ids that differ only in their last characters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cresc/idindex.h"

enum { N = 20000 };

struct item {
    int value;
    char id[48];
};

static struct item items[N];

static void fill(void)
{
    for (int i = 0; i < N; i++) {
        items[i].value = i;
        (void)snprintf(items[i].id, sizeof(items[i].id), "bench-svc-%05d-i%06d", i % 100, i);
    }
}

static void test_put_find(void **state)
{
    (void)state;
    fill();
    struct cresc_idindex x;
    cresc_idindex_init(&x, offsetof(struct item, id));
    assert_null(cresc_idindex_find(&x, "nothing", cresc_id_hash("nothing")));
    for (int i = 0; i < N; i++) {
        assert_int_equal(cresc_idindex_put(&x, &items[i]), 0);
    }
    assert_int_equal(x.n, N);
    assert_true(x.cap >= 2 * N);
    for (int i = 0; i < N; i++) {
        struct item *it = cresc_idindex_find(&x, items[i].id, cresc_id_hash(items[i].id));
        assert_non_null(it);
        assert_int_equal(it->value, i);
    }
    char absent[48];
    for (int i = 0; i < 1000; i++) {
        (void)snprintf(absent, sizeof(absent), "bench-svc-%05d-i%06d", i % 100, N + i);
        assert_null(cresc_idindex_find(&x, absent, cresc_id_hash(absent)));
    }
    /* the right hash is part of the key: a wrong one does not find the item */
    assert_null(cresc_idindex_find(&x, items[7].id, cresc_id_hash(items[7].id) ^ 1U));
    cresc_idindex_release(&x);
}

static void test_clear_reuses(void **state)
{
    (void)state;
    fill();
    struct cresc_idindex x;
    cresc_idindex_init(&x, offsetof(struct item, id));
    for (int i = 0; i < 100; i++) {
        assert_int_equal(cresc_idindex_put(&x, &items[i]), 0);
    }
    size_t cap = x.cap;
    cresc_idindex_clear(&x);
    assert_int_equal(x.n, 0);
    assert_int_equal(x.cap, cap);
    for (int i = 0; i < 100; i++) {
        assert_null(cresc_idindex_find(&x, items[i].id, cresc_id_hash(items[i].id)));
    }
    /* a rebuild after removals: the survivors only */
    void *survivors[50];
    for (int i = 0; i < 100; i += 2) {
        survivors[i / 2] = &items[i];
    }
    assert_int_equal(cresc_idindex_rebuild(&x, survivors, 50), 0);
    for (int i = 0; i < 100; i++) {
        void *it = cresc_idindex_find(&x, items[i].id, cresc_id_hash(items[i].id));
        if (i % 2 == 0) {
            assert_ptr_equal(it, &items[i]);
        } else {
            assert_null(it);
        }
    }
    cresc_idindex_release(&x);
    cresc_idindex_clear(&x); /* released: still safe */
    assert_null(cresc_idindex_find(&x, items[0].id, cresc_id_hash(items[0].id)));
}

/* Ids differing in one late character land in different slots of a small table (an
 * hsearch-style hash of the first characters would put them all in one). */
static void test_hash_spreads(void **state)
{
    (void)state;
    enum { SLOTS = 64, IDS = 64 };
    int used[SLOTS] = {0};
    char id[48];
    for (int i = 0; i < IDS; i++) {
        (void)snprintf(id, sizeof(id), "game-server-7d9f8c-x2k4q-%02d", i);
        used[cresc_id_hash(id) & (SLOTS - 1)]++;
    }
    int distinct = 0;
    for (int i = 0; i < SLOTS; i++) {
        distinct += used[i] > 0 ? 1 : 0;
    }
    assert_true(distinct >= 30); /* ~40 expected for 64 random draws into 64 slots */
    assert_int_not_equal(cresc_id_hash("a"), cresc_id_hash("b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_find),
        cmocka_unit_test(test_clear_reuses),
        cmocka_unit_test(test_hash_spreads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
