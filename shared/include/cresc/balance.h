/* Load balancing: placement of matches and client keys on a service's live instances by
 * LOAD_BALANCER_STRATEGY (round_robin, least_connections, ip_hash as a consistent hash).
 * Pure and deterministic: used by the coordinator (match placement in the state) and tests.
 * Rules: docs/policies.md, "Load balancing". */
#ifndef CRESC_BALANCE_H
#define CRESC_BALANCE_H

#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "cresc/msg.h"
#include "cresc/policy.h"

#define CRESC_BALANCE_NONE SIZE_MAX /* no live instance to place on */

struct cresc_balance_instance {
    const char *instance_id;   /* borrowed; unique */
    double active_connections; /* from its latest sample; missing, negative or NaN count 0 */
};

/* Place n_keys keys on n_inst instances; out[i] is the index (into inst) for keys[i], or
 * CRESC_BALANCE_NONE when n_inst is 0. The order of `inst` does not matter: every strategy
 * works on the instances sorted by instance_id.
 * - round_robin: key i goes to sorted instance (rr_offset + i) mod n. Callers pass keys in a
 *   stable order (the coordinator: matches sorted by match_id, offset 0).
 * - least_connections: each key goes to the instance with the fewest connections, ties to
 *   the smallest instance_id; every key placed in this call counts as one more connection
 *   on its instance, so a batch spreads out instead of piling onto one instance.
 * - ip_hash: rendezvous (highest random weight) hashing of the key against each instance:
 *   adding an instance moves only the keys the new one wins (about 1/(N+1) of them), and
 *   removing one moves only its own keys. rr_offset is ignored.
 * Returns 0, CRESC_EINVAL (NULL arrays with a count, NULL id or key) or CRESC_ENOMEM. */
CRESC_WUR int cresc_balance_place(enum cresc_lb_strategy strategy,
                                  const struct cresc_balance_instance *inst, size_t n_inst,
                                  const char *const *keys, size_t n_keys, uint64_t rr_offset,
                                  size_t *out);

/* The same for the coordinator's state: places every priority entry's match_id (keys in the
 * given order) on the live instances and writes its instance_id ("" when none is live). */
CRESC_WUR int cresc_balance_place_priorities(enum cresc_lb_strategy strategy,
                                             const struct cresc_live_instance *live, size_t n_live,
                                             struct cresc_priority *prios, size_t n_prios);

/* 64-bit string hash: FNV-1a followed by the splitmix64 finalizer (FNV alone mixes its high
 * bits poorly). Stable across runs and machines. */
uint64_t cresc_balance_hash64(const char *s);

#endif
