/* Table-driven daemon configuration (nginx/Redis style): each daemon declares one table of
 * options, each with its environment variable, command-line flag, type, default, bounds and
 * help. Values come from the default, then the environment, then flags; every value is
 * checked against its bounds and a bad one stops the daemon with a message naming the
 * variable, the value and the allowed range. Also collects Kafka client pass-through
 * settings (KAFKA_* variables and a properties file). Used by every daemon's main.c. */
#ifndef CRESC_CONFIG_H
#define CRESC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cresc/err.h"

enum cresc_opt_type {
    CRESC_OPT_INT,    /* int64_t; bounds min..max */
    CRESC_OPT_DOUBLE, /* double; bounds min..max (finite) */
    CRESC_OPT_BOOL,   /* bool; true/false/1/0/yes/no/on/off */
    CRESC_OPT_STRING, /* char * (heap, owned by the config; freed by cresc_config_release);
                         bounds are the length in bytes min..max */
    CRESC_OPT_ENUM,   /* int, index into `choices` */
    CRESC_OPT_MS,     /* int64_t milliseconds; text accepts "250ms", "5s", "2m", "1h" or a bare
                         number of milliseconds; bounds in ms */
};

#define CRESC_OPT_SECRET 0x1u /* never printed (--print-config shows "<set>") */

struct cresc_opt {
    const char *env;  /* environment variable, e.g. "MIN_INSTANCES"; NULL if flag-only */
    const char *flag; /* long flag without dashes, e.g. "min-instances"; NULL if env-only */
    enum cresc_opt_type type;
    size_t offset;              /* offsetof() the value in the daemon's config struct */
    const char *def;            /* default, as text (NULL: unset string / 0) */
    double min, max;            /* bounds, see enum cresc_opt_type */
    const char *const *choices; /* CRESC_OPT_ENUM: NULL-terminated names */
    const char *help;           /* one line */
    unsigned flags;             /* CRESC_OPT_SECRET */
};

struct cresc_prog {
    const char *name;    /* "crescendo-coordinator" */
    const char *summary; /* one line for --help */
    const char *usage;   /* extra usage lines (subcommands, positional args), may be NULL */
};

/* Outcome of cresc_config_load besides errors. */
enum cresc_config_result {
    CRESC_CONFIG_RUN = 0,  /* carry on */
    CRESC_CONFIG_EXIT = 1, /* --help, --version or --print-config was served: exit 0 */
};

/* Fill `cfg` from defaults, environment, then argv flags (`--flag value`, `--flag=value`;
 * bools also `--flag` and `--no-flag`). Handles --help, --version and --print-config by
 * writing to `out` (stdout if NULL) and returning CRESC_CONFIG_EXIT. Positional arguments
 * are left in place: on return *first_arg is the index in argv of the first one (argc if
 * none); options may not follow positionals unless "--" is absent... options after a
 * positional are still parsed. On error returns a negative code and writes one sentence
 * naming the variable/flag, the value and the allowed range into err (once). Strings in cfg
 * are heap copies: call cresc_config_release to free them. */
CRESC_WUR int cresc_config_load(const struct cresc_opt *table, size_t n, void *cfg,
                                const struct cresc_prog *prog, int argc, char **argv,
                                int *first_arg, FILE *out, char *err, size_t errlen);

/* Set one option from text, as the environment or a flag would; same checks and message. */
CRESC_WUR int cresc_config_set(const struct cresc_opt *opt, void *cfg, const char *text,
                               const char *source, char *err, size_t errlen);

/* Print every option as `ENV=value` lines (secrets masked). */
void cresc_config_print(const struct cresc_opt *table, size_t n, const void *cfg, FILE *out);
/* Print --help text: usage, then each option with flag, env, type, default, range, help. */
void cresc_config_help(const struct cresc_opt *table, size_t n, const struct cresc_prog *prog,
                       FILE *out);
/* Free the strings of cfg; the struct itself is the caller's. */
void cresc_config_release(const struct cresc_opt *table, size_t n, void *cfg);

/* Kafka client pass-through: librdkafka properties as key/value pairs. */
struct cresc_kv {
    char *key;
    char *value;
};
struct cresc_kv_list {
    size_t n;
    struct cresc_kv *items; /* heap; owned by the list */
};

/* Collect Kafka client properties: first from the properties file `path` (may be NULL;
 * `key=value` lines, `#` comments), then from environment variables `KAFKA_<NAME>`
 * (`KAFKA_SECURITY_PROTOCOL=SASL_SSL` -> `security.protocol=SASL_SSL`: lower-cased, `_`
 * becomes `.`), except the variables crescendo itself uses (KAFKA_BROKERS,
 * KAFKA_PROPERTIES_FILE, KAFKA_TOPIC_PREFIX...: listed in `skip`, NULL-terminated).
 * `envp` NULL means the process environment. Later sources override earlier ones. */
CRESC_WUR int cresc_kafka_props_collect(const char *path, char **envp, const char *const *skip,
                                        struct cresc_kv_list *out, char *err, size_t errlen);
void cresc_kv_list_release(struct cresc_kv_list *list);

/* Options every daemon shares; embed `struct cresc_common_config common;` in the daemon's
 * config and add CRESC_COMMON_OPTIONS(struct_type, common) rows to its table. */
struct cresc_common_config {
    char *kafka_brokers;         /* KAFKA_BROKERS, default "127.0.0.1:9092" */
    char *topic_prefix;          /* TOPIC_PREFIX, default "scaling." */
    char *kafka_properties_file; /* KAFKA_PROPERTIES_FILE, optional */
    int log_format;              /* LOG_FORMAT: index into cresc_log_format_names */
    int log_level;               /* LOG_LEVEL: index into cresc_log_level_names */
    char *default_service;       /* SERVICE: the scaled service's name, default "music-generator" */
};

extern const char *const cresc_log_format_names[]; /* "text", "json", NULL */
extern const char *const cresc_log_level_names[];  /* "DEBUG", "INFO", "WARNING", "ERROR", NULL */

#define CRESC_COMMON_OPTIONS(type, member)                                                         \
    {"KAFKA_BROKERS",                                                                              \
     "kafka-brokers",                                                                              \
     CRESC_OPT_STRING,                                                                             \
     offsetof(type, member.kafka_brokers),                                                         \
     "127.0.0.1:9092",                                                                             \
     1,                                                                                            \
     4096,                                                                                         \
     NULL,                                                                                         \
     "Kafka bootstrap servers, host:port[,host:port...]",                                          \
     0},                                                                                           \
        {"TOPIC_PREFIX",                                                                           \
         "topic-prefix",                                                                           \
         CRESC_OPT_STRING,                                                                         \
         offsetof(type, member.topic_prefix),                                                      \
         "scaling.",                                                                               \
         0,                                                                                        \
         200,                                                                                      \
         NULL,                                                                                     \
         "Prefix of the crescendo topics",                                                         \
         0},                                                                                       \
        {"KAFKA_PROPERTIES_FILE",                                                                  \
         "kafka-properties-file",                                                                  \
         CRESC_OPT_STRING,                                                                         \
         offsetof(type, member.kafka_properties_file),                                             \
         NULL,                                                                                     \
         0,                                                                                        \
         4096,                                                                                     \
         NULL,                                                                                     \
         "librdkafka properties file (TLS, SASL...); KAFKA_<NAME> variables override it",          \
         0},                                                                                       \
        {"LOG_FORMAT",                                                                             \
         "log-format",                                                                             \
         CRESC_OPT_ENUM,                                                                           \
         offsetof(type, member.log_format),                                                        \
         "text",                                                                                   \
         0,                                                                                        \
         0,                                                                                        \
         cresc_log_format_names,                                                                   \
         "Log format: text (LEVEL:logger:message) or json",                                        \
         0},                                                                                       \
        {"LOG_LEVEL",                                                                              \
         "log-level",                                                                              \
         CRESC_OPT_ENUM,                                                                           \
         offsetof(type, member.log_level),                                                         \
         "INFO",                                                                                   \
         0,                                                                                        \
         0,                                                                                        \
         cresc_log_level_names,                                                                    \
         "Minimum log level",                                                                      \
         0},                                                                                       \
    {                                                                                              \
        "SERVICE", "service", CRESC_OPT_STRING, offsetof(type, member.default_service),            \
            "music-generator", 1, 128, NULL, "Name of the scaled service (the Kafka message key)", \
            0                                                                                      \
    }

/* Apply common.log_format/log_level to the log sink. */
void cresc_common_apply_logging(const struct cresc_common_config *common);

/* Variables the KAFKA_ pass-through must skip (NULL-terminated). */
extern const char *const cresc_kafka_reserved_env[];

#endif
