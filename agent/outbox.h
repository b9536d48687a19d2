/* The agent's bounded FIFO of samples waiting for Kafka. When full, the oldest sample is
 * dropped and counted; the count of drops since the last sample handed to Kafka is what the
 * next handed-over sample carries in `dropped`. Owned by the agent's loop thread. */
#ifndef CRESC_AGENT_OUTBOX_H
#define CRESC_AGENT_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "cresc/msg.h"

#define CRESC_OUTBOX_MAX 1000000 /* largest capacity accepted */

struct cresc_outbox {
    size_t _cap, _head, _n;
    uint64_t _pending_drops; /* dropped since the last pop */
    uint64_t total_drops;    /* dropped since start (diagnostics) */
    struct cresc_sample *_items;
};

/* Capacity 1..CRESC_OUTBOX_MAX samples (CRESC_ERANGE otherwise), CRESC_ENOMEM. */
CRESC_WUR int cresc_outbox_init(struct cresc_outbox *o, size_t cap);
void cresc_outbox_release(struct cresc_outbox *o);

/* Append a copy of *s. When full, the oldest is dropped first (counted); returns true then. */
bool cresc_outbox_push(struct cresc_outbox *o, const struct cresc_sample *s);
/* The oldest sample, or NULL when empty. Borrowed: valid until the next push or pop. */
const struct cresc_sample *cresc_outbox_front(const struct cresc_outbox *o);
/* Drops to report with the front sample: dropped since the last pop. */
uint64_t cresc_outbox_pending_drops(const struct cresc_outbox *o);
/* Remove the front sample once it is handed over (its `dropped` carried the pending count,
 * which restarts at zero). No-op when empty. */
void cresc_outbox_pop(struct cresc_outbox *o);
/* Count samples lost elsewhere (a delivery failure) so the next handed-over sample reports them. */
void cresc_outbox_count_lost(struct cresc_outbox *o, uint64_t n);
size_t cresc_outbox_len(const struct cresc_outbox *o);

#endif
