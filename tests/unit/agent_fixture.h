/* Fixture loading for the agent's unit tests: reads tests/data/<rel> into a static buffer
 * (the parsers under test take buffers, never files). */
#ifndef CRESC_TEST_AGENT_FIXTURE_H
#define CRESC_TEST_AGENT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#define FIXTURE_MAX (64 * 1024)

/* Returns the contents of tests/data/<rel>; *len gets its length. Fails the test if missing. */
static inline const char *fixture(const char *rel, size_t *len)
{
    static char bufs[4][FIXTURE_MAX];
    static int next;
    char path[1024];
    char *buf = bufs[next++ % 4];
    snprintf(path, sizeof(path), "%s/tests/data/%s", CRESC_SOURCE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "missing fixture %s\n", path);
        abort();
    }
    *len = fread(buf, 1, FIXTURE_MAX - 1, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

#endif
