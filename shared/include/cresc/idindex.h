/* A hash index from an id string to the struct that holds it, for the lookups ingest makes
 * per sample (a service by name, an instance by id): the sorted arrays those live in stay the
 * source of truth (ordered iteration, bulk removal); the index only finds an entry, with one
 * hashed probe sequence and one string comparison instead of a binary search whose every
 * step compares strings that share long prefixes in structs all over the heap. Open
 * addressing, linear probing, at most half full; a removal rebuilds it (removals come in bulk:
 * TTL expiry, a revoked partition). libc's hsearch has no removal, a fixed size, and a hash
 * that keeps only an id's first 8 characters. */
#ifndef CRESC_IDINDEX_H
#define CRESC_IDINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"

struct cresc_idindex_slot {
    uint64_t hash;
    void *item; /* NULL: free */
};

struct cresc_idindex {
    size_t key_offset; /* where the NUL-terminated id sits in each item */
    size_t n, cap;     /* cap: 0 or a power of two */
    struct cresc_idindex_slot *slots;
};

/* The hash the index uses (FNV-1a, then a 64-bit finalizer). */
uint64_t cresc_id_hash(const char *id);

/* An empty index over items whose id is at key_offset (offsetof(struct x, id)). */
void cresc_idindex_init(struct cresc_idindex *x, size_t key_offset);
void cresc_idindex_release(struct cresc_idindex *x);
/* Forget every entry (keeps the table). */
void cresc_idindex_clear(struct cresc_idindex *x);
/* The item whose id is `id` (hash: cresc_id_hash(id)), or NULL. */
void *cresc_idindex_find(const struct cresc_idindex *x, const char *id, uint64_t hash);
/* Add an item whose id is not in the index yet. 0 or CRESC_ENOMEM (the index is then
 * unchanged: a caller keeps its own array searchable without the index until it rebuilds). */
CRESC_WUR int cresc_idindex_put(struct cresc_idindex *x, void *item);
/* Make the index hold exactly the n items of an array of pointers (after removals, or after
 * a put ran out of memory). 0 or CRESC_ENOMEM (the index is then incomplete: callers search
 * their array until the next successful rebuild). */
CRESC_WUR int cresc_idindex_rebuild(struct cresc_idindex *x, void *const *items, size_t n);

#endif
