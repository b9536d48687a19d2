/* Bounded text scanning for the agent's parsers: lines over a length-delimited buffer and
 * strict unsigned numbers (no sign, no overflow, no locale). */
#include "textscan.h"

#include <string.h>

void cresc_textscan_init(struct cresc_textscan *ts, const char *buf, size_t len)
{
    ts->_p = buf;
    ts->_end = buf == NULL ? NULL : buf + len;
}

bool cresc_textscan_line(struct cresc_textscan *ts, const char **line, size_t *len)
{
    if (ts->_p == NULL || ts->_p >= ts->_end) {
        return false;
    }
    const char *nl = memchr(ts->_p, '\n', (size_t)(ts->_end - ts->_p));
    const char *stop = nl == NULL ? ts->_end : nl;
    *line = ts->_p;
    *len = (size_t)(stop - ts->_p);
    ts->_p = nl == NULL ? ts->_end : nl + 1;
    return true;
}

bool cresc_textscan_copy(const char *line, size_t len, char *dst, size_t cap)
{
    if (cap == 0 || len >= cap) {
        return false;
    }
    memcpy(dst, line, len);
    dst[len] = '\0';
    /* An embedded NUL would silently shorten the line: treat it as malformed. */
    return memchr(dst, '\0', len) == NULL;
}

bool cresc_textscan_u64(const char **s, uint64_t *out)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t') {
        p++;
    }
    if (*p < '0' || *p > '9') {
        return false;
    }
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        uint64_t d = (uint64_t)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
        p++;
    }
    *out = v;
    *s = p;
    return true;
}

const char *cresc_textscan_token(const char **s, size_t *len)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t' || *p == '\r') {
        p++;
    }
    if (*p == '\0') {
        *s = p;
        return NULL;
    }
    const char *start = p;
    while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r') {
        p++;
    }
    *len = (size_t)(p - start);
    *s = p;
    return start;
}
