/* Request validation for crescendo-api. The API checks everything it can on its own (types,
 * ranges, the config as a whole against the view's copy) so that most bad writes get a 400
 * naming the field at once, before anything reaches Kafka; the coordinator stays the final
 * authority and may still reject (e.g. a target outside min..max). */
#include "request.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int cresc_api_error_set(struct cresc_api_error *e, unsigned status, const char *field,
                        const char *fmt, ...)
{
    va_list ap;
    e->status = status;
    snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(e->error, sizeof(e->error), fmt, ap);
    va_end(ap);
    return CRESC_EINVAL;
}

bool cresc_request_is_json_type(const char *ct)
{
    if (ct == NULL) {
        return false;
    }
    while (*ct == ' ') {
        ct++;
    }
    size_t n = strcspn(ct, "; \t");
    if (n == 16 && strncasecmp(ct, "application/json", 16) == 0) {
        return true;
    }
    /* application/merge-patch+json, application/vnd.x+json ... */
    return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
           strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int cresc_request_parse(const char *body, size_t len, json_t **out, struct cresc_api_error *e)
{
    json_error_t jerr;
    *out = NULL;
    if (len == 0) {
        return cresc_api_error_set(e, 400, "", "request body is empty: a JSON object is required");
    }
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        return cresc_api_error_set(e, 400, "", "malformed JSON at line %d column %d: %s", jerr.line,
                                   jerr.column, jerr.text);
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        return cresc_api_error_set(e, 400, "", "request body must be a JSON object");
    }
    *out = doc;
    return CRESC_OK;
}

/* Reject members not in `known` (NULL-terminated): a typo must not be silently ignored. */
static int check_known(const json_t *obj, const char *const *known, struct cresc_api_error *e)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; known[i] != NULL; i++) {
            if (strcmp(key, known[i]) == 0) {
                ok = true;
                break;
            }
        }
        if (!ok) {
            return cresc_api_error_set(e, 400, key, "unknown field \"%.64s\"", key);
        }
    }
    return CRESC_OK;
}

static int get_int(const json_t *obj, const char *name, bool required, json_int_t lo, json_int_t hi,
                   json_int_t *out, bool *present, struct cresc_api_error *e)
{
    const json_t *v = json_object_get(obj, name);
    *present = v != NULL;
    if (v == NULL) {
        if (required) {
            return cresc_api_error_set(e, 400, name, "%s is required", name);
        }
        return CRESC_OK;
    }
    /* 5.0 is accepted as 5: JSON has one number type and some clients always send reals. */
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi) {
            return cresc_api_error_set(e, 400, name,
                                       "%s must be an integer in [%lld, %lld], got %g", name,
                                       (long long)lo, (long long)hi, d);
        }
        *out = (json_int_t)d;
        return CRESC_OK;
    }
    if (!json_is_integer(v)) {
        return cresc_api_error_set(e, 400, name, "%s must be an integer, got %s", name,
                                   cresc_json_type_text(v));
    }
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi) {
        return cresc_api_error_set(e, 400, name, "%s must be in [%lld, %lld], got %lld", name,
                                   (long long)lo, (long long)hi, (long long)x);
    }
    *out = x;
    return CRESC_OK;
}

int cresc_request_scale(const json_t *obj, struct cresc_control *ctl, struct cresc_api_error *e)
{
    static const char *const known[] = {"target_instances", "reason", NULL};
    json_int_t target = 0;
    bool present;
    int rc = check_known(obj, known, e);
    if (rc == CRESC_OK) {
        rc = get_int(obj, "target_instances", true, 0, 10000, &target, &present, e);
    }
    if (rc != CRESC_OK) {
        return rc;
    }
    ctl->type = CRESC_CTL_SCALE;
    ctl->target_instances = (int32_t)target;
    ctl->reason[0] = '\0';
    const json_t *r = json_object_get(obj, "reason");
    if (r != NULL && !json_is_null(r)) {
        if (!json_is_string(r)) {
            return cresc_api_error_set(e, 400, "reason", "reason must be a string, got %s",
                                       cresc_json_type_text(r));
        }
        size_t n = json_string_length(r);
        if (n >= sizeof(ctl->reason)) {
            return cresc_api_error_set(e, 400, "reason", "reason is longer than %zu bytes",
                                       sizeof(ctl->reason) - 1);
        }
        if (memchr(json_string_value(r), '\0', n) != NULL) {
            return cresc_api_error_set(e, 400, "reason", "reason must not contain NUL");
        }
        memcpy(ctl->reason, json_string_value(r), n + 1);
    }
    return CRESC_OK;
}

int cresc_request_priority(const json_t *obj, struct cresc_control *ctl, struct cresc_api_error *e)
{
    static const char *const known[] = {"match_id", "priority", "resource_allocation", NULL};
    json_int_t prio = 0;
    bool present;
    int rc = check_known(obj, known, e);
    if (rc != CRESC_OK) {
        return rc;
    }
    const json_t *m = json_object_get(obj, "match_id");
    if (m == NULL) {
        return cresc_api_error_set(e, 400, "match_id", "match_id is required");
    }
    if (!json_is_string(m)) {
        return cresc_api_error_set(e, 400, "match_id", "match_id must be a string, got %s",
                                   cresc_json_type_text(m));
    }
    if (json_string_length(m) > CRESC_ID_MAX || !cresc_id_valid(json_string_value(m))) {
        return cresc_api_error_set(e, 400, "match_id",
                                   "match_id must be 1..%d characters of [A-Za-z0-9._:-]",
                                   CRESC_ID_MAX);
    }
    rc = get_int(obj, "priority", true, 1, 10, &prio, &present, e);
    if (rc != CRESC_OK) {
        return rc;
    }
    const json_t *a = json_object_get(obj, "resource_allocation");
    if (a == NULL) {
        return cresc_api_error_set(e, 400, "resource_allocation",
                                   "resource_allocation is required");
    }
    if (!json_is_number(a)) {
        return cresc_api_error_set(e, 400, "resource_allocation",
                                   "resource_allocation must be a number, got %s",
                                   cresc_json_type_text(a));
    }
    double alloc = json_number_value(a);
    if (!isfinite(alloc) || alloc <= 0.0 || alloc > 100.0) {
        return cresc_api_error_set(e, 400, "resource_allocation",
                                   "resource_allocation must be in (0, 100] percent, got %g",
                                   alloc);
    }
    ctl->type = CRESC_CTL_PRIORITY_UPSERT;
    memcpy(ctl->match_id, json_string_value(m), json_string_length(m) + 1);
    ctl->priority = (int32_t)prio;
    ctl->resource_allocation = alloc;
    return CRESC_OK;
}

/* Reject members of `obj` (and of its nested objects) that the config's own JSON rendering
 * `shape` does not have: the coordinator ignores unknown fields of a control message (forward
 * compatibility), so a typo such as "cpu_treshold" would be accepted, bump the config version
 * and change nothing. Arrays (policies) are checked by the config validator itself. */
static int check_config_keys(const json_t *obj, const json_t *shape, const char *prefix,
                             struct cresc_api_error *e)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)(uintptr_t)obj, key, v)
    {
        char path[96];
        snprintf(path, sizeof(path), "%s%s%.64s", prefix, prefix[0] ? "." : "", key);
        const json_t *known = json_object_get(shape, key);
        if (known == NULL) {
            return cresc_api_error_set(e, 400, path, "unknown field \"%s\"", path);
        }
        if (json_is_object(v) && json_is_object(known)) {
            int rc = check_config_keys(v, known, path, e);
            if (rc != CRESC_OK) {
                return rc;
            }
        }
    }
    return CRESC_OK;
}

int cresc_request_config(const json_t *obj, const struct cresc_scaling_config *current,
                         struct cresc_control *ctl, struct cresc_scaling_config *result,
                         struct cresc_api_error *e)
{
    struct cresc_scaling_config next = *current;
    char field[96] = "";
    char err[CRESC_REASON_MAX] = "";
    if (json_object_size(obj) == 0) {
        return cresc_api_error_set(e, 400, "", "the config object names no field to change");
    }
    json_t *shape = cresc_scaling_config_to_json(current);
    if (shape == NULL) {
        return cresc_api_error_set(e, 500, "", "out of memory");
    }
    int rc = check_config_keys(obj, shape, "", e);
    json_decref(shape);
    if (rc != CRESC_OK) {
        return rc;
    }
    rc = cresc_scaling_config_apply_json(&next, obj, field, sizeof(field), err, sizeof(err));
    if (rc != CRESC_OK) {
        return cresc_api_error_set(e, 400, field, "%s", err[0] ? err : cresc_strerror(rc));
    }
    ctl->type = CRESC_CTL_CONFIG_UPDATE;
    ctl->config = json_deep_copy(obj);
    if (ctl->config == NULL) {
        return cresc_api_error_set(e, 500, "", "out of memory");
    }
    if (result != NULL) {
        *result = next;
    }
    return CRESC_OK;
}

int cresc_request_service(const char *param, const char *def, char *out, struct cresc_api_error *e)
{
    const char *s = param != NULL ? param : def;
    if (s == NULL || strlen(s) > CRESC_ID_MAX || !cresc_id_valid(s)) {
        return cresc_api_error_set(
            e, 400, "service", "service must be 1..%d characters of [A-Za-z0-9._:-]", CRESC_ID_MAX);
    }
    memcpy(out, s, strlen(s) + 1);
    return CRESC_OK;
}

int cresc_request_idempotency_key(const char *header, char *request_id, bool *has,
                                  struct cresc_api_error *e)
{
    *has = false;
    if (header == NULL) {
        return CRESC_OK;
    }
    if (strlen(header) > CRESC_ID_MAX || !cresc_id_valid(header)) {
        return cresc_api_error_set(e, 400, "Idempotency-Key",
                                   "Idempotency-Key must be 1..%d characters of [A-Za-z0-9._:-]",
                                   CRESC_ID_MAX);
    }
    memcpy(request_id, header, strlen(header) + 1);
    *has = true;
    return CRESC_OK;
}
