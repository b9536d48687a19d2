/* crescendoctl's command line, as pure functions: parse argv (plus the environment, through a
 * lookup callback) into a request description, and turn `config set KEY=VALUE...` words into
 * the partial JSON body of PUT /scaling/config. No I/O, so unit tests drive them directly;
 * api/ctl/main.c does the HTTP (libcurl) and printing. Lives in cresc_api for that reason. */
#ifndef CRESC_CTL_ARGS_H
#define CRESC_CTL_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cresc/err.h"
#include "cresc/limits.h"

/* Exit codes of crescendoctl (docs/cli.md). */
enum cresc_ctl_exit {
    CRESC_CTL_EXIT_OK = 0,
    CRESC_CTL_EXIT_API = 1,     /* the API answered with an error (or an unreadable body) */
    CRESC_CTL_EXIT_USAGE = 2,   /* bad command line: nothing was sent */
    CRESC_CTL_EXIT_CONNECT = 3, /* no answer: connection refused, DNS, TLS, timeout */
};

enum cresc_ctl_cmd {
    CRESC_CTL_CMD_HELP = 0,
    CRESC_CTL_CMD_VERSION,
    CRESC_CTL_CMD_STATUS,
    CRESC_CTL_CMD_DECISION,
    CRESC_CTL_CMD_SCALE,
    CRESC_CTL_CMD_CONFIG_GET,
    CRESC_CTL_CMD_CONFIG_SET,
    CRESC_CTL_CMD_PRIO_LIST,
    CRESC_CTL_CMD_PRIO_SET,
    CRESC_CTL_CMD_PRIO_DELETE,
};

enum cresc_ctl_output {
    CRESC_CTL_OUT_TABLE = 0,
    CRESC_CTL_OUT_JSON = 1,
};

#define CRESC_CTL_DEFAULT_API        "http://127.0.0.1:8080"
#define CRESC_CTL_DEFAULT_TIMEOUT_MS 10000
#define CRESC_CTL_URL_MAX            2048
#define CRESC_CTL_TOKEN_MAX          4096
#define CRESC_CTL_PATH_MAX           4096
#define CRESC_CTL_KV_MAX             64 /* KEY=VALUE words in one `config set` */

/* What the command line asks for. Strings are copies (bounded); `kv` points into argv. */
struct cresc_ctl_args {
    enum cresc_ctl_cmd cmd;
    enum cresc_ctl_output output;
    char api_url[CRESC_CTL_URL_MAX];     /* --api, $CRESCENDO_API, default above */
    char token[CRESC_CTL_TOKEN_MAX];     /* --token, $API_TOKEN; "" = none */
    char token_file[CRESC_CTL_PATH_MAX]; /* --token-file, $API_TOKEN_FILE; "" = none */
    char service[CRESC_ID_MAX + 1];      /* --service, $CRESCENDO_SERVICE; "" = API default */
    int64_t timeout_ms;                  /* --timeout (seconds, or "250ms"), whole request */
    int32_t target_instances;            /* scale N */
    char reason[CRESC_REASON_MAX];       /* scale --reason TEXT */
    char match_id[CRESC_ID_MAX + 1];     /* priorities set|delete MATCH */
    int32_t priority;                    /* priorities set: PRIORITY */
    double resource_allocation;          /* priorities set: ALLOCATION (percent) */
    size_t n_kv;                         /* config set */
    const char *kv[CRESC_CTL_KV_MAX];
};

/* Environment lookup (getenv, or a test's table); returns NULL when unset. */
typedef const char *(*cresc_ctl_getenv_fn)(const char *name);

/* Parse argv[1..argc-1]. Options may come before or after the subcommand; `--` ends them.
 * `getenv_fn` NULL means no environment. Returns 0, or CRESC_EINVAL with one sentence in err
 * (usage error: exit CRESC_CTL_EXIT_USAGE). `--help`/`--version` set cmd HELP/VERSION. */
CRESC_WUR int cresc_ctl_args_parse(int argc, char *const *argv, cresc_ctl_getenv_fn getenv_fn,
                                   struct cresc_ctl_args *out, char *err, size_t errlen);

/* The JSON value a `config set` VALUE stands for (new reference, NULL only on OOM):
 * true/false -> boolean, null -> null, an integer -> integer, another finite number -> real,
 * text starting with `{`, `[` or `"` -> that JSON (CRESC_EPARSE if it is not valid JSON),
 * anything else -> string. */
CRESC_WUR int cresc_ctl_value_to_json(const char *text, json_t **out, char *err, size_t errlen);

/* Build the partial config object from KEY=VALUE words; a dotted KEY (`scale_up.select_policy`)
 * makes nested objects. Errors (CRESC_EINVAL, one sentence in err): no `=`, empty key or key
 * part, a key given twice, a key both a value and an object. *out is a new reference. */
CRESC_WUR int cresc_ctl_kv_to_json(const char *const *kv, size_t n, json_t **out, char *err,
                                   size_t errlen);

/* Usage text for --help (static storage). */
const char *cresc_ctl_usage(void);

#endif
