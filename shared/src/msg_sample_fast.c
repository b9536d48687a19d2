/* The sample decoder's fast path (docs/messages.md#scaling-samples). The coordinator decodes
 * every sample it consumes: a jansson tree per message (allocate every key and value, hash
 * them, free them) costs about ten times what reading the message from Kafka does, and a
 * general tokenizer (jsmn, tried first) still spent ~10,000 instructions on a 280-byte sample,
 * half of the coordinator's ingest. The samples are flat objects of known fields, so this path
 * reads them in one pass, left to right, straight into the struct: a cursor that knows which
 * field it is in and what that field's value must look like. Samples in the encoder's own
 * layout (every agent's) are matched literal by literal first (decode_layout): ~2,950
 * instructions a sample, against ~4,700 for the key-by-key way (valgrind --tool=callgrind;
 * docs/coordinator-benchmarks.md).
 *
 * It only ever accepts. Whatever it is not sure of (unknown or repeated fields, escapes or
 * non-ASCII in a string, a number outside the plain forms, a value out of range, anything
 * malformed) makes it answer "not sure", and cresc_sample_decode then runs the jansson decoder
 * (cresc_sample_decode_reference), which gives the authoritative verdict and the error
 * message. So it accepts a subset of what the reference accepts, with the same result:
 * tests/unit/test_msg_fast.c and the differential property of tests/fuzz/fuzz_msg_sample.c
 * check exactly that. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cresc/msg.h"
#include "msg_internal.h"

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

#define DISK_FIELDS 4
static const struct name disk_names[DISK_FIELDS] = {NAME("read_ops_per_s"), NAME("write_ops_per_s"),
                                                    NAME("read_bytes_per_s"),
                                                    NAME("write_bytes_per_s")};

/* The read position in [p, end). */
struct cur {
    const char *p;
    const char *end;
};

static inline bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void skip_ws(struct cur *c)
{
    while (c->p < c->end && is_ws(*c->p)) {
        c->p++;
    }
}

/* Optional whitespace, then ch. */
static bool take(struct cur *c, char ch)
{
    if (c->p < c->end && *c->p == ch) { /* the usual case: no whitespace */
        c->p++;
        return true;
    }
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A string's contents after its opening quote, up to the closing one (consumed): printable
 * ASCII without escapes only, the rest is left to the reference. */
static bool string_body(struct cur *c, const char **s, size_t *n)
{
    const char *start = c->p;
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            *s = start;
            *n = (size_t)(c->p - start);
            c->p++;
            return true;
        }
        if (ch == '\\' || ch < 0x20 || ch >= 0x7f) {
            return false;
        }
        c->p++;
    }
    return false;
}

/* The literal lit (not followed by a letter, which would make another token). */
static bool literal(struct cur *c, const char *lit, size_t n)
{
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, lit, n) != 0) {
        return false;
    }
    c->p += n;
    return c->p == c->end || !((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z') ||
                               (*c->p >= '0' && *c->p <= '9'));
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

/* A number as read by scan_number: its text, sign, and digits as an integer m times 10^e. */
struct num {
    const char *s;
    int n;
    bool neg;
    bool integral; /* neither fraction nor exponent */
    bool wide;     /* more than 19 significant digits (m, e not kept), or a huge exponent */
    uint64_t m;
    int sig; /* significant digits in m */
    int e;
};

static void num_digit(struct num *x, char ch)
{
    if (x->sig >= 19) {
        x->wide = true;
        return;
    }
    x->m = x->m * 10 + (uint64_t)(ch - '0');
    x->sig += x->m > 0 ? 1 : 0;
}

/* One number in JSON's grammar, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, in one pass.
 * Whatever follows it is the caller's to check (so "01" ends after the 0, then fails there). */
static bool scan_number(struct cur *c, struct num *x)
{
    const char *p = c->p;
    const char *end = c->end;
    memset(x, 0, sizeof(*x));
    x->s = p;
    x->integral = true;
    if (p < end && *p == '-') {
        x->neg = true;
        p++;
    }
    if (p >= end || !is_digit(*p)) {
        return false;
    }
    if (*p == '0') {
        p++;
    } else {
        for (; p < end && is_digit(*p); p++) {
            num_digit(x, *p);
        }
    }
    if (p < end && *p == '.') {
        x->integral = false;
        const char *d = ++p;
        for (; p < end && is_digit(*p); p++) {
            num_digit(x, *p);
            x->e--;
        }
        if (p == d) {
            return false;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        x->integral = false;
        p++;
        bool eneg = p < end && *p == '-';
        if (p < end && (*p == '-' || *p == '+')) {
            p++;
        }
        const char *d = p;
        int v = 0;
        for (; p < end && is_digit(*p); p++) {
            v = v < 1000 ? v * 10 + (*p - '0') : v;
        }
        if (p == d) {
            return false;
        }
        x->wide = x->wide || v >= 1000;
        x->e += eneg ? -v : v;
    }
    x->n = (int)(p - x->s);
    c->p = p;
    return true;
}

/* An integral number's value, as jansson's json_integer has it: false beyond int64. */
static bool num_int(const struct num *x, int64_t *out)
{
    if (!x->integral || x->wide || x->e != 0) {
        return false;
    }
    if (x->neg) {
        if (x->m > (uint64_t)INT64_MAX + 1) {
            return false;
        }
        *out = x->m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)x->m;
    } else {
        if (x->m > (uint64_t)INT64_MAX) {
            return false;
        }
        *out = (int64_t)x->m;
    }
    return true;
}

/* A real's value as strtod gives it (jansson reads reals with strtod). With at most 15
 * significant digits (m < 10^15 < 2^53) and |e| <= 22, m and 10^e are exact doubles and one
 * IEEE multiplication or division rounds correctly, to that same double (Clinger's fast
 * path); anything else goes through strtod itself. ERANGE is left to the reference. */
static bool num_real(const struct num *x, double *out)
{
    static const double pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    if (!x->wide && x->sig <= 15 && x->e >= -22 && x->e <= 22) {
        double d = (double)x->m;
        d = x->e < 0 ? d / pow10[-x->e] : d * pow10[x->e];
        *out = x->neg ? -d : d;
        return true;
    }
    char tmp[FAST_NUMBER_MAX];
    if (x->n >= FAST_NUMBER_MAX) {
        return false;
    }
    memcpy(tmp, x->s, (size_t)x->n);
    tmp[x->n] = '\0';
    char *end = NULL;
    errno = 0;
    double d = strtod(tmp, &end);
    if (errno != 0 || end != tmp + x->n) {
        return false;
    }
    *out = d;
    return true;
}

/* A plain integer in [lo, hi]: the digits only (a fraction or exponent is left to the
 * reference, which accepts an integral real), no overflow. */
static bool read_int(struct cur *c, int64_t lo, int64_t hi, int64_t *out)
{
    struct num x;
    int64_t v;
    if (!scan_number(c, &x) || !num_int(&x, &v) || v < lo || v > hi) {
        return false;
    }
    *out = v;
    return true;
}

/* A number in [lo, hi], or null when nullable (*has = false). An integer literal converts as
 * the reference's json_integer does (so "-0" is +0.0), a real as strtod does. */
static bool read_num(struct cur *c, bool nullable, double lo, double hi, double *out, bool *has)
{
    *has = false;
    if (c->p < c->end && *c->p == 'n') {
        return nullable && literal(c, "null", 4);
    }
    struct num x;
    double v;
    int64_t i;
    if (!scan_number(c, &x)) {
        return false;
    }
    if (x.integral) {
        if (!num_int(&x, &i)) {
            return false;
        }
        v = (double)i;
    } else if (!num_real(&x, &v)) {
        return false;
    }
    if (!isfinite(v) || v < lo || v > hi) {
        return false;
    }
    *out = v;
    *has = true;
    return true;
}

/* An identifier string: cresc_id_valid's character set (so no escapes), 1..CRESC_ID_MAX long. */
static bool read_id(struct cur *c, char *out)
{
    if (c->p >= c->end || *c->p != '"') {
        return false;
    }
    const char *start = c->p + 1;
    const char *end = c->end - start > CRESC_ID_MAX ? start + CRESC_ID_MAX : c->end;
    const char *p = start;
    while (p < end && cresc_id_char(*p)) {
        p++;
    }
    const size_t n = (size_t)(p - start);
    if (n == 0 || p >= c->end || *p != '"') {
        return false;
    }
    memcpy(out, start, n);
    out[n] = '\0';
    c->p = p + 1;
    return true;
}

/* The next key of an object (after `{` or `,`) and its `:`, as an index into names, trying
 * *hint first (encoders write the fields in order) and leaving *hint at the field after it. A
 * key seen before (bit set in *seen) or unknown (the reference ignores unknown fields, after
 * checking their value is JSON) is left to the reference. */
static bool key(struct cur *c, const struct name *names, unsigned count, unsigned *hint,
                unsigned *seen, unsigned *k)
{
    if (!take(c, '"')) {
        return false;
    }
    unsigned i = *hint;
    const struct name *h = &names[i];
    const char *s;
    size_t n;
    if ((size_t)(c->end - c->p) > h->n && c->p[h->n] == '"' && memcmp(c->p, h->s, h->n) == 0) {
        c->p += h->n + 1; /* the expected one */
    } else {
        if (!string_body(c, &s, &n)) {
            return false;
        }
        for (i = 0; i < count && !(names[i].n == n && memcmp(names[i].s, s, n) == 0); i++) {
        }
        if (i == count) {
            return false;
        }
    }
    if ((*seen & (1U << i)) != 0 || !take(c, ':')) {
        return false;
    }
    *seen |= 1U << i;
    *hint = i + 1 == count ? 0 : i + 1;
    *k = i;
    if (c->p < c->end && is_ws(*c->p)) {
        skip_ws(c);
    }
    return true;
}

/* After a value: `,` (another pair follows: *more) or `}` (the object ends). */
static bool after_value(struct cur *c, bool *more)
{
    skip_ws(c);
    if (c->p < c->end && (*c->p == ',' || *c->p == '}')) {
        *more = *c->p == ',';
        c->p++;
        return true;
    }
    return false;
}

/* The disk object, or null. */
static bool read_disk(struct cur *c, struct cresc_sample *s)
{
    if (c->p < c->end && *c->p == 'n') {
        return literal(c, "null", 4);
    }
    if (!take(c, '{')) {
        return false;
    }
    double vals[DISK_FIELDS];
    unsigned seen = 0, hint = 0;
    for (bool more = true; more;) {
        unsigned k;
        bool has = false;
        if (!key(c, disk_names, DISK_FIELDS, &hint, &seen, &k) ||
            !read_num(c, false, 0.0, HUGE_VAL, &vals[k], &has) || !after_value(c, &more)) {
            return false;
        }
    }
    if (seen != (1U << DISK_FIELDS) - 1) {
        return false;
    }
    s->disk_read_ops_per_s = vals[0];
    s->disk_write_ops_per_s = vals[1];
    s->disk_read_bytes_per_s = vals[2];
    s->disk_write_bytes_per_s = vals[3];
    s->present |= CRESC_SAMPLE_HAS_DISK;
    return true;
}

static bool read_value(struct cur *c, struct cresc_sample *s, enum field k)
{
    int64_t x = 0;
    bool has = false;
    bool ok;
    switch (k) {
    case F_SCHEMA_VERSION:
        return read_int(c, 1, CRESC_SCHEMA_VERSION, &x);
    case F_SERVICE:
        return read_id(c, s->service);
    case F_INSTANCE_ID:
        return read_id(c, s->instance_id);
    case F_NODE:
        return read_id(c, s->node);
    case F_SEQ:
        ok = read_int(c, 1, INT64_MAX, &x);
        s->seq = (uint64_t)x;
        return ok;
    case F_TS_MS:
        return read_int(c, 0, CRESC_TS_MAX_MS, &s->ts_ms);
    case F_INTERVAL_MS:
        return read_int(c, 1, 86400000, &s->interval_ms);
    case F_DROPPED:
        ok = read_int(c, 0, INT64_MAX, &x);
        s->dropped = (uint64_t)x;
        return ok;
    case F_CPU:
        ok = read_num(c, true, 0.0, 100.0, &s->cpu_pct, &has);
        s->present |= has ? CRESC_SAMPLE_HAS_CPU : 0U;
        return ok;
    case F_MEM:
        ok = read_num(c, true, 0.0, 100.0, &s->mem_pct, &has);
        s->present |= has ? CRESC_SAMPLE_HAS_MEM : 0U;
        return ok;
    case F_REQ:
        ok = read_num(c, true, 0.0, HUGE_VAL, &s->req_per_s, &has);
        s->present |= has ? CRESC_SAMPLE_HAS_REQ : 0U;
        return ok;
    case F_CONNS:
        ok = read_num(c, true, 0.0, HUGE_VAL, &s->active_connections, &has);
        s->present |= has ? CRESC_SAMPLE_HAS_CONNS : 0U;
        return ok;
    case F_DISK:
        return read_disk(c, s);
    case F_COUNT:
    default:
        return false;
    }
}

/* The literal lit (a string constant: memcmp with its constant length is inlined). */
#define LAYOUT_KEY(c, lit)                             \
    ((size_t)((c)->end - (c)->p) >= sizeof(lit) - 1 && \
     memcmp((c)->p, lit, sizeof(lit) - 1) == 0 && ((c)->p += sizeof(lit) - 1, true))

/* The layout cresc_sample_encode writes, which is what agents send: every field, in this
 * order, no whitespace. Each separator and key is matched as one literal, the values by the
 * same readers as below; anything else (another order, whitespace, fields missing or
 * unknown) goes the general way. */
static bool decode_layout(struct cur *c, struct cresc_sample *s)
{
    return LAYOUT_KEY(c, "{\"schema_version\":") && read_value(c, s, F_SCHEMA_VERSION) &&
           LAYOUT_KEY(c, ",\"service\":") && read_value(c, s, F_SERVICE) &&
           LAYOUT_KEY(c, ",\"instance_id\":") && read_value(c, s, F_INSTANCE_ID) &&
           LAYOUT_KEY(c, ",\"node\":") && read_value(c, s, F_NODE) && LAYOUT_KEY(c, ",\"seq\":") &&
           read_value(c, s, F_SEQ) && LAYOUT_KEY(c, ",\"ts_ms\":") && read_value(c, s, F_TS_MS) &&
           LAYOUT_KEY(c, ",\"interval_ms\":") && read_value(c, s, F_INTERVAL_MS) &&
           LAYOUT_KEY(c, ",\"dropped\":") && read_value(c, s, F_DROPPED) &&
           LAYOUT_KEY(c, ",\"cpu_pct\":") && read_value(c, s, F_CPU) &&
           LAYOUT_KEY(c, ",\"mem_pct\":") && read_value(c, s, F_MEM) &&
           LAYOUT_KEY(c, ",\"req_per_s\":") && read_value(c, s, F_REQ) &&
           LAYOUT_KEY(c, ",\"active_connections\":") && read_value(c, s, F_CONNS) &&
           LAYOUT_KEY(c, ",\"disk\":") && read_value(c, s, F_DISK) && LAYOUT_KEY(c, "}") &&
           c->p == c->end;
}
#undef LAYOUT_KEY

bool cresc_sample_decode_fast(const char *buf, size_t len, struct cresc_sample *out)
{
    if (buf == NULL || len == 0 || len > (size_t)CRESC_SAMPLE_MAX_BYTES) {
        return false;
    }
    struct cur c = {buf, buf + len};
    memset(out, 0, sizeof(*out));
    if (decode_layout(&c, out)) {
        return true;
    }
    c.p = buf;
    if (!take(&c, '{')) {
        return false;
    }
    memset(out, 0, sizeof(*out));
    unsigned seen = 0, hint = 0;
    for (bool more = true; more;) {
        unsigned k;
        if (!key(&c, field_names, F_COUNT, &hint, &seen, &k) ||
            !read_value(&c, out, (enum field)k) || !after_value(&c, &more)) {
            return false;
        }
    }
    skip_ws(&c);
    const unsigned required = (1U << F_SCHEMA_VERSION) | (1U << F_SERVICE) | (1U << F_INSTANCE_ID) |
                              (1U << F_NODE) | (1U << F_SEQ) | (1U << F_TS_MS) |
                              (1U << F_INTERVAL_MS);
    return c.p == c.end && (seen & required) == required;
}
