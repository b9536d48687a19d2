#!/usr/bin/env bash
# Smoke run of the benchmarks (tests/bench/) at a small size, so they keep working: the ingest
# benchmark with 20,000 samples must see the coordinator consume all of them with nothing
# rejected, and the reaction benchmark must get a scale command for each of 10 trials. The
# figures are printed, not judged (the machine running the suite is shared).
set -euo pipefail
: "${KAFKA_BROKERS:?}" "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
for b in bench_fill bench_watch bench_reaction; do
    [ -x "$CRESC_BUILD/tests/bench/$b" ] || { echo "FAIL: $CRESC_BUILD/tests/bench/$b not built"; exit 1; }
done
out=$(SAMPLES=20000 INSTANCES=1000 SERVICES=20 ROUNDS=2 bash "$CRESC_SOURCE/tests/bench/bench_ingest.sh" \
    -b "$CRESC_BUILD" 2>&1) || { echo "$out" | tail -5; echo "FAIL: bench_ingest.sh failed"; exit 1; }
echo "$out"
echo "$out" | grep -q "^ratio coordinator/kcat:" || { echo "FAIL: no ratio printed"; exit 1; }
echo "$out" | grep -q "coordinator counters: rejected 0, duplicates 0, services 20" ||
    { echo "FAIL: the coordinator rejected samples or missed services"; exit 1; }
out=$(bash "$CRESC_SOURCE/tests/bench/bench_reaction.sh" -b "$CRESC_BUILD" -n 10 2>&1) ||
    { echo "$out" | tail -5; echo "FAIL: bench_reaction.sh failed"; exit 1; }
echo "$out"
echo "$out" | grep -q "^reaction: 10/10 trials" || { echo "FAIL: trials without a command"; exit 1; }
echo "PASS"
