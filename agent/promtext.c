/* Prometheus text exposition (format 0.0.4) for the agent: sum the series of a few metric
 * names, and fetch the page with libcurl. The parser reads only what it needs: the metric
 * name, the label block (skipped, honouring quoted values with escapes) and the value. */
#include "promtext.h"

#define CURL_DISABLE_TYPECHECK 1 /* we call through pointers, not the checking macros */
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynload.h"
#include "textscan.h"

#define CURL_SONAME "libcurl.so.4"

/* The libcurl calls we make, resolved at run time (see dynload.h). */
struct curl_api {
    __typeof__(&curl_global_init) global_init;
    __typeof__(&curl_global_cleanup) global_cleanup;
    __typeof__(&curl_easy_init) easy_init;
    __typeof__(&curl_easy_setopt) easy_setopt;
    __typeof__(&curl_easy_perform) easy_perform;
    __typeof__(&curl_easy_getinfo) easy_getinfo;
    __typeof__(&curl_easy_cleanup) easy_cleanup;
    __typeof__(&curl_easy_strerror) easy_strerror;
};

#define LINE_MAX_BYTES 4096

static bool name_char(char c, bool first)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':') {
        return true;
    }
    return !first && c >= '0' && c <= '9';
}

/* Skip a label block starting at '{'; returns the position after '}' or NULL if malformed. */
static const char *skip_labels(const char *p)
{
    p++; /* '{' */
    bool in_string = false;
    for (; *p != '\0'; p++) {
        if (in_string) {
            if (*p == '\\') {
                if (p[1] == '\0') {
                    return NULL;
                }
                p++;
            } else if (*p == '"') {
                in_string = false;
            }
        } else if (*p == '"') {
            in_string = true;
        } else if (*p == '}') {
            return p + 1;
        }
    }
    return NULL;
}

/* One sample line: name, optional labels, value, optional timestamp. */
static bool parse_sample(const char *line, const char **name, size_t *nlen, double *value)
{
    const char *p = line;
    if (!name_char(*p, true)) {
        return false;
    }
    *name = p;
    while (name_char(*p, false)) {
        p++;
    }
    *nlen = (size_t)(p - *name);
    if (*p == '{') {
        p = skip_labels(p);
        if (p == NULL) {
            return false;
        }
    }
    if (*p != ' ' && *p != '\t') {
        return false;
    }
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    char *end;
    double v = strtod(p, &end);
    if (end == p) {
        return false;
    }
    /* Optional timestamp (an integer), then nothing but blanks. */
    p = end;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p == '-') {
        p++;
    }
    while (*p >= '0' && *p <= '9') {
        p++;
    }
    while (*p == ' ' || *p == '\t' || *p == '\r') {
        p++;
    }
    if (*p != '\0') {
        return false;
    }
    *value = v;
    return true;
}

int cresc_promtext_parse(const char *buf, size_t len, struct cresc_promtext_query *q, size_t nq,
                         size_t *n_malformed)
{
    struct cresc_textscan ts;
    const char *line;
    size_t n;
    size_t bad = 0;
    if (len > CRESC_PROMTEXT_MAX_BYTES) {
        return CRESC_ETOOBIG;
    }
    for (size_t i = 0; i < nq; i++) {
        q[i].sum = 0.0;
        q[i].n_series = 0;
    }
    cresc_textscan_init(&ts, buf, len);
    while (cresc_textscan_line(&ts, &line, &n)) {
        char copy[LINE_MAX_BYTES];
        while (n > 0 && (line[0] == ' ' || line[0] == '\t')) {
            line++;
            n--;
        }
        if (n == 0 || line[0] == '#' || (n == 1 && line[0] == '\r')) {
            continue;
        }
        const char *name;
        size_t nlen;
        double v;
        if (!cresc_textscan_copy(line, n, copy, sizeof(copy)) ||
            !parse_sample(copy, &name, &nlen, &v)) {
            bad++;
            continue;
        }
        for (size_t i = 0; i < nq; i++) {
            if (strlen(q[i].name) != nlen || memcmp(q[i].name, name, nlen) != 0) {
                continue;
            }
            if (!isfinite(v) || v < 0.0) {
                bad++;
                break;
            }
            q[i].sum += v;
            q[i].n_series++;
            break;
        }
    }
    if (n_malformed != NULL) {
        *n_malformed = bad;
    }
    return CRESC_OK;
}

struct cresc_promtext_scraper {
    struct curl_api api;
    void *lib;
    bool global_done;
    CURL *curl;
    char *buf; /* grows up to CRESC_PROMTEXT_MAX_BYTES + 1 */
    size_t len, cap;
    bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *opaque)
{
    struct cresc_promtext_scraper *s = opaque;
    size_t n = size * nmemb;
    if (s->len + n > CRESC_PROMTEXT_MAX_BYTES) {
        s->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap == 0 ? 16384 : s->cap;
        while (cap < s->len + n + 1) {
            cap *= 2;
        }
        if (cap > CRESC_PROMTEXT_MAX_BYTES + 1) {
            cap = CRESC_PROMTEXT_MAX_BYTES + 1;
        }
        char *nb = realloc(s->buf, cap);
        if (nb == NULL) {
            return 0;
        }
        s->buf = nb;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, data, n);
    s->len += n;
    s->buf[s->len] = '\0';
    return n;
}

int cresc_promtext_scraper_new(const char *url, long timeout_ms,
                               struct cresc_promtext_scraper **out, char *err, size_t errlen)
{
    if (url == NULL || url[0] == '\0' || timeout_ms <= 0) {
        snprintf(err, errlen, "empty metrics URL or non-positive timeout");
        return CRESC_EINVAL;
    }
    struct cresc_promtext_scraper *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        return CRESC_ENOMEM;
    }
    const struct cresc_dynsym syms[] = {
        CRESC_DYNSYM("curl_global_init", s->api.global_init),
        CRESC_DYNSYM("curl_global_cleanup", s->api.global_cleanup),
        CRESC_DYNSYM("curl_easy_init", s->api.easy_init),
        CRESC_DYNSYM("curl_easy_setopt", s->api.easy_setopt),
        CRESC_DYNSYM("curl_easy_perform", s->api.easy_perform),
        CRESC_DYNSYM("curl_easy_getinfo", s->api.easy_getinfo),
        CRESC_DYNSYM("curl_easy_cleanup", s->api.easy_cleanup),
        CRESC_DYNSYM("curl_easy_strerror", s->api.easy_strerror),
    };
    int rc =
        cresc_dynload_open(CURL_SONAME, syms, sizeof(syms) / sizeof(syms[0]), &s->lib, err, errlen);
    if (rc != CRESC_OK) {
        free(s);
        return rc;
    }
    if (s->api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "libcurl initialisation failed");
        cresc_promtext_scraper_free(s);
        return CRESC_EHTTP;
    }
    s->global_done = true;
    s->curl = s->api.easy_init();
    if (s->curl == NULL) {
        cresc_promtext_scraper_free(s);
        return CRESC_ENOMEM;
    }
    CURL *c = s->curl;
    s->api.easy_setopt(c, CURLOPT_URL, url); /* libcurl copies the string */
    s->api.easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    s->api.easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    s->api.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    s->api.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    s->api.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    s->api.easy_setopt(c, CURLOPT_USERAGENT, "crescendo-agent/" CRESC_VERSION);
    s->api.easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    s->api.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    s->api.easy_setopt(c, CURLOPT_WRITEDATA, s);
    *out = s;
    return CRESC_OK;
}

void cresc_promtext_scraper_free(struct cresc_promtext_scraper *s)
{
    if (s == NULL) {
        return;
    }
    if (s->curl != NULL) {
        s->api.easy_cleanup(s->curl);
    }
    if (s->global_done) {
        s->api.global_cleanup();
    }
    cresc_dynload_close(s->lib);
    free(s->buf);
    free(s);
}

int cresc_promtext_scrape(struct cresc_promtext_scraper *s, const char **body, size_t *len,
                          char *err, size_t errlen)
{
    s->len = 0;
    s->too_big = false;
    CURLcode rc = s->api.easy_perform(s->curl);
    if (s->too_big) {
        snprintf(err, errlen, "metrics page larger than %d bytes", CRESC_PROMTEXT_MAX_BYTES);
        return CRESC_ETOOBIG;
    }
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "scrape failed: %s", s->api.easy_strerror(rc));
        return CRESC_EHTTP;
    }
    long status = 0;
    s->api.easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status > 299) {
        snprintf(err, errlen, "scrape answered HTTP %ld", status);
        return CRESC_EHTTP;
    }
    *body = s->buf == NULL ? "" : s->buf;
    *len = s->len;
    return CRESC_OK;
}
