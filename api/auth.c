/* Bearer tokens for crescendo-api's mutating endpoints. The comparison touches every byte of
 * the expected token whatever the input, so response time leaks nothing about the prefix a
 * caller got right; tokens are never copied into log lines or error messages. */
#include "auth.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_trimmed(const char *s, size_t len)
{
    while (len > 0 &&
           (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' || s[len - 1] == '\t')) {
        len--;
    }
    char *out = malloc(len + 1);
    if (out == NULL) {
        return NULL;
    }
    memcpy(out, s, len);
    out[len] = '\0';
    return out;
}

int cresc_auth_load_token(const char *token, const char *path, char **out, char *err, size_t errlen)
{
    int rc = CRESC_OK;
    FILE *f = NULL;
    char *buf = NULL;
    *out = NULL;
    if (token != NULL && token[0] != '\0') {
        if (strlen(token) > CRESC_AUTH_TOKEN_MAX) {
            snprintf(err, errlen, "API_TOKEN is longer than %d bytes", CRESC_AUTH_TOKEN_MAX);
            return CRESC_ETOOBIG;
        }
        *out = dup_trimmed(token, strlen(token));
        return *out ? CRESC_OK : CRESC_ENOMEM;
    }
    if (path == NULL || path[0] == '\0') {
        return CRESC_OK;
    }
    f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, errlen, "cannot read API_TOKEN_FILE %s: %s", path, strerror(errno));
        rc = CRESC_EIO;
        goto out;
    }
    buf = malloc(CRESC_AUTH_TOKEN_MAX + 2);
    if (buf == NULL) {
        rc = CRESC_ENOMEM;
        goto out;
    }
    size_t n = fread(buf, 1, CRESC_AUTH_TOKEN_MAX + 2, f);
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read API_TOKEN_FILE %s", path);
        rc = CRESC_EIO;
        goto out;
    }
    /* Only the first line counts, so a file ending in a newline works as expected. */
    char *nl = memchr(buf, '\n', n);
    if (nl != NULL) {
        n = (size_t)(nl - buf);
    } else if (n > CRESC_AUTH_TOKEN_MAX) {
        snprintf(err, errlen, "API_TOKEN_FILE %s holds more than %d bytes", path,
                 CRESC_AUTH_TOKEN_MAX);
        rc = CRESC_ETOOBIG;
        goto out;
    }
    *out = dup_trimmed(buf, n);
    if (*out == NULL) {
        rc = CRESC_ENOMEM;
        goto out;
    }
    if ((*out)[0] == '\0') {
        snprintf(err, errlen, "API_TOKEN_FILE %s is empty", path);
        free(*out);
        *out = NULL;
        rc = CRESC_EINVAL;
    }
out:
    if (buf != NULL) {
        /* The buffer held the secret: clear it before it goes back to the allocator. */
        memset(buf, 0, CRESC_AUTH_TOKEN_MAX + 2);
        free(buf);
    }
    if (f != NULL) {
        fclose(f);
    }
    return rc;
}

bool cresc_auth_bearer(const char *header, const char **tok, size_t *len)
{
    if (header == NULL) {
        return false;
    }
    while (*header == ' ' || *header == '\t') {
        header++;
    }
    if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\t')) {
        return false;
    }
    const char *p = header + 6;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    size_t n = strlen(p);
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) {
        n--;
    }
    if (n == 0) {
        return false;
    }
    *tok = p;
    *len = n;
    return true;
}

bool cresc_auth_token_equal(const char *given, size_t given_len, const char *expected,
                            size_t expected_len)
{
    /* volatile keeps the compiler from turning the loop into an early-exit memcmp. */
    volatile unsigned char diff = 0;
    size_t lens_differ = given_len ^ expected_len;
    for (size_t i = 0; i < expected_len; i++) {
        unsigned char g = i < given_len ? (unsigned char)given[i] : 0;
        diff = (unsigned char)(diff | (g ^ (unsigned char)expected[i]));
    }
    return expected_len > 0 && lens_differ == 0 && diff == 0;
}
