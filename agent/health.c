/* /healthz for the agent (see health.h). The handler compares the loop's last tick with the
 * monotonic clock; nothing else is shared with the loop thread. */
#include "health.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct cresc_health {
    struct MHD_Daemon *mhd;
    _Atomic int64_t last_beat_ms;
    int64_t max_age_ms;
};

int64_t cresc_health_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)(uintptr_t)text,
                                                             MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    struct cresc_health *h = cls;
    (void)version;
    (void)upload;
    (void)req_cls;
    if (*upload_size != 0) {
        return reply(conn, MHD_HTTP_BAD_REQUEST, "no body expected\n");
    }
    if (strcmp(url, "/healthz") != 0) {
        return reply(conn, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
    }
    int64_t age = cresc_health_now_ms() - atomic_load(&h->last_beat_ms);
    if (age > h->max_age_ms) {
        return reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "sampling loop stalled\n");
    }
    return reply(conn, MHD_HTTP_OK, "ok\n");
}

int cresc_health_start(uint16_t port, int64_t max_age_ms, struct cresc_health **out, char *err,
                       size_t errlen)
{
    *out = NULL;
    struct cresc_health *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        return CRESC_ENOMEM;
    }
    h->max_age_ms = max_age_ms;
    atomic_store(&h->last_beat_ms, cresc_health_now_ms());
    /* One internal thread, small connection limit: a probe endpoint, not a web server. */
    h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, NULL, NULL,
                              on_request, h, MHD_OPTION_CONNECTION_LIMIT, 8u,
                              MHD_OPTION_CONNECTION_TIMEOUT, 5u, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                              (size_t)16384, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
                              MHD_OPTION_END);
    if (h->mhd == NULL) {
        snprintf(err, errlen, "cannot listen on port %u for /healthz: %s", (unsigned)port,
                 strerror(errno));
        free(h);
        return CRESC_EIO;
    }
    *out = h;
    return CRESC_OK;
}

void cresc_health_beat(struct cresc_health *h, int64_t mono_ms)
{
    if (h != NULL) {
        atomic_store(&h->last_beat_ms, mono_ms);
    }
}

void cresc_health_stop(struct cresc_health *h)
{
    if (h == NULL) {
        return;
    }
    MHD_stop_daemon(h->mhd);
    free(h);
}
