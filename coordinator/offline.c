/* `crescendo-coordinator evaluate` and `replay` (offline.h): JSON in, decisions out, through
 * the same pure core the running coordinator uses (cresc_window, cresc_policy_evaluate), so
 * what a user tries offline is what the service would do. No Kafka, no clock. */
#include "offline.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cresc/limits.h"
#include "cresc/msg.h"
#include "cresc/policy.h"
#include "cresc/window.h"

#define EVAL_INPUT_MAX_BYTES ((size_t)1024 * 1024)
#define PROG                 "crescendo-coordinator"

/* ---- small JSON readers that name the field on failure -------------------------------- */

struct field_err {
    char field[128];
    char msg[CRESC_REASON_MAX];
};

static int ferr(struct field_err *e, const char *field, const char *msg)
{
    snprintf(e->field, sizeof(e->field), "%s", field);
    snprintf(e->msg, sizeof(e->msg), "%s", msg);
    return CRESC_EINVAL;
}

/* An integer member in [lo, hi]; absent: *out keeps its value unless `required`. */
static int get_int(const json_t *obj, const char *key, const char *path, bool required, int64_t lo,
                   int64_t hi, int64_t *out, struct field_err *e)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        return required ? ferr(e, path, "required field missing") : 0;
    }
    if (!json_is_integer(v)) {
        return ferr(e, path, "must be an integer");
    }
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) {
        char m[96];
        snprintf(m, sizeof(m), "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", (int64_t)x,
                 lo, hi);
        return ferr(e, path, m);
    }
    *out = (int64_t)x;
    return 0;
}

/* Reads array `key` of history: each element an object of integer fields `names` (the first
 * is at_ms, the others instance counts 0..10000) into rows of vals. */
static int read_rows(const json_t *h, const char *key, const char *const *names, size_t n_names,
                     int64_t (*vals)[3], size_t *n_rows, struct field_err *e)
{
    char p[128];
    *n_rows = 0;
    const json_t *a = json_object_get(h, key);
    if (!a || json_is_null(a)) {
        return 0;
    }
    snprintf(p, sizeof(p), "history.%s", key);
    if (!json_is_array(a)) {
        return ferr(e, p, "must be an array");
    }
    if (json_array_size(a) > CRESC_HISTORY_MAX) {
        return ferr(e, p, "more entries than the limit (512)");
    }
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *o = json_array_get(a, i);
        if (!json_is_object(o)) {
            snprintf(p, sizeof(p), "history.%s[%zu]", key, i);
            return ferr(e, p, "must be an object");
        }
        for (size_t f = 0; f < n_names; f++) {
            snprintf(p, sizeof(p), "history.%s[%zu].%s", key, i, names[f]);
            int64_t lo = f == 0 ? INT64_MIN / 2 : 0, hi = f == 0 ? INT64_MAX / 2 : 10000;
            if (get_int(o, names[f], p, true, lo, hi, &vals[i][f], e) < 0) {
                return CRESC_EINVAL;
            }
        }
        (*n_rows)++;
    }
    return 0;
}

static int read_history(const json_t *h, struct cresc_recommendation *recs, size_t *n_recs,
                        struct cresc_scale_event *evs, size_t *n_evs, struct field_err *e)
{
    static const char *const rec_names[] = {"at_ms", "instances"};
    static const char *const ev_names[] = {"at_ms", "from", "to"};
    static int64_t rows[CRESC_HISTORY_MAX][3];
    *n_recs = 0;
    *n_evs = 0;
    if (!h || json_is_null(h)) {
        return 0;
    }
    if (!json_is_object(h)) {
        return ferr(e, "history", "must be an object");
    }
    size_t n = 0;
    if (read_rows(h, "recommendations", rec_names, 2, rows, &n, e) < 0) {
        return CRESC_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        recs[i] = (struct cresc_recommendation){rows[i][0], (int32_t)rows[i][1]};
    }
    *n_recs = n;
    if (read_rows(h, "scale_events", ev_names, 3, rows, &n, e) < 0) {
        return CRESC_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        evs[i] = (struct cresc_scale_event){rows[i][0], (int32_t)rows[i][1], (int32_t)rows[i][2]};
    }
    *n_evs = n;
    return 0;
}

/* The config: defaults, then the given (possibly partial) object, validated as a whole. */
static int read_config(const json_t *c, const char *prefix, struct cresc_scaling_config *cfg,
                       struct field_err *e)
{
    cresc_scaling_config_defaults(cfg);
    if (!c || json_is_null(c)) {
        return 0;
    }
    if (!json_is_object(c)) {
        return ferr(e, prefix[0] ? prefix : "config", "must be an object");
    }
    char field[96] = "", msg[CRESC_REASON_MAX] = "";
    if (cresc_scaling_config_apply_json(cfg, c, field, sizeof(field), msg, sizeof(msg)) < 0) {
        char p[128];
        if (prefix[0] && field[0]) {
            snprintf(p, sizeof(p), "%s.%s", prefix, field);
        } else {
            snprintf(p, sizeof(p), "%s", prefix[0] ? prefix : field);
        }
        return ferr(e, p, msg[0] ? msg : "invalid");
    }
    return 0;
}

/* ---- evaluate ------------------------------------------------------------------------- */

static int read_all(FILE *in, char **buf, size_t *len)
{
    size_t cap = (size_t)64 * 1024, n = 0;
    char *b = malloc(cap);
    if (!b) {
        return CRESC_ENOMEM;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= EVAL_INPUT_MAX_BYTES) {
                free(b);
                return CRESC_ETOOBIG;
            }
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                return CRESC_ENOMEM;
            }
            b = nb;
        }
        size_t got = fread(b + n, 1, cap - n, in);
        n += got;
        if (got == 0) {
            if (ferror(in)) {
                free(b);
                return CRESC_EIO;
            }
            break;
        }
    }
    *buf = b;
    *len = n;
    return 0;
}

/* Everything `evaluate` reads; large, so static storage in the caller. */
struct eval_parsed {
    struct cresc_scaling_config cfg;
    struct cresc_recommendation recs[CRESC_HISTORY_MAX];
    struct cresc_scale_event evs[CRESC_HISTORY_MAX];
    struct cresc_eval_input in;
};

static int parse_metrics(const json_t *mj, struct cresc_metrics *m, struct field_err *fe)
{
    memset(m, 0, sizeof(*m));
    if (!mj || json_is_null(mj)) {
        return 0;
    }
    char field[96] = "", msg[CRESC_REASON_MAX] = "";
    if (cresc_metrics_from_json(mj, m, field, sizeof(field), msg, sizeof(msg)) < 0) {
        char p[128] = "metrics";
        if (field[0]) {
            snprintf(p, sizeof(p), "metrics.%s", field);
        }
        return ferr(fe, p, msg);
    }
    return 0;
}

static int parse_eval_input(const json_t *root, struct eval_parsed *ep, struct field_err *fe)
{
    int64_t now_ms = 0, current = 0;
    size_t n_recs = 0, n_evs = 0;
    struct cresc_metrics m;
    const json_t *pj = json_object_get(root, "paused");
    if (get_int(root, "now_ms", "now_ms", false, INT64_MIN / 2, INT64_MAX / 2, &now_ms, fe) < 0 ||
        get_int(root, "current_instances", "current_instances", true, 0, 10000, &current, fe) < 0 ||
        read_config(json_object_get(root, "config"), "config", &ep->cfg, fe) < 0 ||
        read_history(json_object_get(root, "history"), ep->recs, &n_recs, ep->evs, &n_evs, fe) <
            0 ||
        parse_metrics(json_object_get(root, "metrics"), &m, fe) < 0) {
        return CRESC_EINVAL;
    }
    if (pj && !json_is_boolean(pj)) {
        return ferr(fe, "paused", "must be true or false");
    }
    ep->in = (struct cresc_eval_input){
        .now_ms = now_ms,
        .current_instances = (int32_t)current,
        .config = &ep->cfg,
        .metrics = m,
        .history = {n_recs, ep->recs, n_evs, ep->evs},
        .paused = pj && json_is_true(pj),
    };
    return 0;
}

/* The decision plus the metrics it used, pretty-printed. Returns the exit status. */
static int print_decision(const struct cresc_decision *d, const struct cresc_metrics *m, FILE *out,
                          FILE *err)
{
    int status = 1;
    json_t *dj = cresc_decision_to_json(d);
    if (!dj || json_object_set_new(dj, "metrics", cresc_metrics_to_json(m)) < 0) {
        fprintf(err, PROG " evaluate: out of memory\n");
        goto out;
    }
    if (json_dumpf(dj, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)) == 0 &&
        fputc('\n', out) != EOF && fflush(out) == 0) {
        status = 0;
    }
out:
    json_decref(dj);
    return status;
}

int cresc_offline_evaluate(FILE *in, FILE *out, FILE *err)
{
    static struct eval_parsed ep;
    int status = 2;
    char *buf = NULL;
    size_t len = 0;
    json_t *root = NULL;
    struct field_err fe = {"", ""};
    json_error_t jerr;

    int rc = read_all(in, &buf, &len);
    if (rc < 0) {
        if (rc == CRESC_ETOOBIG) {
            fprintf(err, PROG " evaluate: input larger than %zu bytes\n", EVAL_INPUT_MAX_BYTES);
        } else {
            fprintf(err, PROG " evaluate: cannot read stdin: %s\n", cresc_strerror(rc));
            status = 1;
        }
        goto out;
    }
    root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        fprintf(err, PROG " evaluate: invalid JSON at line %d column %d: %s\n", jerr.line,
                jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        fprintf(err, PROG " evaluate: the input must be a JSON object\n");
        goto out;
    }
    if (parse_eval_input(root, &ep, &fe) < 0) {
        fprintf(err, PROG " evaluate: bad input: %s: %s\n", fe.field, fe.msg);
        goto out;
    }
    struct cresc_decision d;
    rc = cresc_policy_evaluate(&ep.in, &d);
    if (rc < 0) {
        fprintf(err, PROG " evaluate: %s\n", cresc_strerror(rc));
        goto out;
    }
    status = print_decision(&d, &ep.in.metrics, out, err);
out:
    json_decref(root);
    free(buf);
    return status;
}

/* ---- replay --------------------------------------------------------------------------- */

#define REPLAY_USAGE                                                                             \
    "usage: " PROG " replay [OPTIONS] TRACE.jsonl\n"                                             \
    "Runs recorded samples (the scaling.samples message format, one JSON object per line)\n"     \
    "through the decision core in simulated time: the clock is the samples' ts_ms. Prints one\n" \
    "decision per evaluation (JSON lines) and a final {\"summary\": ...} line. Scale actions\n"  \
    "are assumed to take effect at once; the recorded load does not react to them.\n"            \
    "\n"                                                                                         \
    "  --config FILE            scaling config, the JSON of GET /scaling/config (partial is\n"   \
    "                           fine: defaults fill the rest); default: the defaults\n"          \
    "  --tick-ms N              evaluate every N ms of sample time (default 1000)\n"             \
    "  --window-ms N            per-instance averaging window (default 30000; 0: latest)\n"      \
    "  --ttl-ms N               an instance with no sample for N ms is gone (default 30000)\n"   \
    "  --initial-instances N    instance count at the start (default: min_instances)\n"          \
    "  --service NAME           replay this service only (default: the first sample's)\n"        \
    "  --max-gap-ms N           samples further than N ms ahead of the simulated clock are\n"    \
    "                           rejected as skewed (default 86400000)\n"                         \
    "  --flap-window-s N        a direction reversal within N s is a flap (default 600)\n"       \
    "  --paused                 replay with automatic scaling paused\n"                          \
    "  --summary-only           print only the summary line\n"                                   \
    "  -h, --help               this text\n"                                                     \
    "Exit status: 0 done (malformed lines are counted in the summary), 1 unreadable file,\n"     \
    "2 bad usage or config.\n"

struct replay_opts {
    const char *config_path;
    const char *trace_path;
    const char *service;
    int64_t tick_ms, window_ms, ttl_ms, max_gap_ms, flap_window_s;
    int64_t initial;
    bool paused, summary_only;
};

/* Policy bookkeeping for "time above each threshold". */
struct above {
    char policy[CRESC_POLICY_NAME_MAX + 1];
    enum cresc_metric metric;
    enum cresc_policy_mode mode;
    double threshold;
    int64_t above_ms;
};

struct replay {
    struct replay_opts o;
    struct cresc_scaling_config cfg;
    struct cresc_window *win;
    char service[CRESC_ID_MAX + 1];
    int32_t current;
    /* history, pruned to what the engine can still use */
    struct cresc_recommendation *recs;
    size_t n_recs, cap_recs;
    struct cresc_scale_event *evs;
    size_t n_evs, cap_evs;
    /* counters */
    uint64_t lines, samples, accepted, malformed, duplicates, skewed, full, other_service;
    uint64_t evaluations, ups, downs, flaps;
    int64_t first_ts, clock_ms, next_tick;
    bool have_clock;
    int32_t min_seen, max_seen;
    enum cresc_direction last_dir;
    int64_t last_event_at;
    size_t n_above;
    struct above above[CRESC_POLICIES_MAX];
};

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    if (!s || !*s) {
        return CRESC_EINVAL;
    }
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < lo || v > hi) {
        return CRESC_EINVAL;
    }
    *out = v;
    return 0;
}

struct num_opt {
    const char *name;
    size_t off;
    int64_t lo, hi;
};

static const struct num_opt num_opts[] = {
    {"--tick-ms", offsetof(struct replay_opts, tick_ms), 1, 86400000},
    {"--window-ms", offsetof(struct replay_opts, window_ms), 0, 86400000},
    {"--ttl-ms", offsetof(struct replay_opts, ttl_ms), 1, 864000000},
    {"--max-gap-ms", offsetof(struct replay_opts, max_gap_ms), 1, 31536000000},
    {"--flap-window-s", offsetof(struct replay_opts, flap_window_s), 0, 86400},
    {"--initial-instances", offsetof(struct replay_opts, initial), 0, 10000},
};

static bool opt_is(const char *a, size_t nlen, const char *name)
{
    return nlen == strlen(name) && strncmp(a, name, nlen) == 0;
}

/* One option that takes a value (`a` is "--name" or "--name=..."; its name is nlen long).
 * Returns 0, or 2 after printing the usage error. */
static int set_option(struct replay_opts *o, const char *a, size_t nlen, const char *val, FILE *err)
{
    if (!val) {
        fprintf(err, PROG " replay: %.*s needs a value\n", (int)nlen, a);
        return 2;
    }
    if (opt_is(a, nlen, "--config")) {
        o->config_path = val;
        return 0;
    }
    if (opt_is(a, nlen, "--service")) {
        o->service = val;
        return 0;
    }
    for (size_t k = 0; k < sizeof(num_opts) / sizeof(num_opts[0]); k++) {
        const struct num_opt *n = &num_opts[k];
        if (opt_is(a, nlen, n->name)) {
            int64_t *dst = (int64_t *)(void *)((char *)o + n->off);
            if (parse_i64(val, n->lo, n->hi, dst) == 0) {
                return 0;
            }
            fprintf(err, PROG " replay: %s needs an integer in [%" PRId64 ", %" PRId64 "]\n",
                    n->name, n->lo, n->hi);
            return 2;
        }
    }
    fprintf(err, PROG " replay: unknown option '%s' (see --help)\n", a);
    return 2;
}

/* Returns 0, 1 for --help (already printed), or 2 on a usage error (printed). */
static int parse_replay_args(int argc, char **argv, struct replay_opts *o, FILE *out, FILE *err)
{
    *o = (struct replay_opts){.tick_ms = 1000,
                              .window_ms = 30000,
                              .ttl_ms = 30000,
                              .max_gap_ms = 86400000,
                              .flap_window_s = 600,
                              .initial = -1};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(REPLAY_USAGE, out);
            return 1;
        }
        if (strcmp(a, "--paused") == 0 || strcmp(a, "--summary-only") == 0) {
            *(a[2] == 'p' ? &o->paused : &o->summary_only) = true;
            continue;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            if (o->trace_path) {
                fprintf(err, PROG " replay: more than one trace file ('%s')\n", a);
                return 2;
            }
            o->trace_path = a;
            continue;
        }
        /* --name VALUE or --name=VALUE */
        const char *eq = strchr(a, '=');
        size_t nlen = eq ? (size_t)(eq - a) : strlen(a);
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        if (set_option(o, a, nlen, val, err) != 0) {
            return 2;
        }
        i += eq ? 0 : 1;
    }
    if (!o->trace_path) {
        fprintf(err, PROG " replay: no trace file given (see --help)\n");
        return 2;
    }
    return 0;
}

static int load_config_file(const char *path, struct cresc_scaling_config *cfg, FILE *err)
{
    json_error_t je;
    json_t *c = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!c) {
        fprintf(err, PROG " replay: config %s: %s (line %d)\n", path, je.text, je.line);
        return 2;
    }
    struct field_err fe = {"", ""};
    int rc = read_config(c, "", cfg, &fe);
    json_decref(c);
    if (rc < 0) {
        fprintf(err, PROG " replay: config %s: bad input: %s: %s\n", path, fe.field, fe.msg);
        return 2;
    }
    return 0;
}

static int64_t max_period_ms(const struct cresc_behavior_dir *b)
{
    int64_t m = 0;
    for (size_t i = 0; i < b->n_policies && i < CRESC_RATE_POLICIES_MAX; i++) {
        if ((int64_t)b->policies[i].period_s * 1000 > m) {
            m = (int64_t)b->policies[i].period_s * 1000;
        }
    }
    return m;
}

/* Drop history the engine can no longer use, so long replays stay bounded: recommendations
 * older than both stabilization windows, events older than every rate-limit period (the
 * latest event is kept for the cooldown). */
static void prune_history(struct replay *r, int64_t now_ms)
{
    int64_t win = (int64_t)r->cfg.scale_up.stabilization_window_s * 1000;
    int64_t dwin = (int64_t)r->cfg.scale_down.stabilization_window_s * 1000;
    int64_t keep_recs = now_ms - (win > dwin ? win : dwin);
    size_t k = 0;
    while (k < r->n_recs && r->recs[k].at_ms <= keep_recs) {
        k++;
    }
    if (k > 0) {
        memmove(r->recs, r->recs + k, (r->n_recs - k) * sizeof(*r->recs));
        r->n_recs -= k;
    }
    int64_t pu = max_period_ms(&r->cfg.scale_up), pd = max_period_ms(&r->cfg.scale_down);
    int64_t keep_evs = now_ms - (pu > pd ? pu : pd);
    k = 0;
    while (k + 1 < r->n_evs && r->evs[k].at_ms <= keep_evs) {
        k++;
    }
    if (k > 0) {
        memmove(r->evs, r->evs + k, (r->n_evs - k) * sizeof(*r->evs));
        r->n_evs -= k;
    }
}

static int push_rec(struct replay *r, struct cresc_recommendation rec)
{
    if (r->n_recs == r->cap_recs) {
        size_t ncap = r->cap_recs ? r->cap_recs * 2 : 256;
        if (ncap > 1000000) {
            /* A 1-hour window at 10 ms ticks: drop the oldest rather than grow further. */
            memmove(r->recs, r->recs + 1, (r->n_recs - 1) * sizeof(*r->recs));
            r->n_recs--;
        } else {
            struct cresc_recommendation *p = realloc(r->recs, ncap * sizeof(*p));
            if (!p) {
                return CRESC_ENOMEM;
            }
            r->recs = p;
            r->cap_recs = ncap;
        }
    }
    r->recs[r->n_recs++] = rec;
    return 0;
}

static int push_event(struct replay *r, struct cresc_scale_event ev)
{
    if (r->n_evs == r->cap_evs) {
        size_t ncap = r->cap_evs ? r->cap_evs * 2 : 64;
        if (ncap > 1000000) {
            memmove(r->evs, r->evs + 1, (r->n_evs - 1) * sizeof(*r->evs));
            r->n_evs--;
        } else {
            struct cresc_scale_event *p = realloc(r->evs, ncap * sizeof(*p));
            if (!p) {
                return CRESC_ENOMEM;
            }
            r->evs = p;
            r->cap_evs = ncap;
        }
    }
    r->evs[r->n_evs++] = ev;
    return 0;
}

static bool metric_of(const struct cresc_metrics *m, enum cresc_metric k, double *v)
{
    switch (k) {
    case CRESC_METRIC_CPU:
        *v = m->cpu_pct;
        return m->has_cpu;
    case CRESC_METRIC_MEM:
        *v = m->mem_pct;
        return m->has_mem;
    case CRESC_METRIC_REQ_RATE:
        *v = m->req_per_s;
        return m->has_req;
    case CRESC_METRIC_COUNT:
        break;
    }
    return false;
}

static void account_above(struct replay *r, const struct cresc_metrics *m, int32_t current)
{
    for (size_t i = 0; i < r->n_above; i++) {
        struct above *a = &r->above[i];
        double v;
        if (!metric_of(m, a->metric, &v)) {
            continue;
        }
        if (a->metric == CRESC_METRIC_REQ_RATE) {
            if (current <= 0) {
                if (v > 0.0) {
                    a->above_ms += r->o.tick_ms;
                }
                continue;
            }
            v /= (double)current; /* thresholds and targets are per instance */
        }
        if (v > a->threshold) {
            a->above_ms += r->o.tick_ms;
        }
    }
}

static int evaluate_tick(struct replay *r, int64_t t, FILE *out, FILE *err)
{
    struct cresc_window_agg agg;
    cresc_window_expire(r->win, t);
    cresc_window_aggregate(r->win, t, &agg);
    prune_history(r, t);
    struct cresc_eval_input in = {
        .now_ms = t,
        .current_instances = r->current,
        .config = &r->cfg,
        .metrics = agg.metrics,
        .history = {r->n_recs, r->recs, r->n_evs, r->evs},
        .paused = r->o.paused,
    };
    struct cresc_decision d;
    int rc = cresc_policy_evaluate(&in, &d);
    if (rc < 0) {
        fprintf(err, PROG " replay: evaluation failed at t=%" PRId64 ": %s\n", t,
                cresc_strerror(rc));
        return rc;
    }
    r->evaluations++;
    account_above(r, &agg.metrics, r->current);
    if ((rc = push_rec(r, (struct cresc_recommendation){t, d.recommendation})) < 0) {
        return rc;
    }
    if (d.scale) {
        if ((rc = push_event(r, (struct cresc_scale_event){t, r->current, d.target_instances})) <
            0) {
            return rc;
        }
        if (d.direction == CRESC_DIR_UP) {
            r->ups++;
        } else {
            r->downs++;
        }
        if (r->last_dir != CRESC_DIR_NONE && r->last_dir != d.direction &&
            t - r->last_event_at <= r->o.flap_window_s * 1000) {
            r->flaps++;
        }
        r->last_dir = d.direction;
        r->last_event_at = t;
        r->current = d.target_instances;
        if (r->current < r->min_seen) {
            r->min_seen = r->current;
        }
        if (r->current > r->max_seen) {
            r->max_seen = r->current;
        }
    }
    if (r->o.summary_only) {
        return 0;
    }
    json_t *o = json_object();
    json_t *dj = cresc_decision_to_json(&d);
    if (!o || !dj) {
        json_decref(o);
        json_decref(dj);
        return CRESC_ENOMEM;
    }
    json_object_set_new(o, "t_ms", json_integer(t));
    json_object_set_new(o, "live_instances", json_integer(agg.live_instances));
    json_object_set_new(o, "metrics", cresc_metrics_to_json(&agg.metrics));
    json_object_update(o, dj);
    json_decref(dj);
    rc = json_dumpf(o, out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(o);
    if (rc < 0 || fputc('\n', out) == EOF) {
        return CRESC_EIO;
    }
    return 0;
}

static json_t *summary_json(const struct replay *r)
{
    json_t *s = json_object();
    json_object_set_new(s, "service", json_string(r->service));
    json_object_set_new(s, "lines", json_integer((json_int_t)r->lines));
    json_object_set_new(s, "samples_accepted", json_integer((json_int_t)r->accepted));
    json_object_set_new(s, "malformed_lines", json_integer((json_int_t)r->malformed));
    json_object_set_new(s, "duplicate_samples", json_integer((json_int_t)r->duplicates));
    json_object_set_new(s, "skewed_samples", json_integer((json_int_t)r->skewed));
    json_object_set_new(s, "rejected_full", json_integer((json_int_t)r->full));
    json_object_set_new(s, "other_service_samples", json_integer((json_int_t)r->other_service));
    json_object_set_new(s, "evaluations", json_integer((json_int_t)r->evaluations));
    json_object_set_new(s, "tick_ms", json_integer(r->o.tick_ms));
    json_object_set_new(s, "duration_ms",
                        json_integer(r->have_clock ? r->clock_ms - r->first_ts : 0));
    json_object_set_new(s, "scale_actions", json_integer((json_int_t)(r->ups + r->downs)));
    json_object_set_new(s, "scale_ups", json_integer((json_int_t)r->ups));
    json_object_set_new(s, "scale_downs", json_integer((json_int_t)r->downs));
    json_object_set_new(s, "flaps", json_integer((json_int_t)r->flaps));
    json_object_set_new(s, "flap_window_s", json_integer(r->o.flap_window_s));
    json_t *ab = json_array();
    for (size_t i = 0; i < r->n_above; i++) {
        const struct above *a = &r->above[i];
        json_t *x = json_object();
        json_object_set_new(x, "policy", json_string(a->policy));
        json_object_set_new(x, "metric", json_string(cresc_metric_name(a->metric)));
        json_object_set_new(x, "mode", json_string(cresc_policy_mode_name(a->mode)));
        json_object_set_new(x, a->mode == CRESC_MODE_TARGET ? "target" : "threshold",
                            json_real(a->threshold));
        json_object_set_new(x, "above_ms", json_integer(a->above_ms));
        json_array_append_new(ab, x);
    }
    json_object_set_new(s, "time_above", ab);
    json_object_set_new(s, "min_instances_seen", json_integer(r->min_seen));
    json_object_set_new(s, "max_instances_seen", json_integer(r->max_seen));
    json_object_set_new(s, "final_instances", json_integer(r->current));
    json_t *o = json_object();
    json_object_set_new(o, "summary", s);
    return o;
}

static void note_malformed(struct replay *r, FILE *err, const char *why)
{
    r->malformed++;
    /* The first few are worth a line each; after that the summary's count says enough. */
    if (r->malformed <= 5) {
        fprintf(err, PROG " replay: line %" PRIu64 " skipped: %s\n", r->lines, why);
    }
}

/* One trace line. Returns 0 or a negative error that stops the replay (OOM, output). */
static int replay_line(struct replay *r, const char *line, size_t len, FILE *out, FILE *err)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
        len--;
    }
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t')) {
        i++;
    }
    if (i == len) {
        return 0; /* blank lines are not samples */
    }
    struct cresc_sample s;
    struct cresc_msg_error me;
    memset(&me, 0, sizeof(me));
    if (cresc_sample_decode(line, len, &s, &me) < 0) {
        char why[CRESC_REASON_MAX + 128];
        snprintf(why, sizeof(why), "%s%s%s", me.field, me.field[0] ? ": " : "", me.reason);
        note_malformed(r, err, why);
        return 0;
    }
    r->samples++;
    if (r->service[0] == '\0') {
        snprintf(r->service, sizeof(r->service), "%s", r->o.service ? r->o.service : s.service);
    }
    if (strcmp(s.service, r->service) != 0) {
        r->other_service++;
        return 0;
    }
    if (!r->have_clock) {
        r->have_clock = true;
        r->first_ts = s.ts_ms;
        r->clock_ms = s.ts_ms;
        r->next_tick = s.ts_ms + r->o.tick_ms;
    }
    if (s.ts_ms - r->clock_ms > r->o.max_gap_ms) {
        r->skewed++; /* a wild timestamp must not spin millions of empty ticks */
        return 0;
    }
    /* Evaluate at every tick boundary the sample's time has passed. */
    while (s.ts_ms >= r->next_tick) {
        int rc = evaluate_tick(r, r->next_tick, out, err);
        if (rc < 0) {
            return rc;
        }
        r->clock_ms = r->next_tick;
        r->next_tick += r->o.tick_ms;
    }
    int64_t now = s.ts_ms > r->clock_ms ? s.ts_ms : r->clock_ms;
    r->clock_ms = now;
    enum cresc_window_verdict v;
    int rc = cresc_window_add(r->win, &s, now, s.ts_ms, &v);
    if (rc < 0) {
        return rc;
    }
    switch (v) {
    case CRESC_WINDOW_ACCEPTED:
        r->accepted++;
        break;
    case CRESC_WINDOW_DUPLICATE:
        r->duplicates++;
        break;
    case CRESC_WINDOW_SKEWED:
        r->skewed++;
        break;
    case CRESC_WINDOW_FULL:
        r->full++;
        break;
    }
    return 0;
}

/* Config, starting count, the per-policy "time above" slots and the window. Returns 0 or an
 * exit status (printed). */
static int replay_setup(struct replay *r, FILE *err)
{
    cresc_scaling_config_defaults(&r->cfg);
    if (r->o.config_path && load_config_file(r->o.config_path, &r->cfg, err) != 0) {
        return 2;
    }
    r->current = r->o.initial >= 0 ? (int32_t)r->o.initial : r->cfg.min_instances;
    r->min_seen = r->max_seen = r->current;
    for (size_t i = 0; i < r->cfg.n_policies && i < CRESC_POLICIES_MAX; i++) {
        const struct cresc_policy_spec *p = &r->cfg.policies[i];
        if (!p->enabled) {
            continue;
        }
        struct above *a = &r->above[r->n_above++];
        snprintf(a->policy, sizeof(a->policy), "%s", p->name);
        a->metric = p->metric;
        a->mode = p->mode;
        a->threshold = p->mode == CRESC_MODE_TARGET ? p->target : p->threshold;
    }
    struct cresc_window_opts wo = {.window_ms = r->o.window_ms,
                                   .ttl_ms = r->o.ttl_ms,
                                   .max_skew_ms = 0, /* simulated time: no wall clock to check */
                                   .max_instances = 20000,
                                   .max_values_per_instance = 64};
    if (cresc_window_new(&wo, &r->win) < 0) {
        fprintf(err, PROG " replay: out of memory\n");
        return 1;
    }
    return 0;
}

/* Every line of the trace. Lines are read into a fixed buffer: one longer than a sample may
 * be is skipped whole. Returns 0 or an exit status (printed). */
static int replay_stream(struct replay *r, FILE *in, FILE *out, FILE *err)
{
    size_t cap = CRESC_SAMPLE_MAX_BYTES + 2;
    char *line = malloc(cap);
    if (!line) {
        fprintf(err, PROG " replay: out of memory\n");
        return 1;
    }
    int status = 0;
    bool skipping = false;
    while (status == 0 && fgets(line, (int)cap, in)) {
        size_t len = strlen(line);
        bool complete = len > 0 && line[len - 1] == '\n';
        if (skipping) {
            skipping = !complete;
            continue;
        }
        r->lines++;
        if (!complete && !feof(in)) {
            note_malformed(r, err, "longer than the sample size limit");
            skipping = true;
            continue;
        }
        int rc = replay_line(r, line, len, out, err);
        if (rc < 0) {
            fprintf(err, PROG " replay: stopped at line %" PRIu64 ": %s\n", r->lines,
                    cresc_strerror(rc));
            status = 1;
        }
    }
    if (status == 0 && ferror(in)) {
        fprintf(err, PROG " replay: read error on %s\n", r->o.trace_path);
        status = 1;
    }
    free(line);
    return status;
}

/* A last evaluation at the next tick boundary sees the trace's final samples; then the
 * summary line. */
static int replay_finish(struct replay *r, FILE *out, FILE *err)
{
    if (r->have_clock) {
        if (evaluate_tick(r, r->next_tick, out, err) < 0) {
            return 1;
        }
        r->clock_ms = r->next_tick;
    }
    json_t *sj = summary_json(r);
    int status = 1;
    if (sj && json_dumpf(sj, out, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
        fputc('\n', out) != EOF && fflush(out) == 0) {
        status = 0;
    }
    json_decref(sj);
    return status;
}

int cresc_offline_replay(int argc, char **argv, FILE *out, FILE *err)
{
    struct replay *r = calloc(1, sizeof(*r));
    FILE *in = NULL;
    int status;
    if (!r) {
        fprintf(err, PROG " replay: out of memory\n");
        return 1;
    }
    int pr = parse_replay_args(argc, argv, &r->o, out, err);
    if (pr != 0) {
        status = pr == 1 ? 0 : 2;
        goto out;
    }
    if ((status = replay_setup(r, err)) != 0) {
        goto out;
    }
    in = strcmp(r->o.trace_path, "-") == 0 ? stdin : fopen(r->o.trace_path, "r");
    if (!in) {
        fprintf(err, PROG " replay: cannot open %s: %s\n", r->o.trace_path, strerror(errno));
        status = 1;
        goto out;
    }
    if ((status = replay_stream(r, in, out, err)) == 0) {
        status = replay_finish(r, out, err);
    }
out:
    if (in && in != stdin) {
        fclose(in);
    }
    cresc_window_free(r->win);
    free(r->recs);
    free(r->evs);
    free(r);
    return status;
}

int cresc_offline_main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, PROG ": expected 'evaluate' or 'replay'\n");
        return 2;
    }
    if (strcmp(argv[1], "evaluate") == 0) {
        for (int i = 2; i < argc; i++) {
            if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
                printf("usage: " PROG " evaluate < INPUT.json\n"
                       "Reads one JSON object on stdin: {\"now_ms\", \"current_instances\", "
                       "\"config\", \"metrics\": {\"cpu_pct\", \"mem_pct\", \"request_rate\"}, "
                       "\"history\": {\"recommendations\": [{\"at_ms\", \"instances\"}], "
                       "\"scale_events\": [{\"at_ms\", \"from\", \"to\"}]}, \"paused\"}\n"
                       "and prints the decision as JSON. Exit status 2 on bad input (the "
                       "message names the field). See docs/policies.md.\n");
                return 0;
            }
            fprintf(stderr, PROG " evaluate: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
        return cresc_offline_evaluate(stdin, stdout, stderr);
    }
    if (strcmp(argv[1], "replay") == 0) {
        return cresc_offline_replay(argc, argv, stdout, stderr);
    }
    fprintf(stderr, PROG ": unknown command '%s'\n", argv[1]);
    return 2;
}
