/* Load balancing (balance.h): round robin over instances sorted by id, least connections
 * with a min-heap keyed by (load, id rank), and rendezvous hashing for ip_hash. Pure. */
#include "cresc/balance.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t cresc_balance_hash64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ull;
    }
    return mix64(h);
}

struct ranked {
    const char *id;
    size_t idx; /* into the caller's array */
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    return strcmp(x->id, y->id);
}

static double conns_of(const struct cresc_balance_instance *in)
{
    double c = in->active_connections;
    return isfinite(c) && c > 0.0 ? c : 0.0;
}

/* Min-heap of id ranks ordered by (load, rank). */
struct lc_heap {
    size_t n;
    size_t *rank;
    double *load; /* by rank */
};

static bool lc_less(const struct lc_heap *h, size_t a, size_t b)
{
    if (h->load[a] != h->load[b]) {
        return h->load[a] < h->load[b];
    }
    return a < b;
}

static void lc_sift_down(struct lc_heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && lc_less(h, h->rank[l], h->rank[m])) {
            m = l;
        }
        if (r < h->n && lc_less(h, h->rank[r], h->rank[m])) {
            m = r;
        }
        if (m == i) {
            return;
        }
        size_t t = h->rank[i];
        h->rank[i] = h->rank[m];
        h->rank[m] = t;
        i = m;
    }
}

static int place_least_conns(const struct cresc_balance_instance *inst, const struct ranked *sorted,
                             size_t n_inst, size_t n_keys, size_t *out)
{
    struct lc_heap h = {.n = n_inst};
    h.rank = malloc(n_inst * sizeof(*h.rank));
    h.load = malloc(n_inst * sizeof(*h.load));
    if (!h.rank || !h.load) {
        free(h.rank);
        free(h.load);
        return CRESC_ENOMEM;
    }
    for (size_t r = 0; r < n_inst; r++) {
        h.rank[r] = r;
        h.load[r] = conns_of(&inst[sorted[r].idx]);
    }
    for (size_t i = n_inst / 2; i-- > 0;) {
        lc_sift_down(&h, i);
    }
    for (size_t k = 0; k < n_keys; k++) {
        size_t r = h.rank[0];
        out[k] = sorted[r].idx;
        h.load[r] += 1.0; /* the key just placed is one more connection there */
        lc_sift_down(&h, 0);
    }
    free(h.rank);
    free(h.load);
    return 0;
}

/* Rendezvous hashing: every key goes to the instance of highest weight for the pair. */
static int place_hash(const struct ranked *sorted, size_t n_inst, const char *const *keys,
                      size_t n_keys, size_t *out)
{
    uint64_t *ih = malloc(n_inst * sizeof(*ih));
    if (!ih) {
        return CRESC_ENOMEM;
    }
    for (size_t r = 0; r < n_inst; r++) {
        ih[r] = cresc_balance_hash64(sorted[r].id);
    }
    for (size_t k = 0; k < n_keys; k++) {
        uint64_t kh = cresc_balance_hash64(keys[k]);
        size_t best = 0;
        uint64_t best_w = mix64(kh ^ ih[0]);
        for (size_t r = 1; r < n_inst; r++) {
            /* The weight depends on the pair only; equal weights (2^-64) go to the smaller
             * id, as r runs in id order. */
            uint64_t w = mix64(kh ^ ih[r]);
            if (w > best_w) {
                best_w = w;
                best = r;
            }
        }
        out[k] = sorted[best].idx;
    }
    free(ih);
    return 0;
}

static bool args_valid(const struct cresc_balance_instance *inst, size_t n_inst,
                       const char *const *keys, size_t n_keys, const size_t *out)
{
    if ((n_inst > 0 && !inst) || (n_keys > 0 && (!keys || !out))) {
        return false;
    }
    for (size_t i = 0; i < n_inst; i++) {
        if (!inst[i].instance_id) {
            return false;
        }
    }
    for (size_t k = 0; k < n_keys; k++) {
        if (!keys[k]) {
            return false;
        }
    }
    return true;
}

int cresc_balance_place(enum cresc_lb_strategy strategy, const struct cresc_balance_instance *inst,
                        size_t n_inst, const char *const *keys, size_t n_keys, uint64_t rr_offset,
                        size_t *out)
{
    if (!args_valid(inst, n_inst, keys, n_keys, out)) {
        return CRESC_EINVAL;
    }
    if (n_inst == 0) {
        for (size_t k = 0; k < n_keys; k++) {
            out[k] = CRESC_BALANCE_NONE;
        }
        return 0;
    }
    if (n_keys == 0) {
        return 0;
    }
    int rc = 0;
    struct ranked *sorted = malloc(n_inst * sizeof(*sorted));
    if (!sorted) {
        return CRESC_ENOMEM;
    }
    for (size_t i = 0; i < n_inst; i++) {
        sorted[i] = (struct ranked){inst[i].instance_id, i};
    }
    qsort(sorted, n_inst, sizeof(*sorted), cmp_ranked);

    switch (strategy) {
    case CRESC_LB_ROUND_ROBIN:
        for (size_t k = 0; k < n_keys; k++) {
            out[k] = sorted[(size_t)((rr_offset + k) % n_inst)].idx;
        }
        break;
    case CRESC_LB_LEAST_CONNECTIONS:
        rc = place_least_conns(inst, sorted, n_inst, n_keys, out);
        break;
    case CRESC_LB_IP_HASH:
        rc = place_hash(sorted, n_inst, keys, n_keys, out);
        break;
    default:
        rc = CRESC_EINVAL;
        break;
    }
    free(sorted);
    return rc;
}

int cresc_balance_place_priorities(enum cresc_lb_strategy strategy,
                                   const struct cresc_live_instance *live, size_t n_live,
                                   struct cresc_priority *prios, size_t n_prios)
{
    if ((n_live > 0 && !live) || (n_prios > 0 && !prios)) {
        return CRESC_EINVAL;
    }
    if (n_prios == 0) {
        return 0;
    }
    int rc = CRESC_ENOMEM;
    struct cresc_balance_instance *inst = malloc((n_live ? n_live : 1) * sizeof(*inst));
    const char **keys = malloc(n_prios * sizeof(*keys));
    size_t *out = malloc(n_prios * sizeof(*out));
    if (!inst || !keys || !out) {
        goto out;
    }
    for (size_t i = 0; i < n_live; i++) {
        inst[i].instance_id = live[i].instance_id;
        inst[i].active_connections =
            (live[i].present & CRESC_SAMPLE_HAS_CONNS) ? live[i].active_connections : 0.0;
    }
    for (size_t k = 0; k < n_prios; k++) {
        keys[k] = prios[k].match_id;
    }
    rc = cresc_balance_place(strategy, inst, n_live, keys, n_prios, 0, out);
    if (rc < 0) {
        goto out;
    }
    for (size_t k = 0; k < n_prios; k++) {
        if (out[k] == CRESC_BALANCE_NONE) {
            prios[k].instance_id[0] = '\0';
        } else {
            memcpy(prios[k].instance_id, live[out[k]].instance_id, sizeof(prios[k].instance_id));
        }
    }
out:
    free(out);
    free(keys);
    free(inst);
    return rc;
}
