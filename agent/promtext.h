/* The workload's request rate and connections, from a Prometheus text exposition endpoint:
 * a parser that sums the series of chosen metric names (pure, buffer in) and a libcurl
 * scraper that fetches the page with a timeout and a size cap. Used by source.c. */
#ifndef CRESC_AGENT_PROMTEXT_H
#define CRESC_AGENT_PROMTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "cresc/err.h"

#define CRESC_PROMTEXT_MAX_BYTES (1024 * 1024) /* largest page we parse or download */
#define CRESC_PROMTEXT_NAME_MAX  200           /* longest metric name we look for */

/* One metric to look for: every series with exactly this name (any labels) is summed, e.g.
 * http_requests_total{code="200"} and {code="500"}. NaN, infinite and negative values are
 * malformed (a request counter or connection gauge can be neither). */
struct cresc_promtext_query {
    const char *name; /* borrowed */
    double sum;       /* out */
    size_t n_series;  /* out: 0 means the metric is absent */
};

/* Parse an exposition page. Comment (# HELP, # TYPE) and blank lines are skipped, malformed
 * lines are skipped and counted in *n_malformed (may be NULL). CRESC_ETOOBIG past
 * CRESC_PROMTEXT_MAX_BYTES; otherwise 0, even when a metric is absent (n_series == 0). */
CRESC_WUR int cresc_promtext_parse(const char *buf, size_t len, struct cresc_promtext_query *q,
                                   size_t nq, size_t *n_malformed);

struct cresc_promtext_scraper;

/* A scraper for `url` (copied) reusing one connection; each fetch gives up after timeout_ms.
 * libcurl is loaded here, at run time (see dynload.h). CRESC_EINVAL on an empty URL,
 * CRESC_ENOTFOUND when libcurl cannot be loaded, CRESC_ENOMEM; err gets one sentence. Free
 * with cresc_promtext_scraper_free. */
CRESC_WUR int cresc_promtext_scraper_new(const char *url, long timeout_ms,
                                         struct cresc_promtext_scraper **out, char *err,
                                         size_t errlen);
void cresc_promtext_scraper_free(struct cresc_promtext_scraper *s);

/* Fetch the page. On success *body and *len point into the scraper's buffer (valid until the next
 * fetch or free). CRESC_EHTTP (transfer failed or status not 2xx), CRESC_ETOOBIG (page larger
 * than CRESC_PROMTEXT_MAX_BYTES); err gets one sentence. Blocks up to the timeout. */
CRESC_WUR int cresc_promtext_scrape(struct cresc_promtext_scraper *s, const char **body,
                                    size_t *len, char *err, size_t errlen);

#endif
