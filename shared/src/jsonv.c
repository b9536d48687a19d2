/* Strict field readers over jansson objects (see jsonv.h). They are the one place where a
 * JSON type or range is checked, so every codec names a bad field the same way. */
#include "jsonv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cresc/msg.h"

void cresc_jsonv_init(struct cresc_jsonv *v, char *field, size_t fieldlen, char *err, size_t errlen)
{
    memset(v, 0, sizeof(*v));
    v->field = field;
    v->fieldlen = field != NULL ? fieldlen : 0;
    v->err = err;
    v->errlen = err != NULL ? errlen : 0;
    if (v->fieldlen > 0) {
        v->field[0] = '\0';
    }
    if (v->errlen > 0) {
        v->err[0] = '\0';
    }
}

static size_t path_commit(struct cresc_jsonv *v, size_t mark, int n)
{
    size_t room = sizeof(v->path) - mark;
    if (n < 0 || (size_t)n >= room) {
        /* A truncated path stays NUL-terminated; the length is clamped to the buffer. */
        v->pathlen = sizeof(v->path) - 1;
    } else {
        v->pathlen = mark + (size_t)n;
    }
    return mark;
}

size_t cresc_jsonv_push_key(struct cresc_jsonv *v, const char *key)
{
    size_t mark = v->pathlen;
    int n = snprintf(v->path + mark, sizeof(v->path) - mark, mark > 0 ? ".%s" : "%s", key);
    return path_commit(v, mark, n);
}

size_t cresc_jsonv_push_index(struct cresc_jsonv *v, size_t index)
{
    size_t mark = v->pathlen;
    int n = snprintf(v->path + mark, sizeof(v->path) - mark, "[%zu]", index);
    return path_commit(v, mark, n);
}

void cresc_jsonv_pop(struct cresc_jsonv *v, size_t mark)
{
    if (mark < sizeof(v->path)) {
        v->pathlen = mark;
        v->path[mark] = '\0';
    }
}

int cresc_jsonv_fail(struct cresc_jsonv *v, int code, const char *key, const char *fmt, ...)
{
    if (v->failed) {
        return code;
    }
    v->failed = true;
    if (v->fieldlen > 0) {
        if (key == NULL) {
            (void)snprintf(v->field, v->fieldlen, "%s", v->path);
        } else if (v->pathlen > 0) {
            (void)snprintf(v->field, v->fieldlen, "%s.%s", v->path, key);
        } else {
            (void)snprintf(v->field, v->fieldlen, "%s", key);
        }
    }
    if (v->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        (void)vsnprintf(v->err, v->errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *cresc_json_type_text(const json_t *j)
{
    if (j == NULL) {
        return "nothing";
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

/* Common presence logic: returns 1 when a value is there to read, 0 when absent (ok),
 * or a negative error. */
static int lookup(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                  json_t **val, bool *found)
{
    if (found != NULL) {
        *found = false;
    }
    *val = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (*val == NULL || (json_is_null(*val) && (flags & JV_NULLABLE) != 0)) {
        if ((flags & JV_REQUIRED) != 0) {
            return cresc_jsonv_fail(v, CRESC_EMISSING, key, "required field is missing");
        }
        *val = NULL;
        return 0;
    }
    return 1;
}

int cresc_jsonv_int(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                    int64_t lo, int64_t hi, int64_t *out, bool *found)
{
    json_t *val;
    int rc = lookup(v, obj, key, flags, &val, found);
    if (rc <= 0) {
        return rc;
    }
    int64_t x;
    if (json_is_integer(val)) {
        x = (int64_t)json_integer_value(val);
    } else if (json_is_real(val)) {
        double d = json_real_value(val);
        /* 2^63 is exactly representable; anything at or past it cannot be an int64. */
        if (d != floor(d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
            return cresc_jsonv_fail(v, CRESC_ETYPE, key, "must be an integer, got %g", d);
        }
        x = (int64_t)d;
    } else {
        return cresc_jsonv_fail(v, CRESC_ETYPE, key, "must be an integer, got %s",
                                cresc_json_type_text(val));
    }
    if (x < lo || x > hi) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, key, "%lld is out of range [%lld, %lld]",
                                (long long)x, (long long)lo, (long long)hi);
    }
    *out = x;
    if (found != NULL) {
        *found = true;
    }
    return 0;
}

int cresc_jsonv_i32(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                    int32_t lo, int32_t hi, int32_t *out, bool *found)
{
    int64_t x = 0;
    bool f = false;
    int rc = cresc_jsonv_int(v, obj, key, flags, lo, hi, &x, &f);
    if (rc == 0 && f) {
        *out = (int32_t)x;
    }
    if (found != NULL) {
        *found = f;
    }
    return rc;
}

int cresc_jsonv_num(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                    double lo, double hi, double *out, bool *found)
{
    json_t *val;
    int rc = lookup(v, obj, key, flags, &val, found);
    if (rc <= 0) {
        return rc;
    }
    if (!json_is_number(val)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, key, "must be a number, got %s",
                                cresc_json_type_text(val));
    }
    double x = json_number_value(val);
    bool lo_ok = (flags & JV_LO_OPEN) != 0 ? x > lo : x >= lo;
    bool hi_ok = (flags & JV_HI_OPEN) != 0 ? x < hi : x <= hi;
    if (!isfinite(x) || !lo_ok || !hi_ok) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, key, "%g is out of range %c%g, %g%c", x,
                                (flags & JV_LO_OPEN) != 0 ? '(' : '[', lo, hi,
                                (flags & JV_HI_OPEN) != 0 ? ')' : ']');
    }
    *out = x;
    if (found != NULL) {
        *found = true;
    }
    return 0;
}

int cresc_jsonv_bool(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                     bool *out, bool *found)
{
    json_t *val;
    int rc = lookup(v, obj, key, flags, &val, found);
    if (rc <= 0) {
        return rc;
    }
    if (!json_is_boolean(val)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, key, "must be a boolean, got %s",
                                cresc_json_type_text(val));
    }
    *out = json_is_true(val);
    if (found != NULL) {
        *found = true;
    }
    return 0;
}

int cresc_jsonv_str(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                    char *out, size_t cap, bool *found)
{
    json_t *val;
    int rc = lookup(v, obj, key, flags, &val, found);
    if (rc <= 0) {
        return rc;
    }
    if (!json_is_string(val)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, key, "must be a string, got %s",
                                cresc_json_type_text(val));
    }
    const char *s = json_string_value(val);
    size_t n = json_string_length(val);
    if (n >= cap) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, key, "string of %zu bytes exceeds the limit %zu",
                                n, cap - 1);
    }
    if (strlen(s) != n) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, key, "string contains a NUL character");
    }
    if ((flags & JV_NONEMPTY) != 0 && n == 0) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, key, "must not be empty");
    }
    if ((flags & JV_ID) != 0 && !cresc_id_valid(s)) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, key,
                                "'%.64s' is not an identifier (1..%d bytes of [A-Za-z0-9._:-])", s,
                                CRESC_ID_MAX);
    }
    memcpy(out, s, n + 1);
    if (found != NULL) {
        *found = true;
    }
    return 0;
}

int cresc_jsonv_enum(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                     const char *const *names, size_t n, int *out, bool *found)
{
    json_t *val;
    int rc = lookup(v, obj, key, flags, &val, found);
    if (rc <= 0) {
        return rc;
    }
    if (!json_is_string(val)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, key, "must be a string, got %s",
                                cresc_json_type_text(val));
    }
    const char *s = json_string_value(val);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            if (found != NULL) {
                *found = true;
            }
            return 0;
        }
    }
    char allowed[192] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof(allowed); i++) {
        int w =
            snprintf(allowed + used, sizeof(allowed) - used, "%s%s", i > 0 ? ", " : "", names[i]);
        if (w < 0) {
            break;
        }
        used += (size_t)w;
    }
    return cresc_jsonv_fail(v, CRESC_EINVAL, key, "unknown value '%.64s' (expected one of: %s)", s,
                            allowed);
}

int cresc_jsonv_obj(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                    json_t **out)
{
    json_t *val;
    *out = NULL;
    int rc = lookup(v, obj, key, flags, &val, NULL);
    if (rc <= 0) {
        return rc;
    }
    if (!json_is_object(val)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, key, "must be an object, got %s",
                                cresc_json_type_text(val));
    }
    *out = val;
    return 0;
}

int cresc_jsonv_arr(struct cresc_jsonv *v, const json_t *obj, const char *key, unsigned flags,
                    size_t max, json_t **out)
{
    json_t *val;
    *out = NULL;
    int rc = lookup(v, obj, key, flags, &val, NULL);
    if (rc <= 0) {
        return rc;
    }
    if (!json_is_array(val)) {
        return cresc_jsonv_fail(v, CRESC_ETYPE, key, "must be an array, got %s",
                                cresc_json_type_text(val));
    }
    if (json_array_size(val) > max) {
        return cresc_jsonv_fail(v, CRESC_ERANGE, key, "%zu items exceed the limit %zu",
                                json_array_size(val), max);
    }
    *out = val;
    return 0;
}

void cresc_jsonv_set(json_t *obj, const char *key, json_t *value, int *rc)
{
    if (*rc != 0 || value == NULL || obj == NULL) {
        if (*rc == 0) {
            *rc = CRESC_ENOMEM;
        }
        json_decref(value);
        return;
    }
    /* json_object_set_new releases `value` even when it fails. */
    if (json_object_set_new(obj, key, value) != 0) {
        *rc = CRESC_ENOMEM;
    }
}

void cresc_jsonv_append(json_t *arr, json_t *value, int *rc)
{
    if (*rc != 0 || value == NULL || arr == NULL) {
        if (*rc == 0) {
            *rc = CRESC_ENOMEM;
        }
        json_decref(value);
        return;
    }
    if (json_array_append_new(arr, value) != 0) {
        *rc = CRESC_ENOMEM;
    }
}

json_t *cresc_jsonv_real(double value, int *rc)
{
    if (!isfinite(value)) {
        if (*rc == 0) {
            *rc = CRESC_EINVAL;
        }
        return json_null();
    }
    return json_real(value);
}

json_t *cresc_jsonv_real_or_null(bool present, double value, int *rc)
{
    return present ? cresc_jsonv_real(value, rc) : json_null();
}

int cresc_jsonv_dump(const json_t *j, char *buf, size_t cap, size_t max_bytes, size_t *len)
{
    size_t limit = cap < max_bytes + 1 ? cap : max_bytes + 1;
    if (buf == NULL || limit == 0) {
        return CRESC_ETOOBIG;
    }
    /* json_dumpb returns the full size even when it does not fit, writing nothing past cap. */
    size_t n =
        json_dumpb(j, buf, limit, JSON_COMPACT | JSON_REAL_PRECISION(CRESC_JSONV_REAL_DIGITS));
    if (n == 0) {
        return CRESC_ENOMEM;
    }
    if (n >= limit) {
        return CRESC_ETOOBIG;
    }
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return 0;
}
