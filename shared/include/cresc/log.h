/* Logging for every daemon: one line per event on stderr, either the platform's human
 * format `LEVEL:logger:message` or one JSON object per line (LOG_FORMAT=json).
 * The sink and level are process-wide, set once at start; cresc_log is thread-safe. */
#ifndef CRESC_LOG_H
#define CRESC_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

#include "cresc/err.h"

enum cresc_log_level {
    CRESC_LOG_DEBUG = 10,
    CRESC_LOG_INFO = 20,
    CRESC_LOG_WARNING = 30,
    CRESC_LOG_ERROR = 40,
    CRESC_LOG_CRITICAL = 50,
};

enum cresc_log_format {
    CRESC_LOG_TEXT = 0,
    CRESC_LOG_JSON = 1,
};

/* Set format and minimum level. `sink` NULL means stderr; the sink is borrowed and must
 * outlive all logging. Call before starting threads. */
void cresc_log_setup(enum cresc_log_format format, enum cresc_log_level level, FILE *sink);

/* Parse "DEBUG", "INFO", "WARNING" (or "WARN"), "ERROR", "CRITICAL", case-insensitive.
 * Returns 0 or CRESC_EINVAL. */
CRESC_WUR int cresc_log_level_parse(const char *text, enum cresc_log_level *out);
/* "DEBUG", "INFO", ...; static storage. */
const char *cresc_log_level_name(enum cresc_log_level level);

bool cresc_log_enabled(enum cresc_log_level level);

/* Log one event. `logger` is the dotted logger name ("crescendo.coordinator"). The message
 * is cut at 4 KiB; newlines in it are escaped so one event stays one line. */
void cresc_log(enum cresc_log_level level, const char *logger, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cresc_vlog(enum cresc_log_level level, const char *logger, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Rate limiter for "log once per kind": a caller keeps one static `struct cresc_log_once`
 * per kind of event; cresc_log_once logs only the first time (thread-safe) and returns
 * whether it logged. */
struct cresc_log_once {
    atomic_flag _done;
};
#define CRESC_LOG_ONCE_INIT \
    {                       \
        ATOMIC_FLAG_INIT    \
    }
bool cresc_log_once(struct cresc_log_once *once, enum cresc_log_level level, const char *logger,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define CRESC_LOGGER_AGENT       "crescendo.agent"
#define CRESC_LOGGER_COORDINATOR "crescendo.coordinator"
#define CRESC_LOGGER_API         "crescendo.api"
#define CRESC_LOGGER_KAFKA       "crescendo.kafka"
#define CRESC_LOGGER_CONFIG      "crescendo.config"
#define CRESC_LOGGER_CODEC       "crescendo.codec"

#endif
