#!/usr/bin/env bash
# crescendo-embedded-broker (the single-machine run's broker): starts, writes its address to
# --env-file, serves the five topics with the requested partition count to a client we did not
# write (kcat), carries the full message round trip (it_roundtrip: topics found, so no Admin
# call), and on SIGTERM exits 0 and removes its env file.
set -euo pipefail
: "${CRESC_BUILD:?}"
bin=$CRESC_BUILD/shared/crescendo-embedded-broker
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
prefix="it_embedded_$$."

"$bin" --partitions 3 --topic-prefix "$prefix" --env-file "$work/env" >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do [ -s "$work/env" ] && break; sleep 0.1; done
[ -s "$work/env" ] || { cat "$work/log"; echo "FAIL: no env file within 10 s"; exit 1; }
brokers=$(sed -n 's/^KAFKA_BROKERS=//p' "$work/env")
grep -qx "KAFKA_BROKERS=$brokers" "$work/out" || { echo "FAIL: stdout lacks KAFKA_BROKERS=$brokers"; exit 1; }

kcat -b "$brokers" -m 10 -L >"$work/meta"
for t in samples control decisions commands state; do
    grep -q "topic \"$prefix$t\" with 3 partitions" "$work/meta" ||
        { cat "$work/meta"; echo "FAIL: topic $prefix$t with 3 partitions missing"; exit 1; }
done

KAFKA_BROKERS=$brokers TOPIC_PREFIX=$prefix IT_EMBEDDED_BROKER=1 \
    timeout 120 "$CRESC_BUILD/tests/integration/it_roundtrip" ||
    { echo "FAIL: round trip over the embedded broker"; exit 1; }

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || { cat "$work/log"; echo "FAIL: exit status $status after SIGTERM"; exit 1; }
[ ! -e "$work/env" ] || { echo "FAIL: env file left behind"; exit 1; }
"$bin" --partitions 0 2>"$work/bad" && { echo "FAIL: --partitions 0 accepted"; exit 1; }
grep -q "EMBEDDED_PARTITIONS=0" "$work/bad" || { cat "$work/bad"; echo "FAIL: bad value not named"; exit 1; }
echo "ok: embedded broker at $brokers served 5 topics, the round trip, and stopped cleanly"
