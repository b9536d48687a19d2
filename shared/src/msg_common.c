/* What every message codec shares: the identifier rule, parsing a buffer into a JSON object
 * under a size limit with the schema_version check, encoding under a limit, and the
 * rejected-message counters (logged once per kind). */
#include "cresc/msg.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "cresc/log.h"
#include "msg_internal.h"

static const char *const kind_names[CRESC_MSG_KIND_COUNT] = {"sample", "control", "decision",
                                                             "command", "state"};

const char *cresc_msg_kind_name(enum cresc_msg_kind kind)
{
    return (unsigned)kind < (unsigned)CRESC_MSG_KIND_COUNT ? kind_names[kind] : "unknown";
}

/* The letters in runs of 13: A-M, N-Z, a-m, n-z. */
#define ID13(a)                                                                                 \
    [(a)] = 1, [(a) + 1] = 1, [(a) + 2] = 1, [(a) + 3] = 1, [(a) + 4] = 1, [(a) + 5] = 1,       \
    [(a) + 6] = 1, [(a) + 7] = 1, [(a) + 8] = 1, [(a) + 9] = 1, [(a) + 10] = 1, [(a) + 11] = 1, \
    [(a) + 12] = 1
const unsigned char cresc_id_chars[256] = {
    ['-'] = 1, ['.'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    [':'] = 1, ['_'] = 1, ID13('A'), ID13('N'), ID13('a'), ID13('n'),
};
#undef ID13

bool cresc_id_valid(const char *s)
{
    if (s == NULL) {
        return false;
    }
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        if (n >= CRESC_ID_MAX) {
            return false;
        }
        if (!cresc_id_char(s[n])) {
            return false;
        }
    }
    return n > 0;
}

static _Thread_local struct cresc_msg_error encode_error;

struct cresc_msg_error *cresc_msg_encode_slot(void)
{
    memset(&encode_error, 0, sizeof(encode_error));
    return &encode_error;
}

const struct cresc_msg_error *cresc_msg_encode_error(void)
{
    return &encode_error;
}

void cresc_msg_jsonv_init(struct cresc_jsonv *v, struct cresc_msg_error *err)
{
    if (err != NULL) {
        cresc_jsonv_init(v, err->field, sizeof(err->field), err->reason, sizeof(err->reason));
    } else {
        cresc_jsonv_init(v, NULL, 0, NULL, 0);
    }
}

int cresc_msg_parse(struct cresc_jsonv *v, const char *buf, size_t len, size_t max_bytes,
                    json_t **out)
{
    *out = NULL;
    if (buf == NULL) {
        return cresc_jsonv_fail(v, CRESC_EINVAL, NULL, "no message");
    }
    /* The size check comes first so an oversized buffer is never handed to the parser. */
    if (len > max_bytes) {
        return cresc_jsonv_fail(v, CRESC_ETOOBIG, NULL,
                                "message of %zu bytes exceeds the limit %zu", len, max_bytes);
    }
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        return cresc_jsonv_fail(v, CRESC_EPARSE, NULL, "not JSON: %s at line %d column %d",
                                jerr.text, jerr.line, jerr.column);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        return cresc_jsonv_fail(v, CRESC_ETYPE, NULL, "message must be a JSON object");
    }
    int rc = cresc_msg_check_version(v, root);
    if (rc != 0) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return 0;
}

int cresc_msg_check_version(struct cresc_jsonv *v, const json_t *root)
{
    int64_t version = 0;
    int rc = cresc_jsonv_int(v, root, "schema_version", JV_REQUIRED, 1, INT64_MAX, &version, NULL);
    if (rc != 0) {
        return rc;
    }
    if (version > CRESC_SCHEMA_VERSION) {
        return cresc_jsonv_fail(v, CRESC_EVERSION, "schema_version",
                                "schema_version %lld is newer than supported %d",
                                (long long)version, CRESC_SCHEMA_VERSION);
    }
    return 0;
}

int cresc_msg_finish(json_t *root, int build_rc, char *buf, size_t cap, size_t max_bytes,
                     size_t *len)
{
    int rc = build_rc;
    if (rc == 0) {
        rc = cresc_jsonv_dump(root, buf, cap, max_bytes, len);
        if (rc == CRESC_ETOOBIG) {
            (void)snprintf(
                encode_error.reason, sizeof(encode_error.reason),
                "encoded message exceeds the buffer (%zu bytes) or the limit (%zu bytes)", cap,
                max_bytes);
        }
    }
    json_decref(root);
    return rc;
}

json_t *cresc_msg_new_root(int *rc)
{
    json_t *root = json_object();
    cresc_jsonv_set(root, "schema_version", json_integer(CRESC_SCHEMA_VERSION), rc);
    return root;
}

static const char *const disk_keys[4] = {"read_ops_per_s", "write_ops_per_s", "read_bytes_per_s",
                                         "write_bytes_per_s"};

json_t *cresc_msg_disk_to_json(const double vals[4], int *rc)
{
    json_t *o = json_object();
    for (size_t i = 0; i < 4; i++) {
        cresc_jsonv_set(o, disk_keys[i], cresc_jsonv_real(vals[i], rc), rc);
    }
    return o;
}

int cresc_msg_disk_from_json(struct cresc_jsonv *v, const json_t *o, double vals[4])
{
    for (size_t i = 0; i < 4; i++) {
        int rc = cresc_jsonv_num(v, o, disk_keys[i], JV_REQUIRED, 0.0, HUGE_VAL, &vals[i], NULL);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static atomic_uint_least64_t rejected[CRESC_MSG_KIND_COUNT];
static struct cresc_log_once reject_once[CRESC_MSG_KIND_COUNT] = {
    CRESC_LOG_ONCE_INIT, CRESC_LOG_ONCE_INIT, CRESC_LOG_ONCE_INIT,
    CRESC_LOG_ONCE_INIT, CRESC_LOG_ONCE_INIT,
};

void cresc_msg_reject(enum cresc_msg_kind kind, const struct cresc_msg_error *err)
{
    if ((unsigned)kind >= (unsigned)CRESC_MSG_KIND_COUNT) {
        return;
    }
    atomic_fetch_add(&rejected[kind], 1);
    const char *field = err != NULL && err->field[0] != '\0' ? err->field : "(message)";
    const char *reason = err != NULL ? err->reason : "invalid";
    (void)cresc_log_once(&reject_once[kind], CRESC_LOG_WARNING, CRESC_LOGGER_CODEC,
                         "Rejected a %s message: field %s: %s (further rejects of this kind are "
                         "only counted)",
                         kind_names[kind], field, reason);
}

uint64_t cresc_msg_rejected_count(enum cresc_msg_kind kind)
{
    if ((unsigned)kind >= (unsigned)CRESC_MSG_KIND_COUNT) {
        return 0;
    }
    return atomic_load(&rejected[kind]);
}
