/* Message codecs for every crescendo topic (docs/messages.md, docs/schemas/): encode a struct
 * to JSON and decode JSON with strict validation (types, ranges, required fields, size limit,
 * schema version; unknown extra fields ignored; newer schema versions rejected with a reason).
 * Pure functions over buffers: used by the agent, coordinator, API, tests and fuzz targets. */
#ifndef CRESC_MSG_H
#define CRESC_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cresc/err.h"
#include "cresc/limits.h"
#include "cresc/policy.h"

/* Why a decode failed: the field (JSON path, "" for the whole message) and a sentence. */
struct cresc_msg_error {
    char field[96];
    char reason[CRESC_REASON_MAX];
};

enum cresc_msg_kind {
    CRESC_MSG_SAMPLE = 0,
    CRESC_MSG_CONTROL,
    CRESC_MSG_DECISION,
    CRESC_MSG_COMMAND,
    CRESC_MSG_STATE,
    CRESC_MSG_KIND_COUNT,
};
const char *cresc_msg_kind_name(enum cresc_msg_kind kind); /* "sample", "control", ... */
/* A JSON value's type for error messages: "an object", "a string", "null", ...; "nothing"
 * for NULL (an absent member). */
const char *cresc_json_type_text(const json_t *v);

/* ---- scaling.samples ------------------------------------------------------------------ */

#define CRESC_SAMPLE_HAS_CPU   0x01u
#define CRESC_SAMPLE_HAS_MEM   0x02u
#define CRESC_SAMPLE_HAS_DISK  0x04u
#define CRESC_SAMPLE_HAS_REQ   0x08u /* req_per_s */
#define CRESC_SAMPLE_HAS_CONNS 0x10u /* active_connections */

struct cresc_sample {
    char service[CRESC_ID_MAX + 1];
    char instance_id[CRESC_ID_MAX + 1];
    char node[CRESC_ID_MAX + 1];
    uint64_t seq;        /* per instance, starts at 1, +1 per sample produced */
    int64_t ts_ms;       /* wall clock, ms since the epoch */
    int64_t interval_ms; /* sampling interval */
    uint64_t dropped;    /* samples dropped since the last delivered one */
    unsigned present;    /* CRESC_SAMPLE_HAS_* */
    double cpu_pct;      /* 0..100 */
    double mem_pct;      /* 0..100 */
    double disk_read_ops_per_s, disk_write_ops_per_s;     /* >= 0 */
    double disk_read_bytes_per_s, disk_write_bytes_per_s; /* >= 0 */
    double req_per_s;                                     /* >= 0 */
    double active_connections;                            /* >= 0 */
};

/* Encode into buf (NUL-terminated); *len gets the length without NUL. CRESC_ETOOBIG if it
 * does not fit in cap or CRESC_SAMPLE_MAX_BYTES. */
CRESC_WUR int cresc_sample_encode(const struct cresc_sample *s, char *buf, size_t cap, size_t *len);
/* Strict decode. The common well-formed case is read by a non-allocating one-pass fast path;
 * whatever it is not sure of goes to the jansson decoder below, so both give the same verdict
 * and the same struct (the fuzz target fuzz_msg_sample checks that on every input). */
CRESC_WUR int cresc_sample_decode(const char *buf, size_t len, struct cresc_sample *out,
                                  struct cresc_msg_error *err);
/* The fast path alone (msg_sample_fast.c): true when buf is a well-formed sample of the common
 * shape (known fields only, plain numbers, identifiers without escapes), read into *out exactly
 * as the reference would; false when not sure, which decides nothing. For tests and benchmarks;
 * callers use cresc_sample_decode. */
bool cresc_sample_decode_fast(const char *buf, size_t len, struct cresc_sample *out);
/* The reference decoder (jansson tree, field checks with reasons): what cresc_sample_decode
 * is measured and tested against. */
CRESC_WUR int cresc_sample_decode_reference(const char *buf, size_t len, struct cresc_sample *out,
                                            struct cresc_msg_error *err);

/* ---- scaling.control ------------------------------------------------------------------ */

enum cresc_control_type {
    CRESC_CTL_CONFIG_UPDATE = 0, /* "config_update": `config` is a partial config object */
    CRESC_CTL_SCALE,             /* "scale": target_instances, reason */
    CRESC_CTL_PRIORITY_UPSERT,   /* "priority_upsert": match_id, priority, resource_allocation */
    CRESC_CTL_PRIORITY_DELETE,   /* "priority_delete": match_id */
    CRESC_CTL_PAUSE,             /* "pause" */
    CRESC_CTL_RESUME,            /* "resume" */
};

struct cresc_control {
    char request_id[CRESC_ID_MAX + 1];
    char service[CRESC_ID_MAX + 1];
    enum cresc_control_type type;
    int64_t issued_at_ms;
    json_t *config; /* CONFIG_UPDATE: owned reference (partial config object); else NULL */
    int32_t target_instances;        /* SCALE: 0..10000 */
    char reason[CRESC_REASON_MAX];   /* SCALE: optional, "" if absent */
    char match_id[CRESC_ID_MAX + 1]; /* PRIORITY_* */
    int32_t priority;                /* 1..10 */
    double resource_allocation;      /* (0, 100] */
};

CRESC_WUR int cresc_control_encode(const struct cresc_control *c, char *buf, size_t cap,
                                   size_t *len);
/* On success *out owns `config` (if any): release with cresc_control_release. */
CRESC_WUR int cresc_control_decode(const char *buf, size_t len, struct cresc_control *out,
                                   struct cresc_msg_error *err);
void cresc_control_release(struct cresc_control *c);
const char *cresc_control_type_name(enum cresc_control_type t);

/* ---- scaling.commands ----------------------------------------------------------------- */

struct cresc_scale_command {
    char service[CRESC_ID_MAX + 1];
    char decision_id[CRESC_ID_MAX + 1]; /* "<service>:<owner_epoch>:<decision seq>" */
    int32_t from, to;
    char reason[CRESC_REASON_MAX];
    int64_t config_version;
    int64_t owner_epoch; /* strictly greater for every newer owner of the service */
    int64_t issued_at_ms;
    bool manual;                       /* from POST /scaling/scale */
    char request_id[CRESC_ID_MAX + 1]; /* manual: the API request id, else "" */
};

CRESC_WUR int cresc_command_encode(const struct cresc_scale_command *c, char *buf, size_t cap,
                                   size_t *len);
CRESC_WUR int cresc_command_decode(const char *buf, size_t len, struct cresc_scale_command *out,
                                   struct cresc_msg_error *err);

/* ---- scaling.decisions ---------------------------------------------------------------- */

struct cresc_decision_msg {
    char service[CRESC_ID_MAX + 1];
    char decision_id[CRESC_ID_MAX + 1];
    int64_t evaluated_at_ms; /* wall clock */
    int64_t config_version;
    int64_t owner_epoch;
    struct cresc_metrics metrics;
    int32_t live_instances;
    struct cresc_decision decision; /* target, reason, votes, guards */
};

CRESC_WUR int cresc_decision_msg_encode(const struct cresc_decision_msg *d, char *buf, size_t cap,
                                        size_t *len);
CRESC_WUR int cresc_decision_msg_decode(const char *buf, size_t len, struct cresc_decision_msg *out,
                                        struct cresc_msg_error *err);

/* ---- scaling.state -------------------------------------------------------------------- */

struct cresc_live_instance {
    char instance_id[CRESC_ID_MAX + 1];
    char node[CRESC_ID_MAX + 1];
    int64_t last_seen_ms; /* wall clock of its latest sample */
    uint64_t seq;
    unsigned present; /* CRESC_SAMPLE_HAS_* */
    double cpu_pct, mem_pct, req_per_s, active_connections;
    double disk_read_ops_per_s, disk_write_ops_per_s, disk_read_bytes_per_s, disk_write_bytes_per_s;
};

struct cresc_priority {
    char match_id[CRESC_ID_MAX + 1];
    int32_t priority;                   /* 1..10, 10 most critical */
    double resource_allocation;         /* requested percent of capacity, (0, 100] */
    double allocated_pct;               /* granted, 0..resource_allocation */
    char instance_id[CRESC_ID_MAX + 1]; /* placement by LOAD_BALANCER_STRATEGY, "" if none */
};

enum cresc_ack_status {
    CRESC_ACK_APPLIED = 0,  /* "applied" */
    CRESC_ACK_REJECTED = 1, /* "rejected" */
};

struct cresc_ack {
    char request_id[CRESC_ID_MAX + 1];
    enum cresc_ack_status status;
    char reason[CRESC_REASON_MAX]; /* rejected: why; applied: "" */
    int64_t at_ms;
};

/* Full snapshot of one service (compacted topic, keyed by service). Arrays are heap, owned
 * by the struct: release with cresc_state_release. */
struct cresc_state {
    char service[CRESC_ID_MAX + 1];
    int64_t owner_epoch;
    int64_t state_seq;     /* +1 per snapshot published by one owner */
    int64_t updated_at_ms; /* wall clock */
    int64_t config_version;
    struct cresc_scaling_config config;
    int32_t current_instances;
    bool paused;
    int64_t last_scale_at_ms; /* wall clock of the last scale event, 0 if never */
    int64_t cooldown_remaining_ms;
    struct cresc_metrics metrics; /* aggregates of the live instances */
    double active_connections_total;
    double disk_read_ops_per_s, disk_write_ops_per_s, disk_read_bytes_per_s,
        disk_write_bytes_per_s; /* totals */
    int32_t live_total;         /* live instances (the list may be cut at CRESC_STATE_LIVE_MAX) */
    size_t n_live;
    struct cresc_live_instance *live;
    bool has_last_decision;
    struct cresc_decision_msg last_decision;
    size_t n_recs;
    struct cresc_recommendation *recs; /* history, oldest first, wall-clock at_ms */
    size_t n_events;
    struct cresc_scale_event *events;
    double capacity_pct; /* capacity available to matches, percent */
    size_t n_priorities;
    struct cresc_priority *priorities; /* sorted by match_id */
    size_t n_acks;
    struct cresc_ack *acks;                 /* newest last */
    char actuator[32];                      /* "none", "kubernetes", "webhook", "exec" */
    char actuator_status[CRESC_REASON_MAX]; /* "ok" or the last error */
};

void cresc_state_init(struct cresc_state *st); /* zero + config defaults */
void cresc_state_release(struct cresc_state *st);
/* Encode to a heap string (caller frees with free()); CRESC_ETOOBIG past
 * CRESC_STATE_MAX_BYTES. */
CRESC_WUR int cresc_state_encode(const struct cresc_state *st, char **out, size_t *len);
/* On success *out owns its arrays (release with cresc_state_release). */
CRESC_WUR int cresc_state_decode(const char *buf, size_t len, struct cresc_state *out,
                                 struct cresc_msg_error *err);
/* The same as JSON objects (new reference), for the API's responses. */
json_t *cresc_state_to_json(const struct cresc_state *st);

/* ---- rejected-message accounting ------------------------------------------------------ */

/* Count a message that failed to decode and log it once per kind (WARNING, naming the
 * field and reason); thread-safe. */
void cresc_msg_reject(enum cresc_msg_kind kind, const struct cresc_msg_error *err);
uint64_t cresc_msg_rejected_count(enum cresc_msg_kind kind);

/* Added by the message-contract work: after an encoder failed with CRESC_EINVAL, ERANGE,
 * EMISSING, ETYPE or ETOOBIG, which field broke the contract and why (the encoders run the
 * decoders' checks on what they build). Per thread; valid until the thread's next encode. */
const struct cresc_msg_error *cresc_msg_encode_error(void);

/* Identifier rule shared by all messages: 1..CRESC_ID_MAX bytes of [A-Za-z0-9._:-]. */
bool cresc_id_valid(const char *s);

#endif
