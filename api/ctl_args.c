/* crescendoctl's command-line parsing and `config set` value typing (see ctl_args.h). Pure:
 * the environment comes in through a callback, nothing is read or printed here. */
#include "ctl_args.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POSITIONALS_MAX (CRESC_CTL_KV_MAX + 4)

static const char usage_text[] =
    "Usage: crescendoctl [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status                                  current instances, metrics against thresholds\n"
    "  decision                                whether to scale, target, reason, explanation\n"
    "  scale N [--reason TEXT]                 ask for N instances (manual scale)\n"
    "  config get                              the running scaling config\n"
    "  config set KEY=VALUE...                 change only the named fields (dotted keys nest)\n"
    "  priorities list                         matches with priority and allocation\n"
    "  priorities set MATCH PRIORITY ALLOCATION  create or replace a match's priority\n"
    "  priorities delete MATCH                 remove a match's priority\n"
    "  help | version\n"
    "\n"
    "Options (before or after the command):\n"
    "  --api URL          API base URL (env CRESCENDO_API, default " CRESC_CTL_DEFAULT_API ")\n"
    "  --token TOKEN      bearer token (env API_TOKEN)\n"
    "  --token-file PATH  read the bearer token from a file (env API_TOKEN_FILE)\n"
    "  --service NAME     the scaled service (env CRESCENDO_SERVICE, default: the API's)\n"
    "  -o, --output FMT   table (default) or json\n"
    "  --timeout SECONDS  whole-request timeout, e.g. 10, 2.5 or 500ms (default 10)\n"
    "  --reason TEXT      reason recorded with `scale`\n"
    "  -h, --help         this text\n"
    "  -V, --version      print the version\n"
    "\n"
    "Exit codes: 0 success, 1 the API answered with an error, 2 usage error,\n"
    "3 the API could not be reached (connection, DNS, TLS, timeout).\n";

const char *cresc_ctl_usage(void)
{
    return usage_text;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
}

static int copy_bounded(char *dst, size_t cap, const char *src, const char *what, char *err,
                        size_t errlen)
{
    size_t n = strlen(src);
    if (n >= cap) {
        set_err(err, errlen, "%s is too long (limit %zu bytes)", what, cap - 1);
        return CRESC_EINVAL;
    }
    memcpy(dst, src, n + 1);
    return 0;
}

static int parse_int32(const char *s, int32_t *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < INT32_MIN || v > INT32_MAX) {
        return CRESC_EINVAL;
    }
    *out = (int32_t)v;
    return 0;
}

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v)) {
        return CRESC_EINVAL;
    }
    *out = v;
    return 0;
}

/* "10", "2.5", "2.5s", "500ms" -> milliseconds in (0, 1 h]. */
static int parse_timeout(const char *s, int64_t *out_ms)
{
    char buf[64];
    size_t n = strlen(s);
    double scale = 1000.0;
    if (n == 0 || n >= sizeof buf) {
        return CRESC_EINVAL;
    }
    memcpy(buf, s, n + 1);
    if (n > 2 && strcmp(buf + n - 2, "ms") == 0) {
        buf[n - 2] = '\0';
        scale = 1.0;
    } else if (n > 1 && buf[n - 1] == 's') {
        buf[n - 1] = '\0';
    }
    double v;
    if (parse_double(buf, &v) != 0) {
        return CRESC_EINVAL;
    }
    double ms = v * scale;
    if (!(ms >= 1.0) || ms > 3600.0 * 1000.0) {
        return CRESC_EINVAL;
    }
    *out_ms = (int64_t)ms;
    return 0;
}

enum opt_id {
    OPT_API,
    OPT_TOKEN,
    OPT_TOKEN_FILE,
    OPT_SERVICE,
    OPT_OUTPUT,
    OPT_TIMEOUT,
    OPT_REASON,
    OPT_HELP,
    OPT_VERSION,
};

struct opt_def {
    const char *long_name;
    char short_name;
    bool takes_value;
    enum opt_id id;
};

static const struct opt_def opt_defs[] = {
    {"api", 0, true, OPT_API},
    {"token", 0, true, OPT_TOKEN},
    {"token-file", 0, true, OPT_TOKEN_FILE},
    {"service", 0, true, OPT_SERVICE},
    {"output", 'o', true, OPT_OUTPUT},
    {"timeout", 0, true, OPT_TIMEOUT},
    {"reason", 0, true, OPT_REASON},
    {"help", 'h', false, OPT_HELP},
    {"version", 'V', false, OPT_VERSION},
};

/* Find the option `arg` names; *inline_value gets the text after `=` (long) or after the
 * letter (short, e.g. -ojson), NULL if none. */
static const struct opt_def *find_opt(const char *arg, const char **inline_value)
{
    *inline_value = NULL;
    if (arg[1] == '-') {
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        for (size_t i = 0; i < sizeof opt_defs / sizeof opt_defs[0]; i++) {
            if (strlen(opt_defs[i].long_name) == len &&
                strncmp(opt_defs[i].long_name, name, len) == 0) {
                *inline_value = eq ? eq + 1 : NULL;
                return &opt_defs[i];
            }
        }
        return NULL;
    }
    for (size_t i = 0; i < sizeof opt_defs / sizeof opt_defs[0]; i++) {
        if (opt_defs[i].short_name != 0 && arg[1] == opt_defs[i].short_name) {
            if (arg[2] != '\0') {
                if (!opt_defs[i].takes_value) {
                    return NULL;
                }
                *inline_value = arg + 2;
            }
            return &opt_defs[i];
        }
    }
    return NULL;
}

/* A word starting with '-' is an option unless it is "-" or a negative number (so that
 * `scale -1` reaches the API's validation rather than failing as an unknown option). */
static bool looks_like_option(const char *a)
{
    if (a[0] != '-' || a[1] == '\0') {
        return false;
    }
    if ((a[1] >= '0' && a[1] <= '9') || a[1] == '.') {
        return false;
    }
    return true;
}

static int apply_opt(const struct opt_def *def, const char *value, struct cresc_ctl_args *out,
                     bool *reason_given, char *err, size_t errlen)
{
    switch (def->id) {
    case OPT_API:
        if (value[0] == '\0') {
            set_err(err, errlen, "--api needs a URL");
            return CRESC_EINVAL;
        }
        return copy_bounded(out->api_url, sizeof out->api_url, value, "--api", err, errlen);
    case OPT_TOKEN:
        return copy_bounded(out->token, sizeof out->token, value, "--token", err, errlen);
    case OPT_TOKEN_FILE:
        return copy_bounded(out->token_file, sizeof out->token_file, value, "--token-file", err,
                            errlen);
    case OPT_SERVICE:
        return copy_bounded(out->service, sizeof out->service, value, "--service", err, errlen);
    case OPT_OUTPUT:
        if (strcmp(value, "json") == 0) {
            out->output = CRESC_CTL_OUT_JSON;
        } else if (strcmp(value, "table") == 0) {
            out->output = CRESC_CTL_OUT_TABLE;
        } else {
            set_err(err, errlen, "-o/--output must be json or table, not \"%s\"", value);
            return CRESC_EINVAL;
        }
        return 0;
    case OPT_TIMEOUT:
        if (parse_timeout(value, &out->timeout_ms) != 0) {
            set_err(err, errlen,
                    "--timeout must be seconds in (0, 3600] (e.g. 10, 2.5, 500ms), not \"%s\"",
                    value);
            return CRESC_EINVAL;
        }
        return 0;
    case OPT_REASON:
        *reason_given = true;
        return copy_bounded(out->reason, sizeof out->reason, value, "--reason", err, errlen);
    case OPT_HELP:
    case OPT_VERSION:
        break;
    }
    return 0;
}

static int want_args(const char *cmd, size_t got, size_t want, char *err, size_t errlen)
{
    if (got != want) {
        set_err(err, errlen, "%s: wrong number of arguments (see %s)", cmd, "crescendoctl --help");
        return CRESC_EINVAL;
    }
    return 0;
}

/* config get | config set KEY=VALUE... */
static int parse_config(const char *const *pos, size_t n, struct cresc_ctl_args *out, char *err,
                        size_t errlen)
{
    const char *sub = n > 1 ? pos[1] : NULL;
    if (sub && strcmp(sub, "get") == 0) {
        out->cmd = CRESC_CTL_CMD_CONFIG_GET;
        return want_args("config get", n, 2, err, errlen);
    }
    if (sub && strcmp(sub, "set") == 0) {
        out->cmd = CRESC_CTL_CMD_CONFIG_SET;
        if (n < 3) {
            set_err(err, errlen, "config set: give at least one KEY=VALUE");
            return CRESC_EINVAL;
        }
        if (n - 2 > CRESC_CTL_KV_MAX) {
            set_err(err, errlen, "config set: too many KEY=VALUE words");
            return CRESC_EINVAL;
        }
        for (size_t i = 2; i < n; i++) {
            out->kv[out->n_kv++] = pos[i];
        }
        return 0;
    }
    set_err(err, errlen, "config: expected `get` or `set`, not \"%s\"", sub ? sub : "");
    return CRESC_EINVAL;
}

/* priorities list | set MATCH PRIORITY ALLOCATION | delete MATCH */
static int parse_priorities(const char *const *pos, size_t n, struct cresc_ctl_args *out, char *err,
                            size_t errlen)
{
    const char *sub = n > 1 ? pos[1] : NULL;
    if (sub && strcmp(sub, "list") == 0) {
        out->cmd = CRESC_CTL_CMD_PRIO_LIST;
        return want_args("priorities list", n, 2, err, errlen);
    }
    if (sub && strcmp(sub, "set") == 0) {
        out->cmd = CRESC_CTL_CMD_PRIO_SET;
        if (want_args("priorities set", n, 5, err, errlen) != 0 ||
            copy_bounded(out->match_id, sizeof out->match_id, pos[2], "MATCH", err, errlen) != 0) {
            return CRESC_EINVAL;
        }
        if (parse_int32(pos[3], &out->priority) != 0) {
            set_err(err, errlen, "priorities set: PRIORITY must be a whole number, not \"%s\"",
                    pos[3]);
            return CRESC_EINVAL;
        }
        if (parse_double(pos[4], &out->resource_allocation) != 0) {
            set_err(err, errlen, "priorities set: ALLOCATION must be a number, not \"%s\"", pos[4]);
            return CRESC_EINVAL;
        }
        return 0;
    }
    if (sub && strcmp(sub, "delete") == 0) {
        out->cmd = CRESC_CTL_CMD_PRIO_DELETE;
        if (want_args("priorities delete", n, 3, err, errlen) != 0) {
            return CRESC_EINVAL;
        }
        if (pos[2][0] == '\0') {
            set_err(err, errlen, "priorities delete: MATCH is empty");
            return CRESC_EINVAL;
        }
        return copy_bounded(out->match_id, sizeof out->match_id, pos[2], "MATCH", err, errlen);
    }
    set_err(err, errlen, "priorities: expected `list`, `set` or `delete`, not \"%s\"",
            sub ? sub : "");
    return CRESC_EINVAL;
}

static int parse_command(const char *const *pos, size_t n, struct cresc_ctl_args *out, char *err,
                         size_t errlen)
{
    const char *c = pos[0];
    if (strcmp(c, "help") == 0) {
        out->cmd = CRESC_CTL_CMD_HELP;
        return 0;
    }
    if (strcmp(c, "version") == 0) {
        out->cmd = CRESC_CTL_CMD_VERSION;
        return 0;
    }
    if (strcmp(c, "status") == 0) {
        out->cmd = CRESC_CTL_CMD_STATUS;
        return want_args("status", n, 1, err, errlen);
    }
    if (strcmp(c, "decision") == 0) {
        out->cmd = CRESC_CTL_CMD_DECISION;
        return want_args("decision", n, 1, err, errlen);
    }
    if (strcmp(c, "scale") == 0) {
        out->cmd = CRESC_CTL_CMD_SCALE;
        if (want_args("scale", n, 2, err, errlen) != 0) {
            return CRESC_EINVAL;
        }
        if (parse_int32(pos[1], &out->target_instances) != 0) {
            set_err(err, errlen, "scale: N must be a whole number, not \"%s\"", pos[1]);
            return CRESC_EINVAL;
        }
        return 0;
    }
    if (strcmp(c, "config") == 0) {
        return parse_config(pos, n, out, err, errlen);
    }
    if (strcmp(c, "priorities") == 0) {
        return parse_priorities(pos, n, out, err, errlen);
    }
    set_err(err, errlen, "unknown command \"%s\" (see %s)", c, "crescendoctl --help");
    return CRESC_EINVAL;
}

static int apply_env(cresc_ctl_getenv_fn getenv_fn, struct cresc_ctl_args *out, char *err,
                     size_t errlen)
{
    static const struct {
        const char *env;
        size_t offset, cap;
    } vars[] = {
        {"CRESCENDO_API", offsetof(struct cresc_ctl_args, api_url), CRESC_CTL_URL_MAX},
        {"API_TOKEN", offsetof(struct cresc_ctl_args, token), CRESC_CTL_TOKEN_MAX},
        {"API_TOKEN_FILE", offsetof(struct cresc_ctl_args, token_file), CRESC_CTL_PATH_MAX},
        {"CRESCENDO_SERVICE", offsetof(struct cresc_ctl_args, service), CRESC_ID_MAX + 1},
    };
    if (!getenv_fn) {
        return 0;
    }
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv_fn(vars[i].env);
        if (v && v[0] != '\0' &&
            copy_bounded((char *)out + vars[i].offset, vars[i].cap, v, vars[i].env, err, errlen) !=
                0) {
            return CRESC_EINVAL;
        }
    }
    return 0;
}

/* What the option words said, besides the values stored in the args. */
struct opt_seen {
    bool help, version, reason, token, token_file;
};

/* Apply the option at argv[*i] (taking its value from the next word when needed). */
static int handle_option(int argc, char *const *argv, int *i, struct cresc_ctl_args *out,
                         struct opt_seen *seen, char *err, size_t errlen)
{
    const char *a = argv[*i];
    const char *value = NULL;
    const struct opt_def *def = find_opt(a, &value);
    if (!def) {
        set_err(err, errlen, "unknown option \"%s\" (see %s)", a, "crescendoctl --help");
        return CRESC_EINVAL;
    }
    if (def->id == OPT_HELP || def->id == OPT_VERSION) {
        *(def->id == OPT_HELP ? &seen->help : &seen->version) = true;
        return 0;
    }
    if (!value) {
        if (*i + 1 >= argc) {
            set_err(err, errlen, "%s needs a value", a);
            return CRESC_EINVAL;
        }
        value = argv[++*i];
    }
    /* A flag beats the environment: --token clears $API_TOKEN_FILE and vice versa. */
    if (def->id == OPT_TOKEN) {
        seen->token = true;
        if (!seen->token_file) {
            out->token_file[0] = '\0';
        }
    } else if (def->id == OPT_TOKEN_FILE) {
        seen->token_file = true;
        if (!seen->token) {
            out->token[0] = '\0';
        }
    }
    return apply_opt(def, value, out, &seen->reason, err, errlen);
}

/* The checks that need the whole command line. */
static int finish(const struct opt_seen *seen, const char *const *pos, size_t n_pos,
                  struct cresc_ctl_args *out, char *err, size_t errlen)
{
    if (seen->token && seen->token_file) {
        set_err(err, errlen, "give --token or --token-file, not both");
        return CRESC_EINVAL;
    }
    if (seen->help || seen->version) {
        out->cmd = seen->help ? CRESC_CTL_CMD_HELP : CRESC_CTL_CMD_VERSION;
        return 0;
    }
    if (n_pos == 0) {
        set_err(err, errlen, "no command given (see %s)", "crescendoctl --help");
        return CRESC_EINVAL;
    }
    if (parse_command(pos, n_pos, out, err, errlen) != 0) {
        return CRESC_EINVAL;
    }
    if (seen->reason && out->cmd != CRESC_CTL_CMD_SCALE) {
        set_err(err, errlen, "--reason only goes with `scale`");
        return CRESC_EINVAL;
    }
    return 0;
}

int cresc_ctl_args_parse(int argc, char *const *argv, cresc_ctl_getenv_fn getenv_fn,
                         struct cresc_ctl_args *out, char *err, size_t errlen)
{
    const char *pos[POSITIONALS_MAX];
    size_t n_pos = 0;
    bool opts_done = false;
    struct opt_seen seen = {false, false, false, false, false};

    memset(out, 0, sizeof *out);
    memcpy(out->api_url, CRESC_CTL_DEFAULT_API, sizeof CRESC_CTL_DEFAULT_API);
    out->timeout_ms = CRESC_CTL_DEFAULT_TIMEOUT_MS;
    if (apply_env(getenv_fn, out, err, errlen) != 0) {
        return CRESC_EINVAL;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && strcmp(a, "--") == 0) {
            opts_done = true;
        } else if (opts_done || !looks_like_option(a)) {
            if (n_pos >= POSITIONALS_MAX) {
                set_err(err, errlen, "too many arguments");
                return CRESC_EINVAL;
            }
            pos[n_pos++] = a;
        } else if (handle_option(argc, argv, &i, out, &seen, err, errlen) != 0) {
            return CRESC_EINVAL;
        }
    }
    return finish(&seen, pos, n_pos, out, err, errlen);
}

static bool is_integer_text(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+') {
        p++;
    }
    if (*p == '\0') {
        return false;
    }
    for (; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
    }
    return true;
}

int cresc_ctl_value_to_json(const char *text, json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (strcmp(text, "true") == 0) {
        *out = json_true();
    } else if (strcmp(text, "false") == 0) {
        *out = json_false();
    } else if (strcmp(text, "null") == 0) {
        *out = json_null();
    } else if (text[0] == '{' || text[0] == '[' || text[0] == '"') {
        json_error_t jerr;
        *out = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
        if (!*out) {
            set_err(err, errlen, "not valid JSON: %s (%s)", jerr.text, text);
            return CRESC_EPARSE;
        }
        return 0;
    } else if (is_integer_text(text)) {
        char *end = NULL;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno == 0 && *end == '\0') {
            *out = json_integer((json_int_t)v);
        } else {
            *out = json_string(text); /* out of range for an integer: let the API say so */
        }
    } else {
        double d;
        /* strtod also takes "nan", "inf" and hex: only plain decimal text becomes a number. */
        bool plain = strspn(text, "0123456789+-.eE") == strlen(text);
        if (plain && parse_double(text, &d) == 0) {
            *out = json_real(d);
        } else {
            *out = json_string(text);
        }
    }
    return *out ? 0 : CRESC_ENOMEM;
}

/* Put `value` (stolen) at the dotted `key` inside `root`, making objects on the way. */
static int put_dotted(json_t *root, const char *key, json_t *value, char *err, size_t errlen)
{
    char part[256];
    const char *p = key;
    json_t *obj = root;
    int rc = CRESC_EINVAL;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (len == 0 || len >= sizeof part) {
            set_err(err, errlen, "bad key \"%s\": empty or overlong part", key);
            goto out;
        }
        memcpy(part, p, len);
        part[len] = '\0';
        json_t *cur = json_object_get(obj, part);
        if (!dot) {
            if (cur) {
                set_err(err, errlen, "key \"%s\" given twice (or also used as an object)", key);
                goto out;
            }
            if (json_object_set(obj, part, value) != 0) {
                rc = CRESC_ENOMEM;
                goto out;
            }
            rc = 0;
            goto out;
        }
        if (!cur) {
            cur = json_object();
            if (!cur || json_object_set_new(obj, part, cur) != 0) {
                rc = CRESC_ENOMEM;
                goto out;
            }
        } else if (!json_is_object(cur)) {
            set_err(err, errlen, "key \"%s\" conflicts with a value given for a prefix of it", key);
            goto out;
        }
        obj = cur;
        p = dot + 1;
    }
out:
    json_decref(value);
    return rc;
}

int cresc_ctl_kv_to_json(const char *const *kv, size_t n, json_t **out, char *err, size_t errlen)
{
    char key[512];
    int rc = 0;
    json_t *root = json_object();
    *out = NULL;
    if (!root) {
        return CRESC_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(kv[i], '=');
        if (!eq || eq == kv[i]) {
            set_err(err, errlen, "expected KEY=VALUE, not \"%s\"", kv[i]);
            rc = CRESC_EINVAL;
            goto out;
        }
        size_t klen = (size_t)(eq - kv[i]);
        if (klen >= sizeof key) {
            set_err(err, errlen, "key too long in \"%s\"", kv[i]);
            rc = CRESC_EINVAL;
            goto out;
        }
        memcpy(key, kv[i], klen);
        key[klen] = '\0';
        json_t *value = NULL;
        rc = cresc_ctl_value_to_json(eq + 1, &value, err, errlen);
        if (rc != 0) {
            rc = rc == CRESC_ENOMEM ? rc : CRESC_EINVAL;
            goto out;
        }
        rc = put_dotted(root, key, value, err, errlen);
        if (rc != 0) {
            goto out;
        }
    }
    *out = root;
    root = NULL;
out:
    json_decref(root);
    return rc;
}
