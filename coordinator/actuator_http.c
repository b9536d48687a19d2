/* HTTP backends of the actuator (libcurl, one easy handle per worker): the Kubernetes scale
 * subresource (merge-patch of spec.replicas with the service-account token) and the webhook
 * (POST of the scaling.commands JSON). One attempt per call; actuator.c retries. */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "actuator_internal.h"
#include "cresc/log.h"

#define RESP_MAX  ((size_t)4096)      /* response body kept for the error message */
#define TOKEN_MAX ((size_t)16 * 1024) /* a service-account JWT is ~1 KiB */
#define URL_MAX   ((size_t)4096)

struct cresc_act_http {
    CURL *curl;
};

struct resp_buf {
    char data[RESP_MAX + 1];
    size_t len;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int cresc_act_http_new(struct cresc_act_http **out)
{
    pthread_once(&curl_once, curl_init_once);
    struct cresc_act_http *h = calloc(1, sizeof *h);
    if (h == NULL) {
        return CRESC_ENOMEM;
    }
    h->curl = curl_easy_init();
    if (h->curl == NULL) {
        free(h);
        return CRESC_ENOMEM;
    }
    *out = h;
    return 0;
}

void cresc_act_http_free(struct cresc_act_http *h)
{
    if (h == NULL) {
        return;
    }
    curl_easy_cleanup(h->curl);
    free(h);
}

/* Keep the first RESP_MAX bytes; the rest is read and dropped (it is only for messages). */
static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct resp_buf *b = userdata;
    size_t n = size * nmemb;
    size_t room = RESP_MAX - b->len;
    size_t take = n < room ? n : room;
    memcpy(b->data + b->len, ptr, take);
    b->len += take;
    b->data[b->len] = '\0';
    return n;
}

struct progress_ctx {
    const atomic_bool *stop;
};

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    const struct progress_ctx *pc = clientp;
    return atomic_load(pc->stop) ? 1 : 0;
}

/* Kubernetes object names (RFC 1123 subdomain): lower-case alphanumerics, '-' and '.',
 * starting and ending alphanumeric, at most 253 bytes. Also keeps the URL free of escapes. */
static bool k8s_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(islower(c) || isdigit(c) || c == '-' || c == '.')) {
            return false;
        }
    }
    return true;
}

int cresc_act_k8s_url(const struct cresc_act_conf *conf, const struct cresc_scale_command *cmd,
                      char *buf, size_t cap, struct cresc_act_result *res)
{
    const char *name = conf->k8s_target_name != NULL ? conf->k8s_target_name : cmd->service;
    if (!k8s_name_valid(conf->k8s_namespace)) {
        snprintf(res->msg, sizeof res->msg,
                 "ACTUATOR_K8S_NAMESPACE=%s is not a valid Kubernetes name", conf->k8s_namespace);
        res->permanent = true;
        return CRESC_EINVAL;
    }
    if (!k8s_name_valid(name)) {
        snprintf(res->msg, sizeof res->msg,
                 "%s is not a valid Kubernetes name (set ACTUATOR_K8S_TARGET_NAME)", name);
        res->permanent = true;
        return CRESC_EINVAL;
    }
    int n = snprintf(
        buf, cap, "%s/apis/apps/v1/namespaces/%s/%s/%s/scale", conf->k8s_api_base,
        conf->k8s_namespace,
        conf->k8s_target_kind == CRESC_K8S_STATEFULSET ? "statefulsets" : "deployments", name);
    if (n < 0 || (size_t)n >= cap) {
        snprintf(res->msg, sizeof res->msg, "scale URL longer than %zu bytes", cap);
        res->permanent = true;
        return CRESC_ETOOBIG;
    }
    return 0;
}

/* Read a bearer token fresh for each request: projected service-account tokens rotate. */
static int read_token(const char *path, char *buf, size_t cap, struct cresc_act_result *res)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(res->msg, sizeof res->msg, "cannot read token file %s", path);
        return CRESC_EIO;
    }
    size_t n = fread(buf, 1, cap - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    if (more) {
        snprintf(res->msg, sizeof res->msg, "token file %s is larger than %zu bytes", path,
                 cap - 1);
        res->permanent = true;
        return CRESC_ETOOBIG;
    }
    buf[n] = '\0';
    while (n > 0 && isspace((unsigned char)buf[n - 1])) {
        buf[--n] = '\0';
    }
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\r' || buf[i] == '\n') {
            /* A header must stay one line: never let a file inject another header. */
            snprintf(res->msg, sizeof res->msg, "token file %s has more than one line", path);
            res->permanent = true;
            return CRESC_EPARSE;
        }
    }
    return 0;
}

/* The URL as it may appear in logs and the state: scheme, host, port and path only. A
 * webhook's query string or user:password part often carries a secret. */
static void url_for_log(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(out, cap, "(unparsable URL)");
    } else {
        (void)curl_url_get(u, CURLUPART_PORT, &port, 0);
        (void)curl_url_get(u, CURLUPART_PATH, &path, 0);
        (void)curl_url_get(u, CURLUPART_QUERY, &query, 0);
        snprintf(out, cap, "%s://%s%s%s%s%s", scheme, host, port != NULL ? ":" : "",
                 port != NULL ? port : "", path != NULL ? path : "", query != NULL ? "?..." : "");
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(u);
}

/* One line describing a non-2xx answer: the Kubernetes Status message if the body is one,
 * else the start of the body. */
static void describe_http_error(const char *method, const char *url, long code,
                                const struct resp_buf *body, struct cresc_act_result *res)
{
    char detail[160] = "";
    char shown[URL_MAX];
    url_for_log(url, shown, sizeof shown);
    json_t *j = json_loadb(body->data, body->len, 0, NULL);
    const char *m = json_string_value(json_object_get(j, "message"));
    if (m != NULL) {
        snprintf(detail, sizeof detail, "%s", m);
    } else {
        size_t k = 0;
        for (size_t i = 0; i < body->len && k + 1 < sizeof detail; i++) {
            unsigned char c = (unsigned char)body->data[i];
            detail[k++] = (char)(isprint(c) ? c : ' ');
        }
        detail[k] = '\0';
    }
    json_decref(j);
    snprintf(res->msg, sizeof res->msg, "HTTP %ld from %s %.140s%s%.90s", code, method, shown,
             detail[0] != '\0' ? ": " : "", detail);
}

struct http_req {
    const char *method; /* "PATCH" or "POST" */
    const char *url;
    const char *content_type;
    const char *body;
    size_t body_len;
    const char *token; /* NULL: no Authorization */
    const char *ca_file;
    bool insecure;
    const char *idempotency_key; /* NULL: none */
    long timeout_ms;
};

/* Retry policy of an HTTP answer: 408, 429 and 5xx are worth retrying; other 4xx mean the
 * request itself is wrong (bad name, no RBAC permission) and a redirect means a wrong URL
 * (redirects are not followed: they would carry the token elsewhere); a retry would fail
 * the same way. */
static bool http_retryable(long code)
{
    return code == 408 || code == 429 || code >= 500;
}

/* Append one header; false (and the list freed) when out of memory. */
static bool add_header(struct curl_slist **list, const char *line)
{
    struct curl_slist *t = curl_slist_append(*list, line);
    if (t == NULL) {
        curl_slist_free_all(*list);
        *list = NULL;
        return false;
    }
    *list = t;
    return true;
}

/* The request's headers, NULL when out of memory. */
static struct curl_slist *build_headers(const struct http_req *rq)
{
    struct curl_slist *hdrs = NULL;
    char line[256];
    (void)snprintf(line, sizeof line, "Content-Type: %s", rq->content_type);
    if (!add_header(&hdrs, line) || !add_header(&hdrs, "Accept: application/json") ||
        !add_header(&hdrs, "Expect:")) {
        return NULL;
    }
    if (rq->idempotency_key != NULL) {
        (void)snprintf(line, sizeof line, "Idempotency-Key: %s", rq->idempotency_key);
        if (!add_header(&hdrs, line)) {
            return NULL;
        }
    }
    if (rq->token != NULL) {
        size_t n = strlen(rq->token) + sizeof "Authorization: Bearer ";
        char *auth = malloc(n);
        if (auth == NULL) {
            curl_slist_free_all(hdrs);
            return NULL;
        }
        (void)snprintf(auth, n, "Authorization: Bearer %s", rq->token);
        bool ok = add_header(&hdrs, auth);
        memset(auth, 0, n);
        free(auth);
        if (!ok) {
            return NULL;
        }
    }
    return hdrs;
}

static void set_options(CURL *c, const struct http_req *rq, struct curl_slist *hdrs,
                        struct resp_buf *body, struct progress_ctx *pc)
{
    curl_easy_setopt(c, CURLOPT_URL, rq->url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "crescendo-coordinator/" CRESC_VERSION);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, rq->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, pc);
    if (rq->ca_file != NULL) {
        curl_easy_setopt(c, CURLOPT_CAINFO, rq->ca_file);
    }
    if (rq->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

static int http_do(struct cresc_act_http *h, const struct http_req *rq, const atomic_bool *stop,
                   struct cresc_act_result *res)
{
    CURL *c = h->curl;
    struct progress_ctx pc = {stop};
    struct resp_buf *body = calloc(1, sizeof *body);
    struct curl_slist *hdrs = body != NULL ? build_headers(rq) : NULL;
    int rc = 0;
    if (hdrs == NULL) {
        (void)snprintf(res->msg, sizeof res->msg, "out of memory");
        free(body);
        return CRESC_ENOMEM;
    }
    curl_easy_reset(c); /* keeps the connection cache */
    set_options(c, rq, hdrs, body, &pc);
    char shown[URL_MAX];
    url_for_log(rq->url, shown, sizeof shown);
    CURLcode cc = curl_easy_perform(c);
    /* The handle keeps a pointer to the header list until the next reset. */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    long code = 0;
    if (cc == CURLE_ABORTED_BY_CALLBACK) {
        (void)snprintf(res->msg, sizeof res->msg, "%s %.160s aborted: shutting down", rq->method,
                       shown);
        rc = CRESC_ESTATE;
    } else if (cc != CURLE_OK) {
        (void)snprintf(res->msg, sizeof res->msg, "%s %.160s: %.80s", rq->method, shown,
                       curl_easy_strerror(cc));
        res->permanent = cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT;
        rc = cc == CURLE_OPERATION_TIMEDOUT ? CRESC_ETIMEDOUT : CRESC_EIO;
    } else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK || code < 200 ||
               code > 299) {
        describe_http_error(rq->method, rq->url, code, body, res);
        res->permanent = !http_retryable(code);
        rc = code == 401 || code == 403 ? CRESC_EAUTH : CRESC_EHTTP;
    }
    curl_slist_free_all(hdrs);
    free(body);
    return rc;
}

int cresc_act_k8s_apply(struct cresc_act_http *h, const struct cresc_act_conf *conf,
                        const struct cresc_scale_command *cmd, const atomic_bool *stop,
                        struct cresc_act_result *res)
{
    char url[URL_MAX];
    char *token = NULL, *payload = NULL;
    int rc = cresc_act_k8s_url(conf, cmd, url, sizeof url, res);
    if (rc != 0) {
        return rc;
    }
    if (cmd->to < 0) {
        snprintf(res->msg, sizeof res->msg, "negative target %d", cmd->to);
        res->permanent = true;
        return CRESC_EINVAL;
    }
    if (conf->k8s_token_file != NULL) {
        token = malloc(TOKEN_MAX);
        if (token == NULL) {
            return CRESC_ENOMEM;
        }
        rc = read_token(conf->k8s_token_file, token, TOKEN_MAX, res);
        if (rc != 0) {
            goto out;
        }
    }
    /* A merge patch of the scale subresource touches spec.replicas only. */
    json_t *patch = json_pack("{s:{s:i}}", "spec", "replicas", (int)cmd->to);
    payload = patch != NULL ? json_dumps(patch, JSON_COMPACT) : NULL;
    json_decref(patch);
    if (payload == NULL) {
        rc = CRESC_ENOMEM;
        goto out;
    }
    struct http_req rq = {
        .method = "PATCH",
        .url = url,
        .content_type = "application/merge-patch+json",
        .body = payload,
        .body_len = strlen(payload),
        .token = token,
        .ca_file = conf->k8s_insecure ? NULL : conf->k8s_ca_file,
        .insecure = conf->k8s_insecure,
        .timeout_ms = conf->timeout_ms,
    };
    rc = http_do(h, &rq, stop, res);
out:
    if (token != NULL) {
        memset(token, 0, TOKEN_MAX);
        free(token);
    }
    free(payload);
    return rc;
}

int cresc_act_webhook_apply(struct cresc_act_http *h, const struct cresc_act_conf *conf,
                            const struct cresc_scale_command *cmd, const atomic_bool *stop,
                            struct cresc_act_result *res)
{
    char buf[CRESC_COMMAND_MAX_BYTES];
    size_t len = 0;
    int rc = cresc_command_encode(cmd, buf, sizeof buf, &len);
    if (rc != 0) {
        snprintf(res->msg, sizeof res->msg, "cannot encode the command: %s", cresc_strerror(rc));
        res->permanent = true;
        return rc;
    }
    struct http_req rq = {
        .method = "POST",
        .url = conf->webhook_url,
        .content_type = "application/json",
        .body = buf,
        .body_len = len,
        .token = conf->webhook_token,
        .ca_file = conf->webhook_ca_file,
        .idempotency_key = cmd->decision_id[0] != '\0' ? cmd->decision_id : NULL,
        .timeout_ms = conf->timeout_ms,
    };
    return http_do(h, &rq, stop, res);
}
