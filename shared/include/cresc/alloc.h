/* Match-priority allocation: how a service's capacity is shared among matches when their
 * requests don't fit. Pure and deterministic: used by the coordinator (priorities in the
 * state) and the API's views. Rules and examples: docs/policies.md, "Match priorities". */
#ifndef CRESC_ALLOC_H
#define CRESC_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "cresc/msg.h"
#include "cresc/policy.h"

#define CRESC_ALLOC_PRIORITY_MIN 1
#define CRESC_ALLOC_PRIORITY_MAX 10 /* most critical */

/* Allocations are computed exactly in millionths of a percent: the sum of the grants never
 * exceeds the capacity, and no grant exceeds its request, in those units. */
#define CRESC_ALLOC_UNITS_PER_PCT 1000000.0

struct cresc_alloc_item {
    const char *match_id; /* borrowed, unique among the items; ties break by strcmp order */
    int32_t priority;     /* CRESC_ALLOC_PRIORITY_MIN..MAX */
    double request_pct;   /* (0, 100] */
    double granted_pct;   /* out: 0..request_pct */
    double squeezed_pct;  /* out: request_pct - granted_pct; 0 when served in full */
};

struct cresc_alloc_summary {
    double capacity_pct;     /* the capacity used */
    double requested_pct;    /* sum of the requests */
    double granted_pct;      /* sum of the grants (<= capacity_pct) */
    size_t n_squeezed;       /* items granted less than their request */
    int32_t cutoff_priority; /* the priority served in part (max-min fair), 0 if all fit */
};

/* Share capacity_pct among the items:
 * - when the requests fit, every item gets its request;
 * - otherwise priorities are served from 10 down to 1: a priority whose requests fit in what
 *   is left gets them in full; the first that does not shares the rest max-min fairly
 *   (water-filling: small requests in full, the others an equal share); lower priorities get
 *   nothing. The last indivisible millionths go to the smallest match_ids.
 * Fills granted_pct/squeezed_pct of every item (input order kept) and *sum (may be NULL).
 * O(n) when the requests fit, O(n + m log m) otherwise (m: items of the cut-off priority).
 * Returns 0, CRESC_EINVAL (a priority, request or capacity out of range, NULL match_id),
 * or CRESC_ENOMEM. */
CRESC_WUR int cresc_alloc_compute(struct cresc_alloc_item *items, size_t n, double capacity_pct,
                                  struct cresc_alloc_summary *sum);

/* The same over the state's priority entries: reads match_id, priority and
 * resource_allocation, writes allocated_pct. */
CRESC_WUR int cresc_alloc_priorities(struct cresc_priority *prios, size_t n, double capacity_pct,
                                     struct cresc_alloc_summary *sum);

/* The capacity (percent) matches can use when the load needs `needed_instances` but only
 * `available_instances` run (e.g. needed above max_instances): 100 when enough run,
 * otherwise 100 x available / needed. Negative inputs count as 0. */
double cresc_alloc_capacity_pct(int32_t available_instances, int32_t needed_instances);

/* The instances the load needs according to a decision: the largest desired count of the
 * policies that had a value (before min/max and the behavior), or the current count when
 * none had. With cresc_alloc_capacity_pct(d->target_instances, this) the coordinator gets the
 * capacity for "the service needs more instances than max_instances allows". */
int32_t cresc_alloc_needed_instances(const struct cresc_decision *d);

#endif
