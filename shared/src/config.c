/* Table-driven daemon configuration: defaults, then environment, then flags, each value parsed
 * by its type and checked against its bounds (see cresc/config.h). Also the Kafka client
 * pass-through (properties file + KAFKA_* variables). Used by every daemon's main.c; it never
 * logs: failures come back as one sentence in the caller's error buffer. */
#include "cresc/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "cresc/log.h"

#ifndef CRESC_VERSION
#define CRESC_VERSION "0.0.0"
#endif

#define CFG_TEXT_MAX   4096          /* longest accepted option value, bytes */
#define PROPS_FILE_MAX (1024 * 1024) /* longest accepted properties file, bytes */
#define PROPS_MAX      512           /* most pass-through properties */
#define ENV_NAME_MAX   256

extern char **environ;

const char *const cresc_log_format_names[] = {"text", "json", NULL};
const char *const cresc_log_level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR", NULL};

/* Kafka-prefixed variables that belong to crescendo or to the broker scripts, not to
 * librdkafka: passing them through would make rd_kafka_conf_set reject an unknown property. */
const char *const cresc_kafka_reserved_env[] = {
    "KAFKA_BROKERS",
    "KAFKA_PROPERTIES_FILE",
    "KAFKA_TOPIC_PREFIX",
    "KAFKA_PARTITIONS",
    "KAFKA_REPLICATION",
    "KAFKA_REPLICATION_FACTOR",
    "KAFKA_VERSION",
    "KAFKA_CACHE",
    "KAFKA_HEAP",
    "KAFKA_START_TIMEOUT",
    "KAFKA_HOME",
    "KAFKA_OPTS",
    "KAFKA_HEAP_OPTS",
    "KAFKA_LOG4J_OPTS",
    "KAFKA_JVM_PERFORMANCE_OPTS",
    "KAFKA_DIR",
    "KAFKA_TIMEOUT_MS",
    NULL,
};

static void *field_ptr(const struct cresc_opt *opt, void *cfg)
{
    return (char *)cfg + opt->offset;
}

static const void *field_cptr(const struct cresc_opt *opt, const void *cfg)
{
    return (const char *)cfg + opt->offset;
}

static bool has_bounds(const struct cresc_opt *opt)
{
    return !(opt->min == 0.0 && opt->max == 0.0);
}

/* The name a user knows the option by: its variable, else its flag. */
static void opt_name(const struct cresc_opt *opt, char *buf, size_t len)
{
    if (opt->env != NULL) {
        snprintf(buf, len, "%s", opt->env);
    } else {
        snprintf(buf, len, "--%s", opt->flag != NULL ? opt->flag : "?");
    }
}

static void describe_range(const struct cresc_opt *opt, char *buf, size_t len)
{
    switch (opt->type) {
    case CRESC_OPT_INT:
        if (has_bounds(opt)) {
            snprintf(buf, len, "an integer in %.0f..%.0f", opt->min, opt->max);
        } else {
            snprintf(buf, len, "an integer");
        }
        return;
    case CRESC_OPT_DOUBLE:
        if (has_bounds(opt)) {
            snprintf(buf, len, "a number in %g..%g", opt->min, opt->max);
        } else {
            snprintf(buf, len, "a finite number");
        }
        return;
    case CRESC_OPT_MS:
        if (has_bounds(opt)) {
            snprintf(buf, len, "a duration in %.0f..%.0f ms (e.g. 250ms, 5s, 2m, 1h)", opt->min,
                     opt->max);
        } else {
            snprintf(buf, len, "a duration (e.g. 250ms, 5s, 2m, 1h)");
        }
        return;
    case CRESC_OPT_BOOL:
        snprintf(buf, len, "one of true, false, 1, 0, yes, no, on, off");
        return;
    case CRESC_OPT_STRING:
        snprintf(buf, len, "a string of %.0f..%.0f bytes", opt->min, opt->max);
        return;
    case CRESC_OPT_ENUM: {
        size_t used = (size_t)snprintf(buf, len, "one of ");
        for (size_t i = 0; opt->choices != NULL && opt->choices[i] != NULL && used < len; i++) {
            used += (size_t)snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "",
                                     opt->choices[i]);
        }
        return;
    }
    }
    snprintf(buf, len, "a value");
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) {
        s[--n] = '\0';
    }
    return s;
}

static int parse_int(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0) {
        return CRESC_EINVAL;
    }
    *out = (int64_t)v;
    return CRESC_OK;
}

static int parse_double(const char *s, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v)) {
        return CRESC_EINVAL;
    }
    *out = v;
    return CRESC_OK;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return CRESC_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return CRESC_OK;
        }
    }
    return CRESC_EINVAL;
}

/* "250ms", "5s", "2m", "1h", "1.5s" or a bare number of milliseconds. */
static int parse_ms(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(v)) {
        return CRESC_EINVAL;
    }
    double mult;
    if (*end == '\0' || strcmp(end, "ms") == 0) {
        mult = 1.0;
    } else if (strcmp(end, "s") == 0) {
        mult = 1000.0;
    } else if (strcmp(end, "m") == 0) {
        mult = 60000.0;
    } else if (strcmp(end, "h") == 0) {
        mult = 3600000.0;
    } else {
        return CRESC_EINVAL;
    }
    double ms = v * mult;
    if (ms != floor(ms) || ms < -9.0e15 || ms > 9.0e15) {
        return CRESC_EINVAL;
    }
    *out = (int64_t)ms;
    return CRESC_OK;
}

static int parse_enum(const struct cresc_opt *opt, const char *s, int *out)
{
    for (int i = 0; opt->choices != NULL && opt->choices[i] != NULL; i++) {
        if (strcasecmp(s, opt->choices[i]) == 0) {
            *out = i;
            return CRESC_OK;
        }
    }
    return CRESC_EINVAL;
}

static bool in_bounds(const struct cresc_opt *opt, double v)
{
    return !has_bounds(opt) || (v >= opt->min && v <= opt->max);
}

int cresc_config_set(const struct cresc_opt *opt, void *cfg, const char *text, const char *source,
                     char *err, size_t errlen)
{
    char name[ENV_NAME_MAX];
    char range[512];
    opt_name(opt, name, sizeof(name));
    const bool secret = (opt->flags & CRESC_OPT_SECRET) != 0;
    const char *shown = secret ? "<secret>" : (text != NULL ? text : "");
    const char *src = source != NULL ? source : "configuration";

    if (text == NULL) {
        if (opt->type == CRESC_OPT_STRING) {
            char **slot = field_ptr(opt, cfg);
            free(*slot);
            *slot = NULL;
            return CRESC_OK;
        }
        text = "0";
    }
    size_t tlen = strnlen(text, CFG_TEXT_MAX + 1);
    if (tlen > CFG_TEXT_MAX) {
        cresc_errf(err, errlen, "invalid %s (from %s): value longer than %d bytes", name, src,
                   CFG_TEXT_MAX);
        return CRESC_ETOOBIG;
    }

    if (opt->type == CRESC_OPT_STRING) {
        if (has_bounds(opt) && ((double)tlen < opt->min || (double)tlen > opt->max)) {
            describe_range(opt, range, sizeof(range));
            cresc_errf(err, errlen, "invalid %s=%s (from %s): expected %s", name, shown, src,
                       range);
            return CRESC_ERANGE;
        }
        char *copy = strdup(text);
        if (copy == NULL) {
            return CRESC_ENOMEM;
        }
        char **slot = field_ptr(opt, cfg);
        free(*slot);
        *slot = copy;
        return CRESC_OK;
    }

    char buf[CFG_TEXT_MAX + 1];
    memcpy(buf, text, tlen + 1);
    const char *t = trim(buf);
    int rc = CRESC_EINVAL;
    bool out_of_range = false;
    switch (opt->type) {
    case CRESC_OPT_INT: {
        int64_t v;
        rc = parse_int(t, &v);
        if (rc == CRESC_OK && !in_bounds(opt, (double)v)) {
            out_of_range = true;
        } else if (rc == CRESC_OK) {
            *(int64_t *)field_ptr(opt, cfg) = v;
        }
        break;
    }
    case CRESC_OPT_MS: {
        int64_t v;
        rc = parse_ms(t, &v);
        if (rc == CRESC_OK && !in_bounds(opt, (double)v)) {
            out_of_range = true;
        } else if (rc == CRESC_OK) {
            *(int64_t *)field_ptr(opt, cfg) = v;
        }
        break;
    }
    case CRESC_OPT_DOUBLE: {
        double v;
        rc = parse_double(t, &v);
        if (rc == CRESC_OK && !in_bounds(opt, v)) {
            out_of_range = true;
        } else if (rc == CRESC_OK) {
            *(double *)field_ptr(opt, cfg) = v;
        }
        break;
    }
    case CRESC_OPT_BOOL: {
        bool v;
        rc = parse_bool(t, &v);
        if (rc == CRESC_OK) {
            *(bool *)field_ptr(opt, cfg) = v;
        }
        break;
    }
    case CRESC_OPT_ENUM: {
        int v;
        rc = parse_enum(opt, t, &v);
        if (rc == CRESC_OK) {
            *(int *)field_ptr(opt, cfg) = v;
        }
        break;
    }
    case CRESC_OPT_STRING:
        break;
    }
    if (rc == CRESC_OK && !out_of_range) {
        return CRESC_OK;
    }
    describe_range(opt, range, sizeof(range));
    if (out_of_range) {
        cresc_errf(err, errlen, "invalid %s=%s (from %s): out of range, expected %s", name, shown,
                   src, range);
        return CRESC_ERANGE;
    }
    cresc_errf(err, errlen, "invalid %s=%s (from %s): expected %s", name, shown, src, range);
    return CRESC_EINVAL;
}

void cresc_config_release(const struct cresc_opt *table, size_t n, void *cfg)
{
    if (table == NULL || cfg == NULL) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (table[i].type == CRESC_OPT_STRING) {
            char **slot = field_ptr(&table[i], cfg);
            free(*slot);
            *slot = NULL;
        }
    }
}

static const struct cresc_opt *find_flag(const struct cresc_opt *table, size_t n, const char *name,
                                         size_t name_len)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].flag != NULL && strlen(table[i].flag) == name_len &&
            strncmp(table[i].flag, name, name_len) == 0) {
            return &table[i];
        }
    }
    return NULL;
}

static void format_value(const struct cresc_opt *opt, const void *cfg, char *buf, size_t len)
{
    const void *p = field_cptr(opt, cfg);
    switch (opt->type) {
    case CRESC_OPT_INT:
    case CRESC_OPT_MS:
        snprintf(buf, len, "%lld", (long long)*(const int64_t *)p);
        return;
    case CRESC_OPT_DOUBLE:
        snprintf(buf, len, "%g", *(const double *)p);
        return;
    case CRESC_OPT_BOOL:
        snprintf(buf, len, "%s", *(const bool *)p ? "true" : "false");
        return;
    case CRESC_OPT_STRING: {
        const char *s = *(char *const *)p;
        snprintf(buf, len, "%s", s != NULL ? s : "");
        return;
    }
    case CRESC_OPT_ENUM: {
        int idx = *(const int *)p;
        const char *s = "";
        for (int i = 0; opt->choices != NULL && opt->choices[i] != NULL; i++) {
            if (i == idx) {
                s = opt->choices[i];
            }
        }
        snprintf(buf, len, "%s", s);
        return;
    }
    }
    buf[0] = '\0';
}

void cresc_config_print(const struct cresc_opt *table, size_t n, const void *cfg, FILE *out)
{
    if (out == NULL) {
        out = stdout;
    }
    char value[CFG_TEXT_MAX + 1];
    for (size_t i = 0; i < n; i++) {
        const struct cresc_opt *opt = &table[i];
        format_value(opt, cfg, value, sizeof(value));
        if ((opt->flags & CRESC_OPT_SECRET) != 0 && value[0] != '\0') {
            snprintf(value, sizeof(value), "<set>");
        }
        if (opt->env != NULL) {
            fprintf(out, "%s=%s\n", opt->env, value);
        } else {
            fprintf(out, "--%s=%s\n", opt->flag != NULL ? opt->flag : "?", value);
        }
    }
}

static const char *type_word(enum cresc_opt_type t)
{
    switch (t) {
    case CRESC_OPT_INT:
        return "N";
    case CRESC_OPT_DOUBLE:
        return "X";
    case CRESC_OPT_BOOL:
        return "BOOL";
    case CRESC_OPT_STRING:
        return "TEXT";
    case CRESC_OPT_ENUM:
        return "NAME";
    case CRESC_OPT_MS:
        return "DURATION";
    }
    return "VALUE";
}

void cresc_config_help(const struct cresc_opt *table, size_t n, const struct cresc_prog *prog,
                       FILE *out)
{
    if (out == NULL) {
        out = stdout;
    }
    fprintf(out, "Usage: %s [options]\n", prog->name);
    if (prog->usage != NULL) {
        fprintf(out, "%s\n", prog->usage);
    }
    if (prog->summary != NULL) {
        fprintf(out, "\n%s\n", prog->summary);
    }
    fprintf(out, "\nEvery option can be given as a flag or as its environment variable;\n"
                 "flags override the environment, which overrides the defaults.\n\nOptions:\n");
    char range[512];
    for (size_t i = 0; i < n; i++) {
        const struct cresc_opt *opt = &table[i];
        if (opt->flag != NULL) {
            fprintf(out, "  --%s %s", opt->flag, type_word(opt->type));
        } else {
            fprintf(out, "  (no flag)");
        }
        if (opt->env != NULL) {
            fprintf(out, "   [env %s]", opt->env);
        }
        fprintf(out, "\n      %s\n", opt->help != NULL ? opt->help : "");
        describe_range(opt, range, sizeof(range));
        const char *def = opt->def != NULL ? opt->def : "(unset)";
        if ((opt->flags & CRESC_OPT_SECRET) != 0 && opt->def != NULL) {
            def = "<set>";
        }
        fprintf(out, "      default: %s; %s\n", def, range);
    }
    fprintf(out, "  --help            print this help and exit\n"
                 "  --version         print the version and exit\n"
                 "  --print-config    print the effective configuration and exit\n");
}

/* Move positional arguments after the options, keeping both in order (GNU getopt style), so
 * options after a positional are still honoured and argv[first_arg..] are the positionals. */
static void permute(int argc, char **argv, const bool *is_pos, int *first_arg)
{
    int w = 1;
    char **tmp = malloc(sizeof(char *) * (size_t)argc);
    if (tmp == NULL) {
        *first_arg = argc;
        return;
    }
    for (int i = 1; i < argc; i++) {
        if (!is_pos[i]) {
            tmp[w++] = argv[i];
        }
    }
    int first = w;
    for (int i = 1; i < argc; i++) {
        if (is_pos[i]) {
            tmp[w++] = argv[i];
        }
    }
    for (int i = 1; i < argc; i++) {
        argv[i] = tmp[i];
    }
    free(tmp);
    *first_arg = first;
}

static int apply_defaults(const struct cresc_opt *table, size_t n, void *cfg, char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].type == CRESC_OPT_STRING) {
            *(char **)field_ptr(&table[i], cfg) = NULL;
            if (table[i].def == NULL) {
                continue;
            }
        }
        int rc = cresc_config_set(&table[i], cfg, table[i].def, "default", err, errlen);
        if (rc != CRESC_OK) {
            return rc;
        }
    }
    return CRESC_OK;
}

static int apply_env(const struct cresc_opt *table, size_t n, void *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (table[i].env == NULL) {
            continue;
        }
        const char *v = getenv(table[i].env);
        /* An empty variable counts as unset: compose files and shells often export VAR= */
        if (v == NULL || v[0] == '\0') {
            continue;
        }
        int rc = cresc_config_set(&table[i], cfg, v, "environment", err, errlen);
        if (rc != CRESC_OK) {
            return rc;
        }
    }
    return CRESC_OK;
}

enum special_flag { SPECIAL_NONE, SPECIAL_HELP, SPECIAL_VERSION, SPECIAL_PRINT };

static int apply_flags(const struct cresc_opt *table, size_t n, void *cfg, int argc, char **argv,
                       bool *is_pos, enum special_flag *special, char *err, size_t errlen)
{
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_pos || strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (!only_pos && strcmp(a, "--") == 0) {
                only_pos = true;
                is_pos[i] = false; /* "--" itself is consumed */
                continue;
            }
            if (!only_pos && a[0] == '-' && a[1] != '\0') {
                cresc_errf(err, errlen, "unknown option %s (see --help)", a);
                return CRESC_EINVAL;
            }
            is_pos[i] = true;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        if (eq == NULL && strcmp(name, "help") == 0) {
            *special = SPECIAL_HELP;
            continue;
        }
        if (eq == NULL && strcmp(name, "version") == 0) {
            if (*special != SPECIAL_HELP) {
                *special = SPECIAL_VERSION;
            }
            continue;
        }
        if (eq == NULL && strcmp(name, "print-config") == 0) {
            if (*special == SPECIAL_NONE) {
                *special = SPECIAL_PRINT;
            }
            continue;
        }
        const struct cresc_opt *opt = find_flag(table, n, name, name_len);
        const char *value = eq != NULL ? eq + 1 : NULL;
        if (opt == NULL && eq == NULL && strncmp(name, "no-", 3) == 0) {
            const struct cresc_opt *b = find_flag(table, n, name + 3, name_len - 3);
            if (b != NULL && b->type == CRESC_OPT_BOOL) {
                opt = b;
                value = "false";
            }
        }
        if (opt == NULL) {
            if (*special == SPECIAL_HELP) {
                continue;
            }
            cresc_errf(err, errlen, "unknown option --%.*s (see --help)", (int)name_len, name);
            return CRESC_EINVAL;
        }
        if (value == NULL && opt->type == CRESC_OPT_BOOL) {
            value = "true";
        }
        if (value == NULL) {
            if (i + 1 >= argc) {
                cresc_errf(err, errlen, "option --%s needs a value (see --help)", opt->flag);
                return CRESC_EINVAL;
            }
            value = argv[++i];
        }
        char src[ENV_NAME_MAX];
        snprintf(src, sizeof(src), "flag --%s", opt->flag);
        int rc = cresc_config_set(opt, cfg, value, src, err, errlen);
        if (rc != CRESC_OK && *special != SPECIAL_HELP) {
            return rc;
        }
    }
    return CRESC_OK;
}

int cresc_config_load(const struct cresc_opt *table, size_t n, void *cfg,
                      const struct cresc_prog *prog, int argc, char **argv, int *first_arg,
                      FILE *out, char *err, size_t errlen)
{
    int rc;
    bool *is_pos = NULL;
    enum special_flag special = SPECIAL_NONE;
    int first = argc > 0 ? argc : 0;
    if (out == NULL) {
        out = stdout;
    }
    if (err != NULL && errlen > 0) {
        err[0] = '\0';
    }

    rc = apply_defaults(table, n, cfg, err, errlen);
    if (rc != CRESC_OK) {
        goto fail;
    }
    rc = apply_env(table, n, cfg, err, errlen);
    if (rc != CRESC_OK) {
        goto fail;
    }
    if (argc > 1) {
        is_pos = calloc((size_t)argc, sizeof(bool));
        if (is_pos == NULL) {
            rc = CRESC_ENOMEM;
            goto fail;
        }
        rc = apply_flags(table, n, cfg, argc, argv, is_pos, &special, err, errlen);
        if (rc != CRESC_OK) {
            goto fail;
        }
        /* A "--" is not a positional: it lands among the options, before first_arg. */
        permute(argc, argv, is_pos, &first);
    }
    switch (special) {
    case SPECIAL_HELP:
        cresc_config_help(table, n, prog, out);
        break;
    case SPECIAL_VERSION:
        /* The library versions matter when reading a bug report (2.0.2 vs 2.8 behave apart). */
        fprintf(out, "%s %s (librdkafka %s, jansson %s)\n", prog->name, CRESC_VERSION,
                rd_kafka_version_str(), JANSSON_VERSION);
        break;
    case SPECIAL_PRINT:
        cresc_config_print(table, n, cfg, out);
        break;
    case SPECIAL_NONE:
        break;
    }
    free(is_pos);
    if (first_arg != NULL) {
        *first_arg = first;
    }
    if (special != SPECIAL_NONE) {
        /* Served: the caller exits, so nothing must stay allocated for leak checkers. */
        cresc_config_release(table, n, cfg);
        return CRESC_CONFIG_EXIT;
    }
    return CRESC_CONFIG_RUN;

fail:
    free(is_pos);
    cresc_config_release(table, n, cfg);
    if (first_arg != NULL) {
        *first_arg = first;
    }
    return rc;
}

/* ---- Kafka pass-through ------------------------------------------------------------------- */

void cresc_kv_list_release(struct cresc_kv_list *list)
{
    if (list == NULL) {
        return;
    }
    for (size_t i = 0; i < list->n; i++) {
        free(list->items[i].key);
        free(list->items[i].value);
    }
    free(list->items);
    list->items = NULL;
    list->n = 0;
}

static int kv_put(struct cresc_kv_list *list, const char *key, const char *value)
{
    for (size_t i = 0; i < list->n; i++) {
        if (strcmp(list->items[i].key, key) == 0) {
            char *v = strdup(value);
            if (v == NULL) {
                return CRESC_ENOMEM;
            }
            free(list->items[i].value);
            list->items[i].value = v;
            return CRESC_OK;
        }
    }
    if (list->n >= PROPS_MAX) {
        return CRESC_EFULL;
    }
    struct cresc_kv *items = realloc(list->items, sizeof(*items) * (list->n + 1));
    if (items == NULL) {
        return CRESC_ENOMEM;
    }
    list->items = items;
    char *k = strdup(key);
    char *v = strdup(value);
    if (k == NULL || v == NULL) {
        free(k);
        free(v);
        return CRESC_ENOMEM;
    }
    list->items[list->n].key = k;
    list->items[list->n].value = v;
    list->n++;
    return CRESC_OK;
}

static int read_props_file(const char *path, struct cresc_kv_list *list, char *err, size_t errlen)
{
    int rc = CRESC_OK;
    char *data = NULL;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        cresc_errf(err, errlen, "cannot open Kafka properties file %s: %s", path, strerror(errno));
        return CRESC_EIO;
    }
    data = malloc(PROPS_FILE_MAX + 1);
    if (data == NULL) {
        rc = CRESC_ENOMEM;
        goto out;
    }
    size_t len = fread(data, 1, PROPS_FILE_MAX + 1, f);
    if (ferror(f)) {
        cresc_errf(err, errlen, "cannot read Kafka properties file %s", path);
        rc = CRESC_EIO;
        goto out;
    }
    if (len > PROPS_FILE_MAX) {
        cresc_errf(err, errlen, "Kafka properties file %s is larger than %d bytes", path,
                   PROPS_FILE_MAX);
        rc = CRESC_ETOOBIG;
        goto out;
    }
    data[len] = '\0';
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == '!') {
            continue;
        }
        /* Java properties syntax: the first '=' or ':' separates key and value. */
        size_t k = strcspn(s, "=:");
        if (s[k] == '\0') {
            cresc_errf(err, errlen, "Kafka properties file %s line %d: expected key=value", path,
                       lineno);
            rc = CRESC_EPARSE;
            goto out;
        }
        s[k] = '\0';
        char *key = trim(s);
        char *value = trim(s + k + 1);
        if (*key == '\0') {
            cresc_errf(err, errlen, "Kafka properties file %s line %d: empty key", path, lineno);
            rc = CRESC_EPARSE;
            goto out;
        }
        rc = kv_put(list, key, value);
        if (rc != CRESC_OK) {
            cresc_errf(err, errlen, "Kafka properties file %s: %s", path, cresc_strerror(rc));
            goto out;
        }
    }
out:
    free(data);
    fclose(f);
    return rc;
}

static bool is_skipped(const char *name, size_t name_len, const char *const *skip)
{
    for (size_t i = 0; skip[i] != NULL; i++) {
        if (strlen(skip[i]) == name_len && strncmp(skip[i], name, name_len) == 0) {
            return true;
        }
    }
    return false;
}

int cresc_kafka_props_collect(const char *path, char **envp, const char *const *skip,
                              struct cresc_kv_list *out, char *err, size_t errlen)
{
    int rc = CRESC_OK;
    out->n = 0;
    out->items = NULL;
    if (skip == NULL) {
        skip = cresc_kafka_reserved_env;
    }
    if (envp == NULL) {
        envp = environ;
    }
    if (path != NULL && path[0] != '\0') {
        rc = read_props_file(path, out, err, errlen);
        if (rc != CRESC_OK) {
            goto fail;
        }
    }
    for (size_t i = 0; envp != NULL && envp[i] != NULL; i++) {
        const char *e = envp[i];
        const char *eq = strchr(e, '=');
        if (strncmp(e, "KAFKA_", 6) != 0 || eq == NULL) {
            continue;
        }
        size_t name_len = (size_t)(eq - e);
        if (name_len <= 6 || name_len >= ENV_NAME_MAX || is_skipped(e, name_len, skip)) {
            continue;
        }
        char key[ENV_NAME_MAX];
        size_t k = 0;
        for (size_t j = 6; j < name_len; j++) {
            char c = e[j];
            key[k++] = c == '_' ? '.' : (char)tolower((unsigned char)c);
        }
        key[k] = '\0';
        rc = kv_put(out, key, eq + 1);
        if (rc != CRESC_OK) {
            cresc_errf(err, errlen, "Kafka pass-through variable %.*s: %s", (int)name_len, e,
                       cresc_strerror(rc));
            goto fail;
        }
    }
    return CRESC_OK;
fail:
    cresc_kv_list_release(out);
    return rc;
}

void cresc_common_apply_logging(const struct cresc_common_config *common)
{
    static const enum cresc_log_level levels[] = {CRESC_LOG_DEBUG, CRESC_LOG_INFO,
                                                  CRESC_LOG_WARNING, CRESC_LOG_ERROR};
    enum cresc_log_level level = CRESC_LOG_INFO;
    if (common->log_level >= 0 && common->log_level < 4) {
        level = levels[common->log_level];
    }
    enum cresc_log_format format = common->log_format == 1 ? CRESC_LOG_JSON : CRESC_LOG_TEXT;
    cresc_log_setup(format, level, NULL);
}
