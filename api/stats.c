/* /metrics for crescendo-api. Status codes map onto a small fixed set of columns (anything
 * else is counted as its class, "2xx".."5xx") so the counter matrix is static and bounded. */
#include "stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const unsigned codes[CRESC_STATS_CODES] = {200, 202, 400, 401, 404, 405, 413,
                                                  415, 422, 500, 503, 2,   4,   5};
static const double bounds_s[CRESC_STATS_BUCKETS] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                     0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                     1.0,    2.5,     5.0,    10.0};
static const char *const outcome_names[5] = {"pending", "applied", "rejected", "timeout",
                                             "unavailable"};

void cresc_stats_init(struct cresc_api_stats *s)
{
    memset(s, 0, sizeof(*s));
}

static size_t code_index(unsigned status)
{
    for (size_t i = 0; i < 11; i++) {
        if (codes[i] == status) {
            return i;
        }
    }
    if (status >= 500) {
        return 13;
    }
    if (status >= 400) {
        return 12;
    }
    return 11;
}

void cresc_stats_observe(struct cresc_api_stats *s, enum cresc_route_id route, unsigned status,
                         int64_t latency_ns)
{
    if ((unsigned)route >= CRESC_ROUTE_COUNT) {
        route = CRESC_ROUTE_UNMATCHED;
    }
    if (latency_ns < 0) {
        latency_ns = 0;
    }
    atomic_fetch_add_explicit(&s->_requests[route][code_index(status)], 1, memory_order_relaxed);
    double sec = (double)latency_ns / 1e9;
    /* Non-cumulative buckets here; the exposition sums them. */
    size_t b = 0;
    while (b < CRESC_STATS_BUCKETS && sec > bounds_s[b]) {
        b++;
    }
    if (b < CRESC_STATS_BUCKETS) {
        atomic_fetch_add_explicit(&s->_buckets[route][b], 1, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&s->_count[route], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->_sum_ns[route], (uint64_t)latency_ns, memory_order_relaxed);
}

uint64_t cresc_stats_requests(const struct cresc_api_stats *s, enum cresc_route_id route,
                              unsigned status)
{
    struct cresc_api_stats *m = (struct cresc_api_stats *)(uintptr_t)s;
    if ((unsigned)route >= CRESC_ROUTE_COUNT) {
        return 0;
    }
    return atomic_load(&m->_requests[route][code_index(status)]);
}

char *cresc_stats_render(const struct cresc_api_stats *s, const struct cresc_stats_extra *x,
                         size_t *len)
{
    struct cresc_api_stats *m = (struct cresc_api_stats *)(uintptr_t)s;
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (f == NULL) {
        return NULL;
    }
    fputs("# HELP crescendo_api_requests_total HTTP requests answered, by route and status.\n"
          "# TYPE crescendo_api_requests_total counter\n",
          f);
    for (int r = 0; r < CRESC_ROUTE_COUNT; r++) {
        for (size_t c = 0; c < CRESC_STATS_CODES; c++) {
            uint64_t n = atomic_load(&m->_requests[r][c]);
            if (n == 0) {
                continue;
            }
            char code[8];
            if (c >= 11) {
                snprintf(code, sizeof(code), "%uxx", codes[c]);
            } else {
                snprintf(code, sizeof(code), "%u", codes[c]);
            }
            fprintf(f, "crescendo_api_requests_total{route=\"%s\",code=\"%s\"} %" PRIu64 "\n",
                    cresc_route_template((enum cresc_route_id)r), code, n);
        }
    }
    fputs("# HELP crescendo_api_request_duration_seconds Time from request headers to the "
          "queued response.\n"
          "# TYPE crescendo_api_request_duration_seconds histogram\n",
          f);
    for (int r = 0; r < CRESC_ROUTE_COUNT; r++) {
        uint64_t count = atomic_load(&m->_count[r]);
        if (count == 0) {
            continue;
        }
        const char *route = cresc_route_template((enum cresc_route_id)r);
        uint64_t cum = 0;
        for (size_t b = 0; b < CRESC_STATS_BUCKETS; b++) {
            cum += atomic_load(&m->_buckets[r][b]);
            fprintf(f,
                    "crescendo_api_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} "
                    "%" PRIu64 "\n",
                    route, bounds_s[b], cum);
        }
        fprintf(f,
                "crescendo_api_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} "
                "%" PRIu64 "\n",
                route, count);
        fprintf(f, "crescendo_api_request_duration_seconds_sum{route=\"%s\"} %.9f\n", route,
                (double)atomic_load(&m->_sum_ns[r]) / 1e9);
        fprintf(f, "crescendo_api_request_duration_seconds_count{route=\"%s\"} %" PRIu64 "\n",
                route, count);
    }
    fprintf(f,
            "# HELP crescendo_api_view_ready 1 once the view caught up with the state topic.\n"
            "# TYPE crescendo_api_view_ready gauge\n"
            "crescendo_api_view_ready %d\n"
            "# HELP crescendo_api_view_lag_messages State records not yet read by the view "
            "(-1 unknown).\n"
            "# TYPE crescendo_api_view_lag_messages gauge\n"
            "crescendo_api_view_lag_messages %" PRId64 "\n"
            "# HELP crescendo_api_view_services Services in the view.\n"
            "# TYPE crescendo_api_view_services gauge\n"
            "crescendo_api_view_services %zu\n"
            "# HELP crescendo_api_view_records_total State records consumed.\n"
            "# TYPE crescendo_api_view_records_total counter\n"
            "crescendo_api_view_records_total %" PRIu64 "\n"
            "# HELP crescendo_api_view_rejected_total State records that failed to decode.\n"
            "# TYPE crescendo_api_view_rejected_total counter\n"
            "crescendo_api_view_rejected_total %" PRIu64 "\n",
            x->ready, x->view_lag, x->view_services, x->view_records, x->view_rejected);
    fputs("# HELP crescendo_api_writes_total Writes by outcome.\n"
          "# TYPE crescendo_api_writes_total counter\n",
          f);
    for (size_t i = 1; i < 5; i++) {
        fprintf(f, "crescendo_api_writes_total{outcome=\"%s\"} %" PRIu64 "\n", outcome_names[i],
                x->writes[i]);
    }
    fprintf(f,
            "# HELP crescendo_api_writes_pending Writes waiting for an acknowledgement.\n"
            "# TYPE crescendo_api_writes_pending gauge\n"
            "crescendo_api_writes_pending %d\n",
            x->writes_pending);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    if (len != NULL) {
        *len = size;
    }
    return buf;
}
