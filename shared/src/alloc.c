/* Match-priority allocation (alloc.h). Works in integer millionths of a percent so the
 * "never above capacity / never above the ask" guarantees hold exactly, buckets items by
 * priority in one pass, and only sorts the single priority that is served in part. */
#include "cresc/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NPRIO (CRESC_ALLOC_PRIORITY_MAX + 1)

/* Requests are at most 100% = 1e8 units, so a key fits in 32 bits and the cut-off priority
 * is ordered by a 4-pass radix sort instead of a comparison sort. */
struct fill_key {
    uint32_t units;
    uint32_t idx;
};

static void radix_sort(struct fill_key *a, struct fill_key *tmp, size_t m)
{
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < m; i++) {
            count[((a[i].units >> shift) & 0xffu) + 1]++;
        }
        for (size_t b = 1; b < 257; b++) {
            count[b] += count[b - 1];
        }
        for (size_t i = 0; i < m; i++) {
            tmp[count[(a[i].units >> shift) & 0xffu]++] = a[i];
        }
        memcpy(a, tmp, m * sizeof(*a));
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void swap_str(const char **a, const char **b)
{
    const char *t = *a;
    *a = *b;
    *b = t;
}

/* Quickselect: afterwards v[k] is the k-th smallest string (0-based). Falls back to a full
 * sort of the remaining range when partitions keep coming out lopsided. */
static void select_kth(const char **v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    int budget = 64;
    while (lo < hi) {
        if (--budget == 0) {
            qsort(v + lo, hi - lo + 1, sizeof(*v), cmp_str);
            return;
        }
        size_t mid = lo + (hi - lo) / 2;
        /* median of three into v[mid] */
        if (strcmp(v[mid], v[lo]) < 0) {
            swap_str(&v[mid], &v[lo]);
        }
        if (strcmp(v[hi], v[lo]) < 0) {
            swap_str(&v[hi], &v[lo]);
        }
        if (strcmp(v[hi], v[mid]) < 0) {
            swap_str(&v[hi], &v[mid]);
        }
        const char *pivot = v[mid];
        size_t i = lo, j = hi;
        while (i <= j) {
            while (strcmp(v[i], pivot) < 0) {
                i++;
            }
            while (strcmp(v[j], pivot) > 0) {
                j--;
            }
            if (i <= j) {
                swap_str(&v[i], &v[j]);
                i++;
                if (j == 0) {
                    break;
                }
                j--;
            }
        }
        if (k <= j) {
            hi = j;
        } else if (k >= i) {
            lo = i;
        } else {
            return;
        }
    }
}

static int64_t to_units(double pct)
{
    return (int64_t)llround(pct * CRESC_ALLOC_UNITS_PER_PCT);
}

/* Water-filling over keys[0..m) with `left` units: the smallest requests are served in full
 * while they are under the equal share (the share only grows as they are served, so equal
 * requests are treated alike whatever their order); the rest split what remains, the
 * indivisible remainder going one unit each to the smallest match_ids. Writes grants (units)
 * by item index. Returns 0 or CRESC_ENOMEM. */
static int water_fill(const struct cresc_alloc_item *items, struct fill_key *keys,
                      struct fill_key *tmp, size_t m, int64_t left, int64_t *grant)
{
    radix_sort(keys, tmp, m);
    size_t i = 0;
    for (; i < m; i++) {
        int64_t share = left / (int64_t)(m - i);
        if ((int64_t)keys[i].units > share) {
            break;
        }
        grant[keys[i].idx] = keys[i].units;
        left -= keys[i].units;
    }
    if (i == m) {
        return 0;
    }
    size_t rest = m - i;
    int64_t share = left / (int64_t)rest;
    size_t rem = (size_t)(left % (int64_t)rest);
    /* Every remaining request is above share, so share + 1 never exceeds an ask. */
    for (size_t k = i; k < m; k++) {
        grant[keys[k].idx] = share;
    }
    if (rem == 0) {
        return 0;
    }
    const char **ids = malloc(rest * sizeof(*ids));
    if (!ids) {
        return CRESC_ENOMEM;
    }
    for (size_t k = 0; k < rest; k++) {
        ids[k] = items[keys[i + k].idx].match_id;
    }
    select_kth(ids, rest, rem - 1);
    const char *kth = ids[rem - 1];
    for (size_t k = i; k < m; k++) {
        if (strcmp(items[keys[k].idx].match_id, kth) <= 0) {
            grant[keys[k].idx]++;
        }
    }
    free(ids);
    return 0;
}

/* Requested units per priority level. Returns 0 or CRESC_EINVAL for an item out of range. */
struct levels {
    int64_t units[NPRIO];
    size_t count[NPRIO];
    int64_t total_units;
    double requested_pct;
};

static int bucket_levels(const struct cresc_alloc_item *items, size_t n, struct levels *lv)
{
    memset(lv, 0, sizeof(*lv));
    for (size_t i = 0; i < n; i++) {
        const struct cresc_alloc_item *it = &items[i];
        if (!it->match_id || it->priority < CRESC_ALLOC_PRIORITY_MIN ||
            it->priority > CRESC_ALLOC_PRIORITY_MAX || !isfinite(it->request_pct) ||
            !(it->request_pct > 0.0) || it->request_pct > 100.0) {
            return CRESC_EINVAL;
        }
        int64_t u = to_units(it->request_pct);
        lv->units[it->priority] += u;
        lv->count[it->priority]++;
        lv->total_units += u;
        lv->requested_pct += it->request_pct;
    }
    return 0;
}

/* The requests don't fit: find the cut-off priority (everything above it fits in full),
 * water-fill inside it, and write every item's grant. */
static int squeeze(struct cresc_alloc_item *items, size_t n, const struct levels *lv,
                   int64_t cap_units, struct cresc_alloc_summary *s)
{
    int64_t left = cap_units;
    int cutoff = CRESC_ALLOC_PRIORITY_MIN;
    for (int p = CRESC_ALLOC_PRIORITY_MAX; p >= CRESC_ALLOC_PRIORITY_MIN; p--) {
        if (lv->units[p] > left) {
            cutoff = p;
            break;
        }
        left -= lv->units[p];
    }
    s->cutoff_priority = cutoff;
    size_t m = lv->count[cutoff];
    int rc = CRESC_ENOMEM;
    int64_t *grant = calloc(n ? n : 1, sizeof(*grant));
    struct fill_key *keys = calloc(2 * m + 1, sizeof(*keys));
    if (!grant || !keys) {
        goto out;
    }
    size_t k = 0;
    for (size_t i = 0; i < n && k < m; i++) {
        if (items[i].priority == cutoff) {
            keys[k++] = (struct fill_key){(uint32_t)to_units(items[i].request_pct), (uint32_t)i};
        }
    }
    rc = water_fill(items, keys, keys + m, m, left, grant);
    if (rc < 0) {
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct cresc_alloc_item *it = &items[i];
        if (it->priority > cutoff ||
            (it->priority == cutoff && grant[i] >= to_units(it->request_pct))) {
            it->granted_pct = it->request_pct;
        } else if (it->priority < cutoff) {
            it->granted_pct = 0.0;
        } else {
            it->granted_pct = (double)grant[i] / CRESC_ALLOC_UNITS_PER_PCT;
        }
        it->squeezed_pct = it->request_pct - it->granted_pct;
        s->granted_pct += it->granted_pct;
    }
out:
    free(keys);
    free(grant);
    return rc;
}

int cresc_alloc_compute(struct cresc_alloc_item *items, size_t n, double capacity_pct,
                        struct cresc_alloc_summary *sum)
{
    if ((n > 0 && !items) || n > UINT32_MAX || !isfinite(capacity_pct) || capacity_pct < 0.0 ||
        capacity_pct > 1e6) {
        return CRESC_EINVAL;
    }
    struct levels lv;
    int rc = bucket_levels(items, n, &lv);
    if (rc < 0) {
        return rc;
    }
    /* Floor: rounding the capacity up could hand out a millionth that isn't there. */
    int64_t cap_units = (int64_t)floor(capacity_pct * CRESC_ALLOC_UNITS_PER_PCT);
    struct cresc_alloc_summary s = {.capacity_pct = capacity_pct,
                                    .requested_pct = lv.requested_pct};
    if (lv.total_units <= cap_units) {
        for (size_t i = 0; i < n; i++) {
            items[i].granted_pct = items[i].request_pct;
            items[i].squeezed_pct = 0.0;
        }
        s.granted_pct = lv.requested_pct;
    } else if ((rc = squeeze(items, n, &lv, cap_units, &s)) < 0) {
        return rc;
    }
    for (size_t i = 0; i < n; i++) {
        s.n_squeezed += items[i].squeezed_pct > 0.0;
    }
    if (sum) {
        *sum = s;
    }
    return 0;
}

int cresc_alloc_priorities(struct cresc_priority *prios, size_t n, double capacity_pct,
                           struct cresc_alloc_summary *sum)
{
    if (n > 0 && !prios) {
        return CRESC_EINVAL;
    }
    struct cresc_alloc_item *items = calloc(n ? n : 1, sizeof(*items));
    if (!items) {
        return CRESC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        items[i].match_id = prios[i].match_id;
        items[i].priority = prios[i].priority;
        items[i].request_pct = prios[i].resource_allocation;
    }
    int rc = cresc_alloc_compute(items, n, capacity_pct, sum);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            prios[i].allocated_pct = items[i].granted_pct;
        }
    }
    free(items);
    return rc;
}

double cresc_alloc_capacity_pct(int32_t available_instances, int32_t needed_instances)
{
    if (available_instances < 0) {
        available_instances = 0;
    }
    if (needed_instances <= available_instances) {
        return 100.0;
    }
    return 100.0 * (double)available_instances / (double)needed_instances;
}

int32_t cresc_alloc_needed_instances(const struct cresc_decision *d)
{
    if (!d) {
        return 0;
    }
    int32_t need = -1;
    for (size_t i = 0; i < d->n_votes && i < CRESC_POLICIES_MAX; i++) {
        if (d->votes[i].has_value && d->votes[i].desired > need) {
            need = d->votes[i].desired;
        }
    }
    return need < 0 ? d->current_instances : need;
}
