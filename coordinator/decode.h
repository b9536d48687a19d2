/* Parallel decoding of a batch of samples: decoding is the largest part of the coordinator's
 * ingest and is pure and independent per message, so a batch is split over a few worker
 * threads and the loop thread, then applied in order by the loop thread alone (which can
 * apply the previous batch while the workers decode the next one). The workers also release
 * the messages of an already applied batch: freeing what librdkafka's fetcher thread
 * allocated contends for that thread's malloc arena, and the loop thread, which everything
 * else waits for, lost ~5% of its time in that lock. Nothing but the batch arrays is shared;
 * the pool is idle between batches. */
#ifndef CRESC_COORD_DECODE_H
#define CRESC_COORD_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "cresc/err.h"
#include "cresc/msg.h"

struct cresc_decode_item {
    const char *buf; /* in: the message value (borrowed) */
    size_t len;
    bool want; /* in: decode it (false: another kind of message, left alone) */
    int rc;    /* out: cresc_sample_decode's result */
    struct cresc_sample sample;
    struct cresc_msg_error err;
};

struct cresc_decode_pool;

/* A pool with `workers` threads besides the caller (0: everything inline). Returns 0,
 * CRESC_ENOMEM or CRESC_EIO (a thread could not start). */
CRESC_WUR int cresc_decode_pool_new(size_t workers, struct cresc_decode_pool **out);
/* Stops and joins the workers. NULL is a no-op. */
void cresc_decode_pool_free(struct cresc_decode_pool *p);
/* Decode items[i] for every i with want set; returns when all are done. Small batches are
 * decoded inline (waking threads costs more than it saves). */
void cresc_decode_pool_run(struct cresc_decode_pool *p, struct cresc_decode_item *items, size_t n);
/* The same in two steps, so the caller can do other work while the workers decode: start
 * hands the batch to the workers and returns at once (a small batch, or a pool without
 * workers, is left for wait); wait decodes what is left on the caller's thread and returns
 * when the whole batch is done. One batch at a time: every start is followed by one wait,
 * and items must stay untouched in between. `release` (n_release messages, may be 0) are
 * destroyed by the workers once the decoding is done, by wait itself when no worker took the
 * batch; they are gone when wait returns. */
void cresc_decode_pool_start(struct cresc_decode_pool *p, struct cresc_decode_item *items, size_t n,
                             rd_kafka_message_t **release, size_t n_release);
void cresc_decode_pool_wait(struct cresc_decode_pool *p);
/* Any other work of the same shape, on the same threads: fn(ctx, i) for every i in [0, n),
 * returning when all are done (the caller takes part). For the tick's state snapshots, whose
 * encoding is pure per service. Only while no batch is started (between wait and start). */
void cresc_decode_pool_map(struct cresc_decode_pool *p, size_t n, void (*fn)(void *ctx, size_t i),
                           void *ctx);
/* How many workers a pool should have on this machine: online CPUs - 1, at most 7. */
size_t cresc_decode_pool_default_workers(void);

#endif
