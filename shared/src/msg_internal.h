/* Private to libcresc: the steps every message codec (msg_*.c) shares. */
#ifndef CRESC_MSG_INTERNAL_H
#define CRESC_MSG_INTERNAL_H

#include <jansson.h>

#include "cresc/msg.h"
#include "jsonv.h"

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

#endif
