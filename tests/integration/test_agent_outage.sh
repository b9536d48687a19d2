#!/usr/bin/env bash
# Outage test of crescendo-agent: starts its OWN single-node broker (so it can stop it), runs
# the agent at 200 ms with a deliberately small queue (AGENT_QUEUE_SIZE=20, 4 in flight),
# takes the broker away twice for OUTAGE_S (25) s each — a clean stop, then a crash (SIGKILL;
# OUTAGE_MODES="stop kill") — restarting it on the same ports and data, and checks that
# afterwards the samples read back are in order, without duplicates, and that every gap in
# the sequence numbers is exactly the `dropped` count of the sample after it (nothing lost
# silently); also that the loop kept ticking (/healthz 200) while Kafka was away.
# Env: CRESC_BUILD, CRESC_SOURCE (KAFKA_BROKERS from run.sh is not used).
set -euo pipefail

: "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
AGENT=$CRESC_BUILD/agent/crescendo-agent
KSH=${CRESC_KAFKA_SH:-$CRESC_SOURCE/scripts/kafka.sh}
OUTAGE_S=${OUTAGE_S:-25}
PREFIX=it_outage_$$.
WORK=$(mktemp -d /tmp/it-agent-outage.XXXXXX)
apid=""
cleanup() {
    [ -n "$apid" ] && kill -KILL "$apid" 2>/dev/null || true
    "$KSH" stop "$WORK/kafka" >/dev/null 2>&1 || true
    [ -n "${KEEP:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL test_agent_outage: $*"; [ -f "$WORK/agent.log" ] && tail -25 "$WORK/agent.log"; exit 1; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

out=$("$KSH" start "$WORK/kafka" 2>"$WORK/kafka-start.log") || fail "broker did not start"
BROKERS=${out#KAFKA_BROKERS=}

HPORT=$(free_port)
KAFKA_BROKERS=$BROKERS TOPIC_PREFIX=$PREFIX SERVICE=outage-svc INSTANCE_ID=outage-inst \
    AGENT_INTERVAL=200ms AGENT_QUEUE_SIZE=20 AGENT_INFLIGHT_MAX=4 HEALTH_PORT=$HPORT \
    AGENT_SHUTDOWN_TIMEOUT=20s "$AGENT" --create-topics --partitions 1 >"$WORK/agent.out" 2>"$WORK/agent.log" &
apid=$!
sleep 4
kill -0 "$apid" || fail "agent died before the outage"

# Two outages: a clean stop, then a crash (SIGKILL), each OUTAGE_S seconds; the agent runs on.
for mode in ${OUTAGE_MODES:-stop kill}; do
    if [ "$mode" = stop ]; then
        "$KSH" stop "$WORK/kafka" || fail "could not stop the broker"
    else
        "$KSH" kill "$WORK/kafka" 1 || fail "could not kill the broker"
    fi
    t_down=$SECONDS
    while [ $((SECONDS - t_down)) -lt "$OUTAGE_S" ]; do
        sleep 2
        code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/healthz") || true
        [ "$code" = 200 ] || fail "/healthz answered '$code' during the outage: the loop must keep ticking"
    done
    kill -0 "$apid" || fail "agent died during the outage ($mode)"
    "$KSH" restart "$WORK/kafka" 1 >/dev/null 2>"$WORK/kafka-restart.log" || fail "broker did not restart"
    echo "broker down ($mode) for $((SECONDS - t_down)) s"
    sleep 8
done

# Let the backlog drain and a few fresh samples through, then stop the agent.
sleep 4
kill -TERM "$apid"
rc=0
wait "$apid" || rc=$?
apid=""
[ "$rc" = 0 ] || fail "agent exited $rc after SIGTERM"
made=$(sed -n 's/.*Stopped: \([0-9]*\) samples made, \([0-9]*\) delivered, \([0-9]*\) dropped, \([0-9]*\) failed, \([0-9]*\) unsent.*/\1 \2 \3 \4 \5/p' "$WORK/agent.log")
[ -n "$made" ] || fail "no shutdown summary"

kcat -b "$BROKERS" -C -t "${PREFIX}samples" -e -q -f '%o\t%s\n' >"$WORK/samples.tsv" ||
    fail "kcat could not read the samples"
python3 - "$WORK/samples.tsv" "$made" <<'PY' || fail "ordering/drop accounting wrong"
import json, sys
made, delivered, dropped, failed, unsent = (int(x) for x in sys.argv[2].split())
rows = sorted((int(o), json.loads(v)) for o, v in
              (l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]) if l.strip()))
samples = [s for _, s in rows]
seqs = [s["seq"] for s in samples]
assert len(seqs) == len(set(seqs)), "duplicates"
assert seqs == sorted(seqs), "out of order"
prev = 0
for s in samples:
    gap = s["seq"] - prev - 1
    assert gap == s["dropped"], f"seq {s['seq']}: gap {gap} but dropped {s['dropped']}"
    prev = s["seq"]
total_dropped = sum(s["dropped"] for s in samples)
assert total_dropped > 0, "the small queue should have overflowed during the outage"
assert unsent == 0 and failed == 0, f"unsent {unsent}, failed {failed}"
assert seqs[-1] == made, f"last seq {seqs[-1]} but {made} made"
assert len(seqs) + total_dropped == made, "every sample made is either delivered or counted"
assert dropped == total_dropped and delivered == len(seqs), (dropped, total_dropped, delivered)
print(f"{made} made: {len(seqs)} delivered in order, {total_dropped} dropped and accounted for")
PY
echo "PASS test_agent_outage"
