/* Private to libcresc: the steps every message codec (msg_*.c) shares. */
#ifndef CRESC_MSG_INTERNAL_H
#define CRESC_MSG_INTERNAL_H

#include <jansson.h>

#include "cresc/msg.h"
#include "jsonv.h"

/* Wall-clock timestamps on the wire: ms since the epoch, up to the end of year 9999. */
#define CRESC_TS_MAX_MS INT64_C(253402300799999)
#define CRESC_COUNT_MAX 10000 /* instance counts: the max_instances ceiling */

/* The characters of an identifier (cresc_id_valid): [A-Za-z0-9._:-], as a table over bytes
 * (one load per character on the sample decoder's hot path, msg_sample_fast.c). */
extern const unsigned char cresc_id_chars[256];

static inline bool cresc_id_char(char c)
{
    return cresc_id_chars[(unsigned char)c] != 0;
}

/* The calling thread's encode-error record, cleared; encoders point their self-check at it
 * so cresc_msg_encode_error() can say which field was wrong. */
struct cresc_msg_error *cresc_msg_encode_slot(void);

/* Point v's error output at err (which may be NULL). */
void cresc_msg_jsonv_init(struct cresc_jsonv *v, struct cresc_msg_error *err);
/* Size check (before parsing), JSON parse with duplicate keys rejected, must be an object,
 * schema_version 1..CRESC_SCHEMA_VERSION. On success *out is a new reference. */
CRESC_WUR int cresc_msg_parse(struct cresc_jsonv *v, const char *buf, size_t len, size_t max_bytes,
                              json_t **out);
CRESC_WUR int cresc_msg_check_version(struct cresc_jsonv *v, const json_t *root);
/* A new object holding "schema_version". */
json_t *cresc_msg_new_root(int *rc);
/* Dump root (if build_rc is 0) into buf under the limit and release root. */
CRESC_WUR int cresc_msg_finish(json_t *root, int build_rc, char *buf, size_t cap, size_t max_bytes,
                               size_t *len);

/* The disk object {"read_ops_per_s", "write_ops_per_s", "read_bytes_per_s",
 * "write_bytes_per_s"}, each >= 0. */
json_t *cresc_msg_disk_to_json(const double vals[4], int *rc);
CRESC_WUR int cresc_msg_disk_from_json(struct cresc_jsonv *v, const json_t *o, double vals[4]);

/* The decision message's members (shared by scaling.decisions and the state's
 * last_decision). */
CRESC_WUR int cresc_decision_msg_fill(json_t *o, const struct cresc_decision_msg *d);
CRESC_WUR int cresc_decision_msg_from_json_v(struct cresc_jsonv *v, const json_t *o,
                                             struct cresc_decision_msg *out);

#endif
