/* Black-box HTTP tests of crescendo-api (libcurl over loopback) against a running API, a real
 * broker and, for writes, a running crescendo-coordinator; driven by test_api_http.sh.
 *   it_api main|authreads|timeout|recovered MATCH|unavailable
 * Environment: API_URL (http://127.0.0.1:PORT), API_TOKEN, SERVICE, CRESC_SOURCE. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "cresc/msg.h"

#define BODY_MAX (1024 * 1024)

static const char *api_url;
static const char *token;
static const char *service;
static const char *match_arg;

struct resp {
    long status;
    char *body;
    size_t len;
    char headers[8192];
    size_t hlen;
    json_t *json;
    double seconds;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t k = sz * n;
    if (r->len + k > BODY_MAX) {
        return 0;
    }
    char *b = realloc(r->body, r->len + k + 1);
    if (b == NULL) {
        return 0;
    }
    memcpy(b + r->len, p, k);
    r->body = b;
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    struct resp *r = ud;
    size_t k = sz * n;
    if (r->hlen + k < sizeof(r->headers)) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void resp_free(struct resp *r)
{
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* The value of header `name` (case-insensitive) into out; false if absent. */
static bool header(const struct resp *r, const char *name, char *out, size_t cap)
{
    const char *p = r->headers;
    size_t nl = strlen(name);
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t linelen = eol ? (size_t)(eol - p) : strlen(p);
        if (linelen > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ') {
                v++;
            }
            size_t vl = linelen - (size_t)(v - p);
            snprintf(out, cap, "%.*s", (int)vl, v);
            return true;
        }
        if (eol == NULL) {
            break;
        }
        p = eol + 2;
    }
    return false;
}

/* One request. `auth` NULL: no Authorization header. `ctype` NULL: none. `body` NULL: none;
 * `chunked` sends it with Transfer-Encoding: chunked (no Content-Length). `extra` is one
 * more header line or NULL. */
static void req_full(const char *method, const char *path, const char *auth, const char *ctype,
                     const char *body, size_t body_len, bool chunked, const char *extra,
                     struct resp *r)
{
    memset(r, 0, sizeof(*r));
    CURL *c = curl_easy_init();
    assert_non_null(c);
    char url[2048];
    snprintf(url, sizeof(url), "%s%s", api_url, path);
    struct curl_slist *h = NULL;
    char line[4600];
    if (auth != NULL) {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", auth);
        h = curl_slist_append(h, line);
    }
    if (ctype != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", ctype);
        h = curl_slist_append(h, line);
    } else {
        h = curl_slist_append(h, "Content-Type:"); /* suppress curl's default */
    }
    if (chunked) {
        h = curl_slist_append(h, "Transfer-Encoding: chunked");
    }
    if (extra != NULL) {
        h = curl_slist_append(h, extra);
    }
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        if (!chunked) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
        }
    }
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->seconds);
    if (r->body != NULL) {
        r->json = json_loadb(r->body, r->len, 0, NULL);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
}

static void req(const char *method, const char *path, const char *auth, const char *body,
                struct resp *r)
{
    req_full(method, path, auth, body ? "application/json" : NULL, body, body ? strlen(body) : 0,
             false, NULL, r);
}

#define expect_status(r, code)                                               \
    do {                                                                     \
        if ((r)->status != (code)) {                                         \
            fail_msg("expected %ld, got %ld: %s", (long)(code), (r)->status, \
                     (r)->body ? (r)->body : "(no body)");                   \
        }                                                                    \
    } while (0)

/* An error answer: JSON {"error": non-empty, "field": field}. */
static void expect_error(struct resp *r, long code, const char *field)
{
    expect_status(r, code);
    assert_non_null(r->json);
    const char *e = json_string_value(json_object_get(r->json, "error"));
    assert_non_null(e);
    assert_true(strlen(e) > 0);
    const char *f = json_string_value(json_object_get(r->json, "field"));
    assert_non_null(f);
    if (field != NULL && strcmp(f, field) != 0) {
        fail_msg("expected field \"%s\", got \"%s\" (%s)", field, f, e);
    }
}

static json_int_t int_field(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) {
        fail_msg("field %s missing or not an integer", k);
    }
    return json_integer_value(v);
}

/* ---- reads ---------------------------------------------------------------------------- */

static void test_health_ready(void **st)
{
    (void)st;
    struct resp r;
    req("GET", "/healthz", NULL, NULL, &r);
    expect_status(&r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    resp_free(&r);
    req("GET", "/", NULL, NULL, &r);
    expect_status(&r, 200);
    char ct[128];
    assert_true(header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "text/html"));
    assert_non_null(strstr(r.body, "<html"));
    resp_free(&r);
    req("GET", "/readyz", NULL, NULL, &r);
    expect_status(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "ready")));
    assert_true(int_field(r.json, "services") >= 1);
    resp_free(&r);
}

static void test_status(void **st)
{
    (void)st;
    struct resp r;
    char ct[128];
    req("GET", "/scaling/status", NULL, NULL, &r);
    expect_status(&r, 200);
    assert_true(header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/json");
    assert_string_equal(json_string_value(json_object_get(r.json, "service")), service);
    json_int_t cur = int_field(r.json, "current_instances");
    json_int_t min = int_field(r.json, "min_instances");
    json_int_t max = int_field(r.json, "max_instances");
    assert_true(min <= max);
    assert_true(cur >= 0);
    json_t *thr = json_object_get(r.json, "thresholds");
    assert_true(json_is_number(json_object_get(thr, "cpu_pct")));
    assert_true(json_is_number(json_object_get(thr, "memory_pct")));
    json_t *m = json_object_get(r.json, "metrics");
    /* The agent simulation reports every metric. */
    assert_true(json_is_number(json_object_get(m, "cpu_pct")));
    assert_true(json_is_number(json_object_get(m, "memory_pct")));
    assert_true(json_is_number(json_object_get(m, "request_rate_per_s")));
    assert_true(json_is_object(json_object_get(m, "disk_io")));
    json_t *live = json_object_get(r.json, "live_instances");
    assert_true(int_field(live, "total") >= 1);
    assert_true(json_array_size(json_object_get(live, "instances")) >= 1);
    assert_true(json_is_object(json_object_get(r.json, "last_decision")));
    assert_true(json_is_number(json_object_get(r.json, "cooldown_remaining_s")));
    assert_true(int_field(r.json, "config_version") >= 1);
    resp_free(&r);

    /* Explicit ?service= is the same service. */
    char path[256];
    snprintf(path, sizeof(path), "/scaling/status?service=%s", service);
    req("GET", path, NULL, NULL, &r);
    expect_status(&r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "service")), service);
    resp_free(&r);

    /* HEAD answers like GET without a body. */
    req("HEAD", "/scaling/status", NULL, NULL, &r);
    expect_status(&r, 200);
    assert_int_equal(r.len, 0);
    resp_free(&r);
}

static void test_decision(void **st)
{
    (void)st;
    struct resp r;
    req("GET", "/scaling/decision", NULL, NULL, &r);
    expect_status(&r, 200);
    assert_true(json_is_boolean(json_object_get(r.json, "scaling_needed")));
    int_field(r.json, "target_instances");
    int_field(r.json, "current_instances");
    assert_non_null(json_string_value(json_object_get(r.json, "reason")));
    json_t *ex = json_object_get(r.json, "explanation");
    assert_true(json_is_object(ex));
    assert_true(json_object_size(ex) > 0);
    resp_free(&r);
}

static void test_config_get(void **st)
{
    (void)st;
    struct resp r;
    char etag[64];
    req("GET", "/scaling/config", NULL, NULL, &r);
    expect_status(&r, 200);
    int_field(r.json, "min_instances");
    int_field(r.json, "max_instances");
    assert_true(json_is_number(json_object_get(r.json, "cpu_threshold")));
    assert_true(json_is_string(json_object_get(r.json, "load_balancer_strategy")));
    assert_true(json_is_array(json_object_get(r.json, "policies")));
    assert_true(json_is_object(json_object_get(r.json, "behavior")));
    assert_true(header(&r, "ETag", etag, sizeof(etag)));
    resp_free(&r);
}

static void test_unknown_service_and_route(void **st)
{
    (void)st;
    struct resp r;
    req("GET", "/scaling/status?service=no-such-service", NULL, NULL, &r);
    expect_error(&r, 404, "service");
    resp_free(&r);
    req("GET", "/scaling/priorities?service=bad%20name!", NULL, NULL, &r);
    expect_error(&r, 400, "service");
    resp_free(&r);
    req("GET", "/scaling/nothing", NULL, NULL, &r);
    expect_error(&r, 404, "");
    resp_free(&r);
    char path[256];
    snprintf(path, sizeof(path), "/scaling/priorities?service=no-such-service");
    req("POST", path, token, "{\"match_id\":\"m\",\"priority\":1,\"resource_allocation\":1}", &r);
    expect_error(&r, 404, "service");
    resp_free(&r);
}

static void test_metrics(void **st)
{
    (void)st;
    struct resp r;
    char ct[128];
    req("GET", "/scaling/status", NULL, NULL, &r);
    resp_free(&r);
    req("GET", "/metrics", NULL, NULL, &r);
    expect_status(&r, 200);
    assert_true(header(&r, "Content-Type", ct, sizeof(ct)));
    assert_non_null(strstr(ct, "text/plain"));
    assert_non_null(
        strstr(r.body, "crescendo_api_requests_total{route=\"/scaling/status\",code=\"200\"}"));
    assert_non_null(strstr(r.body, "crescendo_api_request_duration_seconds_bucket{route=\"/"
                                   "scaling/status\",le=\"0.01\"}"));
    assert_non_null(strstr(r.body, "crescendo_api_view_lag_messages "));
    assert_non_null(strstr(r.body, "crescendo_api_view_ready 1"));
    assert_non_null(strstr(r.body, "crescendo_api_writes_total{outcome=\"applied\"}"));
    resp_free(&r);
}

/* ---- bad input ------------------------------------------------------------------------ */

static void test_method_not_allowed(void **st)
{
    (void)st;
    struct resp r;
    char allow[128];
    req("DELETE", "/scaling/status", token, NULL, &r);
    expect_error(&r, 405, NULL);
    assert_true(header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "GET, HEAD");
    resp_free(&r);
    req("GET", "/scaling/scale", NULL, NULL, &r);
    expect_status(&r, 405);
    assert_true(header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "POST");
    resp_free(&r);
    req("PATCH", "/scaling/config", token, "{}", &r);
    expect_status(&r, 405);
    assert_true(header(&r, "Allow", allow, sizeof(allow)));
    assert_string_equal(allow, "GET, HEAD, PUT");
    resp_free(&r);
}

static void test_auth(void **st)
{
    (void)st;
    struct resp r;
    char www[128];
    const char *body = "{\"target_instances\":3}";
    req("POST", "/scaling/scale", NULL, body, &r);
    expect_error(&r, 401, "Authorization");
    assert_true(header(&r, "WWW-Authenticate", www, sizeof(www)));
    assert_non_null(strstr(www, "Bearer"));
    resp_free(&r);
    req("POST", "/scaling/scale", "wrong-token", body, &r);
    expect_status(&r, 401);
    resp_free(&r);
    /* A prefix of the right token is still wrong. */
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "%.*s", (int)strlen(token) - 1, token);
    req("POST", "/scaling/scale", prefix, body, &r);
    expect_status(&r, 401);
    resp_free(&r);
    req_full("DELETE", "/scaling/priorities/x", NULL, NULL, NULL, 0, false,
             "Authorization: Basic dXNlcjpwYXNz", &r);
    expect_status(&r, 401);
    resp_free(&r);
    req("PUT", "/scaling/config", NULL, "{\"max_instances\":10}", &r);
    expect_status(&r, 401);
    resp_free(&r);
    /* Reads are open by default. */
    req("GET", "/scaling/priorities", NULL, NULL, &r);
    expect_status(&r, 200);
    resp_free(&r);
}

static void test_media_type_and_size(void **st)
{
    (void)st;
    struct resp r;
    const char *body = "{\"target_instances\":3}";
    req_full("POST", "/scaling/scale", token, "text/plain", body, strlen(body), false, NULL, &r);
    expect_error(&r, 415, "Content-Type");
    resp_free(&r);
    req_full("POST", "/scaling/scale", token, NULL, body, strlen(body), false, NULL, &r);
    expect_status(&r, 415);
    resp_free(&r);
    /* application/json with parameters is JSON. */
    req_full("POST", "/scaling/scale", token, "application/json; charset=utf-8", "{", 1, false,
             NULL, &r);
    expect_error(&r, 400, "");
    resp_free(&r);

    /* Over API_MAX_BODY (the script sets 4096): with Content-Length, and chunked. */
    size_t big_len = 100 * 1024;
    char *big = malloc(big_len + 1);
    assert_non_null(big);
    memset(big, ' ', big_len);
    big[0] = '{';
    big[big_len - 1] = '}';
    big[big_len] = '\0';
    req_full("POST", "/scaling/priorities", token, "application/json", big, big_len, false, NULL,
             &r);
    expect_status(&r, 413);
    resp_free(&r);
    req_full("POST", "/scaling/priorities", token, "application/json", big, big_len, true, NULL,
             &r);
    expect_status(&r, 413);
    resp_free(&r);
    free(big);
}

static void test_validation(void **st)
{
    (void)st;
    static const struct {
        const char *method, *path, *body, *field;
    } cases[] = {
        {"POST", "/scaling/scale", "{\"target_instances\":", ""},
        {"POST", "/scaling/scale", "[1,2]", ""},
        {"POST", "/scaling/scale", "", ""},
        {"POST", "/scaling/scale", "{}", "target_instances"},
        {"POST", "/scaling/scale", "{\"target_instances\":\"5\"}", "target_instances"},
        {"POST", "/scaling/scale", "{\"target_instances\":2.5}", "target_instances"},
        {"POST", "/scaling/scale", "{\"target_instances\":-1}", "target_instances"},
        {"POST", "/scaling/scale", "{\"target_instances\":100000}", "target_instances"},
        {"POST", "/scaling/scale", "{\"target_instances\":3,\"reason\":7}", "reason"},
        {"POST", "/scaling/scale", "{\"target_instances\":3,\"bogus\":1}", "bogus"},
        {"POST", "/scaling/scale", "{\"target_instances\":3,\"target_instances\":4}", ""},
        {"POST", "/scaling/priorities", "{\"priority\":5,\"resource_allocation\":10}", "match_id"},
        {"POST", "/scaling/priorities",
         "{\"match_id\":\"bad id\",\"priority\":5,\"resource_allocation\":10}", "match_id"},
        {"POST", "/scaling/priorities",
         "{\"match_id\":\"m1\",\"priority\":0,\"resource_allocation\":10}", "priority"},
        {"POST", "/scaling/priorities",
         "{\"match_id\":\"m1\",\"priority\":11,\"resource_allocation\":10}", "priority"},
        {"POST", "/scaling/priorities",
         "{\"match_id\":\"m1\",\"priority\":5,\"resource_allocation\":0}", "resource_allocation"},
        {"POST", "/scaling/priorities",
         "{\"match_id\":\"m1\",\"priority\":5,\"resource_allocation\":100.5}",
         "resource_allocation"},
        {"POST", "/scaling/priorities",
         "{\"match_id\":\"m1\",\"priority\":5,\"resource_allocation\":\"30\"}",
         "resource_allocation"},
        {"PUT", "/scaling/config", "{\"min_instances\":50,\"max_instances\":10}", "min_instances"},
        {"PUT", "/scaling/config", "{\"cpu_threshold\":0}", "cpu_threshold"},
        {"PUT", "/scaling/config", "{\"cpu_threshold\":150}", "cpu_threshold"},
        {"PUT", "/scaling/config", "{\"load_balancer_strategy\":\"random\"}",
         "load_balancer_strategy"},
        {"PUT", "/scaling/config", "{\"max_instances\":\"ten\"}", "max_instances"},
        {"PUT", "/scaling/config", "{}", ""},
        {"PUT", "/scaling/config", "null", ""},
        {"DELETE", "/scaling/priorities/bad!id", NULL, "match_id"},
        {"DELETE", "/scaling/priorities/no-such-match", NULL, "match_id"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct resp r;
        if (cases[i].body != NULL) {
            req_full(cases[i].method, cases[i].path, token, "application/json", cases[i].body,
                     strlen(cases[i].body), false, NULL, &r);
        } else {
            req(cases[i].method, cases[i].path, token, NULL, &r);
        }
        long want = strstr(cases[i].path, "no-such-match") ? 404 : 400;
        if (r.status != want) {
            fail_msg("case %zu %s %s %s: expected %ld, got %ld %s", i, cases[i].method,
                     cases[i].path, cases[i].body ? cases[i].body : "", want, r.status,
                     r.body ? r.body : "");
        }
        const char *f = json_string_value(json_object_get(r.json, "field"));
        if (f == NULL || strcmp(f, cases[i].field) != 0) {
            fail_msg("case %zu %s: expected field \"%s\", got %s", i, cases[i].body, cases[i].field,
                     r.body ? r.body : "");
        }
        assert_true(strlen(json_string_value(json_object_get(r.json, "error"))) > 0);
        resp_free(&r);
    }
    struct resp r;
    char bad[] = "{\"match_id\":\"m\xff\",\"priority\":1,\"resource_allocation\":1}";
    req("POST", "/scaling/priorities", token, bad, &r);
    expect_error(&r, 400, "");
    resp_free(&r);
    req_full("POST", "/scaling/scale", token, "application/json", "{\"a\":\0}", 7, false, NULL, &r);
    expect_status(&r, 400);
    resp_free(&r);
    req_full("POST", "/scaling/scale", token, "application/json", "{}", 2, false,
             "Idempotency-Key: not valid!", &r);
    expect_error(&r, 400, "Idempotency-Key");
    resp_free(&r);
}

/* ---- writes through the coordinator --------------------------------------------------- */

static json_t *get_json(const char *path)
{
    struct resp r;
    req("GET", path, NULL, NULL, &r);
    expect_status(&r, 200);
    json_t *j = json_incref(r.json);
    resp_free(&r);
    return j;
}

static const json_t *find_match(const json_t *prios, const char *id)
{
    size_t i;
    const json_t *p;
    json_array_foreach(json_object_get(prios, "priorities"), i, p)
    {
        if (strcmp(json_string_value(json_object_get(p, "match_id")), id) == 0) {
            return p;
        }
    }
    return NULL;
}

static void test_priorities_write(void **st)
{
    (void)st;
    struct resp r;
    char rid[160];
    req("POST", "/scaling/priorities", token,
        "{\"match_id\":\"match-123\",\"priority\":8,\"resource_allocation\":30.0}", &r);
    expect_status(&r, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "match_id")), "match-123");
    assert_int_equal(int_field(r.json, "priority"), 8);
    assert_true(json_number_value(json_object_get(r.json, "resource_allocation")) == 30.0);
    assert_true(json_is_number(json_object_get(r.json, "allocated_pct")));
    assert_true(header(&r, "X-Request-Id", rid, sizeof(rid)));
    resp_free(&r);

    /* Read-your-writes: the list shows it at once. */
    json_t *pr = get_json("/scaling/priorities");
    const json_t *m = find_match(pr, "match-123");
    assert_non_null(m);
    assert_int_equal(int_field(m, "priority"), 8);
    json_decref(pr);

    /* Replace. */
    req("POST", "/scaling/priorities", token,
        "{\"match_id\":\"match-123\",\"priority\":3,\"resource_allocation\":12.5}", &r);
    expect_status(&r, 200);
    assert_int_equal(int_field(r.json, "priority"), 3);
    resp_free(&r);

    req("DELETE", "/scaling/priorities/match-123", token, NULL, &r);
    expect_status(&r, 200);
    assert_true(json_is_true(json_object_get(r.json, "deleted")));
    resp_free(&r);
    pr = get_json("/scaling/priorities");
    assert_null(find_match(pr, "match-123"));
    json_decref(pr);
    req("DELETE", "/scaling/priorities/match-123", token, NULL, &r);
    expect_error(&r, 404, "match_id");
    resp_free(&r);
}

static void test_config_write(void **st)
{
    (void)st;
    struct resp r;
    json_t *before = get_json("/scaling/status");
    json_int_t v0 = int_field(before, "config_version");
    json_decref(before);
    req("PUT", "/scaling/config", token, "{\"max_instances\":12,\"cpu_threshold\":75}", &r);
    expect_status(&r, 200);
    assert_int_equal(int_field(r.json, "max_instances"), 12);
    assert_true(json_number_value(json_object_get(r.json, "cpu_threshold")) == 75.0);
    /* A partial body changes only what it names. */
    assert_true(json_number_value(json_object_get(r.json, "memory_threshold")) > 0);
    resp_free(&r);
    json_t *after = get_json("/scaling/status");
    assert_int_equal(int_field(after, "config_version"), v0 + 1);
    assert_int_equal(int_field(after, "max_instances"), 12);
    json_decref(after);

    /* Idempotency-Key: the same key twice is applied once. */
    char key[96];
    snprintf(key, sizeof(key), "Idempotency-Key: it-cfg-%ld-%d", (long)time(NULL), rand());
    const char *body = "{\"memory_threshold\":85}";
    req_full("PUT", "/scaling/config", token, "application/json", body, strlen(body), false, key,
             &r);
    expect_status(&r, 200);
    resp_free(&r);
    req_full("PUT", "/scaling/config", token, "application/json", body, strlen(body), false, key,
             &r);
    expect_status(&r, 200);
    resp_free(&r);
    after = get_json("/scaling/status");
    assert_int_equal(int_field(after, "config_version"), v0 + 2);
    json_decref(after);

    /* Restore the defaults the rest of the run expects. */
    req("PUT", "/scaling/config", token,
        "{\"max_instances\":10,\"cpu_threshold\":70,\"memory_threshold\":80}", &r);
    expect_status(&r, 200);
    resp_free(&r);
}

static void test_scale_write(void **st)
{
    (void)st;
    struct resp r;
    req("POST", "/scaling/scale", token,
        "{\"target_instances\":5,\"reason\":\"Handling major tournament\"}", &r);
    expect_status(&r, 200);
    assert_int_equal(int_field(r.json, "current_instances"), 5);
    resp_free(&r);
    /* Outside min..max: the coordinator rejects, the API passes its reason on. */
    req("POST", "/scaling/scale", token, "{\"target_instances\":50}", &r);
    expect_error(&r, 422, "target_instances");
    assert_non_null(strstr(json_string_value(json_object_get(r.json, "error")), "max_instances"));
    assert_non_null(json_string_value(json_object_get(r.json, "request_id")));
    resp_free(&r);
}

/* Every (path, method) /openapi.json lists answers, and every method it does not list for a
 * path gets 405; unlisted paths get 404. Together with the unit test that compares the
 * document with the router's table, this is the "listed <=> answers" check. */
static void test_openapi_coverage(void **st)
{
    (void)st;
    static const char *const methods[] = {"get",    "head",  "post",   "put",
                                          "delete", "patch", "options"};
    json_t *doc = get_json("/openapi.json");
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
    json_t *paths = json_object_get(doc, "paths");
    assert_true(json_object_size(paths) >= 11);
    const char *path;
    json_t *ops;
    json_object_foreach(paths, path, ops)
    {
        char url[256];
        const char *brace = strchr(path, '{');
        if (brace != NULL) {
            snprintf(url, sizeof(url), "%.*sopenapi-probe", (int)(brace - path), path);
        } else {
            snprintf(url, sizeof(url), "%s", path);
        }
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
            char upper[16];
            size_t k = 0;
            for (; methods[i][k] && k < sizeof(upper) - 1; k++) {
                upper[k] = (char)(methods[i][k] - 'a' + 'A');
            }
            upper[k] = '\0';
            bool listed = json_object_get(ops, methods[i]) != NULL ||
                          (strcmp(methods[i], "head") == 0 && json_object_get(ops, "get"));
            struct resp r;
            req_full(upper, url, token, "application/json", "{}", 2, false, NULL, &r);
            if (listed) {
                const char *err =
                    r.json ? json_string_value(json_object_get(r.json, "error")) : NULL;
                bool routed = r.status != 405 &&
                              !(r.status == 404 && err != NULL && strstr(err, "no such endpoint"));
                if (!routed) {
                    fail_msg("%s %s is listed but answered %ld %s", upper, url, r.status,
                             r.body ? r.body : "");
                }
            } else if (r.status != 405) {
                fail_msg("%s %s is not listed but answered %ld", upper, url, r.status);
            }
            resp_free(&r);
        }
    }
    static const char *const unlisted[] = {"/scaling",         "/scaling/",
                                           "/scaling/status/", "/scaling/priorities/a/b",
                                           "/index.html",      "/admin"};
    for (size_t i = 0; i < sizeof(unlisted) / sizeof(unlisted[0]); i++) {
        assert_null(json_object_get(paths, unlisted[i]));
        struct resp r;
        req("GET", unlisted[i], NULL, NULL, &r);
        if (r.status != 404) {
            fail_msg("unlisted %s answered %ld", unlisted[i], r.status);
        }
        resp_free(&r);
    }
    json_decref(doc);
}

/* A client that sends half a request and stalls is disconnected after the idle timeout (the
 * script sets API_CONNECTION_TIMEOUT=2s), so slow clients cannot pin connections. */
static void test_slow_client(void **st)
{
    (void)st;
    const char *hp = strstr(api_url, "://");
    assert_non_null(hp);
    const char *colon = strrchr(hp + 3, ':');
    assert_non_null(colon);
    int port = atoi(colon + 1);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    const char partial[] = "GET /scaling/status HTTP/1.1\r\nHost: x\r\n";
    assert_int_equal(send(fd, partial, sizeof(partial) - 1, 0), (ssize_t)(sizeof(partial) - 1));
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    double t0 = now_s();
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    double dt = now_s() - t0;
    close(fd);
    if (n > 0 || dt < 1.0 || dt > 8.0) {
        fail_msg("stalled client: recv %zd after %.2f s (want a close after ~2 s)", n, dt);
    }
}

/* ---- the view's handling of state records --------------------------------------------- */

/* Produce one state record (value NULL: a tombstone) for `svc` to partition 0 of the state
 * topic, so records of different services keep their order for the view. */
static void produce_state(rd_kafka_t *rk, const char *topic, const char *svc, int64_t epoch,
                          int64_t seq, int32_t instances, bool tombstone)
{
    char *buf = NULL;
    size_t len = 0;
    if (!tombstone) {
        struct cresc_state st;
        cresc_state_init(&st);
        snprintf(st.service, sizeof(st.service), "%s", svc);
        st.owner_epoch = epoch;
        st.state_seq = seq;
        st.current_instances = instances;
        st.config_version = 1;
        assert_int_equal(cresc_state_encode(&st, &buf, &len), 0);
        cresc_state_release(&st);
    }
    rd_kafka_vu_t vu[5];
    memset(vu, 0, sizeof(vu));
    vu[0].vtype = RD_KAFKA_VTYPE_TOPIC;
    vu[0].u.cstr = topic;
    vu[1].vtype = RD_KAFKA_VTYPE_PARTITION;
    vu[1].u.i32 = 0;
    vu[2].vtype = RD_KAFKA_VTYPE_KEY;
    vu[2].u.mem.ptr = (void *)(uintptr_t)svc;
    vu[2].u.mem.size = strlen(svc);
    vu[3].vtype = RD_KAFKA_VTYPE_VALUE;
    vu[3].u.mem.ptr = buf;
    vu[3].u.mem.size = len;
    vu[4].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vu[4].u.i = RD_KAFKA_MSG_F_COPY;
    rd_kafka_error_t *e = rd_kafka_produceva(rk, vu, 5);
    assert_null(e);
    assert_int_equal(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    free(buf);
}

/* Wait until GET /scaling/status?service=svc answers `code` (and, for 200, shows
 * `instances`); false after 10 s. */
static bool wait_status(const char *svc, long code, json_int_t instances)
{
    char path[256];
    snprintf(path, sizeof(path), "/scaling/status?service=%s", svc);
    for (int i = 0; i < 200; i++) {
        struct resp r;
        req("GET", path, NULL, NULL, &r);
        bool ok = r.status == code &&
                  (code != 200 ||
                   json_integer_value(json_object_get(r.json, "current_instances")) == instances);
        resp_free(&r);
        if (ok) {
            return true;
        }
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* Newer snapshots replace older ones, a stale one (same owner, lower sequence) is ignored, a
 * newer owner wins whatever its sequence, and a tombstone removes the service. */
static void test_view_records(void **st)
{
    (void)st;
    const char *brokers = getenv("KAFKA_BROKERS");
    const char *prefix = getenv("TOPIC_PREFIX");
    if (brokers == NULL || prefix == NULL) {
        fail_msg("KAFKA_BROKERS and TOPIC_PREFIX are required for this test");
    }
    char topic[256], svc[64], marker[64], err[256];
    snprintf(topic, sizeof(topic), "%sstate", prefix);
    snprintf(svc, sizeof(svc), "it-view-%ld", (long)getpid());
    snprintf(marker, sizeof(marker), "it-view-marker-%ld", (long)getpid());
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof(err)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    assert_non_null(rk);

    produce_state(rk, topic, svc, 5, 10, 4, false);
    assert_true(wait_status(svc, 200, 4));
    /* Stale: same owner epoch, older sequence. The marker after it (same partition) shows the
       view has read past it. */
    produce_state(rk, topic, svc, 5, 9, 7, false);
    produce_state(rk, topic, marker, 1, 1, 1, false);
    assert_true(wait_status(marker, 200, 1));
    assert_true(wait_status(svc, 200, 4));
    /* A newer owner's first snapshot wins. */
    produce_state(rk, topic, svc, 6, 1, 6, false);
    assert_true(wait_status(svc, 200, 6));
    /* Tombstones: the services are gone. */
    produce_state(rk, topic, svc, 0, 0, 0, true);
    produce_state(rk, topic, marker, 0, 0, 0, true);
    assert_true(wait_status(svc, 404, 0));
    assert_true(wait_status(marker, 404, 0));
    rd_kafka_destroy(rk);
}

/* ---- other phases --------------------------------------------------------------------- */

static void test_auth_reads(void **st)
{
    (void)st;
    static const char *const reads[] = {"/scaling/status", "/scaling/decision", "/scaling/config",
                                        "/scaling/priorities"};
    for (size_t i = 0; i < 4; i++) {
        struct resp r;
        req("GET", reads[i], NULL, NULL, &r);
        expect_error(&r, 401, "Authorization");
        resp_free(&r);
        req("GET", reads[i], token, NULL, &r);
        expect_status(&r, 200);
        resp_free(&r);
    }
    struct resp r;
    req("GET", "/healthz", NULL, NULL, &r);
    expect_status(&r, 200);
    resp_free(&r);
}

struct bg_write {
    const char *body;
    struct resp r;
};

static void *bg_post(void *arg)
{
    struct bg_write *b = arg;
    req("POST", "/scaling/priorities", token, b->body, &b->r);
    return NULL;
}

/* The coordinator is stopped: the command reaches Kafka, no ack comes: 202 with the id. While
 * writes wait (suspended connections), reads on other connections keep answering at once. */
static void test_timeout(void **st)
{
    (void)st;
    char body[256], rid[160], body2[256];
    snprintf(body, sizeof(body), "{\"match_id\":\"%s\",\"priority\":6,\"resource_allocation\":20}",
             match_arg);
    snprintf(body2, sizeof(body2),
             "{\"match_id\":\"%s-b\",\"priority\":2,\"resource_allocation\":5}", match_arg);
    /* More waiting writes than the API has threads (the script runs it with 2). */
    struct bg_write bw[3] = {{body2, {0}}, {body2, {0}}, {body2, {0}}};
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, bg_post, &bw[i]), 0);
    }
    struct timespec pause = {0, 200 * 1000000L};
    nanosleep(&pause, NULL);
    for (int i = 0; i < 10; i++) {
        struct resp g;
        double t0 = now_s();
        req("GET", "/scaling/status", NULL, NULL, &g);
        double dt = now_s() - t0;
        expect_status(&g, 200);
        if (dt > 0.5) {
            fail_msg("a read took %.3f s while writes were waiting", dt);
        }
        resp_free(&g);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        expect_status(&bw[i].r, 202);
        resp_free(&bw[i].r);
    }
    struct resp r;
    req("POST", "/scaling/priorities", token, body, &r);
    expect_status(&r, 202);
    const char *id = json_string_value(json_object_get(r.json, "request_id"));
    assert_non_null(id);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "accepted");
    assert_true(header(&r, "X-Request-Id", rid, sizeof(rid)));
    assert_string_equal(rid, id);
    /* The script sets API_WRITE_TIMEOUT=1500ms: the wait is bounded. */
    assert_true(r.seconds >= 1.4 && r.seconds < 4.0);
    resp_free(&r);

    /* A config change with an Idempotency-Key, also accepted and pending. */
    char key[200];
    snprintf(key, sizeof(key), "Idempotency-Key: cfg-%s", match_arg);
    const char *cfg = "{\"scaling_cooldown\":301}";
    req_full("PUT", "/scaling/config", token, "application/json", cfg, strlen(cfg), false, key, &r);
    expect_status(&r, 202);
    resp_free(&r);
}

/* The coordinator is back: the writes that got 202 were not lost, and retrying one with its
 * Idempotency-Key is answered from the acknowledgement without applying it again. */
static void test_recovered(void **st)
{
    (void)st;
    bool seen = false;
    for (int i = 0; i < 300 && !seen; i++) {
        json_t *pr = get_json("/scaling/priorities");
        const json_t *m = find_match(pr, match_arg);
        if (m != NULL) {
            assert_int_equal(int_field(m, "priority"), 6);
            seen = true;
        }
        json_decref(pr);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!seen) {
        fail_msg("match %s accepted with 202 never showed up", match_arg);
    }
    json_int_t version = -1;
    for (int i = 0; i < 300 && version < 0; i++) {
        json_t *c = get_json("/scaling/config");
        if (int_field(c, "scaling_cooldown") == 301) {
            json_t *stj = get_json("/scaling/status");
            version = int_field(stj, "config_version");
            json_decref(stj);
        }
        json_decref(c);
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (version < 0) {
        fail_msg("config change accepted with 202 never showed up");
    }
    char key[200];
    snprintf(key, sizeof(key), "Idempotency-Key: cfg-%s", match_arg);
    const char *cfg = "{\"scaling_cooldown\":301}";
    struct resp r;
    req_full("PUT", "/scaling/config", token, "application/json", cfg, strlen(cfg), false, key, &r);
    expect_status(&r, 200);
    assert_int_equal(int_field(r.json, "scaling_cooldown"), 301);
    resp_free(&r);
    struct timespec pause = {1, 0};
    nanosleep(&pause, NULL);
    json_t *stj = get_json("/scaling/status");
    assert_int_equal(int_field(stj, "config_version"), version);
    json_decref(stj);
}

/* The broker is down: writes get 503 within the bounded wait; reads still answer. */
static void test_unavailable(void **st)
{
    (void)st;
    struct resp r;
    char ra[32];
    req("POST", "/scaling/priorities", token,
        "{\"match_id\":\"m-down\",\"priority\":6,\"resource_allocation\":20}", &r);
    expect_error(&r, 503, "");
    assert_true(header(&r, "Retry-After", ra, sizeof(ra)));
    assert_non_null(json_string_value(json_object_get(r.json, "request_id")));
    assert_true(r.seconds < 5.0);
    resp_free(&r);
    req("GET", "/scaling/status", NULL, NULL, &r);
    expect_status(&r, 200);
    resp_free(&r);
}

int main(int argc, char **argv)
{
    api_url = getenv("API_URL");
    token = getenv("API_TOKEN");
    service = getenv("SERVICE") ? getenv("SERVICE") : "music-generator";
    if (api_url == NULL || token == NULL || argc < 2) {
        fprintf(stderr, "usage: API_URL=... API_TOKEN=... it_api main|authreads|timeout MATCH|"
                        "recovered MATCH|unavailable\n");
        return 2;
    }
    match_arg = argc > 2 ? argv[2] : "m-timeout";
    srand((unsigned)time(NULL));
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = 2;
    if (strcmp(argv[1], "main") == 0) {
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_health_ready),
            cmocka_unit_test(test_status),
            cmocka_unit_test(test_decision),
            cmocka_unit_test(test_config_get),
            cmocka_unit_test(test_unknown_service_and_route),
            cmocka_unit_test(test_method_not_allowed),
            cmocka_unit_test(test_auth),
            cmocka_unit_test(test_media_type_and_size),
            cmocka_unit_test(test_validation),
            cmocka_unit_test(test_priorities_write),
            cmocka_unit_test(test_config_write),
            cmocka_unit_test(test_scale_write),
            cmocka_unit_test(test_openapi_coverage),
            cmocka_unit_test(test_metrics),
            cmocka_unit_test(test_slow_client),
            cmocka_unit_test(test_view_records),
        };
        rc = cmocka_run_group_tests_name("api_main", tests, NULL, NULL);
    } else if (strcmp(argv[1], "authreads") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_auth_reads)};
        rc = cmocka_run_group_tests_name("api_authreads", tests, NULL, NULL);
    } else if (strcmp(argv[1], "timeout") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_timeout)};
        rc = cmocka_run_group_tests_name("api_timeout", tests, NULL, NULL);
    } else if (strcmp(argv[1], "recovered") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_recovered)};
        rc = cmocka_run_group_tests_name("api_recovered", tests, NULL, NULL);
    } else if (strcmp(argv[1], "unavailable") == 0) {
        const struct CMUnitTest tests[] = {cmocka_unit_test(test_unavailable)};
        rc = cmocka_run_group_tests_name("api_unavailable", tests, NULL, NULL);
    }
    curl_global_cleanup();
    return rc;
}
