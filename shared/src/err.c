/* Names and messages for enum cresc_err. */
#include "cresc/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *cresc_err_name(int err)
{
    switch (err) {
    case CRESC_OK:
        return "CRESC_OK";
#define CRESC_ERR_NAME_(name, value, msg) \
    case (value):                         \
        return "CRESC_" #name;
        CRESC_ERR_MAP(CRESC_ERR_NAME_)
#undef CRESC_ERR_NAME_
    default:
        return "CRESC_UNKNOWN";
    }
}

const char *cresc_strerror(int err)
{
    switch (err) {
    case CRESC_OK:
        return "success";
#define CRESC_ERR_MSG_(name, value, msg) \
    case (value):                        \
        return (msg);
        CRESC_ERR_MAP(CRESC_ERR_MSG_)
#undef CRESC_ERR_MSG_
    default:
        return "unknown error";
    }
}

void cresc_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
