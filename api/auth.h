/* Bearer-token authentication of crescendo-api: loading the token (API_TOKEN or a token
 * file), parsing the Authorization header and comparing in constant time. Pure apart from
 * reading the token file; never logs a token. Used by the HTTP layer and its unit test. */
#ifndef CRESC_API_AUTH_H
#define CRESC_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "cresc/err.h"

#define CRESC_AUTH_TOKEN_MAX 4096 /* bytes; a longer token (or file) is refused */

/* The token to require: `token` if set (non-empty), else the first line of the file `path`
 * (trailing CR/LF and spaces stripped), else none (*out = NULL). *out is heap, the caller
 * frees it. CRESC_EIO (unreadable file), CRESC_ETOOBIG, CRESC_EINVAL (empty token file) with
 * a sentence in err that names the file but never the token. */
CRESC_WUR int cresc_auth_load_token(const char *token, const char *path, char **out, char *err,
                                    size_t errlen);

/* Find the credentials in an Authorization header value: "Bearer <token>" (scheme
 * case-insensitive, spaces around the token ignored). On success *tok points into `header`
 * and *len is its length; false when absent or another scheme. */
bool cresc_auth_bearer(const char *header, const char **tok, size_t *len);

/* Compare a presented token with the expected one in time that depends only on the expected
 * token's length, not on where they differ. */
bool cresc_auth_token_equal(const char *given, size_t given_len, const char *expected,
                            size_t expected_len);

#endif
