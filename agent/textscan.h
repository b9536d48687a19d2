/* Bounded text scanning shared by the agent's parsers (/proc, cgroup, Prometheus text):
 * line iteration over a buffer that need not be NUL-terminated, and strict number parsing.
 * Pure functions; no allocation. */
#ifndef CRESC_AGENT_TEXTSCAN_H
#define CRESC_AGENT_TEXTSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A cursor over buf[0..len). */
struct cresc_textscan {
    const char *_p;
    const char *_end;
};

void cresc_textscan_init(struct cresc_textscan *ts, const char *buf, size_t len);
/* Next line (without its '\n'); false at the end. *line points into the buffer. */
bool cresc_textscan_line(struct cresc_textscan *ts, const char **line, size_t *len);

/* Copy a line into dst (NUL-terminated) when it fits in cap - 1 bytes; false otherwise. */
bool cresc_textscan_copy(const char *line, size_t len, char *dst, size_t cap);

/* Parse a decimal unsigned 64-bit number at *s (leading blanks skipped); on success advance *s
 * past it. False on no digits or overflow. */
bool cresc_textscan_u64(const char **s, uint64_t *out);

/* Next whitespace-separated token of a NUL-terminated string: returns its start and length,
 * advancing *s; NULL at the end. */
const char *cresc_textscan_token(const char **s, size_t *len);

#endif
