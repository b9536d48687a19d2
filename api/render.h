/* JSON documents of crescendo-api's reads, rendered from one decoded state snapshot of a
 * service (struct cresc_state): status, decision, config and priorities. Pure; the view
 * renders each snapshot once so requests only copy bytes. Every function returns a new
 * reference (NULL only when out of memory). */
#ifndef CRESC_API_RENDER_H
#define CRESC_API_RENDER_H

#include <jansson.h>

#include "cresc/msg.h"

json_t *cresc_render_status(const struct cresc_state *st);
json_t *cresc_render_decision(const struct cresc_state *st);
/* The config object exactly as PUT /scaling/config accepts it. */
json_t *cresc_render_config(const struct cresc_state *st);
json_t *cresc_render_priorities(const struct cresc_state *st);
json_t *cresc_render_priority(const struct cresc_priority *p);

/* Dump compactly into a heap string (caller frees); NULL when out of memory. */
char *cresc_render_dump(const json_t *doc, size_t *len);

#endif
