#!/usr/bin/env bash
# Smoke run of the API benchmark (tests/bench/bench_api.sh with SMOKE=1: 3 s runs) so the
# script keeps working: it must produce both throughputs and a write-path figure with every
# write applied. The performance targets themselves are judged on the full 30 s run, not here
# (CI machines and sanitizer builds vary too much).
set -euo pipefail
: "${KAFKA_BROKERS:?}" "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
command -v wrk >/dev/null && { command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } ||
    { echo "FAIL: wrk or nginx missing (scripts/install-deps.sh)"; exit 1; }
out=$(SMOKE=1 WRITE_CONNS=1 "$CRESC_SOURCE/tests/bench/bench_api.sh" "$CRESC_BUILD" 2>&1) && rc=0 || rc=$?
echo "$out"
[ "$rc" -le 1 ] || { echo "FAIL: bench_api.sh could not run (exit $rc)"; exit 1; }
api=$(sed -n 's/^crescendo-api GET status *\([0-9]*\) req\/s.*/\1/p' <<<"$out")
ngx=$(sed -n 's/^nginx static same body *\([0-9]*\) req\/s.*/\1/p' <<<"$out")
applied=$(sed -n 's/.*; applied \([0-9]*\), 202 \([0-9]*\), 503 \([0-9]*\)$/\1 \2 \3/p' <<<"$out")
[ -n "$api" ] && [ "$api" -gt 0 ] || { echo "FAIL: no API throughput"; exit 1; }
[ -n "$ngx" ] && [ "$ngx" -gt 0 ] || { echo "FAIL: no nginx throughput"; exit 1; }
read -r ok accepted unavailable <<<"$applied"
[ "${ok:-0}" -gt 0 ] && [ "$accepted" = 0 ] && [ "$unavailable" = 0 ] ||
    { echo "FAIL: write path: applied ${ok:-?}, 202 ${accepted:-?}, 503 ${unavailable:-?}"; exit 1; }
echo "PASS: bench_api.sh smoke (api $api req/s, nginx $ngx req/s, $ok writes applied)"
