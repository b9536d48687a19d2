/* Benchmark helper for bench_ingest.sh: watch one counter on a daemon's Prometheus /metrics
 * until it reaches a target, and print when it first moved and when it got there.
 *
 * A shell loop (curl, awk and date per poll, 50 polls a second) spent a few hundred ms of CPU
 * during a two-second run on this 2-core machine, all of it taken from the daemon being
 * measured and none from kcat, which is timed without polling. This polls over one kept-alive
 * connection instead.
 *
 * Output (one line): FIRST_NS FIRST_VALUE DONE_NS DONE_VALUE, wall-clock nanoseconds as
 * `date +%s%N` prints them. Exit 0 when the target was reached, 1 on a timeout or bad use. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct body {
    char *data;
    size_t len, cap;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    const size_t add = size * n;
    if (b->len + add + 1 > b->cap) {
        size_t cap = (b->len + add + 1) * 2;
        char *d = realloc(b->data, cap);
        if (d == NULL) {
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, add);
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The value of the sample line "NAME VALUE" (no labels) in a /metrics body, or -1. */
static double metric_value(const char *text, const char *name)
{
    const size_t len = strlen(name);
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, name, len) == 0 && line[len] == ' ') {
            return strtod(line + len + 1, NULL);
        }
        line = strchr(line, '\n');
        line = line != NULL ? line + 1 : NULL;
    }
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_watch --port=PORT --metric=NAME --target=N [--interval-ms=10] "
               "[--timeout=600]\n"
               "Polls http://127.0.0.1:PORT/metrics over one connection until NAME >= N; prints\n"
               "FIRST_NS FIRST_VALUE DONE_NS DONE_VALUE (FIRST: the first poll with NAME > 0).\n");
}

int main(int argc, char **argv)
{
    long port = 0, interval_ms = 10, timeout_s = 600;
    double target = -1;
    const char *metric = NULL;
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},
        {"metric", required_argument, NULL, 'm'},
        {"target", required_argument, NULL, 't'},
        {"interval-ms", required_argument, NULL, 'i'},
        {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        switch (c) {
        case 'p':
            port = strtol(optarg, NULL, 10);
            break;
        case 'm':
            metric = optarg;
            break;
        case 't':
            target = strtod(optarg, NULL);
            break;
        case 'i':
            interval_ms = strtol(optarg, NULL, 10);
            break;
        case 'T':
            timeout_s = strtol(optarg, NULL, 10);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (port <= 0 || port > 65535 || metric == NULL || target < 0 || interval_ms < 1 ||
        timeout_s < 1) {
        usage(stderr);
        return 1;
    }
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%ld/metrics", port);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *h = curl_easy_init();
    struct body b = {0};
    if (h == NULL) {
        fprintf(stderr, "bench_watch: curl_easy_init failed\n");
        return 1;
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    const int64_t deadline = wall_ns() + (int64_t)timeout_s * 1000000000;
    int64_t first_ns = 0;
    double first = 0, v = 0;
    int rc = 1;
    for (;;) {
        b.len = 0;
        CURLcode cc = curl_easy_perform(h);
        const int64_t now = wall_ns();
        v = cc == CURLE_OK && b.data != NULL ? metric_value(b.data, metric) : -1;
        if (first_ns == 0 && v > 0) {
            first_ns = now;
            first = v;
        }
        if (v >= target) {
            printf("%lld %.0f %lld %.0f\n", (long long)first_ns, first, (long long)now, v);
            rc = 0;
            break;
        }
        if (now > deadline) {
            fprintf(stderr, "bench_watch: %s is %.0f after %ld s, not %.0f\n", metric, v, timeout_s,
                    target);
            break;
        }
        const struct timespec ts = {interval_ms / 1000, (interval_ms % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
    curl_easy_cleanup(h);
    curl_global_cleanup();
    free(b.data);
    return rc;
}
