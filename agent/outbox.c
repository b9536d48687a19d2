/* Ring buffer of samples for the agent (see outbox.h). Samples are kept as structs, not
 * encoded, because `dropped` is only known when a sample is handed to Kafka. */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

int cresc_outbox_init(struct cresc_outbox *o, size_t cap)
{
    memset(o, 0, sizeof(*o));
    if (cap == 0 || cap > CRESC_OUTBOX_MAX) {
        return CRESC_ERANGE;
    }
    /* calloc: pages of a large, mostly idle queue are never touched, so they cost no RSS. */
    o->_items = calloc(cap, sizeof(*o->_items));
    if (o->_items == NULL) {
        return CRESC_ENOMEM;
    }
    o->_cap = cap;
    return CRESC_OK;
}

void cresc_outbox_release(struct cresc_outbox *o)
{
    free(o->_items);
    memset(o, 0, sizeof(*o));
}

bool cresc_outbox_push(struct cresc_outbox *o, const struct cresc_sample *s)
{
    bool dropped = false;
    if (o->_n == o->_cap) {
        o->_head = (o->_head + 1) % o->_cap;
        o->_n--;
        o->_pending_drops++;
        o->total_drops++;
        dropped = true;
    }
    o->_items[(o->_head + o->_n) % o->_cap] = *s;
    o->_n++;
    return dropped;
}

const struct cresc_sample *cresc_outbox_front(const struct cresc_outbox *o)
{
    return o->_n == 0 ? NULL : &o->_items[o->_head];
}

uint64_t cresc_outbox_pending_drops(const struct cresc_outbox *o)
{
    return o->_pending_drops;
}

void cresc_outbox_pop(struct cresc_outbox *o)
{
    if (o->_n == 0) {
        return;
    }
    o->_head = (o->_head + 1) % o->_cap;
    o->_n--;
    o->_pending_drops = 0;
}

void cresc_outbox_count_lost(struct cresc_outbox *o, uint64_t n)
{
    o->_pending_drops += n;
    o->total_drops += n;
}

size_t cresc_outbox_len(const struct cresc_outbox *o)
{
    return o->_n;
}
