/* Private to libcresc: strict field readers over jansson objects for the message codecs and
 * the scaling config. Each reader checks presence, JSON type and range, and on failure writes
 * the field's JSON path ("policies[1].target") and a sentence once into the caller's buffers. */
#ifndef CRESC_JSONV_H
#define CRESC_JSONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cresc/err.h"
#include "cresc/policy.h"

#define CRESC_JSONV_PATH_MAX 128
/* Significant digits of reals on the wire: 16 prints 0.1 as "0.1" (17 would print
 * 0.10000000000000001) and keeps every value within 1 ulp-ish of the original. */
#define CRESC_JSONV_REAL_DIGITS 16

/* Reader flags. */
#define JV_REQUIRED 0x01u /* absent is an error (CRESC_EMISSING) */
#define JV_NULLABLE 0x02u /* null is the same as absent */
#define JV_LO_OPEN  0x04u /* number range excludes `lo` */
#define JV_HI_OPEN  0x08u /* number range excludes `hi` */
#define JV_ID       0x10u /* string must satisfy cresc_id_valid */
#define JV_NONEMPTY 0x20u /* string must not be empty */

struct cresc_jsonv {
    char *field; /* caller's buffer for the failing path; may be NULL */
    size_t fieldlen;
    char *err; /* caller's buffer for the reason; may be NULL */
    size_t errlen;
    bool failed;
    size_t pathlen;
    char path[CRESC_JSONV_PATH_MAX]; /* prefix of the object being read, "" at the root */
};

void cresc_jsonv_init(struct cresc_jsonv *v, char *field, size_t fieldlen, char *err,
                      size_t errlen);
/* Enter a member ("config") or an element (index) of the current object; returns the
 * previous path length for cresc_jsonv_pop. */
size_t cresc_jsonv_push_key(struct cresc_jsonv *v, const char *key);
size_t cresc_jsonv_push_index(struct cresc_jsonv *v, size_t index);
void cresc_jsonv_pop(struct cresc_jsonv *v, size_t mark);

/* Record a failure on `key` (NULL = the current path itself) and return `code`. Only the
 * first failure is kept. */
int cresc_jsonv_fail(struct cresc_jsonv *v, int code, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Readers: 0 with *found set (when `found` is non-NULL), or a negative cresc_err. On absence
 * (or null with JV_NULLABLE) the output is left untouched. Integers accept integral reals
 * (as JSON Schema does); `lo`/`hi` bound the value. */
CRESC_WUR int cresc_jsonv_int(struct cresc_jsonv *v, const json_t *obj, const char *key,
                              unsigned flags, int64_t lo, int64_t hi, int64_t *out, bool *found);
CRESC_WUR int cresc_jsonv_i32(struct cresc_jsonv *v, const json_t *obj, const char *key,
                              unsigned flags, int32_t lo, int32_t hi, int32_t *out, bool *found);
CRESC_WUR int cresc_jsonv_num(struct cresc_jsonv *v, const json_t *obj, const char *key,
                              unsigned flags, double lo, double hi, double *out, bool *found);
CRESC_WUR int cresc_jsonv_bool(struct cresc_jsonv *v, const json_t *obj, const char *key,
                               unsigned flags, bool *out, bool *found);
/* Copies into out[cap]; a string that does not fit is CRESC_ERANGE. */
CRESC_WUR int cresc_jsonv_str(struct cresc_jsonv *v, const json_t *obj, const char *key,
                              unsigned flags, char *out, size_t cap, bool *found);
/* A string that must be one of names[0..n); *out gets its index. */
CRESC_WUR int cresc_jsonv_enum(struct cresc_jsonv *v, const json_t *obj, const char *key,
                               unsigned flags, const char *const *names, size_t n, int *out,
                               bool *found);
/* Borrowed references; *out is NULL when absent/null. Arrays are limited to `max` items. */
CRESC_WUR int cresc_jsonv_obj(struct cresc_jsonv *v, const json_t *obj, const char *key,
                              unsigned flags, json_t **out);
CRESC_WUR int cresc_jsonv_arr(struct cresc_jsonv *v, const json_t *obj, const char *key,
                              unsigned flags, size_t max, json_t **out);

/* Build helpers. Each keeps the first failure in *rc (CRESC_ENOMEM for a NULL value or a
 * failed insert, CRESC_EINVAL for a non-finite number) and is a no-op once *rc is set;
 * `value` is always stolen. */
void cresc_jsonv_set(json_t *obj, const char *key, json_t *value, int *rc);
void cresc_jsonv_append(json_t *arr, json_t *value, int *rc);
/* A real (int *rc gets CRESC_EINVAL for NaN/inf: JSON cannot carry them). */
json_t *cresc_jsonv_real(double value, int *rc);
/* A real, or null when !present. */
json_t *cresc_jsonv_real_or_null(bool present, double value, int *rc);
/* Serialize compactly into buf[cap] (NUL-terminated) with limit `max_bytes`; CRESC_ETOOBIG
 * if it does not fit. */
CRESC_WUR int cresc_jsonv_dump(const json_t *j, char *buf, size_t cap, size_t max_bytes,
                               size_t *len);

/* Codec pieces shared between scaling_config.c and msg_*.c, reading under v's path. */
CRESC_WUR int cresc_metrics_from_json_v(struct cresc_jsonv *v, const json_t *obj,
                                        struct cresc_metrics *out);
CRESC_WUR int cresc_decision_from_json_v(struct cresc_jsonv *v, const json_t *obj,
                                         struct cresc_decision *out);
/* cresc_scaling_config_apply_json reporting under v's path. */
CRESC_WUR int cresc_scaling_config_apply_json_v(struct cresc_jsonv *v,
                                                struct cresc_scaling_config *cfg,
                                                const json_t *obj);
/* Add the decision's members to `o`; 0 or CRESC_ENOMEM/CRESC_EINVAL. */
CRESC_WUR int cresc_decision_fill_json(json_t *o, const struct cresc_decision *d);

#endif
