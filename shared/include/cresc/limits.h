/* Hard limits of the message contract (docs/messages.md). Every buffer and parser in
 * crescendo is bounded by one of these; going past one is an error the caller sees. */
#ifndef CRESC_LIMITS_H
#define CRESC_LIMITS_H

#define CRESC_SCHEMA_VERSION 1

/* Identifiers: service, instance id, node, match id, request id: 1..128 bytes of
 * [A-Za-z0-9._:-]. */
#define CRESC_ID_MAX          128
#define CRESC_REASON_MAX      256 /* free-text reasons, bytes, UTF-8 */
#define CRESC_POLICY_NAME_MAX 64

/* Encoded message size limits, bytes (a decoder rejects a larger buffer). */
#define CRESC_SAMPLE_MAX_BYTES   (16 * 1024)
#define CRESC_CONTROL_MAX_BYTES  (64 * 1024)
#define CRESC_COMMAND_MAX_BYTES  (16 * 1024)
#define CRESC_DECISION_MAX_BYTES (64 * 1024)
#define CRESC_STATE_MAX_BYTES    (900 * 1024)

#define CRESC_POLICIES_MAX      8    /* scaling policies per service */
#define CRESC_RATE_POLICIES_MAX 8    /* behavior rate-limit policies per direction */
#define CRESC_GUARDS_MAX        16   /* guards recorded in one decision */
#define CRESC_HISTORY_MAX       512  /* recommendations / scale events kept per service */
#define CRESC_PRIORITIES_MAX    4096 /* matches with a priority, per service */
#define CRESC_STATE_LIVE_MAX    256  /* live instances listed in a state snapshot */
#define CRESC_ACKS_MAX          256  /* acknowledged request ids kept in a state snapshot */

#endif
