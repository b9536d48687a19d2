/* The sample decoder's fast path (docs/messages.md#scaling-samples). The coordinator decodes
 * every sample it consumes, and a jansson tree per message (allocate every key and value,
 * hash them, free them) costs about ten times what reading the message from Kafka does. This
 * path tokenizes with jsmn (no allocation: spans into the buffer) and reads the well-formed
 * common case, a flat object of known fields, straight into the struct.
 *
 * It only ever accepts. Whatever it is not sure of (unknown or repeated fields, escapes in a
 * string, a number outside the plain forms, a value out of range, anything malformed) makes it
 * answer "not sure", and cresc_sample_decode then runs the jansson decoder, which gives the
 * authoritative verdict and the error message. So it accepts a subset of what the reference
 * accepts, with the same result: tests/fuzz/fuzz_sample_fast.c checks exactly that. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cresc/msg.h"
#include "msg_internal.h"

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

/* A sample with every field and the disk object is 31 tokens. */
#define FAST_TOKENS 48
/* Longest number text read here (digits of a double printed with %.17g and an exponent). */
#define FAST_NUMBER_MAX 40

enum field {
    F_SCHEMA_VERSION,
    F_SERVICE,
    F_INSTANCE_ID,
    F_NODE,
    F_SEQ,
    F_TS_MS,
    F_INTERVAL_MS,
    F_DROPPED,
    F_CPU,
    F_MEM,
    F_REQ,
    F_CONNS,
    F_DISK,
    F_COUNT
};

struct name {
    const char *s;
    size_t n;
};
#define NAME(lit)              \
    {                          \
        (lit), sizeof(lit) - 1 \
    }

static const struct name field_names[F_COUNT] = {
    NAME("schema_version"), NAME("service"),   NAME("instance_id"),
    NAME("node"),           NAME("seq"),       NAME("ts_ms"),
    NAME("interval_ms"),    NAME("dropped"),   NAME("cpu_pct"),
    NAME("mem_pct"),        NAME("req_per_s"), NAME("active_connections"),
    NAME("disk"),
};

static const struct name disk_names[4] = {NAME("read_ops_per_s"), NAME("write_ops_per_s"),
                                          NAME("read_bytes_per_s"), NAME("write_bytes_per_s")};

struct fast {
    const char *b;
    const jsmntok_t *t;
    int n; /* tokens */
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Only JSON whitespace in [from, to), with exactly one `sep` among it when sep != 0. */
static bool gap_is(const char *b, int from, int to, char sep)
{
    bool seen = sep == 0;
    for (int i = from; i < to; i++) {
        if (b[i] == sep && !seen) {
            seen = true;
        } else if (!is_ws(b[i])) {
            return false;
        }
    }
    return seen;
}

/* A token's span including a string's quotes. */
static int raw_start(const jsmntok_t *t)
{
    return t->type == JSMN_STRING ? t->start - 1 : t->start;
}

static int raw_end(const jsmntok_t *t)
{
    return t->type == JSMN_STRING ? t->end + 1 : t->end;
}

static bool tok_eq_n(const struct fast *f, const jsmntok_t *t, const char *s, size_t n)
{
    return (size_t)(t->end - t->start) == n && memcmp(f->b + t->start, s, n) == 0;
}

#define tok_eq(f, t, lit) tok_eq_n((f), (t), (lit), sizeof(lit) - 1)

/* JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; *integral when it has
 * neither fraction nor exponent. */
static bool number_form(const char *s, int n, bool *integral)
{
    int i = 0;
    if (i < n && s[i] == '-') {
        i++;
    }
    if (i >= n || s[i] < '0' || s[i] > '9') {
        return false;
    }
    if (s[i] == '0') {
        i++;
    } else {
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
    }
    *integral = true;
    if (i < n && s[i] == '.') {
        *integral = false;
        int d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == d) {
            return false;
        }
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        *integral = false;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            i++;
        }
        int d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
        }
        if (i == d) {
            return false;
        }
    }
    return i == n;
}

/* The digits of a number already in integral JSON form (optional '-'), without overflow. */
static bool integral_value(const char *s, int n, int64_t *out)
{
    bool neg = s[0] == '-';
    uint64_t v = 0;
    for (int i = neg ? 1 : 0; i < n; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) {
            return false;
        }
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) {
            return false;
        }
        *out = (int64_t)v;
    }
    return true;
}

/* A plain integer in [lo, hi]: the digits only (a fraction or exponent is left to the
 * reference, which accepts an integral real), no overflow. */
static bool read_int(const struct fast *f, const jsmntok_t *t, int64_t lo, int64_t hi, int64_t *out)
{
    const char *s = f->b + t->start;
    int n = t->end - t->start;
    bool integral = false;
    int64_t x;
    if (t->type != JSMN_PRIMITIVE || !number_form(s, n, &integral) || !integral ||
        !integral_value(s, n, &x) || x < lo || x > hi) {
        return false;
    }
    *out = x;
    return true;
}

/* A real whose decimal digits, read as an integer m, are below 2^53 and whose power of ten
 * |e| is at most 22: m and 10^e are then exact doubles and one IEEE multiplication or
 * division rounds correctly, the same double strtod returns (Clinger's fast path). Anything
 * else (more digits, larger exponents) is left to strtod. s has the JSON number form. */
static bool exact_decimal(const char *s, int n, double *out)
{
    static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    int i = 0;
    bool neg = s[0] == '-';
    if (neg) {
        i++;
    }
    uint64_t m = 0;
    int digits = 0, e = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        m = m * 10 + (uint64_t)(s[i] - '0');
        digits += m > 0 ? 1 : 0;
        if (digits > 15) {
            return false;
        }
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            m = m * 10 + (uint64_t)(s[i] - '0');
            digits += m > 0 ? 1 : 0;
            e--;
            if (digits > 15) {
                return false;
            }
        }
    }
    if (i < n) { /* an exponent */
        i++;
        bool eneg = s[i] == '-';
        if (s[i] == '-' || s[i] == '+') {
            i++;
        }
        int x = 0;
        for (; i < n; i++) {
            x = x * 10 + (s[i] - '0');
            if (x > 400) {
                return false;
            }
        }
        e += eneg ? -x : x;
    }
    if (e < -22 || e > 22) {
        return false;
    }
    double d = (double)m; /* exact: m < 10^15 < 2^53 */
    d = e < 0 ? d / pow10[-e] : d * pow10[e];
    *out = neg ? -d : d;
    return true;
}

/* A number in [lo, hi], or null when nullable (*has = false). An integer literal converts as
 * the reference's json_integer does (so "-0" is +0.0); a real goes through strtod, as in
 * jansson, and any ERANGE is left to the reference. */
static bool read_num(const struct fast *f, const jsmntok_t *t, bool nullable, double lo, double hi,
                     double *out, bool *has)
{
    *has = false;
    if (t->type != JSMN_PRIMITIVE) {
        return false;
    }
    if (tok_eq(f, t, "null")) {
        return nullable;
    }
    const char *s = f->b + t->start;
    int n = t->end - t->start;
    bool integral = false;
    if (n >= FAST_NUMBER_MAX || !number_form(s, n, &integral)) {
        return false;
    }
    double x;
    if (integral) {
        int64_t i;
        if (!integral_value(s, n, &i)) {
            return false;
        }
        x = (double)i;
    } else if (!exact_decimal(s, n, &x)) {
        char tmp[FAST_NUMBER_MAX];
        memcpy(tmp, s, (size_t)n);
        tmp[n] = '\0';
        char *end = NULL;
        errno = 0;
        x = strtod(tmp, &end);
        if (errno != 0 || end != tmp + n) {
            return false;
        }
    }
    if (!isfinite(x) || x < lo || x > hi) {
        return false;
    }
    *out = x;
    *has = true;
    return true;
}

/* An identifier string (no escapes: a backslash is left to the reference). */
static bool read_id(const struct fast *f, const jsmntok_t *t, char *out)
{
    int n = t->end - t->start;
    if (t->type != JSMN_STRING || n < 1 || n > CRESC_ID_MAX) {
        return false;
    }
    const char *s = f->b + t->start;
    for (int i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '.' || c == '_' || c == ':')) {
            return false; /* the same set as cresc_id_valid */
        }
        out[i] = c;
    }
    out[n] = '\0';
    return true;
}

/* Walks the object at token *i, checking the separators jsmn does not: `{`, key `:` value
 * pairs separated by single commas, `}`. Calls on_pair for each; *i ends past the object. */
typedef bool (*pair_fn)(struct fast *f, void *ctx, const jsmntok_t *key, int *i);

static bool walk_object(struct fast *f, int *i, pair_fn on_pair, void *ctx)
{
    const jsmntok_t *o = &f->t[*i];
    if (o->type != JSMN_OBJECT || f->b[o->start] != '{' || f->b[o->end - 1] != '}') {
        return false;
    }
    int pos = o->start + 1;
    int pairs = o->size;
    (*i)++;
    for (int k = 0; k < pairs; k++) {
        if (*i + 1 >= f->n) {
            return false;
        }
        const jsmntok_t *key = &f->t[*i];
        const jsmntok_t *val = &f->t[*i + 1];
        if (key->type != JSMN_STRING || key->size != 1 ||
            !gap_is(f->b, pos, raw_start(key), k > 0 ? ',' : 0) ||
            !gap_is(f->b, raw_end(key), raw_start(val), ':')) {
            return false;
        }
        (*i)++;
        if (!on_pair(f, ctx, key, i)) {
            return false;
        }
        pos = raw_end(val);
    }
    return gap_is(f->b, pos, o->end - 1, 0);
}

struct disk_ctx {
    double vals[4];
    unsigned seen;
};

static bool disk_pair(struct fast *f, void *ctx, const jsmntok_t *key, int *i)
{
    struct disk_ctx *d = ctx;
    const jsmntok_t *val = &f->t[*i];
    for (unsigned k = 0; k < 4; k++) {
        if (tok_eq_n(f, key, disk_names[k].s, disk_names[k].n)) {
            bool has = false;
            if ((d->seen & (1U << k)) != 0 ||
                !read_num(f, val, false, 0.0, HUGE_VAL, &d->vals[k], &has)) {
                return false;
            }
            d->seen |= 1U << k;
            (*i)++;
            return true;
        }
    }
    return false; /* an unknown field: the reference ignores it, after checking it is JSON */
}

struct sample_ctx {
    struct cresc_sample *out;
    unsigned seen;
};

static bool sample_value(struct fast *f, struct cresc_sample *s, enum field k, int *i)
{
    const jsmntok_t *val = &f->t[*i];
    int64_t x = 0;
    bool has = false;
    bool ok;
    switch (k) {
    case F_SCHEMA_VERSION:
        ok = read_int(f, val, 1, CRESC_SCHEMA_VERSION, &x);
        break;
    case F_SERVICE:
        ok = read_id(f, val, s->service);
        break;
    case F_INSTANCE_ID:
        ok = read_id(f, val, s->instance_id);
        break;
    case F_NODE:
        ok = read_id(f, val, s->node);
        break;
    case F_SEQ:
        ok = read_int(f, val, 1, INT64_MAX, &x);
        s->seq = (uint64_t)x;
        break;
    case F_TS_MS:
        ok = read_int(f, val, 0, CRESC_TS_MAX_MS, &s->ts_ms);
        break;
    case F_INTERVAL_MS:
        ok = read_int(f, val, 1, 86400000, &s->interval_ms);
        break;
    case F_DROPPED:
        ok = read_int(f, val, 0, INT64_MAX, &x);
        s->dropped = (uint64_t)x;
        break;
    case F_CPU:
        ok = read_num(f, val, true, 0.0, 100.0, &s->cpu_pct, &has);
        s->present |= has ? CRESC_SAMPLE_HAS_CPU : 0U;
        break;
    case F_MEM:
        ok = read_num(f, val, true, 0.0, 100.0, &s->mem_pct, &has);
        s->present |= has ? CRESC_SAMPLE_HAS_MEM : 0U;
        break;
    case F_REQ:
        ok = read_num(f, val, true, 0.0, HUGE_VAL, &s->req_per_s, &has);
        s->present |= has ? CRESC_SAMPLE_HAS_REQ : 0U;
        break;
    case F_CONNS:
        ok = read_num(f, val, true, 0.0, HUGE_VAL, &s->active_connections, &has);
        s->present |= has ? CRESC_SAMPLE_HAS_CONNS : 0U;
        break;
    case F_DISK:
        if (val->type == JSMN_PRIMITIVE) {
            ok = tok_eq(f, val, "null");
            break;
        }
        struct disk_ctx d = {{0}, 0};
        if (!walk_object(f, i, disk_pair, &d) || d.seen != 0xFU) {
            return false;
        }
        s->disk_read_ops_per_s = d.vals[0];
        s->disk_write_ops_per_s = d.vals[1];
        s->disk_read_bytes_per_s = d.vals[2];
        s->disk_write_bytes_per_s = d.vals[3];
        s->present |= CRESC_SAMPLE_HAS_DISK;
        return true; /* walk_object moved *i past the object */
    case F_COUNT:
    default:
        return false;
    }
    (*i)++;
    return ok && (val->type == JSMN_PRIMITIVE || val->type == JSMN_STRING);
}

static bool sample_pair(struct fast *f, void *ctx, const jsmntok_t *key, int *i)
{
    struct sample_ctx *c = ctx;
    for (unsigned k = 0; k < F_COUNT; k++) {
        if (tok_eq_n(f, key, field_names[k].s, field_names[k].n)) {
            if ((c->seen & (1U << k)) != 0) {
                return false;
            }
            c->seen |= 1U << k;
            return sample_value(f, c->out, (enum field)k, i);
        }
    }
    return false;
}

bool cresc_sample_decode_fast(const char *buf, size_t len, struct cresc_sample *out)
{
    if (buf == NULL || len == 0 || len > (size_t)CRESC_SAMPLE_MAX_BYTES) {
        return false;
    }
    jsmntok_t toks[FAST_TOKENS];
    jsmn_parser p;
    jsmn_init(&p);
    int n = jsmn_parse(&p, buf, len, toks, FAST_TOKENS);
    if (n < 1) {
        return false;
    }
    struct fast f = {buf, toks, n};
    /* One object, with only whitespace around it, covering the whole buffer (jsmn stops at a
     * NUL byte; anything it did not reach fails here). */
    if (!gap_is(buf, 0, toks[0].start, 0) || !gap_is(buf, toks[0].end, (int)len, 0)) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    struct sample_ctx c = {out, 0};
    int i = 0;
    const unsigned required = (1U << F_SCHEMA_VERSION) | (1U << F_SERVICE) | (1U << F_INSTANCE_ID) |
                              (1U << F_NODE) | (1U << F_SEQ) | (1U << F_TS_MS) |
                              (1U << F_INTERVAL_MS);
    return walk_object(&f, &i, sample_pair, &c) && i == n && (c.seen & required) == required;
}
