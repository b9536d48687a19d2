/* The route table of crescendo-api: one row per path template with the methods it answers.
 * Matching is a linear scan over a dozen rows (cheaper than anything cleverer at this size);
 * the only parameterised path is /scaling/priorities/{match_id}. */
#include "route.h"

#include <stdio.h>
#include <string.h>

#include "cresc/msg.h"

#define PRIORITY_PREFIX "/scaling/priorities/"

static const struct {
    enum cresc_route_id id;
    const char *path;
    unsigned methods;
} routes[] = {
    {CRESC_ROUTE_DASHBOARD, "/", CRESC_M_GET | CRESC_M_HEAD},
    {CRESC_ROUTE_HEALTHZ, "/healthz", CRESC_M_GET | CRESC_M_HEAD},
    {CRESC_ROUTE_READYZ, "/readyz", CRESC_M_GET | CRESC_M_HEAD},
    {CRESC_ROUTE_METRICS, "/metrics", CRESC_M_GET | CRESC_M_HEAD},
    {CRESC_ROUTE_OPENAPI, "/openapi.json", CRESC_M_GET | CRESC_M_HEAD},
    {CRESC_ROUTE_STATUS, "/scaling/status", CRESC_M_GET | CRESC_M_HEAD},
    {CRESC_ROUTE_DECISION, "/scaling/decision", CRESC_M_GET | CRESC_M_HEAD},
    {CRESC_ROUTE_SCALE, "/scaling/scale", CRESC_M_POST},
    {CRESC_ROUTE_CONFIG, "/scaling/config", CRESC_M_GET | CRESC_M_HEAD | CRESC_M_PUT},
    {CRESC_ROUTE_PRIORITIES, "/scaling/priorities", CRESC_M_GET | CRESC_M_HEAD | CRESC_M_POST},
    {CRESC_ROUTE_PRIORITY_ITEM, PRIORITY_PREFIX "{match_id}", CRESC_M_DELETE},
    {CRESC_ROUTE_UNMATCHED, "unmatched", 0},
};

unsigned cresc_route_method_bit(const char *method)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"GET", CRESC_M_GET},
                 {"HEAD", CRESC_M_HEAD},
                 {"POST", CRESC_M_POST},
                 {"PUT", CRESC_M_PUT},
                 {"DELETE", CRESC_M_DELETE}};
    if (method == NULL) {
        return CRESC_M_OTHER;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(method, names[i].name) == 0) {
            return names[i].bit;
        }
    }
    return CRESC_M_OTHER;
}

const char *cresc_route_template(enum cresc_route_id route)
{
    if ((unsigned)route >= CRESC_ROUTE_COUNT) {
        return "unmatched";
    }
    return routes[route].path;
}

unsigned cresc_route_methods(enum cresc_route_id route)
{
    if ((unsigned)route >= CRESC_ROUTE_COUNT) {
        return 0;
    }
    return routes[route].methods;
}

bool cresc_route_is_write(enum cresc_route_id route, unsigned method)
{
    (void)route;
    return (method & (CRESC_M_POST | CRESC_M_PUT | CRESC_M_DELETE)) != 0;
}

bool cresc_route_is_scaling_read(enum cresc_route_id route, unsigned method)
{
    if ((method & (CRESC_M_GET | CRESC_M_HEAD)) == 0) {
        return false;
    }
    switch (route) {
    case CRESC_ROUTE_STATUS:
    case CRESC_ROUTE_DECISION:
    case CRESC_ROUTE_CONFIG:
    case CRESC_ROUTE_PRIORITIES:
        return true;
    case CRESC_ROUTE_DASHBOARD:
    case CRESC_ROUTE_HEALTHZ:
    case CRESC_ROUTE_READYZ:
    case CRESC_ROUTE_METRICS:
    case CRESC_ROUTE_OPENAPI:
    case CRESC_ROUTE_SCALE:
    case CRESC_ROUTE_PRIORITY_ITEM:
    case CRESC_ROUTE_UNMATCHED:
    case CRESC_ROUTE_COUNT:
        return false;
    }
    return false;
}

void cresc_route_allow_text(unsigned methods, char *buf, size_t cap)
{
    static const struct {
        unsigned bit;
        const char *name;
    } order[] = {{CRESC_M_DELETE, "DELETE"},
                 {CRESC_M_GET, "GET"},
                 {CRESC_M_HEAD, "HEAD"},
                 {CRESC_M_POST, "POST"},
                 {CRESC_M_PUT, "PUT"}};
    size_t used = 0;
    if (cap == 0) {
        return;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if ((methods & order[i].bit) == 0) {
            continue;
        }
        int n = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", order[i].name);
        if (n < 0 || (size_t)n >= cap - used) {
            buf[used] = '\0'; /* keep whole method names only */
            return;
        }
        used += (size_t)n;
    }
}

enum cresc_route_result cresc_route_match(const char *method, const char *path,
                                          struct cresc_route_match *out)
{
    memset(out, 0, sizeof(*out));
    out->route = CRESC_ROUTE_UNMATCHED;
    out->method = cresc_route_method_bit(method);
    if (path == NULL) {
        return CRESC_ROUTE_NOT_FOUND;
    }
    enum cresc_route_id found = CRESC_ROUTE_UNMATCHED;
    for (size_t i = 0; i < CRESC_ROUTE_PRIORITY_ITEM; i++) {
        if (strcmp(path, routes[i].path) == 0) {
            found = routes[i].id;
            break;
        }
    }
    if (found == CRESC_ROUTE_UNMATCHED &&
        strncmp(path, PRIORITY_PREFIX, sizeof(PRIORITY_PREFIX) - 1) == 0) {
        const char *param = path + sizeof(PRIORITY_PREFIX) - 1;
        /* A further '/' or an empty id is another path, not a bad parameter. */
        if (param[0] != '\0' && strchr(param, '/') == NULL) {
            found = CRESC_ROUTE_PRIORITY_ITEM;
            size_t len = strlen(param);
            if (len <= CRESC_ID_MAX) {
                memcpy(out->param, param, len + 1);
                out->param_valid = cresc_id_valid(out->param);
            } else {
                memcpy(out->param, param, CRESC_ID_MAX);
                out->param[CRESC_ID_MAX] = '\0';
                out->param_valid = false;
            }
        }
    }
    if (found == CRESC_ROUTE_UNMATCHED) {
        return CRESC_ROUTE_NOT_FOUND;
    }
    out->route = found;
    if ((routes[found].methods & out->method) == 0) {
        cresc_route_allow_text(routes[found].methods, out->allow, sizeof(out->allow));
        return CRESC_ROUTE_BAD_METHOD;
    }
    return CRESC_ROUTE_FOUND;
}
