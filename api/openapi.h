/* The OpenAPI 3 document of crescendo-api (api/openapi.json), built into the binary at
 * build time (CMake generates the definition); served at GET /openapi.json. */
#ifndef CRESC_API_OPENAPI_H
#define CRESC_API_OPENAPI_H

#include <stddef.h>

/* The document (static, NUL-terminated); *len gets its length. */
const char *cresc_openapi_json(size_t *len);

#endif
