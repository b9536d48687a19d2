#!/usr/bin/env bash
# Restart crescendo-api twice under read and write load (on the broker in KAFKA_BROKERS):
# errors only during the restarts, the view rebuilt from the state topic
# (tests/faults/api_restart.py).
set -uo pipefail
: "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}" "${KAFKA_BROKERS:?}"
export CRESC_BUILD KAFKA_BROKERS
out=$(python3 "$CRESC_SOURCE/tests/faults/api_restart.py" --restarts 2 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: $(grep '"result"' <<<"$out")"; exit 1; }
