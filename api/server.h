/* crescendo-api's HTTP server (libmicrohttpd): the daemon's threads, connection limits and
 * timeouts, and the request handler that ties the router, authentication, the view (reads)
 * and the write path together. Builds on libmicrohttpd 0.9.75 and 1.0. */
#ifndef CRESC_API_SERVER_H
#define CRESC_API_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cresc/err.h"
#include "stats.h"
#include "view.h"
#include "writes.h"

struct cresc_server_opts {
    const char *bind;              /* IPv4 or IPv6 literal, e.g. "0.0.0.0", "::1" */
    int port;                      /* 0: any free port (see cresc_server_port) */
    unsigned threads;              /* thread pool size, >= 1 */
    unsigned max_connections;      /* concurrent connections */
    unsigned per_ip_connections;   /* 0: unlimited */
    unsigned conn_timeout_s;       /* idle connection timeout */
    size_t max_body_bytes;         /* request bodies above this get 413 */
    const char *token;             /* bearer token for writes (borrowed); NULL: writes refused */
    bool auth_reads;               /* the /scaling/ reads need the token too */
    const char *default_service;   /* ?service= default (borrowed) */
    struct cresc_view *view;       /* borrowed */
    struct cresc_writes *writes;   /* borrowed */
    struct cresc_api_stats *stats; /* borrowed */
};

struct cresc_server;

/* Bind and start serving. Borrowed pointers must outlive the server. CRESC_EIO/CRESC_EINVAL
 * with a sentence in err. */
CRESC_WUR int cresc_server_start(const struct cresc_server_opts *opts, struct cresc_server **out,
                                 char *err, size_t errlen);
/* The bound port (useful with port 0). */
int cresc_server_port(const struct cresc_server *s);
/* The view's cache_free hook: releases the prepared responses kept per snapshot. */
void cresc_server_cache_free(void *response);

/* Stop accepting, close every connection, free; NULL is a no-op. */
void cresc_server_stop(struct cresc_server *s);

#endif
