/* libFuzzer target for crescendo-api's request handling without the socket (api/route.c,
 * request.c, auth.c, as api/server.c calls them): the input is six lines (method, decoded
 * path, ?service= value or "-" for none, Idempotency-Key or "-", Authorization, Content-Type)
 * then the body. Properties: nothing crashes or leaks; every rejection is a 4xx with a
 * sentence; every accepted write becomes a control command that encodes (else the API would
 * answer 5xx for a request it had validated). */
#include <string.h>

#include "auth.h"
#include "cresc/limits.h"
#include "cresc/msg.h"
#include "fuzz_common.h"
#include "request.h"
#include "route.h"

#define N_LINES 6

static char enc[CRESC_CONTROL_MAX_BYTES + 1];

static void check_error(const struct cresc_api_error *e)
{
    CRESC_FUZZ_CHECK(e->status >= 400 && e->status < 500, "a rejection is a 4xx");
    CRESC_FUZZ_CHECK(e->error[0] != '\0', "a rejection has a reason");
}

/* The body of a write route, as api/server.c's build_command handles it. */
static void handle_write(const struct cresc_route_match *rm, const char *service, const char *key,
                         const char *body, size_t len)
{
    struct cresc_api_error e;
    struct cresc_control ctl;
    json_t *doc = NULL;
    bool has_key = false;
    memset(&e, 0, sizeof e);
    memset(&ctl, 0, sizeof ctl);
    if (rm->route != CRESC_ROUTE_PRIORITY_ITEM) {
        if (cresc_request_parse(body, len, &doc, &e) != 0) {
            check_error(&e);
            return;
        }
    } else if (!rm->param_valid) {
        return;
    }
    if (cresc_request_idempotency_key(key, ctl.request_id, &has_key, &e) != 0) {
        check_error(&e);
        goto out;
    }
    int rc = 0;
    struct cresc_scaling_config current, result;
    cresc_scaling_config_defaults(&current);
    switch (rm->route) {
    case CRESC_ROUTE_SCALE:
        rc = cresc_request_scale(doc, &ctl, &e);
        break;
    case CRESC_ROUTE_CONFIG:
        rc = cresc_request_config(doc, &current, &ctl, &result, &e);
        break;
    case CRESC_ROUTE_PRIORITIES:
        rc = cresc_request_priority(doc, &ctl, &e);
        break;
    case CRESC_ROUTE_PRIORITY_ITEM:
        ctl.type = CRESC_CTL_PRIORITY_DELETE;
        memcpy(ctl.match_id, rm->param, sizeof ctl.match_id);
        break;
    case CRESC_ROUTE_DASHBOARD:
    case CRESC_ROUTE_HEALTHZ:
    case CRESC_ROUTE_READYZ:
    case CRESC_ROUTE_METRICS:
    case CRESC_ROUTE_OPENAPI:
    case CRESC_ROUTE_STATUS:
    case CRESC_ROUTE_DECISION:
    case CRESC_ROUTE_UNMATCHED:
    case CRESC_ROUTE_COUNT:
        CRESC_FUZZ_CHECK(0, "only write routes are writes");
        break;
    }
    if (rc != 0) {
        check_error(&e);
        goto out;
    }
    if (!has_key) {
        memcpy(ctl.request_id, "fuzz-request", sizeof "fuzz-request");
    }
    memcpy(ctl.service, service, sizeof ctl.service);
    ctl.issued_at_ms = 1700000000000;
    size_t n = 0;
    CRESC_FUZZ_CHECK(cresc_control_encode(&ctl, enc, sizeof enc, &n) == 0,
                     "an accepted write encodes as a control command");
    struct cresc_control back;
    struct cresc_msg_error merr;
    CRESC_FUZZ_CHECK(cresc_control_decode(enc, n, &back, &merr) == 0,
                     "the coordinator decodes an accepted write");
    cresc_control_release(&back);
out:
    cresc_control_release(&ctl);
    json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Split into NUL-terminated lines on a private copy (headers arrive as C strings). */
    char *copy = malloc(size + 1);
    if (!copy) {
        return 0;
    }
    memcpy(copy, data, size);
    copy[size] = '\0';
    const char *line[N_LINES];
    char *p = copy;
    size_t used = 0;
    for (int i = 0; i < N_LINES; i++) {
        line[i] = p;
        char *nl = memchr(p, '\n', size - used);
        if (nl) {
            *nl = '\0';
            used += (size_t)(nl - p) + 1;
            p = nl + 1;
        } else {
            p = copy + size;
            used = size;
        }
    }
    const char *body = p;
    size_t body_len = size - used;

    struct cresc_route_match rm;
    enum cresc_route_result rr = cresc_route_match(line[0], line[1], &rm);
    CRESC_FUZZ_CHECK(rr == CRESC_ROUTE_FOUND || rr == CRESC_ROUTE_NOT_FOUND ||
                         rr == CRESC_ROUTE_BAD_METHOD,
                     "route result known");
    CRESC_FUZZ_CHECK(memchr(rm.param, '\0', sizeof rm.param) != NULL, "param terminated");
    CRESC_FUZZ_CHECK(memchr(rm.allow, '\0', sizeof rm.allow) != NULL, "allow terminated");
    if (rr == CRESC_ROUTE_BAD_METHOD) {
        CRESC_FUZZ_CHECK(rm.allow[0] != '\0', "a 405 has an Allow header");
    }

    const char *tok = NULL;
    size_t tok_len = 0;
    if (cresc_auth_bearer(line[4], &tok, &tok_len)) {
        CRESC_FUZZ_CHECK(tok >= line[4] && tok + tok_len <= line[4] + strlen(line[4]),
                         "the token lies within the header");
        (void)cresc_auth_token_equal(tok, tok_len, "s3cret-token", strlen("s3cret-token"));
    }
    (void)cresc_request_is_json_type(line[5]);

    struct cresc_api_error e;
    char service[CRESC_ID_MAX + 1];
    memset(&e, 0, sizeof e);
    const char *svc = strcmp(line[2], "-") == 0 ? NULL : line[2];
    if (cresc_request_service(svc, "default", service, &e) != 0) {
        check_error(&e);
    } else if (rr == CRESC_ROUTE_FOUND && cresc_route_is_write(rm.route, rm.method)) {
        const char *key = strcmp(line[3], "-") == 0 ? NULL : line[3];
        handle_write(&rm, service, key, body, body_len);
    }
    free(copy);
    return 0;
}
