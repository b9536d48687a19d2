/* The id index (idindex.h). */
#include "cresc/idindex.h"

#include <stdlib.h>
#include <string.h>

#include "cresc/balance.h"

uint64_t cresc_id_hash(const char *id)
{
    return cresc_balance_hash64(id);
}

void cresc_idindex_init(struct cresc_idindex *x, size_t key_offset)
{
    memset(x, 0, sizeof(*x));
    x->key_offset = key_offset;
}

void cresc_idindex_release(struct cresc_idindex *x)
{
    free(x->slots);
    x->slots = NULL;
    x->n = 0;
    x->cap = 0;
}

void cresc_idindex_clear(struct cresc_idindex *x)
{
    if (x->slots != NULL) {
        memset(x->slots, 0, x->cap * sizeof(x->slots[0]));
    }
    x->n = 0;
}

static const char *key_of(const struct cresc_idindex *x, const void *item)
{
    return (const char *)item + x->key_offset;
}

void *cresc_idindex_find(const struct cresc_idindex *x, const char *id, uint64_t hash)
{
    if (x->cap == 0) {
        return NULL;
    }
    const size_t mask = x->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        const struct cresc_idindex_slot *sl = &x->slots[i];
        if (sl->item == NULL) {
            return NULL;
        }
        if (sl->hash == hash && strcmp(key_of(x, sl->item), id) == 0) {
            return sl->item;
        }
    }
}

static void place(struct cresc_idindex_slot *slots, size_t cap, uint64_t hash, void *item)
{
    const size_t mask = cap - 1;
    size_t i = (size_t)hash & mask;
    while (slots[i].item != NULL) {
        i = (i + 1) & mask;
    }
    slots[i].hash = hash;
    slots[i].item = item;
}

/* Room for `want` entries at most half full. */
static int reserve(struct cresc_idindex *x, size_t want)
{
    if (want * 2 <= x->cap) {
        return 0;
    }
    size_t cap = x->cap ? x->cap : 16;
    while (cap < want * 2) {
        cap *= 2;
    }
    struct cresc_idindex_slot *slots = calloc(cap, sizeof(*slots));
    if (slots == NULL) {
        return CRESC_ENOMEM;
    }
    for (size_t i = 0; i < x->cap; i++) {
        if (x->slots[i].item != NULL) {
            place(slots, cap, x->slots[i].hash, x->slots[i].item);
        }
    }
    free(x->slots);
    x->slots = slots;
    x->cap = cap;
    return 0;
}

int cresc_idindex_put(struct cresc_idindex *x, void *item)
{
    int rc = reserve(x, x->n + 1);
    if (rc != 0) {
        return rc;
    }
    place(x->slots, x->cap, cresc_id_hash(key_of(x, item)), item);
    x->n++;
    return 0;
}

int cresc_idindex_rebuild(struct cresc_idindex *x, void *const *items, size_t n)
{
    cresc_idindex_clear(x);
    for (size_t i = 0; i < n; i++) {
        int rc = cresc_idindex_put(x, items[i]);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}
