/* crescendoctl: the operators' command-line client of crescendo-api (libcurl + jansson).
 * Parses the command line (ctl_args.c), sends one request, prints the answer as a table
 * (ctl_format.c) or JSON, and exits 0 / 1 API error / 2 usage error / 3 unreachable. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "ctl_args.h"
#include "ctl_format.h"

#ifndef CRESC_VERSION
#define CRESC_VERSION "0.0.0"
#endif

/* The largest answer we read: a full state snapshot is capped at 900 KiB. */
#define RESPONSE_MAX_BYTES ((size_t)4 * 1024 * 1024)
#define BODY_MAX_BYTES     ((size_t)64 * 1024)

struct response {
    char *data;
    size_t len, cap;
    bool too_big;
};

struct reply {
    long status;
    struct response body;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct response *r = userdata;
    size_t n = size * nmemb;
    if (r->len + n > RESPONSE_MAX_BYTES) {
        r->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    if (r->len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 16384;
        while (cap < r->len + n + 1) {
            cap *= 2;
        }
        char *grown = realloc(r->data, cap);
        if (!grown) {
            return 0;
        }
        r->data = grown;
        r->cap = cap;
    }
    memcpy(r->data + r->len, ptr, n);
    r->len += n;
    r->data[r->len] = '\0';
    return n;
}

/* Read the token file: one line, surrounding whitespace dropped. */
static int read_token_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return CRESC_EIO;
    }
    size_t n = fread(out, 1, cap - 1, f);
    bool more = fgetc(f) != EOF;
    fclose(f);
    if (more) {
        return CRESC_ETOOBIG;
    }
    out[n] = '\0';
    while (n > 0 && isspace((unsigned char)out[n - 1])) {
        out[--n] = '\0';
    }
    size_t lead = strspn(out, " \t\r\n");
    memmove(out, out + lead, n - lead + 1);
    return 0;
}

static bool token_ok(const char *t)
{
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        if (*p < 0x21 || *p == 0x7f) {
            return false; /* no header injection, no spaces inside a bearer token */
        }
    }
    return true;
}

/* base + path + ?service=...; the base's trailing slashes are dropped. */
static int build_url(CURL *curl, const struct cresc_ctl_args *a, const char *path, char *url,
                     size_t cap)
{
    size_t blen = strlen(a->api_url);
    while (blen > 0 && a->api_url[blen - 1] == '/') {
        blen--;
    }
    int n;
    if (a->service[0] != '\0') {
        char *svc = curl_easy_escape(curl, a->service, 0);
        if (!svc) {
            return CRESC_ENOMEM;
        }
        n = snprintf(url, cap, "%.*s%s?service=%s", (int)blen, a->api_url, path, svc);
        curl_free(svc);
    } else {
        n = snprintf(url, cap, "%.*s%s", (int)blen, a->api_url, path);
    }
    return (n < 0 || (size_t)n >= cap) ? CRESC_ETOOBIG : 0;
}

/* One request. Returns CRESC_CTL_EXIT_OK when an HTTP answer (any status) was read, else
 * prints why and returns the exit code. */
static int do_request(const struct cresc_ctl_args *a, const char *method, const char *path,
                      const json_t *body, struct reply *rep)
{
    char url[CRESC_CTL_URL_MAX + 512];
    char auth[CRESC_CTL_TOKEN_MAX + 32];
    char errbuf[CURL_ERROR_SIZE] = "";
    char *payload = NULL;
    struct curl_slist *hdrs = NULL;
    int rc = CRESC_CTL_EXIT_CONNECT;
    CURL *curl = curl_easy_init();

    memset(rep, 0, sizeof *rep);
    if (!curl) {
        fprintf(stderr, "crescendoctl: cannot initialise libcurl\n");
        return CRESC_CTL_EXIT_CONNECT;
    }
    if (build_url(curl, a, path, url, sizeof url) != 0) {
        fprintf(stderr, "crescendoctl: API URL too long\n");
        rc = CRESC_CTL_EXIT_USAGE;
        goto out;
    }
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (a->token[0] != '\0') {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", a->token);
        hdrs = curl_slist_append(hdrs, auth);
    }
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        if (!payload || strlen(payload) > BODY_MAX_BYTES) {
            fprintf(stderr, "crescendoctl: request body too large\n");
            rc = CRESC_CTL_EXIT_USAGE;
            goto out;
        }
        hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
    }
    if (!hdrs) {
        fprintf(stderr, "crescendoctl: out of memory\n");
        goto out;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &rep->body);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)a->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "crescendoctl/" CRESC_VERSION);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif

    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        if (rep->body.too_big) {
            fprintf(stderr, "crescendoctl: the API's answer exceeds %zu bytes\n",
                    RESPONSE_MAX_BYTES);
            rc = CRESC_CTL_EXIT_API;
        } else {
            fprintf(stderr, "crescendoctl: cannot reach the API at %s: %s\n", url,
                    errbuf[0] ? errbuf : curl_easy_strerror(cc));
        }
        goto out;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &rep->status);
    rc = CRESC_CTL_EXIT_OK;
out:
    free(payload);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(curl);
    return rc;
}

static void print_json(const json_t *j)
{
    char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        printf("%s\n", s);
        free(s);
    }
}

static void render_ok(const struct cresc_ctl_args *a, const struct reply *rep, const json_t *j)
{
    char buf[CRESC_CTL_CELL_MAX];
    if (rep->status == 202) {
        printf("accepted, not applied yet: request %s is still waiting for the coordinator\n",
               cresc_ctl_format_value(cresc_ctl_lookup(j, "request_id"), buf, sizeof buf));
        return;
    }
    switch (a->cmd) {
    case CRESC_CTL_CMD_STATUS:
        cresc_ctl_format_status(j, stdout);
        break;
    case CRESC_CTL_CMD_DECISION:
        cresc_ctl_format_decision(j, stdout);
        break;
    case CRESC_CTL_CMD_CONFIG_GET:
        cresc_ctl_format_config(j, stdout);
        break;
    case CRESC_CTL_CMD_CONFIG_SET:
        printf("config applied\n\n");
        cresc_ctl_format_config(j, stdout);
        break;
    case CRESC_CTL_CMD_PRIO_LIST:
        cresc_ctl_format_priorities(j, stdout);
        break;
    case CRESC_CTL_CMD_PRIO_SET:
        printf("priority of %s applied\n\n", a->match_id);
        if (json_is_array(j) || cresc_ctl_lookup(j, "priorities")) {
            cresc_ctl_format_priorities(j, stdout);
        } else if (cresc_ctl_lookup(j, "match_id")) {
            /* The one priority the API answers with, as a one-row list. */
            json_t *one = json_pack("{s:[O]}", "priorities", j);
            cresc_ctl_format_priorities(one, stdout);
            json_decref(one);
        } else if (j) {
            cresc_ctl_format_flat(j, stdout);
        }
        break;
    case CRESC_CTL_CMD_PRIO_DELETE:
        printf("priority of %s deleted\n", a->match_id);
        break;
    case CRESC_CTL_CMD_SCALE:
        printf("scale to %d instances applied\n", (int)a->target_instances);
        if (cresc_ctl_lookup(j, "current_instances")) {
            printf("\n");
            cresc_ctl_format_status(j, stdout); /* the API answers with the new status */
        } else if (j) {
            printf("\n");
            cresc_ctl_format_flat(j, stdout);
        }
        break;
    case CRESC_CTL_CMD_HELP:
    case CRESC_CTL_CMD_VERSION:
        break;
    }
}

static int build_request(const struct cresc_ctl_args *a, const char **method, char *path,
                         size_t cap, json_t **body)
{
    char err[512];
    *body = NULL;
    *method = "GET";
    switch (a->cmd) {
    case CRESC_CTL_CMD_STATUS:
        snprintf(path, cap, "/scaling/status");
        return 0;
    case CRESC_CTL_CMD_DECISION:
        snprintf(path, cap, "/scaling/decision");
        return 0;
    case CRESC_CTL_CMD_CONFIG_GET:
        snprintf(path, cap, "/scaling/config");
        return 0;
    case CRESC_CTL_CMD_PRIO_LIST:
        snprintf(path, cap, "/scaling/priorities");
        return 0;
    case CRESC_CTL_CMD_SCALE:
        *method = "POST";
        snprintf(path, cap, "/scaling/scale");
        *body = json_pack("{s:i}", "target_instances", (int)a->target_instances);
        if (*body && a->reason[0] != '\0') {
            json_object_set_new(*body, "reason", json_string(a->reason));
        }
        return *body ? 0 : CRESC_ENOMEM;
    case CRESC_CTL_CMD_CONFIG_SET:
        *method = "PUT";
        snprintf(path, cap, "/scaling/config");
        if (cresc_ctl_kv_to_json(a->kv, a->n_kv, body, err, sizeof err) != 0) {
            fprintf(stderr, "crescendoctl: config set: %s\n", err);
            return CRESC_EINVAL;
        }
        return 0;
    case CRESC_CTL_CMD_PRIO_SET:
        *method = "POST";
        snprintf(path, cap, "/scaling/priorities");
        *body = json_pack("{s:s, s:i, s:f}", "match_id", a->match_id, "priority", (int)a->priority,
                          "resource_allocation", a->resource_allocation);
        return *body ? 0 : CRESC_ENOMEM;
    case CRESC_CTL_CMD_PRIO_DELETE: {
        *method = "DELETE";
        char *m = curl_easy_escape(NULL, a->match_id, 0);
        if (!m) {
            return CRESC_ENOMEM;
        }
        int n = snprintf(path, cap, "/scaling/priorities/%s", m);
        curl_free(m);
        return (n < 0 || (size_t)n >= cap) ? CRESC_ETOOBIG : 0;
    }
    case CRESC_CTL_CMD_HELP:
    case CRESC_CTL_CMD_VERSION:
        break;
    }
    return CRESC_EINVAL;
}

static int run(const struct cresc_ctl_args *a)
{
    char path[1024];
    const char *method = NULL;
    json_t *body = NULL, *j = NULL;
    struct reply rep;
    int rc;

    memset(&rep, 0, sizeof rep);
    if (build_request(a, &method, path, sizeof path, &body) != 0) {
        rc = CRESC_CTL_EXIT_USAGE;
        goto out;
    }
    rc = do_request(a, method, path, body, &rep);
    if (rc != CRESC_CTL_EXIT_OK) {
        goto out;
    }
    if (rep.body.len > 0) {
        json_error_t jerr;
        j = json_loadb(rep.body.data, rep.body.len, JSON_DECODE_ANY, &jerr);
    }
    if (rep.status < 200 || rep.status > 299) {
        if (a->output == CRESC_CTL_OUT_JSON && j) {
            print_json(j);
        }
        cresc_ctl_format_error(rep.status, rep.body.data, rep.body.len, stderr);
        rc = CRESC_CTL_EXIT_API;
        goto out;
    }
    if (rep.body.len > 0 && !j) {
        fprintf(stderr, "crescendoctl: HTTP %ld with a body that is not JSON\n", rep.status);
        rc = CRESC_CTL_EXIT_API;
        goto out;
    }
    if (a->output == CRESC_CTL_OUT_JSON) {
        if (j) {
            print_json(j);
        } else {
            printf("{}\n"); /* e.g. 204 No Content: still valid JSON for scripts */
        }
    } else {
        render_ok(a, &rep, j);
    }
out:
    json_decref(j);
    json_decref(body);
    free(rep.body.data);
    return rc;
}

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

int main(int argc, char **argv)
{
    struct cresc_ctl_args args;
    char err[512];
    int rc;

    if (cresc_ctl_args_parse(argc, argv, env_lookup, &args, err, sizeof err) != 0) {
        fprintf(stderr, "crescendoctl: %s\nTry `crescendoctl --help`.\n", err);
        return CRESC_CTL_EXIT_USAGE;
    }
    if (args.cmd == CRESC_CTL_CMD_HELP) {
        fputs(cresc_ctl_usage(), stdout);
        return CRESC_CTL_EXIT_OK;
    }
    if (args.cmd == CRESC_CTL_CMD_VERSION) {
        printf("crescendoctl %s (%s)\n", CRESC_VERSION, curl_version());
        return CRESC_CTL_EXIT_OK;
    }
    if (args.token[0] == '\0' && args.token_file[0] != '\0') {
        rc = read_token_file(args.token_file, args.token, sizeof args.token);
        if (rc != 0) {
            fprintf(stderr, "crescendoctl: cannot read the token file %s: %s\n", args.token_file,
                    cresc_strerror(rc));
            return CRESC_CTL_EXIT_USAGE;
        }
    }
    if (!token_ok(args.token)) {
        fprintf(stderr, "crescendoctl: the token contains spaces or control characters\n");
        return CRESC_CTL_EXIT_USAGE;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "crescendoctl: cannot initialise libcurl\n");
        return CRESC_CTL_EXIT_CONNECT;
    }
    rc = run(&args);
    curl_global_cleanup();
    return rc;
}
