/* Benchmark helper for bench_ingest.sh: watch one counter on a daemon's Prometheus /metrics
 * until it reaches a target, and print when it first moved and when it got there.
 *
 * A shell loop (curl, awk and date per poll, 50 polls a second) spent about half of one of this
 * machine's two CPUs, all of it taken from the daemon being measured and none from kcat, which
 * is timed without polling. This polls over one kept-alive connection (the agent's Prometheus
 * scraper and parser, agent/promtext.h) and costs ~5% of a CPU at 10 ms.
 *
 * Output (one line): FIRST_NS FIRST_VALUE DONE_NS DONE_VALUE, wall-clock nanoseconds as
 * `date +%s%N` prints them. Exit 0 when the target was reached, 1 on a timeout or bad use. */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "promtext.h"

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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
    char url[64], err[256];
    snprintf(url, sizeof(url), "http://127.0.0.1:%ld/metrics", port);
    /* the agent's scraper: one kept-alive connection, and its parser of the text format */
    struct cresc_promtext_scraper *sc = NULL;
    if (cresc_promtext_scraper_new(url, 2000, &sc, err, sizeof(err)) != 0) {
        fprintf(stderr, "bench_watch: %s\n", err);
        return 1;
    }
    const int64_t deadline = wall_ns() + (int64_t)timeout_s * 1000000000;
    int64_t first_ns = 0;
    double first = 0, v = -1;
    int rc = 1;
    for (;;) {
        const char *body = NULL;
        size_t len = 0;
        struct cresc_promtext_query q = {.name = metric};
        const bool got = cresc_promtext_scrape(sc, &body, &len, err, sizeof(err)) == 0 &&
                         cresc_promtext_parse(body, len, &q, 1, NULL) == 0 && q.n_series > 0;
        const int64_t now = wall_ns();
        v = got ? q.sum : -1;
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
    cresc_promtext_scraper_free(sc);
    return rc;
}
