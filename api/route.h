/* The API's route table and request router: maps (method, path) to a route, its path
 * parameter and, when the path exists but the method does not, the Allow header. Pure (no
 * I/O): used by the HTTP layer, the metrics labels and the OpenAPI consistency test. */
#ifndef CRESC_API_ROUTE_H
#define CRESC_API_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "cresc/err.h"
#include "cresc/limits.h"

enum cresc_route_id {
    CRESC_ROUTE_DASHBOARD = 0, /* GET / */
    CRESC_ROUTE_HEALTHZ,       /* GET /healthz */
    CRESC_ROUTE_READYZ,        /* GET /readyz */
    CRESC_ROUTE_METRICS,       /* GET /metrics */
    CRESC_ROUTE_OPENAPI,       /* GET /openapi.json */
    CRESC_ROUTE_STATUS,        /* GET /scaling/status */
    CRESC_ROUTE_DECISION,      /* GET /scaling/decision */
    CRESC_ROUTE_SCALE,         /* POST /scaling/scale */
    CRESC_ROUTE_CONFIG,        /* GET, PUT /scaling/config */
    CRESC_ROUTE_PRIORITIES,    /* GET, POST /scaling/priorities */
    CRESC_ROUTE_PRIORITY_ITEM, /* DELETE /scaling/priorities/{match_id} */
    CRESC_ROUTE_UNMATCHED,     /* no such path (metrics label "unmatched") */
    CRESC_ROUTE_COUNT,
};

/* HTTP methods the router knows, as bits (HEAD is served wherever GET is). */
#define CRESC_M_GET    0x01u
#define CRESC_M_HEAD   0x02u
#define CRESC_M_POST   0x04u
#define CRESC_M_PUT    0x08u
#define CRESC_M_DELETE 0x10u
#define CRESC_M_OTHER  0x80u /* any other method: never allowed */

enum cresc_route_result {
    CRESC_ROUTE_FOUND = 0,
    CRESC_ROUTE_NOT_FOUND = 404,
    CRESC_ROUTE_BAD_METHOD = 405,
};

struct cresc_route_match {
    enum cresc_route_id route;    /* CRESC_ROUTE_UNMATCHED when not found */
    unsigned method;              /* CRESC_M_* of the request */
    char param[CRESC_ID_MAX + 1]; /* {match_id}; "" if the route has none */
    bool param_valid;             /* param satisfies the identifier rule */
    char allow[64];               /* 405: the Allow header value, e.g. "GET, HEAD, PUT" */
};

/* Route one request. `method` and `path` are borrowed (the path without the query string,
 * already percent-decoded). A path parameter longer than CRESC_ID_MAX or not an identifier
 * still routes, with param_valid false (the handler answers 400 naming the field). */
enum cresc_route_result cresc_route_match(const char *method, const char *path,
                                          struct cresc_route_match *out);

/* Method bit for a method name (CRESC_M_OTHER if unknown). */
unsigned cresc_route_method_bit(const char *method);

/* The route's path template ("/scaling/priorities/{match_id}", "unmatched"); static. */
const char *cresc_route_template(enum cresc_route_id route);
/* Methods a route answers (CRESC_M_* bits, HEAD included where GET is). */
unsigned cresc_route_methods(enum cresc_route_id route);
/* True for routes that change state (need the write token). */
bool cresc_route_is_write(enum cresc_route_id route, unsigned method);
/* True for the /scaling/ reads that API_AUTH_READS protects. */
bool cresc_route_is_scaling_read(enum cresc_route_id route, unsigned method);
/* Write "GET, HEAD, PUT" style text for a method mask into buf (always NUL-terminated). */
void cresc_route_allow_text(unsigned methods, char *buf, size_t cap);

#endif
