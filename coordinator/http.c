/* Health, readiness and metrics endpoints of crescendo-coordinator (http.h). Responses are
 * built from atomics the loop thread updates; nothing here touches the loop's state. */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cresc/msg.h"

#define METRICS_MAX 8192

struct cresc_coord_http {
    struct MHD_Daemon *d;
    const struct cresc_coord_stats *stats;
};

static size_t appendf(char *buf, size_t cap, size_t used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static size_t appendf(char *buf, size_t cap, size_t used, const char *fmt, ...)
{
    if (used >= cap) {
        return used;
    }
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, cap - used, fmt, ap);
    va_end(ap);
    if (n < 0) {
        return used;
    }
    size_t next = used + (size_t)n;
    return next < cap ? next : cap - 1;
}

static size_t counter(char *buf, size_t cap, size_t used, const char *name, const char *help,
                      uint64_t v)
{
    return appendf(buf, cap, used, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name,
                   name, (unsigned long long)v);
}

static size_t gauge(char *buf, size_t cap, size_t used, const char *name, const char *help,
                    double v)
{
    return appendf(buf, cap, used, "# HELP %s %s\n# TYPE %s gauge\n%s %.9g\n", name, help, name,
                   name, v);
}

size_t cresc_coord_metrics_format(const struct cresc_coord_stats *stats, char *buf, size_t cap)
{
    const struct cresc_coord_stats *s = stats;
    size_t u = 0;
    buf[0] = '\0';
    u = counter(buf, cap, u, "crescendo_coordinator_samples_consumed_total",
                "Samples consumed from the samples topic", atomic_load(&s->samples));
    u = counter(buf, cap, u, "crescendo_coordinator_samples_rejected_total",
                "Samples rejected: malformed, timestamp too far off, or over a bound",
                atomic_load(&s->rejected) + cresc_msg_rejected_count(CRESC_MSG_SAMPLE));
    u = counter(buf, cap, u, "crescendo_coordinator_samples_duplicate_total",
                "Duplicate or out-of-order samples ignored", atomic_load(&s->duplicates));
    u = appendf(buf, cap, u,
                "# HELP crescendo_coordinator_control_total Control commands by outcome\n"
                "# TYPE crescendo_coordinator_control_total counter\n"
                "crescendo_coordinator_control_total{status=\"applied\"} %llu\n"
                "crescendo_coordinator_control_total{status=\"rejected\"} %llu\n"
                "crescendo_coordinator_control_total{status=\"malformed\"} %llu\n",
                (unsigned long long)atomic_load(&s->controls_applied),
                (unsigned long long)atomic_load(&s->controls_rejected),
                (unsigned long long)cresc_msg_rejected_count(CRESC_MSG_CONTROL));
    u = counter(buf, cap, u, "crescendo_coordinator_decisions_total", "Decisions published",
                atomic_load(&s->decisions));
    u = counter(buf, cap, u, "crescendo_coordinator_commands_total", "Scale commands published",
                atomic_load(&s->commands));
    u = appendf(buf, cap, u,
                "# HELP crescendo_coordinator_transactions_total Kafka transactions by outcome\n"
                "# TYPE crescendo_coordinator_transactions_total counter\n"
                "crescendo_coordinator_transactions_total{outcome=\"committed\"} %llu\n"
                "crescendo_coordinator_transactions_total{outcome=\"aborted\"} %llu\n",
                (unsigned long long)atomic_load(&s->txn_committed),
                (unsigned long long)atomic_load(&s->txn_aborted));
    u = counter(buf, cap, u, "crescendo_coordinator_state_malformed_total",
                "Snapshots that failed to decode while rebuilding (the service starts afresh)",
                cresc_msg_rejected_count(CRESC_MSG_STATE));
    u = counter(buf, cap, u, "crescendo_coordinator_state_rebuilds_total",
                "State partitions read back on assignment", atomic_load(&s->rebuilds));
    u = counter(buf, cap, u, "crescendo_coordinator_resets_total",
                "In-memory state dropped and rebuilt after a failed or fenced transaction",
                atomic_load(&s->resets));
    u = counter(buf, cap, u, "crescendo_coordinator_fetch_wakeups_total",
                "Times a drained consumer queue with a backlog behind it woke the fetchers",
                atomic_load(&s->fetch_wakeups));
    uint64_t n = atomic_load(&s->eval_count);
    uint64_t ns = atomic_load(&s->eval_ns_total);
    u = appendf(buf, cap, u,
                "# HELP crescendo_coordinator_evaluation_seconds Time of one service evaluation\n"
                "# TYPE crescendo_coordinator_evaluation_seconds summary\n"
                "crescendo_coordinator_evaluation_seconds_sum %.9f\n"
                "crescendo_coordinator_evaluation_seconds_count %llu\n",
                (double)ns / 1e9, (unsigned long long)n);
    u = gauge(buf, cap, u, "crescendo_coordinator_evaluation_seconds_max",
              "Slowest service evaluation since start", (double)atomic_load(&s->eval_ns_max) / 1e9);
    u = appendf(buf, cap, u,
                "# HELP crescendo_coordinator_commit_seconds Time to commit one transaction "
                "(offsets and EndTxn)\n"
                "# TYPE crescendo_coordinator_commit_seconds summary\n"
                "crescendo_coordinator_commit_seconds_sum %.9f\n"
                "crescendo_coordinator_commit_seconds_count %llu\n",
                (double)atomic_load(&s->commit_ns_total) / 1e9,
                (unsigned long long)atomic_load(&s->txn_committed));
    u = gauge(buf, cap, u, "crescendo_coordinator_commit_seconds_max",
              "Slowest transaction commit since start",
              (double)atomic_load(&s->commit_ns_max) / 1e9);
    u = gauge(buf, cap, u, "crescendo_coordinator_tick_seconds_max",
              "Longest tick (evaluate every service, publish, start the commit) since start",
              (double)atomic_load(&s->tick_ns_max) / 1e9);
    u = gauge(buf, cap, u, "crescendo_coordinator_consumer_lag",
              "Messages of owned samples/control partitions not yet consumed",
              (double)atomic_load(&s->consumer_lag));
    u = gauge(buf, cap, u, "crescendo_coordinator_services", "Services owned",
              (double)atomic_load(&s->services));
    u = gauge(buf, cap, u, "crescendo_coordinator_partitions", "Samples partitions owned",
              (double)atomic_load(&s->partitions));
    u = gauge(buf, cap, u, "crescendo_coordinator_ready", "1 once owned state is rebuilt",
              atomic_load(&s->ready) ? 1.0 : 0.0);
    return u;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *type,
                             const char *body, size_t len)
{
    /* MUST_COPY: libmicrohttpd copies the body, its `void *` is never written through. */
    const union {
        const char *c;
        void *m;
    } b = {.c = body};
    struct MHD_Response *r = MHD_create_response_from_buffer(len, b.m, MHD_RESPMEM_MUST_COPY);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct cresc_coord_http *h = cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;
    if (*upload_size != 0) {
        *upload_size = 0; /* bodies are ignored */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char m[] = "method not allowed\n";
        return reply(conn, 405, "text/plain", m, sizeof(m) - 1);
    }
    if (strcmp(url, "/healthz") == 0) {
        return reply(conn, 200, "text/plain", "ok\n", 3);
    }
    if (strcmp(url, "/readyz") == 0) {
        if (atomic_load(&h->stats->ready)) {
            return reply(conn, 200, "text/plain", "ready\n", 6);
        }
        static const char nr[] = "not ready: state not rebuilt yet\n";
        return reply(conn, 503, "text/plain", nr, sizeof(nr) - 1);
    }
    if (strcmp(url, "/metrics") == 0) {
        char *buf = malloc(METRICS_MAX);
        if (buf == NULL) {
            return MHD_NO;
        }
        size_t len = cresc_coord_metrics_format(h->stats, buf, METRICS_MAX);
        enum MHD_Result r = reply(conn, 200, "text/plain; version=0.0.4", buf, len);
        free(buf);
        return r;
    }
    static const char nf[] = "not found\n";
    return reply(conn, 404, "text/plain", nf, sizeof(nf) - 1);
}

int cresc_coord_http_start(const char *addr, int port, const struct cresc_coord_stats *stats,
                           struct cresc_coord_http **out)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        return CRESC_EINVAL;
    }
    struct cresc_coord_http *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return CRESC_ENOMEM;
    }
    h->stats = stats;
    h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port,
                            NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, &sa,
                            MHD_OPTION_CONNECTION_LIMIT, 64U, MHD_OPTION_CONNECTION_TIMEOUT, 10U,
                            MHD_OPTION_END);
    if (h->d == NULL) {
        free(h);
        return CRESC_EIO;
    }
    *out = h;
    return 0;
}

void cresc_coord_http_stop(struct cresc_coord_http *h)
{
    if (h == NULL) {
        return;
    }
    MHD_stop_daemon(h->d);
    free(h);
}
