#!/usr/bin/env bash
# Short soak for CI (the full one: tests/bench/soak.sh, 10,000 instances for 10 minutes;
# docs/reliability.md): 1,000 simulated instances at 1 s for 90 s on the broker in
# KAFKA_BROKERS; coordinator and API RSS growth under 5% after the 45 s warm-up, consumer lag
# under 3 s of samples, no failed API read.
# integration: exclusive (it measures RSS and consumer lag: another test on the same cores would skew both)
set -uo pipefail
: "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}" "${KAFKA_BROKERS:?}"
export CRESC_BUILD KAFKA_BROKERS
out=$("$CRESC_SOURCE/tests/bench/soak.sh" -n "${SOAK_INSTANCES:-1000}" -d "${SOAK_SECONDS:-90}" \
    -b "$CRESC_BUILD" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || { echo "FAIL: $(grep -E '^FAIL' <<<"$out" | head -3 | tr '\n' ' ')"; exit 1; }
