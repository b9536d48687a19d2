/* crescendoctl's text tables and error rendering (see ctl_format.h). Lookups are tolerant
 * on purpose: a newer API adding or moving a field must not make the CLI crash or print
 * nonsense, only "-" where a value is missing; `-o json` always shows the full body. */
#include "ctl_format.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- table ----------------------------------------------------------------------------- */

static char *dup_cell(const char *s)
{
    const char *src = s ? s : "-";
    size_t n = strlen(src);
    size_t keep = n < CRESC_CTL_CELL_MAX ? n : CRESC_CTL_CELL_MAX - 4;
    char *c = malloc(keep + 4);
    if (!c) {
        return NULL;
    }
    memcpy(c, src, keep);
    if (keep < n) {
        memcpy(c + keep, "...", 4);
    } else {
        c[keep] = '\0';
    }
    /* One row per line: a newline or tab in a value would break the alignment. */
    for (char *p = c; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *p = ' ';
        }
    }
    return c;
}

int cresc_ctl_table_init(struct cresc_ctl_table *t, size_t n_cols, const char *const *headers)
{
    memset(t, 0, sizeof *t);
    if (n_cols == 0 || n_cols > CRESC_CTL_TABLE_COLS_MAX) {
        return CRESC_EINVAL;
    }
    t->n_cols = n_cols;
    t->_cap = 16;
    t->_cells = calloc(t->_cap * n_cols, sizeof *t->_cells);
    if (!t->_cells) {
        return CRESC_ENOMEM;
    }
    for (size_t i = 0; i < n_cols; i++) {
        t->_cells[i] = dup_cell(headers[i]);
        if (!t->_cells[i]) {
            cresc_ctl_table_release(t);
            return CRESC_ENOMEM;
        }
    }
    return 0;
}

int cresc_ctl_table_add(struct cresc_ctl_table *t, const char *const *cells)
{
    if (t->n_rows >= CRESC_CTL_TABLE_ROWS_MAX) {
        return CRESC_EFULL;
    }
    size_t row = t->n_rows + 1;
    if (row >= t->_cap) {
        size_t cap = t->_cap * 2;
        char **grown = realloc(t->_cells, cap * t->n_cols * sizeof *grown);
        if (!grown) {
            return CRESC_ENOMEM;
        }
        memset(grown + t->_cap * t->n_cols, 0, (cap - t->_cap) * t->n_cols * sizeof *grown);
        t->_cells = grown;
        t->_cap = cap;
    }
    for (size_t i = 0; i < t->n_cols; i++) {
        char *c = dup_cell(cells[i]);
        if (!c) {
            for (size_t j = 0; j < i; j++) {
                free(t->_cells[row * t->n_cols + j]);
                t->_cells[row * t->n_cols + j] = NULL;
            }
            return CRESC_ENOMEM;
        }
        t->_cells[row * t->n_cols + i] = c;
    }
    t->n_rows++;
    return 0;
}

void cresc_ctl_table_print(const struct cresc_ctl_table *t, FILE *out)
{
    size_t width[CRESC_CTL_TABLE_COLS_MAX] = {0};
    if (!t->_cells) {
        return;
    }
    for (size_t r = 0; r <= t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            size_t w = strlen(t->_cells[r * t->n_cols + c]);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (size_t r = 0; r <= t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *cell = t->_cells[r * t->n_cols + c];
            if (c + 1 == t->n_cols) {
                fprintf(out, "%s\n", cell);
            } else {
                fprintf(out, "%-*s  ", (int)width[c], cell);
            }
        }
    }
}

void cresc_ctl_table_release(struct cresc_ctl_table *t)
{
    if (t->_cells) {
        for (size_t i = 0; i < (t->n_rows + 1) * t->n_cols; i++) {
            free(t->_cells[i]);
        }
        free(t->_cells);
    }
    memset(t, 0, sizeof *t);
}

/* ---- values ---------------------------------------------------------------------------- */

static void format_real(double d, char *buf, size_t cap)
{
    if (!isfinite(d)) {
        snprintf(buf, cap, "-");
        return;
    }
    snprintf(buf, cap, "%.2f", d);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *end = buf + strlen(buf) - 1;
        while (end > dot && *end == '0') {
            *end-- = '\0';
        }
        if (end == dot) {
            *end = '\0';
        }
    }
}

const char *cresc_ctl_format_value(const json_t *v, char *buf, size_t cap)
{
    if (cap == 0) {
        return buf;
    }
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_INTEGER:
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        format_real(json_real_value(v), buf, cap);
        break;
    case JSON_TRUE:
        snprintf(buf, cap, "yes");
        break;
    case JSON_FALSE:
        snprintf(buf, cap, "no");
        break;
    case JSON_STRING:
        /* An empty string reads as "nothing" in a table, like null. */
        snprintf(buf, cap, "%s", json_string_length(v) ? json_string_value(v) : "-");
        break;
    case JSON_OBJECT:
    case JSON_ARRAY: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        snprintf(buf, cap, "%s", s ? s : "-");
        free(s);
        break;
    }
    case JSON_NULL:
        snprintf(buf, cap, "-");
        break;
    }
    return buf;
}

static const json_t *lookup_one(const json_t *root, const char *path, size_t len)
{
    char part[128];
    const json_t *cur = root;
    size_t i = 0;
    while (cur && i < len) {
        size_t j = i;
        while (j < len && path[j] != '.') {
            j++;
        }
        size_t plen = j - i;
        if (plen == 0 || plen >= sizeof part) {
            return NULL;
        }
        memcpy(part, path + i, plen);
        part[plen] = '\0';
        if (json_is_object(cur)) {
            cur = json_object_get(cur, part);
        } else if (json_is_array(cur)) {
            char *end = NULL;
            unsigned long idx = strtoul(part, &end, 10);
            cur = (*end == '\0') ? json_array_get(cur, idx) : NULL;
        } else {
            return NULL;
        }
        i = j + 1;
    }
    return cur;
}

const json_t *cresc_ctl_lookup(const json_t *root, const char *paths)
{
    const char *p = paths;
    while (root && p && *p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        const json_t *v = lookup_one(root, p, len);
        if (v && !json_is_null(v)) {
            return v;
        }
        p = bar ? bar + 1 : NULL;
    }
    return NULL;
}

/* Text of the first present path, or "-". */
static const char *text_at(const json_t *root, const char *paths, char *buf, size_t cap)
{
    return cresc_ctl_format_value(cresc_ctl_lookup(root, paths), buf, cap);
}

static bool number_at(const json_t *root, const char *paths, double *out)
{
    const json_t *v = cresc_ctl_lookup(root, paths);
    if (!json_is_number(v)) {
        return false;
    }
    *out = json_number_value(v);
    return true;
}

static void print_kv_table(FILE *out, const char *const (*rows)[2], size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(rows[i][0]);
        w = l > w ? l : w;
    }
    for (size_t i = 0; i < n; i++) {
        fprintf(out, "%-*s  %s\n", (int)w, rows[i][0], rows[i][1]);
    }
}

/* Milliseconds since the epoch as "YYYY-MM-DD HH:MM:SS UTC". */
static void format_time_ms(const json_t *v, char *buf, size_t cap)
{
    struct tm tm;
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    time_t t = (time_t)(json_integer_value(v) / 1000);
    if (!gmtime_r(&t, &tm) || strftime(buf, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0) {
        snprintf(buf, cap, "-");
    }
}

/* ---- status ---------------------------------------------------------------------------- */

struct metric_row {
    const char *label;
    const char *value_paths;
    const char *threshold_paths;
    const char *unit;
    bool per_instance; /* the threshold is per instance: compare value / instances */
};

static const struct metric_row metric_rows[] = {
    {"cpu", "metrics.cpu_pct|metrics.cpu|cpu_pct",
     "thresholds.cpu_pct|thresholds.cpu|config.cpu_threshold|cpu_threshold", "%", false},
    {"memory", "metrics.mem_pct|metrics.memory_pct|metrics.memory|mem_pct",
     "thresholds.mem_pct|thresholds.memory_pct|thresholds.memory|config.memory_threshold|memory_threshold",
     "%", false},
    {"request rate", "metrics.request_rate_per_s|metrics.req_per_s|metrics.request_rate",
     "thresholds.request_rate_per_instance|thresholds.request_rate|thresholds.req_per_s|config.request_rate_threshold|request_rate_threshold",
     "req/s", true},
};

static void format_status_metrics(const json_t *st, double instances, bool has_instances, FILE *out)
{
    static const char *const hdr[] = {"METRIC", "VALUE", "THRESHOLD", "STATE"};
    struct cresc_ctl_table t;
    if (cresc_ctl_table_init(&t, 4, hdr) != 0) {
        return;
    }
    for (size_t i = 0; i < sizeof metric_rows / sizeof metric_rows[0]; i++) {
        const struct metric_row *m = &metric_rows[i];
        char value[160] = "-", thr[160] = "-", num[48];
        const char *state = "no data";
        double v = 0.0, th = 0.0;
        bool has_v = number_at(st, m->value_paths, &v);
        bool has_th = number_at(st, m->threshold_paths, &th);
        double cmp = v;
        if (has_v) {
            format_real(v, num, sizeof num);
            snprintf(value, sizeof value, "%s %s", num, m->unit);
            if (m->per_instance && has_instances && instances > 0.0) {
                cmp = v / instances;
                char per[48];
                format_real(cmp, per, sizeof per);
                snprintf(value, sizeof value, "%s %s (%s per instance)", num, m->unit, per);
            }
        }
        if (has_th) {
            format_real(th, num, sizeof num);
            snprintf(thr, sizeof thr, "%s %s%s", num, m->unit,
                     m->per_instance ? " per instance" : "");
        }
        if (has_v && has_th) {
            state = cmp > th ? "ABOVE" : "ok";
        } else if (has_v) {
            state = "-";
        }
        const char *cells[] = {m->label, value, thr, state};
        if (cresc_ctl_table_add(&t, cells) != 0) {
            break;
        }
    }
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
}

/* The live instances the snapshot lists (the API may list fewer than LIVE counts). */
static void format_live_instances(const json_t *list, FILE *out)
{
    static const char *const hdr[] = {"INSTANCE", "NODE",        "CPU %",      "MEMORY %",
                                      "REQ/S",    "CONNECTIONS", "LAST SAMPLE"};
    struct cresc_ctl_table t;
    if (!json_is_array(list) || json_array_size(list) == 0 ||
        cresc_ctl_table_init(&t, 7, hdr) != 0) {
        return;
    }
    size_t i;
    const json_t *li;
    json_array_foreach(list, i, li)
    {
        char c[7][160];
        text_at(li, "instance_id", c[0], sizeof c[0]);
        text_at(li, "node", c[1], sizeof c[1]);
        text_at(li, "cpu_pct", c[2], sizeof c[2]);
        text_at(li, "memory_pct", c[3], sizeof c[3]);
        text_at(li, "request_rate_per_s", c[4], sizeof c[4]);
        text_at(li, "active_connections", c[5], sizeof c[5]);
        format_time_ms(cresc_ctl_lookup(li, "last_seen_ms"), c[6], sizeof c[6]);
        const char *cells[] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6]};
        if (cresc_ctl_table_add(&t, cells) != 0) {
            break;
        }
    }
    fputc('\n', out);
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
}

void cresc_ctl_format_status(const json_t *st, FILE *out)
{
    char service[160], cur[32], min[32], max[32], live[32], paused[16], cool[48], ver[32];
    char instances[160], last[CRESC_CTL_CELL_MAX + 96], disk[160];
    double cur_n = 0.0, cool_ms = 0.0;
    bool has_cur = number_at(st, "current_instances|instances.current|instances", &cur_n);

    text_at(st, "service", service, sizeof service);
    text_at(st, "current_instances|instances.current|instances", cur, sizeof cur);
    text_at(st, "min_instances|instances.min|config.min_instances", min, sizeof min);
    text_at(st, "max_instances|instances.max|config.max_instances", max, sizeof max);
    snprintf(instances, sizeof instances, "%s (min %s, max %s)", cur, min, max);
    text_at(st, "live_instances.total|live_total", live, sizeof live);
    if (strcmp(live, "-") == 0) {
        const json_t *arr = cresc_ctl_lookup(st, "live_instances.instances|live_instances");
        if (json_is_array(arr)) {
            snprintf(live, sizeof live, "%zu", json_array_size(arr));
        }
    }
    text_at(st, "paused", paused, sizeof paused);
    if (number_at(st, "cooldown_remaining_ms", &cool_ms)) {
        snprintf(cool, sizeof cool, "%.0f s remaining", ceil(cool_ms / 1000.0));
        if (cool_ms <= 0.0) {
            snprintf(cool, sizeof cool, "none");
        }
    } else if (number_at(st, "cooldown_remaining_s", &cool_ms)) {
        snprintf(cool, sizeof cool, "%.0f s remaining", ceil(cool_ms));
        if (cool_ms <= 0.0) {
            snprintf(cool, sizeof cool, "none");
        }
    } else {
        snprintf(cool, sizeof cool, "-");
    }
    text_at(st, "config_version", ver, sizeof ver);
    {
        char r[CRESC_CTL_CELL_MAX - 64], to[32], from[32];
        text_at(st, "last_decision.reason|last_decision.decision.reason|last_decision.summary", r,
                sizeof r);
        text_at(st, "last_decision.target_instances|last_decision.decision.target_instances", to,
                sizeof to);
        text_at(st, "last_decision.current_instances|last_decision.decision.current_instances",
                from, sizeof from);
        if (strcmp(to, "-") == 0 && strcmp(r, "-") == 0) {
            snprintf(last, sizeof last, "-");
        } else {
            snprintf(last, sizeof last, "%s -> %s: %s", from, to, r);
        }
    }
    {
        char rd[32], wr[32];
        text_at(st, "metrics.disk_io.read_ops_per_s|disk_io.read_ops_per_s", rd, sizeof rd);
        text_at(st, "metrics.disk_io.write_ops_per_s|disk_io.write_ops_per_s", wr, sizeof wr);
        snprintf(disk, sizeof disk, "%s read ops/s, %s write ops/s", rd, wr);
    }
    const char *const rows[][2] = {
        {"SERVICE", service}, {"INSTANCES", instances}, {"LIVE", live},     {"PAUSED", paused},
        {"COOLDOWN", cool},   {"CONFIG VERSION", ver},  {"DISK I/O", disk}, {"LAST DECISION", last},
    };
    print_kv_table(out, rows, sizeof rows / sizeof rows[0]);
    fputc('\n', out);
    format_status_metrics(st, cur_n, has_cur, out);
    format_live_instances(cresc_ctl_lookup(st, "live_instances.instances"), out);
}

/* ---- decision -------------------------------------------------------------------------- */

/* The explanation may be the body itself or nested under "explanation"/"decision". */
static const json_t *explanation_of(const json_t *d)
{
    const json_t *e = cresc_ctl_lookup(d, "explanation|decision|last_decision.decision");
    return json_is_object(e) ? e : d;
}

/* The count a decision was taken at (0 if unknown). */
static double instances_of(const json_t *d, const json_t *e)
{
    double n = 0.0;
    if (!number_at(e, "current_instances", &n)) {
        (void)number_at(d, "current_instances", &n);
    }
    return n;
}

static void format_votes(const json_t *votes, double instances, FILE *out)
{
    static const char *const hdr[] = {"POLICY",    "METRIC",  "VALUE",
                                      "THRESHOLD", "DESIRED", "DIRECTION"};
    struct cresc_ctl_table t;
    if (!json_is_array(votes) || json_array_size(votes) == 0 ||
        cresc_ctl_table_init(&t, 6, hdr) != 0) {
        return;
    }
    size_t i;
    const json_t *v;
    json_array_foreach(votes, i, v)
    {
        char c[6][128];
        double total;
        text_at(v, "policy|name", c[0], sizeof c[0]);
        text_at(v, "metric", c[1], sizeof c[1]);
        text_at(v, "value", c[2], sizeof c[2]);
        /* A request-rate vote carries the total; its threshold is per instance. */
        if (strcmp(c[1], "request_rate") == 0 && number_at(v, "value", &total) && instances > 0.0) {
            char per[48];
            format_real(total / instances, per, sizeof per);
            size_t used = strlen(c[2]);
            snprintf(c[2] + used, sizeof c[2] - used, " (%s per instance)", per);
        }
        text_at(v, "threshold|target", c[3], sizeof c[3]);
        text_at(v, "desired", c[4], sizeof c[4]);
        text_at(v, "direction", c[5], sizeof c[5]);
        const char *cells[] = {c[0], c[1], c[2], c[3], c[4], c[5]};
        if (cresc_ctl_table_add(&t, cells) != 0) {
            break;
        }
    }
    fprintf(out, "\nVotes\n");
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
}

static void format_guards(const json_t *guards, FILE *out)
{
    static const char *const hdr[] = {"GUARD", "BEFORE", "AFTER", "DETAIL"};
    struct cresc_ctl_table t;
    if (!json_is_array(guards) || json_array_size(guards) == 0 ||
        cresc_ctl_table_init(&t, 4, hdr) != 0) {
        return;
    }
    size_t i;
    const json_t *g;
    json_array_foreach(guards, i, g)
    {
        char c[4][CRESC_CTL_CELL_MAX];
        text_at(g, "kind|guard|name", c[0], sizeof c[0]);
        text_at(g, "before", c[1], sizeof c[1]);
        text_at(g, "after", c[2], sizeof c[2]);
        text_at(g, "detail", c[3], sizeof c[3]);
        const char *cells[] = {c[0], c[1], c[2], c[3]};
        if (cresc_ctl_table_add(&t, cells) != 0) {
            break;
        }
    }
    fprintf(out, "\nGuards\n");
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
}

/* A field of the decision body, else of its explanation. */
static const char *text2(const json_t *d, const json_t *e, const char *paths, char *buf, size_t cap)
{
    const json_t *v = cresc_ctl_lookup(d, paths);
    return cresc_ctl_format_value(v ? v : cresc_ctl_lookup(e, paths), buf, cap);
}


void cresc_ctl_format_decision(const json_t *d, FILE *out)
{
    const json_t *e = explanation_of(d);
    char scale[32], dir[32], cur[32], target[32], rec[32], reason[CRESC_CTL_CELL_MAX];
    char policy[96], cool[48], service[160], at[48];
    double cool_ms;
    text2(d, e, "scaling_needed|scale", scale, sizeof scale);
    text_at(d, "service", service, sizeof service);
    text2(d, e, "direction", dir, sizeof dir);
    text2(d, e, "current_instances", cur, sizeof cur);
    text2(d, e, "target_instances", target, sizeof target);
    text2(d, e, "recommendation", rec, sizeof rec);
    text2(d, e, "reason", reason, sizeof reason);
    text2(d, e, "deciding_policy", policy, sizeof policy);
    format_time_ms(cresc_ctl_lookup(d, "evaluated_at_ms"), at, sizeof at);
    if (number_at(e, "cooldown_remaining_ms", &cool_ms) ||
        number_at(d, "cooldown_remaining_ms", &cool_ms)) {
        snprintf(cool, sizeof cool, "%.0f s", ceil(cool_ms / 1000.0));
    } else {
        snprintf(cool, sizeof cool, "-");
    }
    char scale_dir[80];
    snprintf(scale_dir, sizeof scale_dir, "%s%s%s%s", scale, strcmp(dir, "-") ? " (" : "",
             strcmp(dir, "-") ? dir : "", strcmp(dir, "-") ? ")" : "");
    const char *const rows[][2] = {
        {"SERVICE", service},
        {"SCALING NEEDED", scale_dir},
        {"CURRENT", cur},
        {"RECOMMENDATION", rec},
        {"TARGET", target},
        {"REASON", reason},
        {"DECIDING POLICY", policy},
        {"COOLDOWN", cool},
        {"EVALUATED AT", at},
    };
    print_kv_table(out, rows, sizeof rows / sizeof rows[0]);

    format_votes(cresc_ctl_lookup(e, "votes"), instances_of(d, e), out);
    format_guards(cresc_ctl_lookup(e, "guards"), out);
}

/* ---- config and generic objects -------------------------------------------------------- */

static int flatten(const json_t *v, char *prefix, size_t plen, size_t cap,
                   struct cresc_ctl_table *t)
{
    char val[CRESC_CTL_CELL_MAX];
    if (json_is_object(v) && json_object_size(v) > 0) {
        const char *k;
        const json_t *child;
        /* jansson's iterators take a non-const object; they do not modify it. */
        union {
            const json_t *c;
            json_t *m;
        } obj = {.c = v};
        json_object_foreach(obj.m, k, child)
        {
            int n = snprintf(prefix + plen, cap - plen, "%s%s", plen ? "." : "", k);
            if (n < 0 || (size_t)n >= cap - plen) {
                continue; /* a key path this deep is not worth a row */
            }
            int rc = flatten(child, prefix, plen + (size_t)n, cap, t);
            prefix[plen] = '\0';
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    }
    if (json_is_array(v) && json_array_size(v) > 0) {
        size_t i;
        const json_t *child;
        json_array_foreach(v, i, child)
        {
            int n = snprintf(prefix + plen, cap - plen, "[%zu]", i);
            if (n < 0 || (size_t)n >= cap - plen) {
                continue;
            }
            int rc = flatten(child, prefix, plen + (size_t)n, cap, t);
            prefix[plen] = '\0';
            if (rc != 0) {
                return rc;
            }
        }
        return 0;
    }
    const char *cells[] = {prefix, cresc_ctl_format_value(v, val, sizeof val)};
    return cresc_ctl_table_add(t, cells);
}

void cresc_ctl_format_flat(const json_t *obj, FILE *out)
{
    static const char *const hdr[] = {"KEY", "VALUE"};
    char prefix[512] = "";
    struct cresc_ctl_table t;
    if (cresc_ctl_table_init(&t, 2, hdr) != 0) {
        return;
    }
    (void)flatten(obj, prefix, 0, sizeof prefix, &t);
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
}

static void format_policies(const json_t *pols, FILE *out)
{
    static const char *const hdr[] = {"POLICY",   "METRIC",     "MODE",    "ENABLED",
                                      "UP ABOVE", "DOWN BELOW", "FACTORS", "TARGET"};
    struct cresc_ctl_table t;
    if (cresc_ctl_table_init(&t, 8, hdr) != 0) {
        return;
    }
    size_t i;
    const json_t *p;
    json_array_foreach(pols, i, p)
    {
        char c[8][96], up[40], down[40];
        text_at(p, "name", c[0], sizeof c[0]);
        text_at(p, "metric", c[1], sizeof c[1]);
        text_at(p, "mode", c[2], sizeof c[2]);
        text_at(p, "enabled", c[3], sizeof c[3]);
        text_at(p, "threshold", c[4], sizeof c[4]);
        text_at(p, "lower_threshold", c[5], sizeof c[5]);
        snprintf(c[6], sizeof c[6], "x%s / x%s", text_at(p, "scale_up_factor", up, sizeof up),
                 text_at(p, "scale_down_factor", down, sizeof down));
        text_at(p, "target", c[7], sizeof c[7]);
        const char *cells[] = {c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]};
        if (cresc_ctl_table_add(&t, cells) != 0) {
            break;
        }
    }
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
}

/* "100 percent / 15 s, 4 instances / 15 s" from a behavior direction's rate policies. */
static void format_rates(const json_t *rates, char *buf, size_t cap)
{
    size_t used = 0;
    size_t i;
    const json_t *r;
    buf[0] = '\0';
    json_array_foreach(rates, i, r)
    {
        char v[32], ty[32], per[32];
        int n = snprintf(buf + used, cap - used, "%s%s %s / %s s", i ? ", " : "",
                         text_at(r, "value", v, sizeof v), text_at(r, "type", ty, sizeof ty),
                         text_at(r, "period_s", per, sizeof per));
        if (n < 0 || (size_t)n >= cap - used) {
            break;
        }
        used += (size_t)n;
    }
    if (used == 0) {
        snprintf(buf, cap, "no limit");
    }
}

static void format_behavior(const json_t *beh, FILE *out)
{
    static const char *const hdr[] = {"DIRECTION", "STABILIZATION", "SELECT", "RATE LIMITS"};
    static const char *const dirs[] = {"scale_up", "scale_down"};
    struct cresc_ctl_table t;
    if (cresc_ctl_table_init(&t, 4, hdr) != 0) {
        return;
    }
    for (size_t i = 0; i < 2; i++) {
        const json_t *d = json_object_get(beh, dirs[i]);
        if (!json_is_object(d)) {
            continue;
        }
        char win[48], sel[48], rates[CRESC_CTL_CELL_MAX], w[32];
        snprintf(win, sizeof win, "%s s", text_at(d, "stabilization_window_s", w, sizeof w));
        text_at(d, "select_policy", sel, sizeof sel);
        format_rates(json_object_get(d, "policies"), rates, sizeof rates);
        const char *cells[] = {dirs[i], win, sel, rates};
        if (cresc_ctl_table_add(&t, cells) != 0) {
            break;
        }
    }
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
}

void cresc_ctl_format_config(const json_t *config, FILE *out)
{
    static const char *const hdr[] = {"KEY", "VALUE"};
    /* The body may wrap the config with its version: show both. */
    const json_t *inner = cresc_ctl_lookup(config, "config");
    if (json_is_object(inner)) {
        char ver[32];
        fprintf(out, "config_version  %s\n\n",
                text_at(config, "config_version|version", ver, sizeof ver));
        config = inner;
    }
    if (!json_is_object(config)) {
        cresc_ctl_format_flat(config, out);
        return;
    }
    /* Scalars as KEY VALUE rows; the policy list and the behavior get tables of their own;
     * anything else nested (a newer API's addition) is flattened, never dropped. */
    json_t *rest = json_object();
    struct cresc_ctl_table t;
    if (!rest || cresc_ctl_table_init(&t, 2, hdr) != 0) {
        json_decref(rest);
        return;
    }
    const char *k;
    json_t *v;
    union {
        const json_t *c;
        json_t *m;
    } obj = {.c = config};
    json_object_foreach(obj.m, k, v)
    {
        char val[CRESC_CTL_CELL_MAX];
        if (json_is_object(v) || json_is_array(v)) {
            bool known = (strcmp(k, "policies") == 0 && json_is_array(v)) ||
                         (strcmp(k, "behavior") == 0 && json_is_object(v));
            if (!known) {
                json_object_set(rest, k, v);
            }
            continue;
        }
        const char *cells[] = {k, cresc_ctl_format_value(v, val, sizeof val)};
        if (cresc_ctl_table_add(&t, cells) != 0) {
            break;
        }
    }
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
    const json_t *pols = json_object_get(config, "policies");
    if (json_is_array(pols)) {
        fprintf(out, "\nPolicies\n");
        format_policies(pols, out);
    }
    const json_t *beh = json_object_get(config, "behavior");
    if (json_is_object(beh)) {
        fprintf(out, "\nBehavior\n");
        format_behavior(beh, out);
    }
    if (json_object_size(rest) > 0) {
        fprintf(out, "\n");
        cresc_ctl_format_flat(rest, out);
    }
    json_decref(rest);
}

/* ---- priorities ------------------------------------------------------------------------ */

void cresc_ctl_format_priorities(const json_t *body, FILE *out)
{
    static const char *const hdr[] = {"MATCH", "PRIORITY", "REQUESTED %", "ALLOCATED %",
                                      "INSTANCE"};
    const json_t *list = json_is_array(body) ? body : cresc_ctl_lookup(body, "priorities|items");
    struct cresc_ctl_table t;
    if (!json_is_array(list)) {
        cresc_ctl_format_flat(body, out);
        return;
    }
    if (cresc_ctl_table_init(&t, 5, hdr) != 0) {
        return;
    }
    size_t i;
    const json_t *p;
    json_array_foreach(list, i, p)
    {
        char c[5][160];
        text_at(p, "match_id", c[0], sizeof c[0]);
        text_at(p, "priority", c[1], sizeof c[1]);
        text_at(p, "resource_allocation|requested_pct", c[2], sizeof c[2]);
        text_at(p, "allocated_pct|current_allocation|allocation", c[3], sizeof c[3]);
        text_at(p, "instance_id|instance", c[4], sizeof c[4]);
        const char *cells[] = {c[0], c[1], c[2], c[3], c[4]};
        if (cresc_ctl_table_add(&t, cells) != 0) {
            break;
        }
    }
    cresc_ctl_table_print(&t, out);
    cresc_ctl_table_release(&t);
    char cap[32];
    const json_t *capacity = cresc_ctl_lookup(body, "capacity_pct");
    if (capacity) {
        fprintf(out, "\ncapacity available to matches: %s %%\n",
                cresc_ctl_format_value(capacity, cap, sizeof cap));
    }
    if (json_array_size(list) == 0) {
        fprintf(out, "(no match priorities)\n");
    }
}

/* ---- errors ---------------------------------------------------------------------------- */

/* `: <error> (field: <field>)` then the other members as key=value. */
static void print_error_members(const json_t *j, FILE *out)
{
    char buf[CRESC_CTL_CELL_MAX];
    const json_t *e = json_object_get(j, "error");
    const json_t *f = json_object_get(j, "field");
    if (e) {
        fprintf(out, ": %s", cresc_ctl_format_value(e, buf, sizeof buf));
    }
    if (f && !json_is_null(f) && !(json_is_string(f) && json_string_length(f) == 0)) {
        fprintf(out, " (field: %s)", cresc_ctl_format_value(f, buf, sizeof buf));
    }
    const char *k;
    const json_t *v;
    union {
        const json_t *c;
        json_t *m;
    } obj = {.c = j};
    json_object_foreach(obj.m, k, v)
    {
        if (strcmp(k, "error") != 0 && strcmp(k, "field") != 0) {
            fprintf(out, " %s=%s", k, cresc_ctl_format_value(v, buf, sizeof buf));
        }
    }
}

/* A body that is not JSON, on one line, control bytes replaced, cut at 4 KiB. */
static void print_raw(const char *body, size_t len, FILE *out)
{
    size_t n = len < 4096 ? len : 4096;
    fprintf(out, ": ");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)body[i];
        fputc(ch == '\n' || ch == '\r' ? ' ' : (ch < 0x20 ? '?' : ch), out);
    }
    if (n < len) {
        fprintf(out, "...");
    }
}

void cresc_ctl_format_error(long http_status, const char *body, size_t len, FILE *out)
{
    json_error_t jerr;
    json_t *j = body && len > 0 ? json_loadb(body, len, 0, &jerr) : NULL;
    fprintf(out, "error: HTTP %ld", http_status);
    if (json_is_object(j)) {
        print_error_members(j, out);
    } else if (body && len > 0) {
        print_raw(body, len, out);
    }
    fputc('\n', out);
    json_decref(j);
}
