#!/usr/bin/env bash
# crescendo-api's write path against a real broker (tests/integration/it_api_writes.c):
# delivery without acknowledgement, acknowledgement through the view hook, idempotent retry
# answered from the view, and replacement of the producer after a fatal error.
set -euo pipefail
: "${KAFKA_BROKERS:?}" "${CRESC_BUILD:?}"
bin=$CRESC_BUILD/tests/integration/it_api_writes
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }
TOPIC_PREFIX="it_api_writes_$$." exec "$bin"
