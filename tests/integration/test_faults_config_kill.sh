#!/usr/bin/env bash
# kill -9 the owning coordinator while PUT /scaling/config is in flight (3 rounds, on the
# broker in KAFKA_BROKERS): applied once or reported failed, never half applied; a retry with
# the same Idempotency-Key applies it exactly once (tests/faults/coordinator_kill_config.py).
set -uo pipefail
: "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}" "${KAFKA_BROKERS:?}"
export CRESC_BUILD KAFKA_BROKERS
out=$(python3 "$CRESC_SOURCE/tests/faults/coordinator_kill_config.py" --rounds 3 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: $(grep '"result"' <<<"$out")"; exit 1; }
