/* The HTTP face of crescendo-api. Reads are answered on the first handler call from the
 * view's pre-rendered bodies. Writes accumulate a bounded body, validate it, then suspend
 * the connection while the command travels through Kafka and the coordinator, so a waiting
 * write never blocks a pool thread; the write path resumes the connection when the outcome
 * is known. Status codes are documented in docs/api.md. */
#include "server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "auth.h"
#include "cresc/log.h"
#include "openapi.h"
#include "render.h"
#include "request.h"
#include "route.h"

#if defined(__has_include)
#if __has_include("dashboard.h")
#include "dashboard.h"
#define CRESC_HAVE_DASHBOARD 1
#endif
#endif

#if MHD_VERSION < 0x00097100
#error "libmicrohttpd >= 0.9.71 is required (enum MHD_Result)"
#endif

#define CT_JSON "application/json"

struct cresc_server {
    struct MHD_Daemon *daemon;
    struct cresc_server_opts o;
    size_t token_len;
    int port;
    char later; /* its address marks a request answered on the handler's second call */
};

enum phase {
    PHASE_BODY = 0, /* receiving the request body */
    PHASE_WAIT,     /* suspended, waiting for the write's outcome */
};

/* Per-request state of a write (reads need none). */
struct wreq {
    struct MHD_Connection *conn;
    int64_t t0_ns;
    struct cresc_route_match rm;
    enum phase phase;
    char *body;
    size_t len;
    size_t cap;     /* allocated bytes of body (one more for a NUL) */
    size_t dropped; /* bytes read past the limit (chunked bodies) */
    bool too_big;
    bool submitted;
    unsigned status; /* answered status, for /metrics */
    struct cresc_write wr;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- responses ------------------------------------------------------------------------ */

static enum MHD_Result queue(struct MHD_Connection *c, unsigned status, const char *ctype,
                             const char *body, size_t len, const char *h1, const char *v1,
                             const char *h2, const char *v2)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (h1 != NULL) {
        MHD_add_response_header(r, h1, v1);
    }
    if (h2 != NULL) {
        MHD_add_response_header(r, h2, v2);
    }
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result queue_doc(struct MHD_Connection *c, unsigned status, json_t *doc,
                                 const char *h1, const char *v1, const char *h2, const char *v2)
{
    size_t len = 0;
    char *s = doc ? cresc_render_dump(doc, &len) : NULL;
    json_decref(doc);
    if (s == NULL) {
        static const char oom[] = "{\"error\":\"out of memory\",\"field\":\"\"}";
        return queue(c, 500, CT_JSON, oom, sizeof(oom) - 1, NULL, NULL, NULL, NULL);
    }
    enum MHD_Result ret = queue(c, status, CT_JSON, s, len, h1, v1, h2, v2);
    free(s);
    return ret;
}

static json_t *error_doc(const char *error, const char *field)
{
    json_t *o = json_object();
    if (o != NULL) {
        json_object_set_new(o, "error", json_string(error));
        json_object_set_new(o, "field", json_string(field ? field : ""));
    }
    return o;
}

static enum MHD_Result queue_error(struct MHD_Connection *c, const struct cresc_api_error *e,
                                   const char *h1, const char *v1)
{
    return queue_doc(c, e->status, error_doc(e->error, e->field), h1, v1, NULL, NULL);
}

static enum MHD_Result queue_error_msg(struct MHD_Connection *c, unsigned status, const char *field,
                                       const char *msg)
{
    return queue_doc(c, status, error_doc(msg, field), NULL, NULL, NULL, NULL);
}

static enum MHD_Result queue_401(struct MHD_Connection *c, bool configured)
{
    return queue_doc(c, 401,
                     error_doc(configured ? "a valid bearer token is required"
                                          : "writes are disabled: no API_TOKEN is configured",
                               "Authorization"),
                     MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"crescendo\"", NULL, NULL);
}

/* ---- helpers -------------------------------------------------------------------------- */

static bool authorized(const struct cresc_server *s, struct MHD_Connection *c)
{
    if (s->o.token == NULL) {
        return false;
    }
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    const char *tok;
    size_t len;
    if (!cresc_auth_bearer(h, &tok, &len)) {
        return false;
    }
    return cresc_auth_token_equal(tok, len, s->o.token, s->token_len);
}

/* Resolve ?service= to a snapshot. On failure fills e (400 bad name, 404 unknown service,
 * 503 while the view is still loading). */
static const struct cresc_view_snap *lookup_service(struct cresc_server *s,
                                                    struct MHD_Connection *c, char *service,
                                                    struct cresc_api_error *e)
{
    const char *param = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "service");
    if (cresc_request_service(param, s->o.default_service, service, e) != CRESC_OK) {
        return NULL;
    }
    const struct cresc_view_snap *snap = cresc_view_get(s->o.view, service);
    if (snap == NULL) {
        if (!cresc_view_ready(s->o.view)) {
            (void)cresc_api_error_set(e, 503, "",
                                      "the API is still reading the state topic; retry shortly");
        } else {
            (void)cresc_api_error_set(e, 404, "service", "unknown service \"%s\"", service);
        }
    }
    return snap;
}

/* ---- reads ---------------------------------------------------------------------------- */

void cresc_server_cache_free(void *response)
{
    MHD_destroy_response(response);
}

static size_t cache_slot(enum cresc_route_id route)
{
    switch (route) {
    case CRESC_ROUTE_DECISION:
        return 1;
    case CRESC_ROUTE_CONFIG:
        return 2;
    case CRESC_ROUTE_PRIORITIES:
        return 3;
    case CRESC_ROUTE_STATUS:
    case CRESC_ROUTE_DASHBOARD:
    case CRESC_ROUTE_HEALTHZ:
    case CRESC_ROUTE_READYZ:
    case CRESC_ROUTE_METRICS:
    case CRESC_ROUTE_OPENAPI:
    case CRESC_ROUTE_SCALE:
    case CRESC_ROUTE_PRIORITY_ITEM:
    case CRESC_ROUTE_UNMATCHED:
    case CRESC_ROUTE_COUNT:
        break;
    }
    return 0;
}

/* Queue a read body. The response object (body copy + headers) is made once per snapshot and
 * kept in the snapshot's cache slot: MHD responses are reference-counted and may be queued
 * on many connections at once, so a hot read costs no allocation or copy. The snapshot
 * destroys its responses when it is freed; MHD keeps each alive until its sends finish. */
static enum MHD_Result queue_cached(struct MHD_Connection *c, const struct cresc_view_snap *snap,
                                    size_t slot, const char *body, size_t len, const char *h1,
                                    const char *v1)
{
    struct cresc_view_snap *m = (struct cresc_view_snap *)(uintptr_t)snap;
    if (m->_cache_free == NULL || slot >= CRESC_VIEW_SNAP_CACHE) {
        return queue(c, 200, CT_JSON, body, len, h1, v1, NULL, NULL);
    }
    struct MHD_Response *r = atomic_load_explicit(&m->_cache[slot], memory_order_acquire);
    if (r == NULL) {
        struct MHD_Response *mine =
            MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
        if (mine == NULL) {
            return MHD_NO;
        }
        MHD_add_response_header(mine, MHD_HTTP_HEADER_CONTENT_TYPE, CT_JSON);
        MHD_add_response_header(mine, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        if (h1 != NULL) {
            MHD_add_response_header(mine, h1, v1);
        }
        void *expected = NULL;
        if (atomic_compare_exchange_strong_explicit(&m->_cache[slot], &expected, mine,
                                                    memory_order_acq_rel, memory_order_acquire)) {
            r = mine;
        } else {
            MHD_destroy_response(mine); /* another thread won: use its response */
            r = expected;
        }
    }
    return MHD_queue_response(c, 200, r);
}

static enum MHD_Result serve_scaling_read(struct cresc_server *s, struct MHD_Connection *c,
                                          enum cresc_route_id route, unsigned *status)
{
    struct cresc_api_error e;
    char service[CRESC_ID_MAX + 1];
    const struct cresc_view_snap *snap = lookup_service(s, c, service, &e);
    if (snap == NULL) {
        *status = e.status;
        return queue_error(c, &e, e.status == 503 ? MHD_HTTP_HEADER_RETRY_AFTER : NULL, "1");
    }
    const char *body = snap->status;
    size_t len = snap->status_len;
    char etag[40] = "";
    switch (route) {
    case CRESC_ROUTE_DECISION:
        body = snap->decision;
        len = snap->decision_len;
        break;
    case CRESC_ROUTE_CONFIG:
        body = snap->config;
        len = snap->config_len;
        snprintf(etag, sizeof(etag), "\"%lld\"", (long long)snap->st.config_version);
        break;
    case CRESC_ROUTE_PRIORITIES:
        body = snap->priorities;
        len = snap->priorities_len;
        break;
    case CRESC_ROUTE_STATUS:
    case CRESC_ROUTE_DASHBOARD:
    case CRESC_ROUTE_HEALTHZ:
    case CRESC_ROUTE_READYZ:
    case CRESC_ROUTE_METRICS:
    case CRESC_ROUTE_OPENAPI:
    case CRESC_ROUTE_SCALE:
    case CRESC_ROUTE_PRIORITY_ITEM:
    case CRESC_ROUTE_UNMATCHED:
    case CRESC_ROUTE_COUNT:
        break;
    }
    *status = 200;
    enum MHD_Result ret = queue_cached(c, snap, cache_slot(route), body, len,
                                       etag[0] ? MHD_HTTP_HEADER_ETAG : NULL, etag);
    cresc_view_snap_put(snap);
    return ret;
}

static enum MHD_Result serve_metrics(struct cresc_server *s, struct MHD_Connection *c,
                                     unsigned *status)
{
    struct cresc_view_stats vs;
    struct cresc_stats_extra x;
    memset(&x, 0, sizeof(x));
    cresc_view_get_stats(s->o.view, &vs);
    x.ready = vs.ready;
    x.view_lag = vs.lag_messages;
    x.view_records = vs.records;
    x.view_rejected = vs.rejected;
    x.view_services = vs.services;
    for (int i = 0; i < 5; i++) {
        x.writes[i] = cresc_writes_count(s->o.writes, (enum cresc_write_outcome)i);
    }
    x.writes_pending = cresc_writes_pending(s->o.writes);
    size_t len = 0;
    char *text = cresc_stats_render(s->o.stats, &x, &len);
    if (text == NULL) {
        *status = 500;
        return queue_error_msg(c, 500, "", "out of memory");
    }
    *status = 200;
    enum MHD_Result ret = queue(c, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, NULL,
                                NULL, NULL, NULL);
    free(text);
    return ret;
}

static enum MHD_Result serve_readyz(struct cresc_server *s, struct MHD_Connection *c,
                                    unsigned *status)
{
    struct cresc_view_stats vs;
    cresc_view_get_stats(s->o.view, &vs);
    json_t *o = json_object();
    if (o != NULL) {
        json_object_set_new(o, "ready", json_boolean(vs.ready));
        json_object_set_new(o, "services", json_integer((json_int_t)vs.services));
        json_object_set_new(o, "view_lag_messages", json_integer(vs.lag_messages));
        json_object_set_new(o, "partitions", json_integer(vs.partitions));
    }
    *status = vs.ready ? 200 : 503;
    return queue_doc(c, *status, o, NULL, NULL, NULL, NULL);
}

static enum MHD_Result serve_static(struct MHD_Connection *c, enum cresc_route_id route,
                                    unsigned *status)
{
    size_t len = 0;
    const char *body = NULL;
    const char *ctype = CT_JSON;
    if (route == CRESC_ROUTE_OPENAPI) {
        body = cresc_openapi_json(&len);
    } else {
#ifdef CRESC_HAVE_DASHBOARD
        body = cresc_dashboard_html(&len);
        ctype = "text/html; charset=utf-8";
#endif
    }
    if (body == NULL) {
        *status = 404;
        return queue_error_msg(c, 404, "", "the dashboard is not built into this binary");
    }
    *status = 200;
    /* Static data lives as long as the process: no copy. */
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    enum MHD_Result ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    return ret;
}

/* ---- writes --------------------------------------------------------------------------- */

static void wake_conn(void *arg)
{
    struct wreq *q = arg;
    MHD_resume_connection(q->conn);
}

/* Build the command for q's route from its body; on failure fill e. *snap_out gets the
 * service's snapshot (a reference) on success. */
static int build_command(struct cresc_server *s, struct wreq *q, struct cresc_control *ctl,
                         const struct cresc_view_snap **snap_out, struct cresc_api_error *e)
{
    json_t *doc = NULL;
    int rc = CRESC_OK;
    const struct cresc_view_snap *snap = NULL;
    bool has_key = false;
    *snap_out = NULL;
    memset(ctl, 0, sizeof(*ctl));
    if (q->rm.route != CRESC_ROUTE_PRIORITY_ITEM) {
        rc = cresc_request_parse(q->body, q->len, &doc, e);
        if (rc != CRESC_OK) {
            goto out;
        }
    } else if (!q->rm.param_valid) {
        rc = cresc_api_error_set(e, 400, "match_id",
                                 "match_id must be 1..%d characters of [A-Za-z0-9._:-]",
                                 CRESC_ID_MAX);
        goto out;
    }
    const char *key = MHD_lookup_connection_value(q->conn, MHD_HEADER_KIND, "Idempotency-Key");
    rc = cresc_request_idempotency_key(key, ctl->request_id, &has_key, e);
    if (rc != CRESC_OK) {
        goto out;
    }
    snap = lookup_service(s, q->conn, ctl->service, e);
    if (snap == NULL) {
        rc = CRESC_ENOTFOUND;
        goto out;
    }
    switch (q->rm.route) {
    case CRESC_ROUTE_SCALE:
        rc = cresc_request_scale(doc, ctl, e);
        break;
    case CRESC_ROUTE_CONFIG:
        rc = cresc_request_config(doc, &snap->st.config, ctl, NULL, e);
        break;
    case CRESC_ROUTE_PRIORITIES:
        rc = cresc_request_priority(doc, ctl, e);
        break;
    case CRESC_ROUTE_PRIORITY_ITEM:
        ctl->type = CRESC_CTL_PRIORITY_DELETE;
        snprintf(ctl->match_id, sizeof(ctl->match_id), "%s", q->rm.param);
        if (cresc_view_snap_find_priority(snap, ctl->match_id) == NULL &&
            !(has_key && cresc_view_snap_find_ack(snap, ctl->request_id) != NULL)) {
            rc = cresc_api_error_set(e, 404, "match_id", "unknown match \"%s\"", ctl->match_id);
        }
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
        rc = cresc_api_error_set(e, 500, "", "route has no write");
        break;
    }
    if (rc != CRESC_OK) {
        goto out;
    }
    if (!has_key) {
        cresc_writes_new_request_id(ctl->request_id, sizeof(ctl->request_id));
    }
    *snap_out = snap;
    snap = NULL;
out:
    cresc_view_snap_put(snap);
    json_decref(doc);
    return rc;
}

/* The field a coordinator rejection is about: the match for a missing priority, the target
 * of a scale, and for a config the JSON path the coordinator puts before ": " in its reason
 * (the same validator as the API's, so the same paths). */
static void rejected_field(enum cresc_route_id route, const char *reason, bool missing, char *field,
                           size_t cap)
{
    field[0] = '\0';
    if (missing) {
        snprintf(field, cap, "match_id");
    } else if (route == CRESC_ROUTE_SCALE) {
        snprintf(field, cap, "target_instances");
    } else if (route == CRESC_ROUTE_CONFIG) {
        size_t n = strcspn(reason, ": ");
        if (n > 0 && n < cap && strncmp(reason + n, ": ", 2) == 0) {
            memcpy(field, reason, n);
            field[n] = '\0';
        }
    }
}

/* The answer once the write's outcome is known. */
static enum MHD_Result answer_write(struct wreq *q)
{
    struct cresc_write *wr = &q->wr;
    struct MHD_Connection *c = q->conn;
    const char *rid_h = "X-Request-Id";
    json_t *doc = NULL;
    switch (wr->outcome) {
    case CRESC_WRITE_APPLIED: {
        const struct cresc_view_snap *snap = wr->snap;
        q->status = 200;
        if (q->rm.route == CRESC_ROUTE_SCALE) {
            return queue(c, 200, CT_JSON, snap->status, snap->status_len, rid_h, wr->request_id,
                         NULL, NULL);
        }
        if (q->rm.route == CRESC_ROUTE_CONFIG) {
            return queue(c, 200, CT_JSON, snap->config, snap->config_len, rid_h, wr->request_id,
                         NULL, NULL);
        }
        if (q->rm.route == CRESC_ROUTE_PRIORITIES) {
            /* The match id is in the request id's command; find it in the body again. */
            json_t *req = json_loadb(q->body, q->len, 0, NULL);
            const char *mid = json_string_value(json_object_get(req, "match_id"));
            const struct cresc_priority *p = mid ? cresc_view_snap_find_priority(snap, mid) : NULL;
            doc = p ? cresc_render_priority(p) : json_object();
            if (p == NULL && doc != NULL && mid != NULL) {
                /* Applied, then changed again before we looked: report the request. */
                json_object_set_new(doc, "match_id", json_string(mid));
            }
            json_decref(req);
        } else {
            doc = json_object();
            if (doc != NULL) {
                json_object_set_new(doc, "match_id", json_string(q->rm.param));
                json_object_set_new(doc, "deleted", json_true());
            }
        }
        if (doc != NULL) {
            json_object_set_new(doc, "request_id", json_string(wr->request_id));
        }
        return queue_doc(c, 200, doc, rid_h, wr->request_id, NULL, NULL);
    }
    case CRESC_WRITE_REJECTED: {
        /* The coordinator's reason as it came; "unknown match" is a 404 like the API's own. */
        bool missing = strstr(wr->reason, "unknown match") != NULL ||
                       strstr(wr->reason, "no priority for match_id") != NULL ||
                       strstr(wr->reason, "not found") != NULL;
        q->status = missing ? 404 : 422;
        char field[96];
        rejected_field(q->rm.route, wr->reason, missing, field, sizeof(field));
        doc = error_doc(wr->reason[0] ? wr->reason : "rejected by the coordinator", field);
        if (doc != NULL) {
            json_object_set_new(doc, "request_id", json_string(wr->request_id));
        }
        return queue_doc(c, q->status, doc, rid_h, wr->request_id, NULL, NULL);
    }
    case CRESC_WRITE_TIMEOUT:
        q->status = 202;
        doc = json_object();
        if (doc != NULL) {
            json_object_set_new(doc, "request_id", json_string(wr->request_id));
            json_object_set_new(doc, "status", json_string("accepted"));
            json_object_set_new(doc, "detail", json_string(wr->reason));
        }
        return queue_doc(c, 202, doc, rid_h, wr->request_id, NULL, NULL);
    case CRESC_WRITE_UNAVAILABLE:
    case CRESC_WRITE_PENDING:
    case CRESC_WRITE_OUTCOME_COUNT:
        break;
    }
    q->status = 503;
    doc = error_doc(wr->reason[0] ? wr->reason : "Kafka is unreachable", "");
    if (doc != NULL) {
        json_object_set_new(doc, "request_id", json_string(wr->request_id));
    }
    return queue_doc(c, 503, doc, rid_h, wr->request_id, MHD_HTTP_HEADER_RETRY_AFTER, "1");
}

static enum MHD_Result finish_body(struct cresc_server *s, struct wreq *q)
{
    struct cresc_api_error e;
    struct cresc_control ctl;
    const struct cresc_view_snap *snap = NULL;
    if (q->too_big) {
        q->status = 413;
        char msg[96];
        snprintf(msg, sizeof(msg), "request body exceeds %zu bytes", s->o.max_body_bytes);
        return queue_error_msg(q->conn, 413, "", msg);
    }
    if (build_command(s, q, &ctl, &snap, &e) != CRESC_OK) {
        cresc_control_release(&ctl);
        q->status = e.status;
        return queue_error(q->conn, &e, e.status == 503 ? MHD_HTTP_HEADER_RETRY_AFTER : NULL, "1");
    }
    q->wr.wake = wake_conn;
    q->wr.wake_arg = q;
    /* Suspend first: the outcome may arrive on another thread before this call returns. */
    MHD_suspend_connection(q->conn);
    q->phase = PHASE_WAIT;
    q->submitted = true;
    bool final = cresc_writes_submit(s->o.writes, &q->wr, &ctl, snap);
    cresc_control_release(&ctl);
    cresc_view_snap_put(snap);
    if (final) {
        MHD_resume_connection(q->conn);
    }
    return MHD_YES;
}

/* First call of a write: checks that need no body. Returns true when it answered. */
static bool write_precheck(struct cresc_server *s, struct MHD_Connection *c,
                           const struct cresc_route_match *rm, unsigned *status,
                           enum MHD_Result *ret)
{
    if (!authorized(s, c)) {
        *status = 401;
        *ret = queue_401(c, s->o.token != NULL);
        return true;
    }
    if (rm->method == CRESC_M_DELETE) {
        return false;
    }
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!cresc_request_is_json_type(ct)) {
        *status = 415;
        *ret = queue_doc(c, 415, error_doc("Content-Type must be application/json", "Content-Type"),
                         "Accept-Post", CT_JSON, NULL, NULL);
        return true;
    }
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl != NULL) {
        char *end = NULL;
        unsigned long long n = strtoull(cl, &end, 10);
        if (end != cl && n > s->o.max_body_bytes) {
            *status = 413;
            char msg[96];
            snprintf(msg, sizeof(msg), "request body exceeds %zu bytes", s->o.max_body_bytes);
            *ret = queue_error_msg(c, 413, "", msg);
            return true;
        }
    }
    return false;
}

/* ---- the handler ---------------------------------------------------------------------- */

static size_t drain_limit(const struct cresc_server *s)
{
    size_t four = 4 * s->o.max_body_bytes;
    return four > 1024 * 1024 ? four : 1024 * 1024;
}

static enum MHD_Result handle_write(struct cresc_server *s, struct MHD_Connection *c,
                                    struct wreq *q, const char *upload, size_t *upload_size)
{
    if (q->phase == PHASE_WAIT) {
        return answer_write(q);
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (q->too_big || q->len + n > s->o.max_body_bytes) {
            /* libmicrohttpd accepts a response only before or after the body, so an oversized
               chunked body is read and dropped to answer 413 at its end, but only up to a
               bound: an endless stream gets its connection closed. */
            q->too_big = true;
            q->dropped += n;
            return q->dropped > drain_limit(s) ? MHD_NO : MHD_YES;
        }
        if (q->len + n > q->cap) {
            /* Grow geometrically up to the limit: small bodies stay small. */
            size_t cap = q->cap ? q->cap : 1024;
            while (cap < q->len + n) {
                cap *= 2;
            }
            if (cap > s->o.max_body_bytes) {
                cap = s->o.max_body_bytes;
            }
            char *b = realloc(q->body, cap + 1);
            if (b == NULL) {
                return MHD_NO;
            }
            q->body = b;
            q->cap = cap;
        }
        memcpy(q->body + q->len, upload, n);
        q->len += n;
        return MHD_YES;
    }
    (void)c;
    return finish_body(s, q);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **req_cls)
{
    struct cresc_server *s = cls;
    (void)version;
    if (*req_cls == &s->later) {
        if (*upload_size > 0) {
            *upload_size = 0; /* a body on a read or an error answer: ignored */
            return MHD_YES;
        }
    } else if (*req_cls != NULL) {
        return handle_write(s, c, *req_cls, upload, upload_size);
    }
    int64_t t0 = now_ns();
    struct cresc_route_match rm;
    unsigned status = 500;
    enum MHD_Result ret = MHD_NO;
    enum cresc_route_result rr = cresc_route_match(method, url, &rm);
    if (*req_cls == NULL && !cresc_route_is_write(rm.route, rm.method)) {
        /* libmicrohttpd 0.9.x closes the connection after a response queued on the first
           call (it cannot know the request has no body yet): answer on the next call so
           keep-alive connections stay open. Writes answer early only to refuse a body. */
        *req_cls = &s->later;
        return MHD_YES;
    }
    if (rr == CRESC_ROUTE_NOT_FOUND) {
        status = 404;
        ret = queue_error_msg(c, 404, "", "no such endpoint; see /openapi.json");
        goto done;
    }
    if (rr == CRESC_ROUTE_BAD_METHOD) {
        char msg[128];
        status = 405;
        snprintf(msg, sizeof(msg), "method %.16s not allowed; allowed: %s", method, rm.allow);
        ret = queue_doc(c, 405, error_doc(msg, ""), MHD_HTTP_HEADER_ALLOW, rm.allow, NULL, NULL);
        goto done;
    }
    if (cresc_route_is_write(rm.route, rm.method)) {
        if (write_precheck(s, c, &rm, &status, &ret)) {
            goto done;
        }
        struct wreq *q = calloc(1, sizeof(*q));
        if (q == NULL) {
            return MHD_NO;
        }
        q->conn = c;
        q->t0_ns = t0;
        q->rm = rm;
        *req_cls = q;
        return MHD_YES; /* the body (if any) follows */
    }
    if (s->o.auth_reads && cresc_route_is_scaling_read(rm.route, rm.method) && !authorized(s, c)) {
        status = 401;
        ret = queue_401(c, s->o.token != NULL);
        goto done;
    }
    switch (rm.route) {
    case CRESC_ROUTE_HEALTHZ: {
        static const char ok[] = "{\"status\":\"ok\"}";
        status = 200;
        ret = queue(c, 200, CT_JSON, ok, sizeof(ok) - 1, NULL, NULL, NULL, NULL);
        break;
    }
    case CRESC_ROUTE_READYZ:
        ret = serve_readyz(s, c, &status);
        break;
    case CRESC_ROUTE_METRICS:
        ret = serve_metrics(s, c, &status);
        break;
    case CRESC_ROUTE_OPENAPI:
    case CRESC_ROUTE_DASHBOARD:
        ret = serve_static(c, rm.route, &status);
        break;
    case CRESC_ROUTE_STATUS:
    case CRESC_ROUTE_DECISION:
    case CRESC_ROUTE_CONFIG:
    case CRESC_ROUTE_PRIORITIES:
        ret = serve_scaling_read(s, c, rm.route, &status);
        break;
    case CRESC_ROUTE_SCALE:
    case CRESC_ROUTE_PRIORITY_ITEM:
    case CRESC_ROUTE_UNMATCHED:
    case CRESC_ROUTE_COUNT:
        status = 404;
        ret = queue_error_msg(c, 404, "", "no such endpoint; see /openapi.json");
        break;
    }
done:
    cresc_stats_observe(s->o.stats, rm.route, status, now_ns() - t0);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct cresc_server *s = cls;
    struct wreq *q = *req_cls;
    (void)c;
    if (q == NULL || *req_cls == &s->later) {
        *req_cls = NULL;
        return;
    }
    if (q->submitted) {
        cresc_writes_finish(s->o.writes, &q->wr);
    }
    unsigned status = q->status;
    if (status == 0) {
        /* Ended before an answer (client went away, body cut): count it as the client's. */
        status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? 500 : 499;
    }
    cresc_stats_observe(s->o.stats, q->rm.route, status, now_ns() - q->t0_ns);
    free(q->body);
    free(q);
    *req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n') {
        line[--n] = '\0';
    }
    cresc_log(CRESC_LOG_WARNING, CRESC_LOGGER_API, "HTTP: %s", line);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

int cresc_server_start(const struct cresc_server_opts *opts, struct cresc_server **out, char *err,
                       size_t errlen)
{
    struct sockaddr_in sa4;
    struct sockaddr_in6 sa6;
    const struct sockaddr *sa;
    unsigned flags =
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_TURBO;
    *out = NULL;
    if (opts->port < 0 || opts->port > 65535 || opts->threads < 1) {
        snprintf(err, errlen, "invalid port or thread count");
        return CRESC_EINVAL;
    }
    memset(&sa4, 0, sizeof(sa4));
    memset(&sa6, 0, sizeof(sa6));
    if (inet_pton(AF_INET, opts->bind, &sa4.sin_addr) == 1) {
        sa4.sin_family = AF_INET;
        sa4.sin_port = htons((uint16_t)opts->port);
        sa = (const struct sockaddr *)&sa4;
    } else if (inet_pton(AF_INET6, opts->bind, &sa6.sin6_addr) == 1) {
        sa6.sin6_family = AF_INET6;
        sa6.sin6_port = htons((uint16_t)opts->port);
        sa = (const struct sockaddr *)&sa6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(err, errlen, "API_BIND %s is not an IPv4 or IPv6 address", opts->bind);
        return CRESC_EINVAL;
    }
    struct cresc_server *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return CRESC_ENOMEM;
    }
    s->o = *opts;
    s->token_len = opts->token ? strlen(opts->token) : 0;
    /* The logger goes first so MHD's own start-up messages use it too. Option values are
       passed with the exact types MHD 0.9.75 and 1.0 read them as (varargs). */
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)opts->port, NULL, NULL, handler, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
        NULL, MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)opts->threads,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)opts->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)opts->per_ip_connections,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)opts->conn_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned int)1024, MHD_OPTION_NOTIFY_COMPLETED, completed, s, MHD_OPTION_END);
    if (s->daemon == NULL) {
        snprintf(err, errlen, "cannot listen on %s port %d (in use, or no permission)", opts->bind,
                 opts->port);
        free(s);
        return CRESC_EIO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : opts->port;
    *out = s;
    return CRESC_OK;
}

int cresc_server_port(const struct cresc_server *s)
{
    return s->port;
}

void cresc_server_stop(struct cresc_server *s)
{
    if (s == NULL) {
        return;
    }
    MHD_stop_daemon(s->daemon);
    free(s);
}
