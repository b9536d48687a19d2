#!/usr/bin/env bash
# Issue 2 round trip: every message kind encoded, produced to the real broker, consumed in a
# consumer group, decoded and compared field by field (tests/integration/it_roundtrip.c).
# Also checks topic creation is idempotent and scaling.state is compacted.
set -euo pipefail
: "${KAFKA_BROKERS:?}" "${CRESC_BUILD:?}"
bin=$CRESC_BUILD/tests/integration/it_roundtrip
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }
TOPIC_PREFIX="it_roundtrip_$$." exec "$bin"
