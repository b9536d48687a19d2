/* Fork-join sample decoding for the coordinator's ingest (decode.h). Each batch: the caller
 * publishes the items, bumps a generation and wakes the workers; everyone takes item indexes
 * from one atomic counter; the caller waits until the last worker has left the batch. */
#include "decode.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#define INLINE_BELOW 64 /* batches smaller than this are decoded by the caller alone */

struct cresc_decode_pool {
    size_t n_workers;
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation; /* bumped per batch, under mu */
    size_t busy;              /* workers still inside the current batch, under mu */
    bool stop;
    struct cresc_decode_item *items;
    size_t n;
    atomic_size_t next;
    bool woken; /* the current batch went to the workers */
    rd_kafka_message_t **release;
    size_t n_release;
    atomic_size_t next_release;
    void (*job)(void *ctx, size_t i); /* set: a map (cresc_decode_pool_map), not a batch */
    void *job_ctx;
};

static void drain(struct cresc_decode_pool *p)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->n) {
            return;
        }
        if (p->job != NULL) {
            p->job(p->job_ctx, i);
            continue;
        }
        struct cresc_decode_item *it = &p->items[i];
        if (it->want) {
            it->rc = cresc_sample_decode(it->buf, it->len, &it->sample, &it->err);
        }
    }
}

/* Destroy the batch's messages to release, sharing them out like the items. */
static void release(struct cresc_decode_pool *p)
{
    for (;;) {
        size_t i = atomic_fetch_add(&p->next_release, 1);
        if (i >= p->n_release) {
            return;
        }
        rd_kafka_message_destroy(p->release[i]);
    }
}

static void *worker(void *arg)
{
    struct cresc_decode_pool *p = arg;
    unsigned long seen = 0;
    (void)prctl(PR_SET_NAME, "cresc-decode", 0, 0, 0); /* as top and perf show it */
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen) {
            pthread_cond_wait(&p->go, &p->mu);
        }
        if (p->stop) {
            break;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p);
        release(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) {
            pthread_cond_signal(&p->done);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int cresc_decode_pool_new(size_t workers, struct cresc_decode_pool **out)
{
    struct cresc_decode_pool *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return CRESC_ENOMEM;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (workers > 0) {
        p->threads = calloc(workers, sizeof(*p->threads));
        if (p->threads == NULL) {
            cresc_decode_pool_free(p);
            return CRESC_ENOMEM;
        }
    }
    /* Workers start with every signal blocked, so SIGTERM is handled by the loop thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    for (size_t i = 0; i < workers && rc == 0; i++) {
        if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
            rc = CRESC_EIO;
        } else {
            p->n_workers++;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        cresc_decode_pool_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void cresc_decode_pool_free(struct cresc_decode_pool *p)
{
    if (p == NULL) {
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < p->n_workers; i++) {
        pthread_join(p->threads[i], NULL);
    }
    free(p->threads);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

/* Hand out [0, n) of what the pool holds now: to the workers as well when n >= wake_from,
 * else to the caller's wait alone. */
static void launch(struct cresc_decode_pool *p, size_t n, size_t wake_from)
{
    p->n = n;
    atomic_store(&p->next, 0);
    atomic_store(&p->next_release, 0);
    p->woken = p->n_workers > 0 && n >= wake_from;
    if (!p->woken) {
        return; /* wait does it inline */
    }
    pthread_mutex_lock(&p->mu);
    p->busy = p->n_workers;
    p->generation++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
}

void cresc_decode_pool_start(struct cresc_decode_pool *p, struct cresc_decode_item *items, size_t n,
                             rd_kafka_message_t **release_msgs, size_t n_release)
{
    p->items = items;
    p->release = release_msgs;
    p->n_release = n_release;
    launch(p, n, INLINE_BELOW);
}

void cresc_decode_pool_wait(struct cresc_decode_pool *p)
{
    drain(p);
    if (!p->woken) {
        release(p);
        return;
    }
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) {
        pthread_cond_wait(&p->done, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    p->woken = false;
}

void cresc_decode_pool_run(struct cresc_decode_pool *p, struct cresc_decode_item *items, size_t n)
{
    cresc_decode_pool_start(p, items, n, NULL, 0);
    cresc_decode_pool_wait(p);
}

void cresc_decode_pool_map(struct cresc_decode_pool *p, size_t n, void (*fn)(void *ctx, size_t i),
                           void *ctx)
{
    p->job = fn;
    p->job_ctx = ctx;
    p->items = NULL;
    p->release = NULL;
    p->n_release = 0;
    launch(p, n, 2); /* each call is a whole encode or the like: even two are worth a worker */
    cresc_decode_pool_wait(p);
    p->job = NULL;
    p->job_ctx = NULL;
    p->n = 0;
}

size_t cresc_decode_pool_default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 1) {
        return 0;
    }
    return n - 1 > 7 ? 7 : (size_t)(n - 1);
}
