/* Error codes shared by every crescendo module: 0 is success, failures are negative
 * named codes (as libuv does). Used by the library and all daemons; never printed by the
 * library itself. */
#ifndef CRESC_ERR_H
#define CRESC_ERR_H

#include <stddef.h>

#define CRESC_WUR __attribute__((warn_unused_result))

/* X(name, value, message) */
#define CRESC_ERR_MAP(X)                                       \
    X(ENOMEM, -1, "out of memory")                             \
    X(EINVAL, -2, "invalid argument")                          \
    X(ERANGE, -3, "value out of range")                        \
    X(ETOOBIG, -4, "input exceeds its size limit")             \
    X(EPARSE, -5, "malformed input")                           \
    X(EVERSION, -6, "unsupported schema version")              \
    X(EMISSING, -7, "required field missing")                  \
    X(ETYPE, -8, "field has the wrong type")                   \
    X(EIO, -9, "input/output error")                           \
    X(EKAFKA, -10, "Kafka error")                              \
    X(ETIMEDOUT, -11, "timed out")                             \
    X(ENOTFOUND, -12, "not found")                             \
    X(EFULL, -13, "queue or buffer full")                      \
    X(EFENCED, -14, "fenced by a newer owner")                 \
    X(ESTATE, -15, "operation not valid in the current state") \
    X(EUNSUPPORTED, -16, "not supported")                      \
    X(EHTTP, -17, "HTTP error")                                \
    X(ECONFLICT, -18, "conflicting values")                    \
    X(EREJECTED, -19, "rejected")                              \
    X(EAUTH, -20, "not authorized")

enum cresc_err {
    CRESC_OK = 0,
#define CRESC_ERR_ENUM_(name, value, msg) CRESC_##name = (value),
    CRESC_ERR_MAP(CRESC_ERR_ENUM_)
#undef CRESC_ERR_ENUM_
};

/* The code's symbolic name ("CRESC_EINVAL"), or "CRESC_UNKNOWN"; static storage. */
const char *cresc_err_name(int err);
/* A short human message for the code; static storage. */
const char *cresc_strerror(int err);

/* Write one sentence into a caller's error buffer (the "err, errlen" pair of fallible
 * functions); does nothing when err is NULL or errlen is 0. Always NUL-terminates. */
void cresc_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
