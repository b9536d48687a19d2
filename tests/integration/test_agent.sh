#!/usr/bin/env bash
# Integration test of crescendo-agent against the real broker: runs the agent at 250 ms with a
# live Prometheus endpoint (a tiny Python server whose request counter grows 100/s), checks
# /healthz and the exec probe (--probe), stops it with SIGTERM (exit 0), then reads the
# samples back with kcat: keyed by service, every value in range, sequence numbers 1..N
# without gaps, in order, none dropped.
# Also checks --once against the fixture trees. Env: KAFKA_BROKERS, CRESC_BUILD, CRESC_SOURCE.
set -euo pipefail

: "${KAFKA_BROKERS:?}" "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
AGENT=$CRESC_BUILD/agent/crescendo-agent
PREFIX=it_agent_$$.
WORK=$(mktemp -d /tmp/it-agent.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL test_agent: $*"; [ -f "$WORK/agent.log" ] && tail -20 "$WORK/agent.log"; exit 1; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# --- --once on fixture trees: one JSON sample, memory from the fixture, no Kafka needed ---
once=$("$AGENT" --once --interval 200ms --source host --proc-root "$CRESC_SOURCE/tests/data/proc/host" \
    --sys-root "$CRESC_SOURCE/tests/data/sys/host" --service once-svc --instance-id i-1 2>"$WORK/once.log") ||
    fail "--once exited non-zero"
echo "$once" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
assert s["service"] == "once-svc" and s["instance_id"] == "i-1" and s["seq"] == 1, s
assert s["mem_pct"] == 25.0, s                 # (8000000-6000000)/8000000
assert s["cpu_pct"] is None, s                 # same /proc/stat twice: no CPU time passed
assert s["disk"] == {"read_ops_per_s": 0.0, "write_ops_per_s": 0.0, "read_bytes_per_s": 0.0, "write_bytes_per_s": 0.0}, s
assert s["req_per_s"] is None and s["active_connections"] is None, s   # no endpoint: absent
' || fail "--once sample wrong: $once"

# --- workload metrics endpoint ---
MPORT=$(free_port)
cat >"$WORK/metrics.py" <<'PY'
import http.server, sys, time
t0 = time.time()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        n = int(100 * (time.time() - t0))
        body = ("# TYPE http_requests_total counter\n"
                f'http_requests_total{{code="200"}} {n - n // 10}\n'
                f'http_requests_total{{code="500"}} {n // 10}\n'
                "# TYPE http_active_connections gauge\nhttp_active_connections 7\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$WORK/metrics.py" "$MPORT" &
pids+=($!)
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$MPORT/metrics" && break; sleep 0.1; done

HPORT=$(free_port)
KAFKA_BROKERS=$KAFKA_BROKERS TOPIC_PREFIX=$PREFIX SERVICE=it-svc INSTANCE_ID=it-inst NODE_NAME=it-node \
    AGENT_INTERVAL=250ms HEALTH_PORT=$HPORT HEALTH_FILE=$WORK/alive METRICS_URL=http://127.0.0.1:$MPORT/metrics \
    "$AGENT" --create-topics --partitions 3 >"$WORK/agent.out" 2>"$WORK/agent.log" &
apid=$!
pids+=($apid)
sleep 5
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/healthz") || true
[ "$code" = 200 ] || fail "/healthz answered '$code', expected 200"
kill -0 $apid 2>/dev/null || fail "agent died"
# Exec probe: fresh file -> 0; a file last touched a minute ago -> 1.
HEALTH_FILE=$WORK/alive AGENT_INTERVAL=250ms "$AGENT" --probe >/dev/null || fail "--probe failed while the agent runs"
touch -d '1 minute ago' "$WORK/stale"
if HEALTH_FILE=$WORK/stale "$AGENT" --probe >/dev/null; then fail "--probe passed on a stale file"; fi
kill -TERM $apid
rc=0
for _ in $(seq 1 100); do kill -0 $apid 2>/dev/null || break; sleep 0.1; done
kill -0 $apid 2>/dev/null && fail "agent still running 10 s after SIGTERM"
wait $apid || rc=$?
[ "$rc" = 0 ] || fail "agent exited $rc after SIGTERM"
grep -q "Stopped:" "$WORK/agent.log" || fail "no shutdown summary"
made=$(sed -n 's/.*Stopped: \([0-9]*\) samples made, \([0-9]*\) delivered.*/\1 \2/p' "$WORK/agent.log")

kcat -b "$KAFKA_BROKERS" -C -t "${PREFIX}samples" -e -q -f '%k\t%p\t%o\t%s\n' >"$WORK/samples.tsv" ||
    fail "kcat could not read ${PREFIX}samples"
python3 - "$WORK/samples.tsv" "$made" <<'PY' || fail "sample checks failed"
import json, sys
rows = [l.rstrip("\n").split("\t", 3) for l in open(sys.argv[1]) if l.strip()]
made, delivered = (int(x) for x in sys.argv[2].split())
assert len(rows) >= 12, f"only {len(rows)} samples in 5 s at 250 ms"
assert len({r[1] for r in rows}) == 1, "one key must land on one partition"
rows.sort(key=lambda r: int(r[2]))
seqs, last_ts = [], 0
for key, part, off, val in rows:
    s = json.loads(val)
    assert key == "it-svc" and s["service"] == "it-svc", s
    assert s["instance_id"] == "it-inst" and s["node"] == "it-node", s
    assert s["schema_version"] == 1 and s["interval_ms"] == 250 and s["dropped"] == 0, s
    assert 0 <= s["cpu_pct"] <= 100 and 0 < s["mem_pct"] <= 100, s
    d = s["disk"]
    assert all(d[k] >= 0 for k in ("read_ops_per_s", "write_ops_per_s", "read_bytes_per_s", "write_bytes_per_s")), s
    assert s["active_connections"] == 7, s
    assert 50 <= s["req_per_s"] <= 200, f"req_per_s {s['req_per_s']} not near 100/s"
    assert s["ts_ms"] > last_ts, "timestamps must increase"
    last_ts = s["ts_ms"]
    seqs.append(s["seq"])
assert seqs == list(range(1, len(seqs) + 1)), f"gaps or disorder: {seqs}"
assert made == delivered == len(seqs), f"made {made}, delivered {delivered}, read {len(seqs)}"
print(f"{len(seqs)} samples, seq 1..{seqs[-1]} without gaps")
PY
echo "PASS test_agent"
