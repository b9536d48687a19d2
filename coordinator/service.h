/* One scaled service as the coordinator keeps it: config and its version, current instance
 * count, pause switch, the sliding sample window, recommendation and scale-event history,
 * priorities with their allocation and placement, acknowledged control requests and the last
 * decision; plus the set of services a coordinator owns. Pure (clocks are passed in): the
 * Kafka loop (engine.c) drives it, control.c mutates it, tests call it directly.
 *
 * Two clocks: `now_ms` is the engine's monotonic clock (history, cooldown, TTL are kept in
 * it); `wall_ms` is the wall clock, used only in messages. The state snapshot stores history
 * in wall-clock ms and cresc_service_from_state converts back, because monotonic clocks of two
 * processes share no origin (docs/coordinator.md, "Time"). */
#ifndef CRESC_COORD_SERVICE_H
#define CRESC_COORD_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "cresc/msg.h"
#include "cresc/policy.h"
#include "cresc/idindex.h"
#include "cresc/window.h"

struct cresc_service {
    char name[CRESC_ID_MAX + 1];
    int32_t partition;     /* partition of samples/control/state that holds the service */
    int64_t owner_epoch;   /* this owner's epoch: greater than every previous owner's */
    int64_t state_seq;     /* snapshots published by this owner */
    uint64_t decision_seq; /* decisions made by this owner (decision_id suffix) */
    int64_t config_version;
    struct cresc_scaling_config config;
    int32_t current_instances;
    bool paused;
    struct cresc_window *window; /* owned */
    struct cresc_window_agg agg; /* aggregates at the last evaluation */
    /* history in the engine clock, oldest first; consecutive equal recommendations are folded
       into one entry stamped with the latest time (exact for the window's max/min) */
    size_t n_recs;
    struct cresc_recommendation recs[CRESC_HISTORY_MAX];
    size_t n_events;
    struct cresc_scale_event events[CRESC_HISTORY_MAX];
    int64_t last_scale_ms; /* engine clock of the last scale event; valid if n_events > 0 */
    /* priorities sorted by match_id, heap, at most CRESC_PRIORITIES_MAX */
    size_t n_prio, cap_prio;
    struct cresc_priority *prio;
    double capacity_pct; /* capacity available to matches at the last allocation */
    /* acknowledged requests, newest last, heap, at most CRESC_ACKS_MAX */
    size_t n_acks, cap_acks;
    struct cresc_ack *acks;
    bool has_last;
    struct cresc_decision_msg last; /* last decision published */
    int64_t last_cooldown_ms;       /* cooldown remaining at the last evaluation */
    bool dirty; /* changed in a way a reader must see now (scale, control, new owner...) */
    int64_t last_state_ms; /* engine clock of the last snapshot published (0: never) */
    bool urgent;           /* a sample crossed a threshold: evaluate before the next tick */
    bool urgent_used;      /* an immediate evaluation already ran since the last tick */
};

/* Result of one evaluation: the decision to publish and, when the count changes, the scale
 * command. */
struct cresc_service_eval {
    struct cresc_decision_msg decision;
    bool has_command;
    struct cresc_scale_command command;
};

/* A new service (never seen before). `initial` is copied; initial_instances < 0 means
 * min_instances. Returns 0, CRESC_EINVAL (bad name or options) or CRESC_ENOMEM. */
CRESC_WUR int cresc_service_new(const char *name, int32_t partition,
                                const struct cresc_scaling_config *initial,
                                int32_t initial_instances, int64_t owner_epoch,
                                const struct cresc_window_opts *wopts, struct cresc_service **out);
void cresc_service_free(struct cresc_service *s); /* NULL is a no-op */

/* Offer one sample (the service's own: the caller routed it by name). *crossed tells whether
 * its values are above a scale-up threshold of the config (the caller then evaluates at once).
 * Returns 0 or a window error; *verdict says whether it was accepted. */
CRESC_WUR int cresc_service_add_sample(struct cresc_service *s, const struct cresc_sample *smp,
                                       int64_t now_ms, int64_t wall_ms,
                                       enum cresc_window_verdict *verdict, bool *crossed);

/* Evaluate through the decision core, record the recommendation and (on a change) the scale
 * event, move current_instances and fill *out. Returns 0 or the core's error. */
CRESC_WUR int cresc_service_evaluate(struct cresc_service *s, int64_t now_ms, int64_t wall_ms,
                                     struct cresc_service_eval *out);

/* Manual scale to `target` (no clamping: the caller checked the range). Records a scale
 * event (so the cooldown applies) and fills *cmd; *has_cmd false when target == current. */
void cresc_service_manual_scale(struct cresc_service *s, int32_t target, const char *reason,
                                const char *request_id, int64_t now_ms, int64_t wall_ms,
                                struct cresc_scale_command *cmd, bool *has_cmd);

/* Priorities. upsert: 0 or CRESC_EFULL (CRESC_PRIORITIES_MAX reached), CRESC_EINVAL (bad
 * values), CRESC_ENOMEM. delete: 0 or CRESC_ENOTFOUND. */
CRESC_WUR int cresc_service_priority_upsert(struct cresc_service *s, const char *match_id,
                                            int32_t priority, double resource_allocation);
CRESC_WUR int cresc_service_priority_delete(struct cresc_service *s, const char *match_id);
const struct cresc_priority *cresc_service_priority_find(const struct cresc_service *s,
                                                         const char *match_id);

/* Recompute the allocation of capacity to matches and their placement on live instances
 * (per config.load_balancer_strategy). Capacity: 100% per instance needed, scaled by
 * current / needed when the service needs more than it has. */
CRESC_WUR int cresc_service_allocate(struct cresc_service *s, int64_t now_ms);

/* Acknowledged requests: find (NULL if unknown) and record (the oldest is dropped past
 * CRESC_ACKS_MAX). */
const struct cresc_ack *cresc_service_ack_find(const struct cresc_service *s,
                                               const char *request_id);
CRESC_WUR int cresc_service_ack_add(struct cresc_service *s, const char *request_id,
                                    enum cresc_ack_status status, const char *reason,
                                    int64_t wall_ms);

/* The cooldown still to run at now_ms (0 when none), from the last scale event. */
int64_t cresc_service_cooldown_remaining_ms(const struct cresc_service *s, int64_t now_ms);

/* Snapshot for scaling.state (history converted to wall clock). *st is initialised here;
 * release it with cresc_state_release. Increments state_seq. */
CRESC_WUR int cresc_service_to_state(struct cresc_service *s, int64_t now_ms, int64_t wall_ms,
                                     struct cresc_state *st);
/* Rebuild a service from its last snapshot, as its new owner: owner_epoch becomes
 * max(st->owner_epoch + 1, min_epoch); live instances are put back into the window so
 * aggregates and duplicate detection continue. */
CRESC_WUR int cresc_service_from_state(const struct cresc_state *st, int32_t partition,
                                       int64_t min_epoch, const struct cresc_window_opts *wopts,
                                       int64_t now_ms, int64_t wall_ms, struct cresc_service **out);

/* ---- the set of services one coordinator owns (sorted by name, bounded) --------------- */

struct cresc_services {
    size_t n, cap, max;
    struct cresc_service **items; /* owned, sorted by name */
    struct cresc_idindex index;   /* name -> service, when `indexed` (see reindex) */
    bool indexed;
};

void cresc_services_init(struct cresc_services *set, size_t max);
void cresc_services_release(struct cresc_services *set);
struct cresc_service *cresc_services_find(const struct cresc_services *set, const char *name);
/* Insert (takes ownership on success). CRESC_EFULL past max, CRESC_ECONFLICT if the name is
 * already there, CRESC_ENOMEM. */
CRESC_WUR int cresc_services_insert(struct cresc_services *set, struct cresc_service *s);
/* Remove and free one service; false if it was not there. */
bool cresc_services_remove(struct cresc_services *set, const char *name);
/* Free every service of `partition` (its ownership moved away); returns how many. */
size_t cresc_services_drop_partition(struct cresc_services *set, int32_t partition);
void cresc_services_clear(struct cresc_services *set);

#endif
