/* The coordinator's Kafka loop (engine.h). One thread owns everything here; librdkafka calls
 * back into it only from inside rd_kafka_consumer_poll (rebalances), on this thread.
 *
 * Every publish happens inside a transaction that also carries the consumed offsets of the
 * samples and control partitions, and the transaction is committed before the next poll.
 * So: what a coordinator decided is visible exactly when the inputs it decided on are marked
 * consumed; a new owner resumes from those offsets with the state of that same transaction;
 * and a deposed owner (stale group generation) gets its TxnOffsetCommit refused by the broker,
 * so its commit fails and read_committed readers never see what it produced. */
#include "engine.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "actuator.h"
#include "control.h"
#include "decode.h"
#include "cresc/kafka.h"
#include "cresc/log.h"
#include "cresc/msg.h"
#include "service.h"

#define LOGC CRESC_LOGGER_COORDINATOR

/* The engine clock is CLOCK_MONOTONIC shifted by a constant, so that history converted from
 * wall-clock timestamps of a snapshot (hours old at most) stays positive. */
#define ENGINE_CLOCK_BASE_MS (1000LL * 1000 * 1000 * 1000)

#define POLL_BATCH_MAX     10000 /* messages handled between two flush checks */
#define WAKE_AFTER_MS      5     /* an empty queue this long after messages: see wake_fetchers */
#define PIPELINE_MIN       64    /* smaller batches are decoded and applied at once (poll_batch) */
#define STATE_CHUNK        32    /* snapshots a tick encodes at once (publish_states) */
#define COMMITTING_POLL_MS 5     /* longest poll while a commit runs (see the loop) */
#define CATCH_UP_LAG       10000 /* messages behind: threshold crossings wait for the tick */
/* A transactional call waits at most the transaction timeout (10 s, see producer_create):
 * past it the broker aborts the transaction anyway. Once SIGTERM is in, calls get
 * STOP_TIMEOUT_MS so the whole shutdown (last tick, actuator drain, leaving the group)
 * fits in Kubernetes' default 30 s grace period even with the broker gone. */
#define TXN_TIMEOUT_MS  10000
#define STOP_TIMEOUT_MS 3000
#define COMMIT_RETRIES  3
#define PRODUCE_RETRIES 100
#define READER_POLL_MS  200

struct pending_cmd {
    struct cresc_scale_command cmd;
};

/* Latest snapshot of one service seen while reading a state partition. */
struct latest_state {
    char *payload; /* NULL: tombstone */
    size_t len;
    int32_t partition;
};

/* A record produced in the open transaction, not yet handed to librdkafka (see produce). */
struct outbox_rec {
    const char *topic; /* one of engine.topics */
    int32_t partition;
    char *data; /* key then value */
    size_t key_len, len;
};

/* The ListOffsets requests of one wake_fetchers call, sent from a short-lived thread so the
 * loop does not wait for their answers (a few ms each, 5-10% of a catch-up). */
struct waker {
    pthread_t thread;
    bool joinable;       /* started and not joined yet */
    atomic_bool running; /* the thread has not finished its requests */
    rd_kafka_t *rk;
    const char *topic;
    size_t n;
    int32_t *parts; /* [nparts] the partitions to ask about */
    bool *probe;    /* [nparts] its broker is unknown: find out whether it is empty */
    bool *empty;    /* [nparts] out: a probe found it empty */
};

/* The commit of a transaction, run on a thread of its own (see txn_commit): the loop goes on
 * consuming and applying samples while the broker writes the transaction. */
struct committer {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool quit;
    bool job;  /* a commit to run (set by the loop, cleared by the thread) */
    bool done; /* its result is in (set by the thread, cleared by the loop) */
    rd_kafka_t *rk;
    int timeout_ms;
    const volatile sig_atomic_t *stop;
    rd_kafka_error_t *err; /* the result: NULL when committed */
    uint64_t done_ns;      /* when it finished (mono_ns) */
};

/* Messages collected by one poll round, with their decode items. */
struct batch {
    rd_kafka_message_t **msgs;       /* [POLL_BATCH_MAX] */
    struct cresc_decode_item *items; /* [POLL_BATCH_MAX] */
    size_t n;
    uint64_t rebalances; /* engine.rebalances when collected */
};

struct engine {
    const struct cresc_coordinator_config *cfg;
    struct cresc_scaling_config initial;
    struct cresc_window_opts wopts;
    struct cresc_coord_stats *stats;
    const volatile sig_atomic_t *stop;
    struct cresc_topics topics;
    struct cresc_kv_list props;
    struct cresc_kafka_conf kc;
    char client_id[CRESC_ID_MAX + 64];
    char txn_id[CRESC_ID_MAX + 64];
    char reader_group[CRESC_ID_MAX + 64];
    struct cresc_consumer *consumer;
    rd_kafka_t *producer;      /* transactional */
    rd_kafka_topic_t *warm[3]; /* output topics whose metadata the producer keeps */
    rd_kafka_t *reader;
    struct cresc_actuator *act;
    struct cresc_services services;
    int32_t nparts;
    bool *owned;           /* [nparts]: samples/control partition i is ours */
    int32_t *fetched_from; /* [nparts]: broker a sample of partition i last came from, -1
                              unknown, -2 unknown and empty when asked */
    bool busy;             /* the last poll returned messages (see wake_fetchers) */
    double prefetch_bytes; /* queued.max.messages.kbytes in bytes (see watch_prefetch) */
    double prefetch_msgs;  /* queued.min.messages */
    bool prefetch_full;    /* the consumer queue was near either limit since the last wake */
    struct waker waker;
    const rd_kafka_topic_t *samples_rkt; /* see from_samples */
    rd_kafka_topic_t *input[2]; /* the consumer's samples and control topics (consumer_warm_up) */
    bool txn_open;
    bool committing;    /* a commit is with the committer, its result not taken in yet */
    uint64_t commit_t0; /* when that commit started (mono_ns) */
    struct committer committer;
    bool offsets_dirty;       /* consumed something since the last commit */
    bool need_reset;          /* a transaction failed: drop state and rebuild */
    bool flush_needed;        /* a service is urgent (a sample crossed a threshold) */
    bool ack_needed;          /* a service has an acknowledgement to publish */
    bool producer_broken;     /* fatal producer error: recreate it */
    int64_t generation;       /* group generation of the current assignment (0: unknown) */
    struct pending_cmd *cmds; /* produced in the open transaction */
    size_t n_cmds, cap_cmds;
    uint64_t pending_decisions;
    char *buf;           /* encode buffer, CRESC_DECISION_MAX_BYTES */
    uint64_t rebalances; /* rebalance callbacks so far */
    struct cresc_decode_pool *decoder;
    struct state_job *state_jobs;     /* [STATE_CHUNK]: the tick's snapshots being encoded */
    struct cresc_service **state_due; /* [MAX_SERVICES]: the tick's services due a snapshot */
    struct outbox_rec *outbox;        /* records of the open transaction (see produce) */
    size_t n_outbox, cap_outbox;
    struct batch slots[2]; /* collected messages: one being applied, one being decoded */
    /* Applied messages waiting to be released by the decode workers (see poll_batch):
       grave[grave_cur] fills as a batch is applied, the other one is being released. */
    rd_kafka_message_t **grave[2]; /* [POLL_BATCH_MAX] each */
    size_t n_grave[2];
    int grave_cur;
    struct batch *pending; /* the slot whose decoding is under way (see poll_batch), or NULL */
};

static int64_t engine_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ENGINE_CLOCK_BASE_MS + (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000U + (uint64_t)ts.tv_nsec;
}

static void note_max(atomic_uint_fast64_t *max, uint64_t v)
{
    uint_fast64_t cur = atomic_load(max);
    while (v > cur && !atomic_compare_exchange_weak(max, &cur, v)) {
    }
}

static void note_eval_time(struct engine *e, uint64_t ns)
{
    atomic_fetch_add(&e->stats->eval_count, 1);
    atomic_fetch_add(&e->stats->eval_ns_total, ns);
    note_max(&e->stats->eval_ns_max, ns);
}

/* ---- transactions ------------------------------------------------------------------- */

static rd_kafka_t *prk(struct engine *e)
{
    return e->producer;
}

static int txn_commit_collect(struct engine *e, bool wait);

static bool producer_fatal(struct engine *e)
{
    return e->producer != NULL &&
           rd_kafka_fatal_error(e->producer, NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

static int txn_timeout_ms(const struct engine *e)
{
    return *e->stop ? STOP_TIMEOUT_MS : TXN_TIMEOUT_MS;
}

static void log_txn_error(const char *what, rd_kafka_error_t *err)
{
    cresc_log(CRESC_LOG_WARNING, LOGC, "Transaction %s failed: %s%s%s", what,
              rd_kafka_error_string(err), rd_kafka_error_is_fatal(err) ? " (fatal)" : "",
              rd_kafka_error_txn_requires_abort(err) ? " (abort required)" : "");
}

/* Classify a failed transactional call: fatal errors need a new producer, every failure
 * means the in-memory state may be ahead of what is committed, so it is rebuilt. */
static void txn_failed(struct engine *e, const char *what, rd_kafka_error_t *err)
{
    log_txn_error(what, err);
    if (rd_kafka_error_is_fatal(err) || producer_fatal(e)) {
        e->producer_broken = true;
    }
    e->need_reset = true;
    rd_kafka_error_destroy(err);
}

/* Take a handle on each of `n` topics of client `rk` and read their metadata now: the
 * partitions and their leaders stay cached for as long as the handles are held. */
static void keep_topics(rd_kafka_t *rk, const char *const *names, size_t n, rd_kafka_topic_t **out)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = rd_kafka_topic_new(rk, names[i], NULL);
        const struct rd_kafka_metadata *md = NULL;
        if (out[i] != NULL &&
            rd_kafka_metadata(rk, 0, out[i], &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            rd_kafka_metadata_destroy(md);
        }
    }
}

static void drop_topics(rd_kafka_topic_t **t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (t[i] != NULL) {
            rd_kafka_topic_destroy(t[i]);
            t[i] = NULL;
        }
    }
}

/* Learn the leaders of every output partition now: otherwise the first record for a
 * partition waits for a metadata round (up to a second), which would land on the first
 * decision or command of a service. */
static void warm_up(struct engine *e)
{
    const char *names[3] = {e->topics.decisions, e->topics.commands, e->topics.state};
    keep_topics(prk(e), names, 3, e->warm);
}

/* The consumer's counterpart of warm_up. librdkafka 2.0.2 creates a subscribed topic's
 * partitions only when they are assigned, and hands each to its leader's broker thread
 * asynchronously; a partition told to start at BEGINNING before that hand-off completes finds
 * "no current leader" and waits 500 ms to ask again (it raced, and lost about every other
 * first start). Topic handles taken, and their metadata read, before the group's first
 * assignment have the partitions with their leaders by then. */
static void consumer_warm_up(struct engine *e)
{
    const char *names[2] = {e->topics.samples, e->topics.control};
    keep_topics(cresc_consumer_handle(e->consumer), names, 2, e->input);
}

/* Leave the group and free the consumer (and its topic handles first). */
static void consumer_destroy(struct engine *e)
{
    drop_topics(e->input, 2);
    cresc_consumer_free(e->consumer);
    e->consumer = NULL;
}

static void producer_destroy(struct engine *e)
{
    if (e->committing) {
        (void)txn_commit_collect(e, true);
    }
    drop_topics(e->warm, 3);
    if (e->producer != NULL) {
        /* Not flushed: whatever is left belongs to a transaction that will not commit. */
        rd_kafka_purge(e->producer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(e->producer, 0);
        rd_kafka_destroy(e->producer);
        e->producer = NULL;
    }
}

/* Delivery reports. Their presence matters more than their content: with a report callback
 * librdkafka queues each report to the application queue, which wakes the flush inside
 * commit_transaction the moment the last record is acknowledged. Without one, that flush only
 * rechecks its outstanding count every 10 ms, and every transaction that produced anything
 * paid up to 10 ms for nothing (seen with KAFKA_DEBUG=eos: ProduceResponse, then "commit
 * message flush complete" 9-10 ms later). A failed record fails the commit; it is logged. */
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    /* Purged records (a producer being replaced after a failed transaction) are expected. */
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
        m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
        cresc_log(CRESC_LOG_WARNING, LOGC, "Record for %s not delivered: %s",
                  m->rkt != NULL ? rd_kafka_topic_name(m->rkt) : "?", rd_kafka_err2str(m->err));
    }
}

static int producer_create(struct engine *e, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = NULL;
    char why[512];
    int rc = cresc_kafka_conf_new(&e->kc, &conf, err, errlen);
    if (rc != 0) {
        return rc;
    }
    /* retry.backoff.ms: right after a commit the broker answers the next transaction's
     * AddOffsetsToTxn with CONCURRENT_TRANSACTIONS until the markers are written (a few ms);
     * librdkafka retries after this backoff, 100 ms by default, which would sit in the
     * reaction time of the next urgent decision and in every API write that follows another.
     * 2 ms: four API clients writing back to back, write p99 47 -> 40 ms, one client 27 ->
     * 21 ms (10 ms before). Other retries (a produce to a moved leader) wait for metadata
     * anyway. A pass-through KAFKA_RETRY_BACKOFF_MS wins. */
    /* transaction.timeout.ms: a replica killed inside a transaction leaves it open until the
     * broker aborts it after this timeout, and the new owner's stable-offset fetch waits for
     * that; librdkafka's 60 s default would be the takeover time. A tick's transaction lasts
     * milliseconds, so 10 s (as Kafka Streams uses for exactly-once) is ample. */
    const char *kv[][2] = {
        {"enable.idempotence", "true"}, {"transactional.id", e->txn_id},     {"linger.ms", "1"},
        {"retry.backoff.ms", "2"},      {"transaction.timeout.ms", "10000"},
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        bool user_set = false;
        for (size_t j = 0; j < e->props.n; j++) {
            user_set = user_set || strcmp(e->props.items[j].key, kv[i][0]) == 0;
        }
        if (user_set && i >= 2) {
            continue;
        }
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            (void)snprintf(err, errlen, "producer: %s", why);
            rd_kafka_conf_destroy(conf);
            return CRESC_EKAFKA;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    e->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (e->producer == NULL) {
        (void)snprintf(err, errlen, "producer: %s", why);
        rd_kafka_conf_destroy(conf);
        return CRESC_EKAFKA;
    }
    /* Bumps the producer epoch of our transactional.id: an earlier incarnation of this
     * replica (same COORDINATOR_ID) that is still running is fenced from here on. */
    for (int attempt = 0;; attempt++) {
        rd_kafka_error_t *x = rd_kafka_init_transactions(prk(e), TXN_TIMEOUT_MS);
        if (x == NULL) {
            break;
        }
        bool retry = rd_kafka_error_is_retriable(x) && attempt < 30 && !*e->stop;
        (void)snprintf(err, errlen, "init_transactions: %s", rd_kafka_error_string(x));
        rd_kafka_error_destroy(x);
        if (!retry) {
            producer_destroy(e);
            return CRESC_EKAFKA;
        }
        cresc_log(CRESC_LOG_WARNING, LOGC, "%s; retrying", err);
    }
    e->producer_broken = false;
    warm_up(e);
    return 0;
}

static int txn_begin(struct engine *e)
{
    if (e->txn_open) {
        return 0;
    }
    rd_kafka_error_t *x = rd_kafka_begin_transaction(prk(e));
    if (x != NULL) {
        txn_failed(e, "begin", x);
        return CRESC_EKAFKA;
    }
    e->txn_open = true;
    return 0;
}

/* Hand one record to librdkafka inside the open transaction. */
static int produce_now(struct engine *e, const struct outbox_rec *r)
{
    /* librdkafka takes `void *` although RD_KAFKA_MSG_F_COPY copies key and value. */
    rd_kafka_vu_t vu[5];
    memset(vu, 0, sizeof(vu));
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = r->topic;
    vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[1].u.i32 = r->partition;
    vu[2].vtype = RD_KAFKA_VTYPE_KEY;
    vu[2].u.mem.ptr = r->data;
    vu[2].u.mem.size = r->key_len;
    vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[3].u.mem.ptr = r->data + r->key_len;
    vu[3].u.mem.size = r->len;
    vu[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[4].u.i = RD_KAFKA_MSG_F_COPY;
    /* rd_kafka_produceva rather than the producev macros, which are GNU statement
     * expressions (clang -Wpedantic: the fuzz build). */
    for (int attempt = 0; attempt < PRODUCE_RETRIES; attempt++) {
        rd_kafka_error_t *xe = rd_kafka_produceva(prk(e), vu, 5);
        rd_kafka_resp_err_t x = xe ? rd_kafka_error_code(xe) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (xe != NULL) {
            rd_kafka_error_destroy(xe);
        }
        if (x == RD_KAFKA_RESP_ERR_NO_ERROR) {
            return 0;
        }
        if (x != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            cresc_log(CRESC_LOG_WARNING, LOGC, "Produce to %s failed: %s", r->topic,
                      rd_kafka_err2str(x));
            if (x == RD_KAFKA_RESP_ERR__FATAL || x == RD_KAFKA_RESP_ERR__FENCED ||
                x == RD_KAFKA_RESP_ERR__STATE) {
                e->producer_broken = x != RD_KAFKA_RESP_ERR__STATE;
            }
            e->need_reset = true;
            return CRESC_EKAFKA;
        }
        rd_kafka_poll(prk(e), 50);
    }
    e->need_reset = true;
    return CRESC_EFULL;
}

static void outbox_clear(struct engine *e)
{
    for (size_t i = 0; i < e->n_outbox; i++) {
        free(e->outbox[i].data);
    }
    e->n_outbox = 0;
}

/* Records of the open transaction wait in the outbox until txn_commit, which registers the
 * consumed offsets first and only then produces them. Right after a commit the broker is still
 * writing that transaction's markers and answers the next one's first request with
 * CONCURRENT_TRANSACTIONS; librdkafka retries AddPartitionsToTxn (a first produce) only after a
 * fixed 20 ms, but AddOffsetsToTxn after retry.backoff.ms. Offsets first, so only the cheap
 * retry is ever paid: back-to-back transactions (a write per API request, an urgent decision
 * right after a tick) no longer each lose 20 ms. */
static int produce(struct engine *e, const char *topic, int32_t partition, const char *key,
                   const void *value, size_t len)
{
    if (e->n_outbox == e->cap_outbox) {
        size_t cap = e->cap_outbox ? e->cap_outbox * 2 : 64;
        struct outbox_rec *p = realloc(e->outbox, cap * sizeof(*p));
        if (p == NULL) {
            e->need_reset = true;
            return CRESC_ENOMEM;
        }
        e->outbox = p;
        e->cap_outbox = cap;
    }
    size_t key_len = strlen(key);
    char *data = malloc(key_len + len + 1);
    if (data == NULL) {
        e->need_reset = true;
        return CRESC_ENOMEM;
    }
    memcpy(data, key, key_len);
    memcpy(data + key_len, value, len);
    e->outbox[e->n_outbox++] = (struct outbox_rec){
        .topic = topic, .partition = partition, .data = data, .key_len = key_len, .len = len};
    return 0;
}

/* The assignment with the consumer's positions: both topics' partitions we own (e->owned
 * follows the rebalance callbacks, so this is rd_kafka_assignment without its round trip to
 * librdkafka's main thread, which the loop paid each time it looked at its lag). */
static rd_kafka_topic_partition_list_t *owned_positions(struct engine *e)
{
    rd_kafka_topic_partition_list_t *asg = rd_kafka_topic_partition_list_new(2 * e->nparts);
    for (int32_t p = 0; p < e->nparts; p++) {
        if (e->owned[p]) {
            rd_kafka_topic_partition_list_add(asg, e->topics.samples, p);
            rd_kafka_topic_partition_list_add(asg, e->topics.control, p);
        }
    }
    (void)rd_kafka_position(cresc_consumer_handle(e->consumer), asg);
    return asg;
}

/* Offsets to commit: the consumer's position on every assigned partition. */
static rd_kafka_topic_partition_list_t *consumed_positions(struct engine *e)
{
    rd_kafka_topic_partition_list_t *asg = owned_positions(e);
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(asg->cnt);
    for (int i = 0; i < asg->cnt; i++) {
        if (asg->elems[i].offset >= 0) {
            rd_kafka_topic_partition_list_add(out, asg->elems[i].topic, asg->elems[i].partition)
                ->offset = asg->elems[i].offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(asg);
    return out;
}

/* What happens once a transaction is committed: scale actions are logged and handed to the
 * actuator only now, so neither ever acts on something a newer owner will not see. */
static void after_commit(struct engine *e)
{
    for (size_t i = 0; i < e->n_cmds; i++) {
        const struct cresc_scale_command *c = &e->cmds[i].cmd;
        cresc_log(CRESC_LOG_INFO, LOGC, "Scaling from %" PRId32 " to %" PRId32 " instances: %s",
                  c->from, c->to, c->reason);
        int rc = cresc_actuator_submit(e->act, c);
        if (rc != 0) {
            cresc_log(CRESC_LOG_WARNING, LOGC, "Actuator did not take command %s: %s",
                      c->decision_id, cresc_strerror(rc));
        }
    }
    atomic_fetch_add(&e->stats->commands, e->n_cmds);
    atomic_fetch_add(&e->stats->decisions, e->pending_decisions);
    atomic_fetch_add(&e->stats->txn_committed, 1);
    e->n_cmds = 0;
    e->pending_decisions = 0;
}

static void discard_pending(struct engine *e)
{
    e->n_cmds = 0;
    e->pending_decisions = 0;
    outbox_clear(e);
}

/* Abort the open transaction, if any, after the commit in flight (which may succeed). Records
 * still in the outbox were never handed to librdkafka: they are dropped either way. */
static void txn_abort(struct engine *e)
{
    if (e->committing) {
        (void)txn_commit_collect(e, true);
    }
    if (!e->txn_open) {
        discard_pending(e);
        return;
    }
    e->txn_open = false;
    atomic_fetch_add(&e->stats->txn_aborted, 1);
    discard_pending(e);
    if (e->producer_broken) {
        return; /* a fatal producer cannot abort; it is recreated */
    }
    rd_kafka_error_t *x = rd_kafka_abort_transaction(prk(e), txn_timeout_ms(e));
    if (x != NULL) {
        log_txn_error("abort", x);
        e->producer_broken = true;
        rd_kafka_error_destroy(x);
    }
}

/* A helper thread of the loop, started with every signal blocked: SIGTERM stays with the loop
 * thread. 0 or CRESC_EIO. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(t, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : CRESC_EIO;
}

static void *committer_main(void *arg)
{
    struct committer *c = arg;
    (void)prctl(PR_SET_NAME, "cresc-commit", 0, 0, 0); /* as top and perf show it */
    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->quit && !c->job) {
            pthread_cond_wait(&c->cv, &c->mu);
        }
        if (c->quit) {
            break;
        }
        c->job = false;
        pthread_mutex_unlock(&c->mu);
        rd_kafka_error_t *x = NULL;
        for (int attempt = 0;; attempt++) {
            x = rd_kafka_commit_transaction(c->rk, c->timeout_ms);
            if (x == NULL || !rd_kafka_error_is_retriable(x) || attempt >= COMMIT_RETRIES ||
                *c->stop) {
                break;
            }
            log_txn_error("commit (retrying)", x);
            rd_kafka_error_destroy(x);
        }
        uint64_t t = mono_ns();
        pthread_mutex_lock(&c->mu);
        c->err = x;
        c->done_ns = t;
        c->done = true;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

static int committer_start(struct engine *e)
{
    struct committer *c = &e->committer;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->stop = e->stop;
    if (start_thread(&c->thread, committer_main, c) != 0) {
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
        return CRESC_EIO;
    }
    c->started = true;
    return 0;
}

static void committer_stop(struct engine *e)
{
    struct committer *c = &e->committer;
    if (!c->started) {
        return;
    }
    pthread_mutex_lock(&c->mu);
    c->quit = true;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    c->started = false;
}

/* Take in the result of the commit with the committer, if any: when `wait`, after waiting for
 * it; else only if it is already in. Everything that touches the producer or the open
 * transaction's pending commands waits for it first. Returns 0, CRESC_ETIMEDOUT (still running,
 * not waited for) or CRESC_EKAFKA (the commit failed: need_reset is set). */
static int txn_commit_collect(struct engine *e, bool wait)
{
    if (!e->committing) {
        return 0;
    }
    struct committer *c = &e->committer;
    pthread_mutex_lock(&c->mu);
    while (wait && !c->done) {
        pthread_cond_wait(&c->cv, &c->mu);
    }
    bool done = c->done;
    rd_kafka_error_t *x = c->err;
    uint64_t t1 = c->done_ns;
    c->done = false;
    c->err = NULL;
    pthread_mutex_unlock(&c->mu);
    if (!done) {
        return CRESC_ETIMEDOUT;
    }
    e->committing = false;
    if (x != NULL) {
        txn_failed(e, "commit", x);
        txn_abort(e);
        return CRESC_EKAFKA;
    }
    e->txn_open = false;
    const uint64_t took = t1 - e->commit_t0;
    atomic_fetch_add(&e->stats->commit_ns_total, took);
    note_max(&e->stats->commit_ns_max, took);
    after_commit(e);
    return 0;
}

/* Commit what was produced since the last commit together with the consumed offsets: begin,
 * register the offsets (the consumer's positions), produce the outbox, then hand
 * rd_kafka_commit_transaction to the committer thread and return. A tick's transaction
 * carries every owned service's state, ~2 MB for 100 services of 100 instances, and the
 * broker takes tens to hundreds of milliseconds to write it; samples consumed meanwhile are
 * applied in memory and go with the next transaction. Their offsets are not in this one, so
 * nothing is published for a sample before the state that counts it. With `wait`, returns
 * only once the commit is done (shutdown). Returns 0 or CRESC_EKAFKA/CRESC_EFENCED
 * (need_reset is then set). */
static int txn_commit(struct engine *e, bool wait)
{
    if (txn_commit_collect(e, true) != 0 || e->need_reset) {
        txn_abort(e);
        return CRESC_EKAFKA;
    }
    if (e->n_outbox == 0 && !e->offsets_dirty) {
        return 0;
    }
    int rc = txn_begin(e);
    if (rc != 0) {
        return rc;
    }
    e->commit_t0 = mono_ns();
    rd_kafka_topic_partition_list_t *pos = consumed_positions(e);
    if (pos != NULL && pos->cnt > 0) {
        rd_kafka_consumer_group_metadata_t *md =
            rd_kafka_consumer_group_metadata(cresc_consumer_handle(e->consumer));
        rd_kafka_error_t *x =
            rd_kafka_send_offsets_to_transaction(prk(e), pos, md, txn_timeout_ms(e));
        rd_kafka_consumer_group_metadata_destroy(md);
        if (x != NULL) {
            rd_kafka_topic_partition_list_destroy(pos);
            txn_failed(e, "send_offsets", x);
            txn_abort(e);
            return CRESC_EFENCED;
        }
    }
    if (pos != NULL) {
        rd_kafka_topic_partition_list_destroy(pos);
    }
    e->offsets_dirty = false;
    /* The records after the offsets, not before: right after a commit the broker answers a
     * transaction's first request with CONCURRENT_TRANSACTIONS until its markers are written,
     * and librdkafka retries AddOffsetsToTxn after retry.backoff.ms (2 ms here) but
     * AddPartitionsToTxn only after a fixed 20 ms (docs/coordinator.md, "Latency"). Producing
     * first overlapped the round trips when no commit had just ended (the reaction benchmark's
     * median), and paid the 20 ms when one had (its tail: an urgent flush right behind a
     * tick's commit). */
    for (size_t i = 0; i < e->n_outbox; i++) {
        if (produce_now(e, &e->outbox[i]) != 0) {
            txn_abort(e);
            return CRESC_EKAFKA;
        }
    }
    outbox_clear(e);
    struct committer *c = &e->committer;
    pthread_mutex_lock(&c->mu);
    c->rk = prk(e);
    c->timeout_ms = txn_timeout_ms(e);
    c->job = true;
    c->done = false;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
    e->committing = true;
    return wait ? txn_commit_collect(e, true) : 0;
}

static int pending_push(struct engine *e, const struct cresc_scale_command *c)
{
    if (e->n_cmds == e->cap_cmds) {
        size_t cap = e->cap_cmds ? e->cap_cmds * 2 : 16;
        struct pending_cmd *p = realloc(e->cmds, cap * sizeof(*p));
        if (p == NULL) {
            return CRESC_ENOMEM;
        }
        e->cmds = p;
        e->cap_cmds = cap;
    }
    e->cmds[e->n_cmds++].cmd = *c;
    return 0;
}

/* ---- publishing --------------------------------------------------------------------- */

static int publish_command(struct engine *e, const struct cresc_scale_command *c)
{
    size_t len = 0;
    int rc = cresc_command_encode(c, e->buf, (size_t)CRESC_DECISION_MAX_BYTES, &len);
    if (rc == 0) {
        rc = produce(e, e->topics.commands, RD_KAFKA_PARTITION_UA, c->service, e->buf, len);
    }
    if (rc == 0) {
        rc = pending_push(e, c);
    }
    return rc;
}

static int publish_decision(struct engine *e, const struct cresc_decision_msg *d)
{
    size_t len = 0;
    int rc = cresc_decision_msg_encode(d, e->buf, (size_t)CRESC_DECISION_MAX_BYTES, &len);
    if (rc == 0) {
        rc = produce(e, e->topics.decisions, RD_KAFKA_PARTITION_UA, d->service, e->buf, len);
    }
    if (rc == 0) {
        e->pending_decisions++;
    }
    return rc;
}

/* A service's snapshot as the state topic carries it (the encoding is the pure, costly part,
 * done apart: state_encode_job). */
static int state_prepare(struct engine *e, struct cresc_service *s, int64_t now, int64_t wall,
                         struct cresc_state *st)
{
    int rc = cresc_service_to_state(s, now, wall, st);
    if (rc != 0) {
        return rc;
    }
    (void)snprintf(st->actuator, sizeof(st->actuator), "%s", cresc_actuator_kind_name(e->act));
    cresc_actuator_service_status(e->act, s->name, st->actuator_status,
                                  sizeof(st->actuator_status));
    return 0;
}

/* One snapshot on its way: prepared on the loop thread, encoded on any. */
struct state_job {
    struct cresc_state st;
    char *json;
    size_t len;
    int rc;
};

static void state_encode_job(void *ctx, size_t i)
{
    struct state_job *j = &((struct state_job *)ctx)[i];
    j->json = NULL;
    j->len = 0;
    j->rc = cresc_state_encode(&j->st, &j->json, &j->len);
}

/* Produce an encoded snapshot (j->rc: its encoding's result) and release the job. The
 * snapshot goes to the state partition with the same number as the service's samples
 * partition, whatever partitioner the producers use: a new owner of partition i reads
 * exactly state partition i back. */
static int state_send(struct engine *e, struct cresc_service *s, struct state_job *j, int64_t now)
{
    int rc = j->rc;
    if (rc == CRESC_ETOOBIG) {
        cresc_log(CRESC_LOG_ERROR, LOGC, "State of %s exceeds %d bytes: not published", s->name,
                  CRESC_STATE_MAX_BYTES);
    }
    if (rc == 0) {
        rc = produce(e, e->topics.state, s->partition, s->name, j->json, j->len);
    }
    free(j->json);
    j->json = NULL;
    cresc_state_release(&j->st);
    if (rc == 0) {
        s->dirty = false;
        s->last_state_ms = now;
    }
    return rc;
}

static int publish_state(struct engine *e, struct cresc_service *s, int64_t now, int64_t wall)
{
    struct state_job j;
    int rc = state_prepare(e, s, now, wall, &j.st);
    if (rc != 0) {
        return rc;
    }
    state_encode_job(&j, 0);
    return state_send(e, s, &j, now);
}

/* The tick's snapshots, STATE_CHUNK at a time: prepared here, encoded by the decode pool's
 * workers and this thread together (the pool is idle during a tick; while a backlog is caught
 * up the tick's ~100 snapshots of 100 live instances each took the loop ~100 ms alone), then
 * produced here in order. Stops at the first failure and returns it. */
static int publish_states(struct engine *e, struct cresc_service **svc, size_t n, int64_t now,
                          int64_t wall)
{
    for (size_t off = 0; off < n; off += STATE_CHUNK) {
        const size_t want = n - off < STATE_CHUNK ? n - off : STATE_CHUNK;
        size_t ready = 0;
        int prep = 0, rc = 0;
        while (ready < want && (prep = state_prepare(e, svc[off + ready], now, wall,
                                                     &e->state_jobs[ready].st)) == 0) {
            ready++;
        }
        cresc_decode_pool_map(e->decoder, ready, state_encode_job, e->state_jobs);
        for (size_t j = 0; j < ready; j++) {
            if (rc == 0 && !e->need_reset) {
                rc = state_send(e, svc[off + j], &e->state_jobs[j], now);
            } else {
                free(e->state_jobs[j].json);
                cresc_state_release(&e->state_jobs[j].st);
            }
        }
        rc = rc != 0 ? rc : prep;
        if (rc != 0 || e->need_reset) {
            return rc;
        }
    }
    return 0;
}

static int evaluate_and_publish(struct engine *e, struct cresc_service *s, int64_t now,
                                int64_t wall)
{
    struct cresc_service_eval ev;
    uint64_t t0 = mono_ns();
    int rc = cresc_service_evaluate(s, now, wall, &ev);
    if (rc == 0) {
        rc = cresc_service_allocate(s, now);
    }
    note_eval_time(e, mono_ns() - t0);
    if (rc != 0) {
        cresc_log(CRESC_LOG_ERROR, LOGC, "Evaluation of %s failed: %s", s->name,
                  cresc_strerror(rc));
        return rc == CRESC_ENOMEM ? rc : 0;
    }
    rc = publish_decision(e, &ev.decision);
    if (rc == 0 && ev.has_command) {
        rc = publish_command(e, &ev.command);
    }
    return rc;
}

/* The periodic tick: every owned service is evaluated; its state is published when it
 * changed in a way readers must see now, else every STATE_INTERVAL. */
static void tick(struct engine *e)
{
    const uint64_t t0 = mono_ns();
    const int64_t now = engine_now_ms();
    const int64_t wall = wall_now_ms();
    e->flush_needed = false; /* every service is evaluated, every changed state published */
    e->ack_needed = false;
    (void)txn_commit_collect(e, true); /* this tick's commands are the next commit's */
    /* Decisions and commands first, then the snapshots of the services due one (those
     * evaluated before a failure included), encoded in parallel (publish_states). */
    size_t n_state = 0;
    for (size_t i = 0; i < e->services.n && !e->need_reset; i++) {
        struct cresc_service *s = e->services.items[i];
        s->urgent = false;
        s->urgent_used = false;
        if (evaluate_and_publish(e, s, now, wall) != 0) {
            break;
        }
        if (s->dirty || s->last_state_ms == 0 ||
            now - s->last_state_ms >= e->cfg->state_interval_ms) {
            e->state_due[n_state++] = s;
        }
    }
    if (!e->need_reset) {
        (void)publish_states(e, e->state_due, n_state, now, wall);
    }
    (void)txn_commit(e, false);
    note_max(&e->stats->tick_ns_max, mono_ns() - t0);
}

/* Between ticks: services whose sample crossed a threshold are evaluated now, and services
 * changed by a control command get their state (with the acknowledgement) out now. */
static void flush_urgent(struct engine *e)
{
    const int64_t now = engine_now_ms();
    const int64_t wall = wall_now_ms();
    bool any = false;
    (void)txn_commit_collect(e, true);
    for (size_t i = 0; i < e->services.n && !e->need_reset; i++) {
        struct cresc_service *s = e->services.items[i];
        if (s->urgent) {
            s->urgent = false;
            s->urgent_used = true;
            if (evaluate_and_publish(e, s, now, wall) != 0) {
                break;
            }
        }
        if (s->dirty) {
            any = true;
            if (publish_state(e, s, now, wall) != 0) {
                break;
            }
        }
    }
    if (any || e->n_outbox > 0) {
        (void)txn_commit(e, false);
    }
}

/* ---- consuming ---------------------------------------------------------------------- */

static struct cresc_service *service_for(struct engine *e, const char *name, int32_t partition)
{
    struct cresc_service *s = cresc_services_find(&e->services, name);
    if (s != NULL) {
        return s;
    }
    int32_t initial = (int32_t)e->cfg->initial_instances;
    int rc = cresc_service_new(name, partition, &e->initial, initial,
                               e->generation > 1 ? e->generation : 1, &e->wopts, &s);
    if (rc == 0) {
        rc = cresc_services_insert(&e->services, s);
        if (rc != 0) {
            cresc_service_free(s);
            s = NULL;
        }
    }
    if (rc != 0) {
        static struct cresc_log_once once = CRESC_LOG_ONCE_INIT;
        cresc_log_once(&once, CRESC_LOG_WARNING, LOGC,
                       "Cannot track service %s: %s (MAX_SERVICES=%" PRId64
                       "; further occurrences not logged)",
                       name, cresc_strerror(rc), e->cfg->max_services);
        return NULL;
    }
    cresc_log(CRESC_LOG_INFO, LOGC,
              "New service %s (partition %" PRId32 ", %" PRId32 " instances, owner epoch %" PRId64
              ")",
              name, partition, s->current_instances, s->owner_epoch);
    atomic_store(&e->stats->services, (int_fast64_t)e->services.n);
    return s;
}

/* `it`: the sample as the decode pool decoded it. */
static void handle_sample(struct engine *e, const rd_kafka_message_t *m,
                          const struct cresc_decode_item *it, int64_t now, int64_t wall)
{
    atomic_fetch_add(&e->stats->samples, 1);
    if (it->rc != 0) {
        cresc_msg_reject(CRESC_MSG_SAMPLE, &it->err);
        return;
    }
    const struct cresc_sample *smpp = &it->sample;
    struct cresc_service *s = service_for(e, smpp->service, m->partition);
    if (s == NULL) {
        atomic_fetch_add(&e->stats->rejected, 1);
        return;
    }
    enum cresc_window_verdict v = CRESC_WINDOW_ACCEPTED;
    bool crossed = false;
    int rc = cresc_service_add_sample(s, smpp, now, wall, &v, &crossed);
    if (rc != 0 || v == CRESC_WINDOW_SKEWED || v == CRESC_WINDOW_FULL) {
        atomic_fetch_add(&e->stats->rejected, 1);
        return;
    }
    if (v == CRESC_WINDOW_DUPLICATE) {
        atomic_fetch_add(&e->stats->duplicates, 1);
        return;
    }
    if (crossed && !s->urgent_used) {
        s->urgent = true;
        e->flush_needed = true;
    }
}

static void handle_control(struct engine *e, const rd_kafka_message_t *m, int64_t now, int64_t wall)
{
    /* A manual scale command joins the pending commands: the commit in flight goes first. */
    if (txn_commit_collect(e, true) != 0) {
        return;
    }
    struct cresc_control c;
    struct cresc_msg_error me;
    if (cresc_control_decode(m->payload, m->len, &c, &me) != 0) {
        cresc_msg_reject(CRESC_MSG_CONTROL, &me);
        return;
    }
    struct cresc_service *s = service_for(e, c.service, m->partition);
    if (s == NULL) {
        cresc_control_release(&c);
        return;
    }
    struct cresc_control_result r;
    int rc = cresc_control_apply(s, &c, now, wall, &r);
    if (rc != 0) {
        cresc_log(CRESC_LOG_ERROR, LOGC, "Control %s for %s: %s", c.request_id, c.service,
                  cresc_strerror(rc));
    } else if (r.duplicate) {
        cresc_log(CRESC_LOG_DEBUG, LOGC, "Control %s already acknowledged: skipped", c.request_id);
    } else if (r.status == CRESC_ACK_REJECTED) {
        atomic_fetch_add(&e->stats->controls_rejected, 1);
        cresc_log(CRESC_LOG_INFO, LOGC, "Rejected %s %s for %s: %s",
                  cresc_control_type_name(c.type), c.request_id, c.service, r.reason);
    } else {
        atomic_fetch_add(&e->stats->controls_applied, 1);
        cresc_log(CRESC_LOG_INFO, LOGC, "Applied %s %s for %s (config version %" PRId64 ")",
                  cresc_control_type_name(c.type), c.request_id, c.service, s->config_version);
        if (r.has_command && publish_command(e, &r.command) != 0) {
            e->need_reset = true;
        }
    }
    s->dirty = true;
    e->ack_needed = true;
    cresc_control_release(&c);
}

/* Whether m comes from the samples topic. The consumer keeps one topic handle per subscribed
 * topic, so the handle seen with the samples topic's name is remembered and compared by
 * address; the name is compared only for another handle. */
static bool from_samples(struct engine *e, const rd_kafka_message_t *m)
{
    if (m->rkt == e->samples_rkt) {
        return true;
    }
    if (strcmp(rd_kafka_topic_name(m->rkt), e->topics.samples) != 0) {
        return false;
    }
    e->samples_rkt = m->rkt;
    return true;
}

/* A sample of a partition we own: the only messages decoded in parallel. */
static bool owned_sample(struct engine *e, const rd_kafka_message_t *m)
{
    return m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->rkt != NULL && m->partition >= 0 &&
           m->partition < e->nparts && e->owned[m->partition] && from_samples(e, m);
}

/* `it`: m's decode item (it->want for owned samples); now/wall: the clocks read once for
 * the whole batch. */
static void handle_message(struct engine *e, rd_kafka_message_t *m,
                           const struct cresc_decode_item *it, int64_t now, int64_t wall)
{
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            return;
        }
        cresc_log(CRESC_LOG_WARNING, LOGC, "Consumer: %s", rd_kafka_message_errstr(m));
        if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
            e->need_reset = true;
        }
        return;
    }
    e->offsets_dirty = true;
    if (it->want) {
        handle_sample(e, m, it, now, wall);
        return;
    }
    if (m->rkt == NULL || m->partition < 0 || m->partition >= e->nparts ||
        !e->owned[m->partition]) {
        return;
    }
    if (strcmp(rd_kafka_topic_name(m->rkt), e->topics.control) == 0) {
        handle_control(e, m, now, wall);
    }
}

/* librdkafka 2.0.2 stops fetching a partition while the consumer queue holds
 * queued.max.messages.kbytes (or queued.min.messages), and decides again only when its broker
 * thread next wakes up: on network or queue activity, else after a full second
 * (fetch.queue.backoff.ms, which bounds that, arrived in 2.2). A coordinator catching up a
 * backlog more slowly than the broker sends it empties the queue long before the second is
 * over and then sits idle: ingest ran at a third of its speed. So when a poll comes back empty
 * right after messages while the high watermarks from the last fetches say more is waiting,
 * one ListOffsets request to each broker holding such a partition wakes its thread, which
 * then fetches again at once. The requests go out from a thread of their own (struct waker),
 * one wake-up at a time. Returns the number of requests sent. */
static void *waker_main(void *arg)
{
    struct waker *w = arg;
    for (size_t i = 0; i < w->n; i++) {
        int64_t lo = 0, hi = 0;
        w->empty[i] = rd_kafka_query_watermark_offsets(w->rk, w->topic, w->parts[i], &lo, &hi,
                                                       1000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
                      hi <= lo;
    }
    atomic_store(&w->running, false);
    return NULL;
}

/* Wait for the waker thread, if any, and take in what its probes found. Called before the
 * consumer it uses goes away. */
static void waker_join(struct engine *e)
{
    struct waker *w = &e->waker;
    if (!w->joinable) {
        return;
    }
    pthread_join(w->thread, NULL);
    w->joinable = false;
    for (size_t i = 0; i < w->n; i++) {
        if (w->probe[i] && w->empty[i] && e->fetched_from[w->parts[i]] == -1) {
            e->fetched_from[w->parts[i]] = -2;
        }
    }
    w->n = 0;
}

static int wake_fetchers(struct engine *e)
{
    struct waker *w = &e->waker;
    if (atomic_load(&w->running)) {
        return 0; /* the last wake-up is still on its way */
    }
    waker_join(e);
    rd_kafka_t *crk = cresc_consumer_handle(e->consumer);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(e->nparts);
    for (int32_t p = 0; p < e->nparts; p++) {
        if (e->owned[p]) {
            rd_kafka_topic_partition_list_add(list, e->topics.samples, p);
        }
    }
    if (list->cnt > 0 && rd_kafka_position(crk, list) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        int32_t woken[8];
        size_t n_woken = 0;
        for (int i = 0; i < list->cnt; i++) {
            int32_t p = list->elems[i].partition;
            int64_t lo = 0, hi = 0;
            if (e->fetched_from[p] == -1) {
                /* Nothing fetched from it yet, its broker unknown: ask its leader (once, while
                 * it stays empty; a fetched message tells its broker). */
                w->parts[w->n] = p;
                w->probe[w->n++] = true;
                continue;
            }
            if (list->elems[i].offset < 0 ||
                rd_kafka_get_watermark_offsets(crk, e->topics.samples, p, &lo, &hi) !=
                    RD_KAFKA_RESP_ERR_NO_ERROR ||
                hi <= list->elems[i].offset) {
                continue; /* nothing known to be waiting */
            }
            bool done = false;
            for (size_t k = 0; k < n_woken; k++) {
                done = done || woken[k] == e->fetched_from[p];
            }
            if (done) {
                continue;
            }
            w->parts[w->n] = p;
            w->probe[w->n++] = false;
            if (n_woken < sizeof(woken) / sizeof(woken[0])) {
                woken[n_woken++] = e->fetched_from[p];
            }
        }
    }
    rd_kafka_topic_partition_list_destroy(list);
    if (w->n == 0) {
        return 0;
    }
    w->rk = crk;
    w->topic = e->topics.samples;
    atomic_store(&w->running, true);
    if (start_thread(&w->thread, waker_main, w) != 0) {
        atomic_store(&w->running, false);
        w->n = 0;
        return 0;
    }
    w->joinable = true;
    return (int)w->n;
}

/* The limits at which librdkafka stops fetching, read back from the consumer's configuration
 * (ours, a KAFKA_* pass-through, or librdkafka's defaults). */
static void read_prefetch_limits(struct engine *e)
{
    const rd_kafka_conf_t *conf = rd_kafka_conf(cresc_consumer_handle(e->consumer));
    char v[32];
    size_t len = sizeof(v);
    e->prefetch_bytes = 0;
    e->prefetch_msgs = 0;
    if (rd_kafka_conf_get(conf, "queued.max.messages.kbytes", v, &len) == RD_KAFKA_CONF_OK) {
        e->prefetch_bytes = strtod(v, NULL) * 1024.0;
    }
    len = sizeof(v);
    if (rd_kafka_conf_get(conf, "queued.min.messages", v, &len) == RD_KAFKA_CONF_OK) {
        e->prefetch_msgs = strtod(v, NULL);
    }
    e->prefetch_full = false;
}

/* How full the consumer queue is with `queued` messages of `mean` bytes: the larger share of
 * either limit. */
static double prefetch_fill(const struct engine *e, double queued, double mean)
{
    double fill = e->prefetch_bytes > 0 ? queued * mean / e->prefetch_bytes : 0;
    if (e->prefetch_msgs > 0 && queued / e->prefetch_msgs > fill) {
        fill = queued / e->prefetch_msgs;
    }
    return fill;
}

/* Wake the fetchers before the queue runs dry, not after. Once the consumer queue holds either
 * limit, librdkafka fetches again only when its broker thread wakes (see wake_fetchers); waiting
 * for an empty queue left the loop idle for a fetch round trip (and the 5 ms that detect it)
 * each time, five or six times in a 1,000,000-sample catch-up. So when the queue (the collected
 * batch's mean size times the messages still queued) falls to half a limit after being near
 * it, the wake-up goes out while half a queue of work is left. */
static void watch_prefetch(struct engine *e, size_t n, size_t bytes)
{
    if (n == 0 || (e->prefetch_bytes <= 0 && e->prefetch_msgs <= 0)) {
        return;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(cresc_consumer_handle(e->consumer));
    if (q == NULL) {
        return;
    }
    const double queued = (double)rd_kafka_queue_length(q);
    rd_kafka_queue_destroy(q);
    const double mean = (double)bytes / (double)n;
    /* before this batch was taken (near a limit?), and now (down to half of it?) */
    const double before = prefetch_fill(e, queued + (double)n, mean);
    const double now = prefetch_fill(e, queued, mean);
    if (before >= 0.9) {
        e->prefetch_full = true;
    }
    if (e->prefetch_full && now <= 0.5) {
        e->prefetch_full = false;
        if (wake_fetchers(e) > 0) {
            atomic_fetch_add(&e->stats->fetch_wakeups, 1);
        }
    }
}

/* Collect up to POLL_BATCH_MAX messages into b (the first wait up to timeout_ms). Messages
 * returned before a rebalance callback ran (inside a later poll) are dropped unhandled: they
 * belong to the old assignment and are fetched again from the committed offsets if still ours.
 * b->rebalances records the assignment the kept messages belong to. */
static void collect(struct engine *e, struct batch *b, int timeout_ms)
{
    size_t n = 0;
    uint64_t seen = e->rebalances;
    /* Right after messages, a short first wait tells a drained queue from a stalled fetcher. */
    const int first_wait = e->busy && timeout_ms > WAKE_AFTER_MS ? WAKE_AFTER_MS : timeout_ms;
    rd_kafka_message_t *m = cresc_consumer_poll(e->consumer, first_wait);
    if (m == NULL && e->busy) {
        e->busy = false;
        if (wake_fetchers(e) > 0) {
            atomic_fetch_add(&e->stats->fetch_wakeups, 1);
        }
        m = cresc_consumer_poll(e->consumer, timeout_ms - first_wait);
    }
    while (m != NULL) {
        if (e->rebalances != seen) {
            for (size_t i = 0; i < n; i++) {
                rd_kafka_message_destroy(b->msgs[i]);
            }
            n = 0;
            seen = e->rebalances;
        }
        b->msgs[n++] = m;
        if (n == POLL_BATCH_MAX) {
            break;
        }
        m = cresc_consumer_poll(e->consumer, 0);
    }
    if (e->rebalances != seen) { /* the last poll rebalanced and returned nothing */
        for (size_t i = 0; i < n; i++) {
            rd_kafka_message_destroy(b->msgs[i]);
        }
        n = 0;
    }
    e->busy = n > 0;
    b->n = n;
    b->rebalances = e->rebalances;
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        struct cresc_decode_item *it = &b->items[i];
        it->want = owned_sample(e, b->msgs[i]);
        if (it->want) {
            e->fetched_from[b->msgs[i]->partition] = rd_kafka_message_broker_id(b->msgs[i]);
        }
        it->buf = b->msgs[i]->payload;
        it->len = b->msgs[i]->len;
        bytes += it->len;
    }
    watch_prefetch(e, n, bytes);
}

/* Destroy the applied messages still waiting in the current grave, on this thread. */
static void release_grave(struct engine *e)
{
    rd_kafka_message_t **g = e->grave[e->grave_cur];
    for (size_t i = 0; i < e->n_grave[e->grave_cur]; i++) {
        rd_kafka_message_destroy(g[i]);
    }
    e->n_grave[e->grave_cur] = 0;
}

/* Apply a decoded batch in order on this thread, or drop it if the assignment changed since
 * it was collected. Its messages are destroyed here, or with `defer` moved to the (empty)
 * current grave, for the decode workers to release with the next batch. */
static void apply_batch(struct engine *e, struct batch *b, bool defer)
{
    const bool current = b->rebalances == e->rebalances;
    const int64_t now = engine_now_ms();
    const int64_t wall = wall_now_ms();
    for (size_t i = 0; i < b->n; i++) {
        if (current && !e->need_reset) {
            handle_message(e, b->msgs[i], &b->items[i], now, wall);
        }
    }
    if (defer) {
        memcpy(e->grave[e->grave_cur], b->msgs, b->n * sizeof(b->msgs[0]));
        e->n_grave[e->grave_cur] = b->n;
    } else {
        for (size_t i = 0; i < b->n; i++) {
            rd_kafka_message_destroy(b->msgs[i]);
        }
    }
    b->n = 0;
}

/* The batch whose decoding runs on the workers, if any: finish decoding it and apply it.
 * Called before anything that commits (the committed offsets are the consumer's positions,
 * which already count a collected batch) and before the consumer goes away. */
static void finish_pending(struct engine *e)
{
    if (e->pending != NULL) {
        struct batch *b = e->pending;
        e->pending = NULL;
        cresc_decode_pool_wait(e->decoder);
        apply_batch(e, b, false);
    }
    release_grave(e);
}

/* One step of ingest, pipelined: collect the next batch (without waiting while one is still
 * pending), let the workers decode it while this thread applies the pending one, and keep it
 * pending. Small batches when nothing is pending (the steady state: a few samples, a control
 * command) are decoded and applied at once, so pipelining adds no latency to them. */
static void poll_batch(struct engine *e, int timeout_ms)
{
    struct batch *b = e->pending == &e->slots[0] ? &e->slots[1] : &e->slots[0];
    collect(e, b, e->pending != NULL ? 0 : timeout_ms);
    struct batch *prev = e->pending;
    if (prev != NULL) {
        e->pending = NULL;
        cresc_decode_pool_wait(e->decoder);
    }
    /* Every grave but the current one is empty now: the batch just waited for released it. */
    if (prev == NULL && b->n < PIPELINE_MIN) {
        release_grave(e);
        cresc_decode_pool_run(e->decoder, b->items, b->n);
        apply_batch(e, b, false);
        return;
    }
    bool defer = false;
    if (b->n > 0) {
        /* the workers release the batch applied last time while they decode this one */
        cresc_decode_pool_start(e->decoder, b->items, b->n, e->grave[e->grave_cur],
                                e->n_grave[e->grave_cur]);
        e->grave_cur ^= 1;
        e->n_grave[e->grave_cur] = 0;
        e->pending = b;
        defer = true;
    } else {
        release_grave(e);
    }
    if (prev != NULL) {
        apply_batch(e, prev, defer);
    }
}

/* ---- rebuild from the state topic --------------------------------------------------- */

/* The group generation of the consumer's current membership, read from the serialized group
 * metadata (librdkafka 2.0.2 has no accessor: "CGMDv2:" then the int32 generation in host
 * order). 0 when the format is not the expected one: owner epochs then rely on the previous
 * snapshot's epoch alone. */
static int64_t group_generation(rd_kafka_t *crk)
{
    rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(crk);
    if (md == NULL) {
        return 0;
    }
    void *buf = NULL;
    size_t size = 0;
    int64_t gen = 0;
    rd_kafka_error_t *x = rd_kafka_consumer_group_metadata_write(md, &buf, &size);
    if (x == NULL && size >= 11 && memcmp(buf, "CGMDv2:", 7) == 0) {
        int32_t g;
        memcpy(&g, (const char *)buf + 7, sizeof(g));
        gen = g > 0 ? g : 0;
    }
    if (x != NULL) {
        rd_kafka_error_destroy(x);
    }
    free(buf);
    rd_kafka_consumer_group_metadata_destroy(md);
    return gen;
}

/* The latest snapshot of every service seen while reading state partitions: raw bytes
 * only, decoded once at the end (a partition holds many snapshots per service until
 * compaction runs). */
struct latest_set {
    json_t *index; /* service -> index in items */
    size_t n, cap;
    struct latest_state *items;
};

static void latest_release(struct latest_set *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        free(ls->items[i].payload);
    }
    free(ls->items);
    json_decref(ls->index);
}

/* Remember m as the newest snapshot of its key (a NULL value is a tombstone). */
static int latest_put(struct latest_set *ls, const rd_kafka_message_t *m)
{
    if (m->key == NULL || m->key_len == 0 || m->key_len > CRESC_ID_MAX) {
        return 0; /* not a service key: nothing we wrote */
    }
    char key[CRESC_ID_MAX + 1];
    memcpy(key, m->key, m->key_len);
    key[m->key_len] = '\0';
    size_t at;
    json_t *ix = json_object_get(ls->index, key);
    if (ix != NULL) {
        at = (size_t)json_integer_value(ix);
        free(ls->items[at].payload);
    } else {
        if (ls->n == ls->cap) {
            size_t ncap = ls->cap ? ls->cap * 2 : 64;
            struct latest_state *q = realloc(ls->items, ncap * sizeof(*q));
            if (q == NULL) {
                return CRESC_ENOMEM;
            }
            ls->items = q;
            ls->cap = ncap;
        }
        at = ls->n;
        if (json_object_set_new(ls->index, key, json_integer((json_int_t)at)) != 0) {
            return CRESC_ENOMEM;
        }
        ls->n++;
    }
    struct latest_state *it = &ls->items[at];
    it->payload = NULL;
    it->len = 0;
    it->partition = m->partition;
    if (m->payload != NULL && m->len > 0) {
        it->payload = malloc(m->len);
        if (it->payload == NULL) {
            return CRESC_ENOMEM;
        }
        memcpy(it->payload, m->payload, m->len);
        it->len = m->len;
    }
    return 0;
}

/* Read state partitions `parts` (flags per partition) from the beginning until a
 * PARTITION_EOF on each (read_committed: aborted transactions of a fenced owner never count). */
static int read_state(struct engine *e, const bool *parts, size_t want, struct latest_set *ls)
{
    int rc = 0;
    bool *eof = calloc((size_t)e->nparts, sizeof(bool));
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(e->nparts);
    if (eof == NULL || list == NULL) {
        rc = CRESC_ENOMEM;
        goto out;
    }
    for (int32_t p = 0; p < e->nparts; p++) {
        if (parts[p]) {
            rd_kafka_topic_partition_list_add(list, e->topics.state, p)->offset =
                RD_KAFKA_OFFSET_BEGINNING;
        }
    }
    if (rd_kafka_assign(e->reader, list) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = CRESC_EKAFKA;
        goto out;
    }
    const int64_t deadline = engine_now_ms() + e->cfg->rebuild_timeout_ms;
    size_t done = 0;
    while (done < want && rc == 0) {
        if (engine_now_ms() > deadline || *e->stop) {
            rc = CRESC_ETIMEDOUT;
            break;
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(e->reader, READER_POLL_MS);
        if (m == NULL) {
            continue;
        }
        const int32_t p = m->partition;
        const bool ours = p >= 0 && p < e->nparts && parts[p];
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (ours && !eof[p]) {
                eof[p] = true;
                done++;
            }
        } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            cresc_log(CRESC_LOG_WARNING, LOGC, "Reading state: %s", rd_kafka_message_errstr(m));
        } else if (ours) {
            rc = latest_put(ls, m);
        }
        rd_kafka_message_destroy(m);
    }
    (void)rd_kafka_assign(e->reader, NULL);
out:
    if (list != NULL) {
        rd_kafka_topic_partition_list_destroy(list);
    }
    free(eof);
    return rc;
}

/* Decode one latest snapshot and install the service as its new owner; false if skipped. */
static bool install(struct engine *e, const struct latest_state *it, int64_t min_epoch, int64_t now,
                    int64_t wall)
{
    if (it->payload == NULL) {
        return false; /* tombstone: the service was deleted */
    }
    struct cresc_state st;
    struct cresc_msg_error me;
    if (cresc_state_decode(it->payload, it->len, &st, &me) != 0) {
        cresc_msg_reject(CRESC_MSG_STATE, &me);
        return false;
    }
    struct cresc_service *s = NULL;
    int x = cresc_service_from_state(&st, it->partition, min_epoch, &e->wopts, now, wall, &s);
    cresc_state_release(&st);
    if (x != 0) {
        cresc_log(CRESC_LOG_WARNING, LOGC, "Cannot rebuild a service from its state: %s",
                  cresc_strerror(x));
        return false;
    }
    (void)cresc_services_remove(&e->services, s->name);
    x = cresc_services_insert(&e->services, s);
    if (x != 0) {
        cresc_log(CRESC_LOG_WARNING, LOGC, "Cannot keep service %s: %s", s->name,
                  cresc_strerror(x));
        cresc_service_free(s);
        return false;
    }
    cresc_log(CRESC_LOG_INFO, LOGC,
              "Took over %s: %" PRId32 " instances, config version %" PRId64
              ", %zu priorities, cooldown %" PRId64 " ms left, owner epoch %" PRId64,
              s->name, s->current_instances, s->config_version, s->n_prio,
              cresc_service_cooldown_remaining_ms(s, now), s->owner_epoch);
    return true;
}

/* Read the state partitions `parts` back and rebuild their services as their new owner. */
static int rebuild(struct engine *e, const bool *parts, int64_t min_epoch)
{
    size_t want = 0;
    for (int32_t p = 0; p < e->nparts; p++) {
        want += parts[p] ? 1 : 0;
    }
    if (want == 0) {
        return 0;
    }
    struct latest_set ls = {.index = json_object()};
    if (ls.index == NULL) {
        return CRESC_ENOMEM;
    }
    int rc = read_state(e, parts, want, &ls);
    if (rc == 0) {
        const int64_t now = engine_now_ms();
        const int64_t wall = wall_now_ms();
        size_t rebuilt = 0;
        for (size_t i = 0; i < ls.n; i++) {
            rebuilt += install(e, &ls.items[i], min_epoch, now, wall) ? 1 : 0;
        }
        atomic_fetch_add(&e->stats->rebuilds, want);
        atomic_store(&e->stats->services, (int_fast64_t)e->services.n);
        cresc_log(CRESC_LOG_INFO, LOGC, "Rebuilt %zu services from %zu state partitions", rebuilt,
                  want);
    }
    latest_release(&ls);
    return rc;
}

static void count_owned(struct engine *e)
{
    int_fast64_t n = 0;
    for (int32_t p = 0; p < e->nparts; p++) {
        n += e->owned[p] ? 1 : 0;
    }
    atomic_store(&e->stats->partitions, n);
}

/* A partition that no one has committed to (answered without error, offset INVALID) starts at
 * its beginning, as auto.offset.reset=earliest would have it. Said explicitly, because
 * librdkafka 2.0.2 treats INVALID as an error to reset from and waits 100 ms before its first
 * offset query (rd_kafka_offset_reset's backoff): on a first start that was 100 ms of a fresh
 * coordinator fetching nothing. */
static void start_uncommitted_at_beginning(rd_kafka_topic_partition_list_t *committed)
{
    for (int i = 0; i < committed->cnt; i++) {
        rd_kafka_topic_partition_t *t = &committed->elems[i];
        if (t->err == RD_KAFKA_RESP_ERR_NO_ERROR && t->offset == RD_KAFKA_OFFSET_INVALID) {
            t->offset = RD_KAFKA_OFFSET_BEGINNING;
        }
    }
}

static void on_assign(struct engine *e, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    bool *set = calloc((size_t)e->nparts, sizeof(bool));
    if (set == NULL) {
        cresc_log(CRESC_LOG_CRITICAL, LOGC, "Out of memory");
        abort();
    }
    for (int i = 0; i < parts->cnt; i++) {
        int32_t p = parts->elems[i].partition;
        if (p >= 0 && p < e->nparts) {
            set[p] = true;
        }
    }
    e->generation = group_generation(rk);
    /* The committed offsets first: with read_committed the broker answers this OffsetFetch
     * only once no transaction holding offsets for these partitions is still open
     * (require_stable, KIP-447). So a previous owner's last transaction is either committed
     * (and its snapshot is in the state we read next) or aborted before we rebuild; it cannot
     * become visible after our rebuild. */
    rd_kafka_topic_partition_list_t *committed = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t cx = rd_kafka_committed(rk, committed, (int)e->cfg->rebuild_timeout_ms);
    if (cx != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cresc_log(CRESC_LOG_WARNING, LOGC,
                  "Reading committed offsets: %s; assigning from the group's offsets",
                  rd_kafka_err2str(cx));
        rd_kafka_topic_partition_list_destroy(committed);
        committed = NULL;
    } else {
        start_uncommitted_at_beginning(committed);
    }
    /* Services of these partitions held from an earlier assignment are stale by now. */
    for (int32_t p = 0; p < e->nparts; p++) {
        if (set[p]) {
            (void)cresc_services_drop_partition(&e->services, p);
        }
    }
    for (int attempt = 1;; attempt++) {
        int rc = rebuild(e, set, e->generation);
        if (rc == 0 || *e->stop) {
            break;
        }
        cresc_log(CRESC_LOG_WARNING, LOGC, "Rebuilding state failed (%s), attempt %d; retrying",
                  cresc_strerror(rc), attempt);
        for (int32_t p = 0; p < e->nparts; p++) {
            if (set[p]) {
                (void)cresc_services_drop_partition(&e->services, p);
            }
        }
    }
    rd_kafka_resp_err_t x = rd_kafka_assign(rk, committed != NULL ? committed : parts);
    if (committed != NULL) {
        rd_kafka_topic_partition_list_destroy(committed);
    }
    if (x != RD_KAFKA_RESP_ERR_NO_ERROR) {
        cresc_log(CRESC_LOG_ERROR, LOGC, "Assign failed: %s", rd_kafka_err2str(x));
        e->need_reset = true;
    }
    for (int32_t p = 0; p < e->nparts; p++) {
        e->owned[p] = set[p];
    }
    free(set);
    e->busy = true; /* the first empty poll checks for a stalled fetcher (wake_fetchers) */
    count_owned(e);
    cresc_log(CRESC_LOG_INFO, LOGC,
              "Assigned %d partitions (group generation %" PRId64 "), %zu services owned",
              parts->cnt / 2, e->generation, e->services.n);
    atomic_store(&e->stats->ready, true);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct engine *e = opaque;
    e->rebalances++;
    atomic_store(&e->stats->ready, false);
    /* Nothing is ever left uncommitted across a poll; an open transaction here would be a
     * bug, and aborting it is the safe side. */
    txn_abort(e);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        on_assign(e, rk, parts);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            int32_t p = parts->elems[i].partition;
            if (p >= 0 && p < e->nparts && e->owned[p]) {
                e->owned[p] = false;
                size_t k = cresc_services_drop_partition(&e->services, p);
                if (k > 0) {
                    cresc_log(CRESC_LOG_INFO, LOGC,
                              "Partition %" PRId32 " revoked%s: %zu services handed over", p,
                              rd_kafka_assignment_lost(rk) ? " (lost)" : "", k);
                }
            }
        }
    } else {
        cresc_log(CRESC_LOG_WARNING, LOGC, "Rebalance error: %s", rd_kafka_err2str(err));
        cresc_services_clear(&e->services);
        memset(e->owned, 0, (size_t)e->nparts * sizeof(bool));
    }
    (void)rd_kafka_assign(rk, NULL);
    count_owned(e);
    atomic_store(&e->stats->services, (int_fast64_t)e->services.n);
}

/* ---- clients ------------------------------------------------------------------------ */

static int consumer_create(struct engine *e, char *err, size_t errlen)
{
    /* range assigns partition i of both topics to the same member; cooperative-sticky is
       avoided on librdkafka 2.0.2 (known assignor bugs, see docs/coordinator.md) */
    static char k1[] = "partition.assignment.strategy", v1[] = "range";
    static char k2[] = "enable.auto.commit", v2[] = "false";
    static char k3[] = "enable.auto.offset.store", v3[] = "false";
    /* The prefetch buffer bounds memory under a backlog: librdkafka's 64 MiB default let the
       soak's RSS follow the lag up and never give it back. 16 MiB still holds ~45,000 samples,
       seconds of work per tick. */
    static char k4[] = "queued.max.messages.kbytes", v4[] = "16384";
    /* A partition that turns fetchable while a fetch is out (every one, right after an
       assignment) waits for that fetch to return; over empty partitions the broker holds it
       fetch.wait.max.ms, librdkafka's 500 ms by default: a new owner's first samples came
       half a second late. 100 ms bounds that; data arriving still answers a fetch at once. */
    static char k5[] = "fetch.wait.max.ms", v5[] = "100";
    /* k4 and k5 are defaults: a pass-through KAFKA_* setting of the same name wins. */
    struct cresc_kv extra_items[] = {{k1, v1}, {k2, v2}, {k3, v3}, {k4, v4}, {k5, v5}};
    size_t n_extra = 3;
    for (size_t i = 3; i < sizeof(extra_items) / sizeof(extra_items[0]); i++) {
        bool user = false;
        for (size_t j = 0; j < e->props.n; j++) {
            user = user || strcmp(e->props.items[j].key, extra_items[i].key) == 0;
        }
        if (!user) {
            extra_items[n_extra++] = extra_items[i];
        }
    }
    const struct cresc_kv_list extra = {n_extra, extra_items};
    const char *topics[] = {e->topics.samples, e->topics.control};
    struct cresc_consumer_opts co = {
        .kafka = &e->kc,
        .group_id = e->cfg->group_id,
        .topics = topics,
        .n_topics = 2,
        .assign_from_beginning = false,
        .read_committed = true,
        .partition_eof = false,
        .session_timeout_ms = (int)e->cfg->session_timeout_ms,
        .rebalance_cb = on_rebalance,
        .rebalance_opaque = e,
        .extra = &extra,
    };
    int rc = cresc_consumer_new(&co, &e->consumer, err, errlen);
    if (rc == 0) {
        read_prefetch_limits(e);
        consumer_warm_up(e);
    }
    return rc;
}

/* Partition counts of samples and state as this client sees them. Topics created a moment
 * ago reach each broker's metadata cache asynchronously (seen on a three-node cluster: the
 * creating client saw them, the reader's broker not yet), so "not found" is retried until
 * the topic timeout. */
static int topic_partitions_settled(rd_kafka_t *rk, const struct cresc_topics *topics,
                                    int64_t timeout_ms, int *n_samples, int *n_state)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int rc = cresc_kafka_partition_count(rk, topics->samples, (int)timeout_ms, n_samples);
        if (rc == 0) {
            rc = cresc_kafka_partition_count(rk, topics->state, (int)timeout_ms, n_state);
        }
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        int64_t spent_ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (rc != CRESC_ENOTFOUND || spent_ms >= timeout_ms) {
            return rc;
        }
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
}

static int reader_create(struct engine *e, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = NULL;
    char why[512];
    int rc = cresc_kafka_conf_new(&e->kc, &conf, err, errlen);
    if (rc != 0) {
        return rc;
    }
    const char *kv[][2] = {
        {"group.id", e->reader_group},
        {"enable.auto.commit", "false"},
        {"enable.partition.eof", "true"},
        {"isolation.level", "read_committed"},
        {"auto.offset.reset", "earliest"},
        /* an empty state partition answers EOF after the broker's wait: keep it short */
        {"fetch.wait.max.ms", "10"},
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        if (rd_kafka_conf_set(conf, kv[i][0], kv[i][1], why, sizeof(why)) != RD_KAFKA_CONF_OK) {
            (void)snprintf(err, errlen, "state reader: %s", why);
            rd_kafka_conf_destroy(conf);
            return CRESC_EKAFKA;
        }
    }
    e->reader = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof(why));
    if (e->reader == NULL) {
        (void)snprintf(err, errlen, "state reader: %s", why);
        rd_kafka_conf_destroy(conf);
        return CRESC_EKAFKA;
    }
    rd_kafka_poll_set_consumer(e->reader);
    return 0;
}

/* After a failed or fenced transaction: what is in memory may be ahead of what is committed,
 * so it is dropped, the producer recreated if it is broken, and the consumer rejoins the
 * group, which rebuilds the state of whatever it is assigned and resumes from the committed
 * offsets. */
static int reset(struct engine *e, char *err, size_t errlen)
{
    cresc_log(CRESC_LOG_WARNING, LOGC,
              "Dropping in-memory state after a failed transaction; rejoining the group");
    atomic_fetch_add(&e->stats->resets, 1);
    atomic_store(&e->stats->ready, false);
    finish_pending(e); /* with need_reset set: released, not applied */
    txn_abort(e);
    cresc_services_clear(&e->services);
    memset(e->owned, 0, (size_t)e->nparts * sizeof(bool));
    discard_pending(e);
    e->need_reset = false;
    e->offsets_dirty = false;
    waker_join(e);
    consumer_destroy(e);
    cresc_services_clear(&e->services); /* the close may have revoked and rebuilt nothing */
    if (e->producer_broken || producer_fatal(e)) {
        producer_destroy(e);
        int rc = producer_create(e, err, errlen);
        if (rc != 0) {
            return rc;
        }
    }
    return consumer_create(e, err, errlen);
}

/* Messages between the consumer's positions and the high watermarks its last fetches saw,
 * over the whole assignment (published as the consumer_lag metric). */
static int64_t update_lag(struct engine *e)
{
    rd_kafka_t *crk = cresc_consumer_handle(e->consumer);
    rd_kafka_topic_partition_list_t *asg = owned_positions(e);
    int64_t lag = 0;
    for (int i = 0; i < asg->cnt; i++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_get_watermark_offsets(crk, asg->elems[i].topic, asg->elems[i].partition, &lo,
                                           &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi < 0) {
            continue;
        }
        int64_t pos = asg->elems[i].offset >= 0 ? asg->elems[i].offset : lo;
        if (hi > pos) {
            lag += hi - pos;
        }
    }
    rd_kafka_topic_partition_list_destroy(asg);
    atomic_store(&e->stats->consumer_lag, lag);
    return lag;
}

/* Whether to evaluate the urgent services and publish acknowledgements now rather than at the
 * next tick. Acknowledgements go out at once. A threshold crossing goes out at once too,
 * unless the consumer is catching up a backlog (CATCH_UP_LAG messages or more behind, after a
 * restart or a takeover): the crossing sample is then old news, newer samples of the same
 * service are already waiting, and a transaction per crossing would slow the catching up
 * itself; the tick (every TICK_INTERVAL) decides on the newest samples read by then. */
static bool flush_now(struct engine *e)
{
    if (e->need_reset || !(e->flush_needed || e->ack_needed)) {
        return false;
    }
    return e->ack_needed || update_lag(e) < CATCH_UP_LAG;
}

static int setup(struct engine *e, const struct cresc_engine_params *p, char *err, size_t errlen)
{
    const struct cresc_coordinator_config *cfg = p->cfg;
    int rc = cresc_topics_init(&e->topics, cfg->common.topic_prefix);
    if (rc != 0) {
        (void)snprintf(err, errlen, "TOPIC_PREFIX=%s is not a valid topic prefix",
                       cfg->common.topic_prefix);
        return rc;
    }
    rc = cresc_kafka_props_collect(cfg->common.kafka_properties_file, NULL,
                                   cresc_kafka_reserved_env, &e->props, err, errlen);
    if (rc != 0) {
        return rc;
    }
    (void)snprintf(e->client_id, sizeof(e->client_id), "crescendo-coordinator-%s",
                   cfg->coordinator_id);
    (void)snprintf(e->txn_id, sizeof(e->txn_id), "%s-%s", cfg->group_id, cfg->coordinator_id);
    (void)snprintf(e->reader_group, sizeof(e->reader_group), "%s-state-reader-%s", cfg->group_id,
                   cfg->coordinator_id);
    e->kc = (struct cresc_kafka_conf){
        .brokers = cfg->common.kafka_brokers, .client_id = e->client_id, .props = &e->props};
    rc = cresc_kafka_ensure_topics(&e->kc, &e->topics, (int)cfg->partitions, (int)cfg->replication,
                                   (int)cfg->topic_timeout_ms, err, errlen);
    if (rc != 0) {
        return rc;
    }
    rc = reader_create(e, err, errlen);
    if (rc != 0) {
        return rc;
    }
    int n_samples = 0, n_state = 0;
    rc = topic_partitions_settled(e->reader, &e->topics, cfg->topic_timeout_ms, &n_samples,
                                  &n_state);
    if (rc != 0) {
        (void)snprintf(err, errlen, "reading topic metadata: %s", cresc_strerror(rc));
        return rc;
    }
    if (n_samples != n_state || n_samples <= 0) {
        (void)snprintf(
            err, errlen,
            "%s has %d partitions and %s %d: they must be equal (a service's state lives in "
            "the partition of the same number as its samples)",
            e->topics.samples, n_samples, e->topics.state, n_state);
        return CRESC_ECONFLICT;
    }
    e->nparts = n_samples;
    e->owned = calloc((size_t)e->nparts, sizeof(bool));
    e->fetched_from = malloc((size_t)e->nparts * sizeof(int32_t));
    e->waker.parts = calloc((size_t)e->nparts, sizeof(int32_t));
    e->waker.probe = calloc((size_t)e->nparts, sizeof(bool));
    e->waker.empty = calloc((size_t)e->nparts, sizeof(bool));
    if (e->fetched_from != NULL) {
        for (int32_t i = 0; i < e->nparts; i++) {
            e->fetched_from[i] = -1;
        }
    }
    e->buf = malloc((size_t)CRESC_DECISION_MAX_BYTES);
    bool slots_ok = true;
    for (size_t i = 0; i < 2; i++) {
        e->slots[i].msgs = calloc(POLL_BATCH_MAX, sizeof(rd_kafka_message_t *));
        e->slots[i].items = calloc(POLL_BATCH_MAX, sizeof(*e->slots[i].items));
        e->grave[i] = calloc(POLL_BATCH_MAX, sizeof(rd_kafka_message_t *));
        slots_ok = slots_ok && e->slots[i].msgs != NULL && e->slots[i].items != NULL &&
                   e->grave[i] != NULL;
    }
    e->state_jobs = calloc(STATE_CHUNK, sizeof(*e->state_jobs));
    e->state_due = calloc((size_t)cfg->max_services, sizeof(*e->state_due));
    if (e->owned == NULL || e->fetched_from == NULL || e->buf == NULL || !slots_ok ||
        e->waker.parts == NULL || e->waker.probe == NULL || e->waker.empty == NULL ||
        e->state_jobs == NULL || e->state_due == NULL) {
        return CRESC_ENOMEM;
    }
    size_t workers = cfg->decode_threads >= 0 ? (size_t)cfg->decode_threads
                                              : cresc_decode_pool_default_workers();
    rc = cresc_decode_pool_new(workers, &e->decoder);
    if (rc != 0) {
        (void)snprintf(err, errlen, "cannot start %zu decode threads", workers);
        return rc;
    }
    rc = committer_start(e);
    if (rc != 0) {
        (void)snprintf(err, errlen, "cannot start the commit thread");
        return rc;
    }
    rc = cresc_actuator_new(&cfg->actuator, &e->act, err, errlen);
    if (rc != 0) {
        return rc;
    }
    rc = producer_create(e, err, errlen);
    if (rc != 0) {
        return rc;
    }
    return consumer_create(e, err, errlen);
}

static void teardown(struct engine *e)
{
    if (e->act != NULL) {
        if (cresc_actuator_drain(e->act, 5000) != 0) {
            cresc_log(CRESC_LOG_WARNING, LOGC, "Actuator still busy after 5 s: stopping it");
        }
        cresc_actuator_free(e->act);
    }
    /* A batch still being decoded (an error path) and the applied messages not yet released
     * go before their consumer does. */
    if (e->pending != NULL) {
        e->need_reset = true;
    }
    finish_pending(e);
    waker_join(e);
    (void)txn_commit_collect(e, true);
    /* Leaves the group (the revoke callback drops the services) so the partitions move to
     * another coordinator without waiting for the session timeout. */
    consumer_destroy(e);
    if (e->producer != NULL) {
        if (e->txn_open) {
            txn_abort(e);
        }
        producer_destroy(e);
    }
    if (e->reader != NULL) {
        rd_kafka_consumer_close(e->reader);
        rd_kafka_destroy(e->reader);
    }
    cresc_services_release(&e->services);
    cresc_kv_list_release(&e->props);
    cresc_decode_pool_free(e->decoder);
    committer_stop(e);
    free(e->state_jobs);
    free(e->state_due);
    free(e->owned);
    free(e->fetched_from);
    free(e->waker.parts);
    free(e->waker.probe);
    free(e->waker.empty);
    outbox_clear(e);
    free(e->outbox);
    free(e->cmds);
    free(e->buf);
    for (size_t i = 0; i < 2; i++) {
        free(e->slots[i].msgs);
        free(e->slots[i].items);
        free(e->grave[i]);
    }
}

int cresc_engine_run(const struct cresc_engine_params *p, char *err, size_t errlen)
{
    struct engine e;
    memset(&e, 0, sizeof(e));
    e.cfg = p->cfg;
    e.initial = p->initial;
    e.stats = p->stats;
    e.stop = p->stop;
    e.wopts = (struct cresc_window_opts){
        .window_ms = p->cfg->window_ms,
        .ttl_ms = p->cfg->instance_ttl_ms,
        .max_skew_ms = p->cfg->max_skew_ms,
        .max_instances = (size_t)p->cfg->max_instances_per_service,
        .max_values_per_instance = (size_t)p->cfg->max_values_per_instance,
    };
    cresc_services_init(&e.services, (size_t)p->cfg->max_services);
    int rc = setup(&e, p, err, errlen);
    if (rc != 0) {
        teardown(&e);
        return rc;
    }
    cresc_log(CRESC_LOG_INFO, LOGC,
              "Coordinator %s started: group %s, %" PRId32 " partitions, tick %" PRId64
              " ms, actuator %s",
              p->cfg->coordinator_id, p->cfg->group_id, e.nparts, p->cfg->tick_ms,
              cresc_actuator_kind_name(e.act));
    int64_t next_tick = engine_now_ms() + p->cfg->tick_ms;
    while (!*e.stop) {
        if (e.need_reset) {
            rc = reset(&e, err, errlen);
            if (rc != 0) {
                break;
            }
        }
        int64_t now = engine_now_ms();
        if (now >= next_tick) {
            finish_pending(&e); /* a tick commits the consumer's positions */
            tick(&e);
            (void)update_lag(&e);
            next_tick += p->cfg->tick_ms;
            if (next_tick <= now) {
                next_tick = now + p->cfg->tick_ms; /* fell behind: skip, don't burst */
            }
            continue;
        }
        int64_t wait = next_tick - now;
        /* While a commit runs, short polls: its scale actions are logged and handed to the
           actuator as soon as it is done. */
        const int64_t most = e.committing ? COMMITTING_POLL_MS : 100;
        poll_batch(&e, (int)(wait < most ? wait : most));
        if (flush_now(&e)) {
            finish_pending(&e);
            e.flush_needed = false;
            e.ack_needed = false;
            flush_urgent(&e);
        }
        if (txn_commit_collect(&e, false) != CRESC_ETIMEDOUT && !e.committing) {
            rd_kafka_poll(e.producer, 0);
        }
    }
    if (rc == 0) {
        /* SIGTERM: the last tick publishes every owned service's state with the offsets. */
        finish_pending(&e);
        if (!e.need_reset) {
            tick(&e);
            (void)txn_commit_collect(&e, true);
        }
        if (e.need_reset) {
            cresc_log(CRESC_LOG_WARNING, LOGC,
                      "Stopping without the final state: its transaction failed (the next owner "
                      "resumes from the last committed one); leaving the group");
        } else {
            cresc_log(CRESC_LOG_INFO, LOGC, "Stopping: state published, leaving the group");
        }
    }
    teardown(&e);
    return rc;
}
