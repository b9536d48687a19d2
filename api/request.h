/* Validation of crescendo-api's request bodies and query parameters: JSON parsing, types and
 * ranges, turning a valid body into a control command (struct cresc_control). Pure: no I/O,
 * no clock; the HTTP layer and the unit tests call it. Every failure fills a struct
 * cresc_api_error with the HTTP status, a sentence and the offending field. */
#ifndef CRESC_API_REQUEST_H
#define CRESC_API_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cresc/err.h"
#include "cresc/msg.h"
#include "cresc/policy.h"

struct cresc_api_error {
    unsigned status; /* HTTP status: 400, 404, 413, 415... */
    char error[320]; /* one sentence */
    char field[96];  /* JSON path or parameter name; "" for the whole request */
};

/* Fill e (status, field, printf-style sentence) and return CRESC_EINVAL. */
int cresc_api_error_set(struct cresc_api_error *e, unsigned status, const char *field,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* True when a Content-Type header value names JSON ("application/json", optionally with
 * parameters such as "; charset=utf-8", or any "application/<x>+json"). */
bool cresc_request_is_json_type(const char *content_type);

/* Parse a body as one JSON object (duplicate keys rejected). On success *out is a new
 * reference. Errors: 400 "malformed JSON ..." or "body must be a JSON object". */
CRESC_WUR int cresc_request_parse(const char *body, size_t len, json_t **out,
                                  struct cresc_api_error *e);

/* POST /scaling/scale: {"target_instances": int 0..10000, "reason": string <= 255 bytes}.
 * Fills ctl->type, target_instances and reason. Unknown fields are rejected (400). */
CRESC_WUR int cresc_request_scale(const json_t *obj, struct cresc_control *ctl,
                                  struct cresc_api_error *e);

/* POST /scaling/priorities: {"match_id": id, "priority": int 1..10,
 * "resource_allocation": number in (0, 100]}. */
CRESC_WUR int cresc_request_priority(const json_t *obj, struct cresc_control *ctl,
                                     struct cresc_api_error *e);

/* PUT /scaling/config: a partial config object. It is applied to a copy of `current` and the
 * result validated as a whole (min <= max, thresholds...); the command carries the partial
 * object (a new reference owned by ctl->config). On success *result (if not NULL) is the
 * config the coordinator will hold once it applies the command. */
CRESC_WUR int cresc_request_config(const json_t *obj, const struct cresc_scaling_config *current,
                                   struct cresc_control *ctl, struct cresc_scaling_config *result,
                                   struct cresc_api_error *e);

/* Check ?service=NAME (NULL: use `def`); copy the service into out (CRESC_ID_MAX + 1). */
CRESC_WUR int cresc_request_service(const char *param, const char *def, char *out,
                                    struct cresc_api_error *e);

/* Idempotency-Key header: NULL/absent is fine (*has = false); otherwise it must be an
 * identifier (1..128 of [A-Za-z0-9._:-]) and becomes the request id. */
CRESC_WUR int cresc_request_idempotency_key(const char *header, char *request_id, bool *has,
                                            struct cresc_api_error *e);

#endif
