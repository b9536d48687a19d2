/* The log sink: formats one event per line, text or JSON, under one mutex so lines from
 * librdkafka/libmicrohttpd threads never interleave. The JSON form is built with jansson. */
#include "cresc/log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LOG_MSG_MAX 4096

static enum cresc_log_format g_format = CRESC_LOG_TEXT;
static atomic_int g_level = CRESC_LOG_INFO;
static FILE *g_sink;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void cresc_log_setup(enum cresc_log_format format, enum cresc_log_level level, FILE *sink)
{
    g_format = format;
    atomic_store(&g_level, (int)level);
    g_sink = sink;
}

static const struct {
    const char *name;
    enum cresc_log_level level;
} level_names[] = {
    {"DEBUG", CRESC_LOG_DEBUG},  {"INFO", CRESC_LOG_INFO},   {"WARNING", CRESC_LOG_WARNING},
    {"WARN", CRESC_LOG_WARNING}, {"ERROR", CRESC_LOG_ERROR}, {"CRITICAL", CRESC_LOG_CRITICAL},
};

int cresc_log_level_parse(const char *text, enum cresc_log_level *out)
{
    if (text == NULL) {
        return CRESC_EINVAL;
    }
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcasecmp(text, level_names[i].name) == 0) {
            *out = level_names[i].level;
            return CRESC_OK;
        }
    }
    return CRESC_EINVAL;
}

const char *cresc_log_level_name(enum cresc_log_level level)
{
    switch (level) {
    case CRESC_LOG_DEBUG:
        return "DEBUG";
    case CRESC_LOG_INFO:
        return "INFO";
    case CRESC_LOG_WARNING:
        return "WARNING";
    case CRESC_LOG_ERROR:
        return "ERROR";
    case CRESC_LOG_CRITICAL:
        return "CRITICAL";
    }
    return "INFO";
}

bool cresc_log_enabled(enum cresc_log_level level)
{
    return (int)level >= atomic_load(&g_level);
}

/* Replace control characters so one event is one line in the text format. */
static void flatten(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '\n' || *s == '\r' || *s == '\t') {
            *s = ' ';
        }
    }
}

static void emit_json(FILE *out, enum cresc_log_level level, const char *logger, const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *o =
        json_pack("{s:I,s:s,s:s,s:s}", "ts_ms", (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000,
                  "level", cresc_log_level_name(level), "logger", logger, "message", msg);
    char *line = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
    if (line != NULL) {
        fprintf(out, "%s\n", line);
    } else {
        fprintf(out, "%s:%s:%s\n", cresc_log_level_name(level), logger, msg);
    }
    free(line);
    json_decref(o);
}

void cresc_vlog(enum cresc_log_level level, const char *logger, const char *fmt, va_list ap)
{
    if (!cresc_log_enabled(level)) {
        return;
    }
    char msg[LOG_MSG_MAX];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    FILE *out = g_sink != NULL ? g_sink : stderr;
    pthread_mutex_lock(&g_lock);
    if (g_format == CRESC_LOG_JSON) {
        emit_json(out, level, logger, msg);
    } else {
        flatten(msg);
        fprintf(out, "%s:%s:%s\n", cresc_log_level_name(level), logger, msg);
    }
    fflush(out);
    pthread_mutex_unlock(&g_lock);
}

void cresc_log(enum cresc_log_level level, const char *logger, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cresc_vlog(level, logger, fmt, ap);
    va_end(ap);
}

bool cresc_log_once(struct cresc_log_once *once, enum cresc_log_level level, const char *logger,
                    const char *fmt, ...)
{
    if (atomic_flag_test_and_set(&once->_done)) {
        return false;
    }
    va_list ap;
    va_start(ap, fmt);
    cresc_vlog(level, logger, fmt, ap);
    va_end(ap);
    return true;
}
