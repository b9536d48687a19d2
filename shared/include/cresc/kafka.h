/* Thin wrapper over librdkafka shared by the daemons: client configuration (bootstrap,
 * pass-through TLS/SASL properties, logs routed to cresc_log), the topic names, idempotent
 * topic creation (Admin API), an idempotent producer with counted delivery reports, and a
 * consumer helper (group subscription or manual assignment from the beginning).
 * Daemons needing more (transactions, rebalance callbacks) use the raw handles. */
#ifndef CRESC_KAFKA_H
#define CRESC_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "cresc/config.h"
#include "cresc/err.h"
#include "cresc/limits.h"

#define CRESC_TOPIC_MAX 256

struct cresc_topics {
    char samples[CRESC_TOPIC_MAX];   /* <prefix>samples */
    char control[CRESC_TOPIC_MAX];   /* <prefix>control */
    char decisions[CRESC_TOPIC_MAX]; /* <prefix>decisions */
    char commands[CRESC_TOPIC_MAX];  /* <prefix>commands */
    char state[CRESC_TOPIC_MAX];     /* <prefix>state (compacted) */
};

/* Fill the names from a prefix ("scaling."). CRESC_EINVAL if the prefix is too long or has
 * characters Kafka does not allow in topic names. */
CRESC_WUR int cresc_topics_init(struct cresc_topics *t, const char *prefix);

/* What every client needs. Borrowed pointers; must outlive the call that uses them. */
struct cresc_kafka_conf {
    const char *brokers;               /* bootstrap.servers */
    const char *client_id;             /* client.id, e.g. "crescendo-agent" */
    const struct cresc_kv_list *props; /* pass-through properties (may be NULL) */
};

/* A new rd_kafka_conf_t with bootstrap.servers, client.id, the pass-through properties,
 * a log callback into cresc_log (logger "crescendo.kafka") and an error callback that logs.
 * The caller owns the result (passes it to rd_kafka_new or destroys it). On a rejected
 * property, err names it. */
CRESC_WUR int cresc_kafka_conf_new(const struct cresc_kafka_conf *kc, rd_kafka_conf_t **out,
                                   char *err, size_t errlen);

/* Create the five topics if missing, with the Admin API: samples, control, decisions, commands
 * and state with `partitions` partitions and `replication` replicas (-1: broker default);
 * state gets cleanup.policy=compact. Existing topics count as success (idempotent at start).
 * Then checks that samples and control have the same partition count (CRESC_ECONFLICT
 * otherwise). Blocks up to timeout_ms. */
CRESC_WUR int cresc_kafka_ensure_topics(const struct cresc_kafka_conf *kc,
                                        const struct cresc_topics *t, int partitions,
                                        int replication, int timeout_ms, char *err, size_t errlen);

/* Partition count of a topic from metadata; CRESC_ENOTFOUND if it does not exist. */
CRESC_WUR int cresc_kafka_partition_count(rd_kafka_t *rk, const char *topic, int timeout_ms,
                                          int *out);

/* ---- producer ------------------------------------------------------------------------- */

struct cresc_producer;

/* Called from cresc_producer_poll/flush on the caller's thread for every message:
 * err is 0 or a negative cresc code; offset is the Kafka offset (-1 if failed). */
typedef void (*cresc_delivery_cb)(void *opaque, void *msg_opaque, int err, int64_t offset);

struct cresc_producer_opts {
    const struct cresc_kafka_conf *kafka;
    const char *transactional_id;  /* NULL: idempotent producer without transactions */
    int message_timeout_ms;        /* 0: librdkafka default (300000) */
    int queue_max_msgs;            /* 0: librdkafka default */
    int linger_ms;                 /* -1: default (5) */
    cresc_delivery_cb on_delivery; /* may be NULL */
    void *opaque;
};

struct cresc_producer_stats {
    uint64_t sent;      /* accepted by cresc_producer_send */
    uint64_t delivered; /* acknowledged by the broker */
    uint64_t failed;    /* delivery failed for good */
};

/* An idempotent producer (enable.idempotence=true, acks=all). Returns 0 or CRESC_EKAFKA with
 * err set. Free with cresc_producer_free (flushes nothing: call flush first). */
CRESC_WUR int cresc_producer_new(const struct cresc_producer_opts *opts,
                                 struct cresc_producer **out, char *err, size_t errlen);
void cresc_producer_free(struct cresc_producer *p);
/* Queue one message (value copied; key may be NULL). Never blocks: CRESC_EFULL when
 * librdkafka's queue is full, CRESC_EKAFKA on a fatal producer error. */
CRESC_WUR int cresc_producer_send(struct cresc_producer *p, const char *topic, const char *key,
                                  const void *value, size_t len, void *msg_opaque);
/* Serve delivery reports; returns how many were served. */
int cresc_producer_poll(struct cresc_producer *p, int timeout_ms);
/* Wait until every queued message is delivered or failed; CRESC_ETIMEDOUT if some remain. */
CRESC_WUR int cresc_producer_flush(struct cresc_producer *p, int timeout_ms);
/* Messages queued and not yet delivered or failed. */
int cresc_producer_outq_len(struct cresc_producer *p);
struct cresc_producer_stats cresc_producer_stats(const struct cresc_producer *p);
/* True once librdkafka reported a fatal error (the producer must be recreated). */
bool cresc_producer_fatal(const struct cresc_producer *p);
rd_kafka_t *cresc_producer_handle(struct cresc_producer *p);

/* ---- consumer ------------------------------------------------------------------------- */

struct cresc_consumer;

struct cresc_consumer_opts {
    const struct cresc_kafka_conf *kafka;
    const char *group_id;      /* consumer group (required by librdkafka even when assigning) */
    const char *const *topics; /* topics to subscribe to (group mode) or assign (all partitions) */
    size_t n_topics;
    bool assign_from_beginning; /* true: no group subscription; assign every partition of the
                                   topics at the beginning (materialized views) */
    bool read_committed;        /* isolation.level=read_committed (default true in librdkafka) */
    bool partition_eof;         /* enable.partition.eof */
    int session_timeout_ms;     /* 0: default */
    /* group mode: rebalance callback; NULL = the helper's default (assign/unassign, incremental
       for cooperative). `rebalance_opaque` is passed through. */
    void (*rebalance_cb)(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque);
    void *rebalance_opaque;
    const struct cresc_kv_list *extra; /* extra consumer properties, may be NULL */
};

CRESC_WUR int cresc_consumer_new(const struct cresc_consumer_opts *opts,
                                 struct cresc_consumer **out, char *err, size_t errlen);
/* Leave the group (rd_kafka_consumer_close) and free. NULL is a no-op. */
void cresc_consumer_free(struct cresc_consumer *c);
/* Next message or event (caller destroys with rd_kafka_message_destroy), NULL on timeout. */
rd_kafka_message_t *cresc_consumer_poll(struct cresc_consumer *c, int timeout_ms);
rd_kafka_t *cresc_consumer_handle(struct cresc_consumer *c);

#endif
