/* Applies control commands from scaling.control (sent by crescendo-api) to a service: partial
 * config update (validated, version bumped), manual scale (rejected outside [min, max], never
 * clamped), priority upsert/delete, pause/resume. Each request is acknowledged in the service
 * by request_id, applied or rejected with the reason; a request already acknowledged is not
 * applied again (redelivery after a failover). Used by the Kafka loop and its unit tests. */
#ifndef CRESC_COORD_CONTROL_H
#define CRESC_COORD_CONTROL_H

#include <stdbool.h>
#include <stdint.h>

#include "cresc/msg.h"
#include "service.h"

struct cresc_control_result {
    bool duplicate; /* request_id already acknowledged: nothing was done */
    enum cresc_ack_status status;
    char reason[CRESC_REASON_MAX]; /* rejected: why */
    bool has_command;              /* a manual scale changed the count */
    struct cresc_scale_command command;
};

/* Apply `c` (already decoded and addressed to `s`) at now_ms (engine clock) / wall_ms.
 * Returns 0 (see *out: applied, rejected or duplicate) or CRESC_ENOMEM. */
CRESC_WUR int cresc_control_apply(struct cresc_service *s, const struct cresc_control *c,
                                  int64_t now_ms, int64_t wall_ms,
                                  struct cresc_control_result *out);

#endif
