#!/usr/bin/env bash
# Short fault test for CI (the full ones: tests/faults/, docs/reliability.md): a three-node
# Kafka cluster of its own (scripts/kafka.sh start3), 20 simulated instances, two coordinators
# and two APIs; kill -9 the broker leading <prefix>state partition 0 for 10 s. Afterwards every
# sample is accounted for, no decision or command is lost or duplicated and both API views
# agree (tests/faults/broker_faults.py --short).
set -uo pipefail
: "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
export CRESC_BUILD CRESC_KAFKA_SH=${CRESC_KAFKA_SH:-$CRESC_SOURCE/scripts/kafka.sh}
out=$(python3 "$CRESC_SOURCE/tests/faults/broker_faults.py" --short 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: $(grep '"result"' <<<"$out")"; exit 1; }
