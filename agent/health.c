/* /healthz for the agent (see health.h). The handler compares the loop's last tick with the
 * monotonic clock; nothing else is shared with the loop thread. */
#include "health.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdbool.h>
#include <microhttpd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dynload.h"

#define MHD_SONAME "libmicrohttpd.so.12"

/* The libmicrohttpd calls we make, resolved at run time (see dynload.h). */
struct mhd_api {
    __typeof__(&MHD_start_daemon) start_daemon;
    __typeof__(&MHD_stop_daemon) stop_daemon;
    __typeof__(&MHD_create_response_from_buffer) create_response;
    __typeof__(&MHD_add_response_header) add_header;
    __typeof__(&MHD_queue_response) queue_response;
    __typeof__(&MHD_destroy_response) destroy_response;
};

struct cresc_health {
    struct mhd_api api;
    void *lib;
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

static enum MHD_Result reply(const struct mhd_api *api, struct MHD_Connection *conn,
                             unsigned status, const char *text)
{
    struct MHD_Response *r =
        api->create_response(strlen(text), (void *)(uintptr_t)text, MHD_RESPMEM_PERSISTENT);
    if (r == NULL) {
        return MHD_NO;
    }
    api->add_header(r, "Content-Type", "text/plain");
    enum MHD_Result rc = api->queue_response(conn, status, r);
    api->destroy_response(r);
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
        return reply(&h->api, conn, MHD_HTTP_BAD_REQUEST, "no body expected\n");
    }
    if (strcmp(url, "/healthz") != 0) {
        return reply(&h->api, conn, MHD_HTTP_NOT_FOUND, "not found\n");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        return reply(&h->api, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
    }
    int64_t age = cresc_health_now_ms() - atomic_load(&h->last_beat_ms);
    if (age > h->max_age_ms) {
        return reply(&h->api, conn, MHD_HTTP_SERVICE_UNAVAILABLE, "sampling loop stalled\n");
    }
    return reply(&h->api, conn, MHD_HTTP_OK, "ok\n");
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
    const struct cresc_dynsym syms[] = {
        CRESC_DYNSYM("MHD_start_daemon", h->api.start_daemon),
        CRESC_DYNSYM("MHD_stop_daemon", h->api.stop_daemon),
        CRESC_DYNSYM("MHD_create_response_from_buffer", h->api.create_response),
        CRESC_DYNSYM("MHD_add_response_header", h->api.add_header),
        CRESC_DYNSYM("MHD_queue_response", h->api.queue_response),
        CRESC_DYNSYM("MHD_destroy_response", h->api.destroy_response),
    };
    int rc =
        cresc_dynload_open(MHD_SONAME, syms, sizeof(syms) / sizeof(syms[0]), &h->lib, err, errlen);
    if (rc != CRESC_OK) {
        free(h);
        return rc;
    }
    /* One internal thread, small connection limit: a probe endpoint, not a web server. */
    h->mhd = h->api.start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, NULL, NULL, on_request, h,
        MHD_OPTION_CONNECTION_LIMIT, 8u, MHD_OPTION_CONNECTION_TIMEOUT, 5u,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_THREAD_STACK_SIZE,
        (size_t)(256 * 1024), MHD_OPTION_END);
    if (h->mhd == NULL) {
        snprintf(err, errlen, "cannot listen on port %u for /healthz: %s", (unsigned)port,
                 strerror(errno));
        cresc_dynload_close(h->lib);
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
    h->api.stop_daemon(h->mhd);
    cresc_dynload_close(h->lib);
    free(h);
}

int cresc_health_file_touch(const char *path)
{
    if (utimensat(AT_FDCWD, path, NULL, 0) == 0) {
        return CRESC_OK;
    }
    if (errno != ENOENT) {
        return CRESC_EIO;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return CRESC_EIO;
    }
    close(fd);
    return CRESC_OK;
}

int cresc_health_file_check(const char *path, int64_t max_age_ms, int64_t *age_ms)
{
    struct stat st;
    struct timespec now;
    if (stat(path, &st) != 0) {
        return CRESC_ENOTFOUND;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t age = ((int64_t)now.tv_sec - (int64_t)st.st_mtim.tv_sec) * 1000 +
                  (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
    *age_ms = age;
    return age <= max_age_ms ? CRESC_OK : CRESC_ETIMEDOUT;
}
