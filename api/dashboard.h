/* The operators' dashboard: one self-contained HTML page (inline CSS, vanilla JS, SVG charts
 * drawn by its own code; no external scripts or fonts), embedded into crescendo-api at build
 * time from api/dashboard.html (cmake/Embed.cmake) and served at GET /. It polls the
 * read endpoints under /scaling on the same origin. See docs/dashboard.md. */
#ifndef CRESC_API_DASHBOARD_H
#define CRESC_API_DASHBOARD_H

#include <stddef.h>

/* The page (UTF-8, text/html) and its length in bytes via *len (may be NULL). Static
 * storage, NUL-terminated, never NULL. */
const char *cresc_dashboard_html(size_t *len);

/* The embedded bytes, generated at build time (dashboard_html.c in the build dir); use
 * cresc_dashboard_html rather than these. */
extern const unsigned char cresc_dashboard_html_bytes[];
extern const size_t cresc_dashboard_html_size;

#endif
