#!/usr/bin/env bash
# Footprint benchmark of crescendo-agent (issue "Footprint"): in one DURATION-second window
# (60) against a real broker (KAFKA_BROKERS, or one started here) it runs, at a 1 s interval:
#   agent A  the DaemonSet setup with the exec liveness probe (HEALTH_FILE; `--probe` run
#            every 5 s as the kubelet would),
#   agent B  the same with the HTTP probe instead (HEALTH_PORT, libmicrohttpd loaded; curl
#            /healthz every 5 s),
#   agent C  sidecar setup: HTTP probe plus a metrics scrape every tick (libcurl loaded) of
#            node-exporter's own request counter and in-flight gauge,
# next to prometheus-node-exporter on a loopback port scraped once a second with curl.
# Prints each one's peak RSS (VmHWM), PSS at the end, CPU seconds (utime+stime) and CPU as a
# percentage of one core, then checks the targets on agent A: RSS <= 8 MiB and <= half of
# node-exporter's, CPU < 0.5 % of a core (B and C are reported against them too).
#
#   tests/bench/bench_agent.sh [BUILD_DIR]      (env DURATION, KAFKA_BROKERS)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-${CRESC_BUILD:-$src/build}}" && pwd)
AGENT=$build/agent/crescendo-agent
DURATION=${DURATION:-60}
NE=$(command -v prometheus-node-exporter || true)
[ -x "$AGENT" ] || { echo "bench_agent: $AGENT not built" >&2; exit 2; }
[ -n "$NE" ] || { echo "bench_agent: prometheus-node-exporter missing (scripts/install-deps.sh)" >&2; exit 2; }

work=$(mktemp -d /tmp/bench-agent.XXXXXX)
pids=() kdir=""
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -n "$kdir" ] && "$src/scripts/kafka.sh" stop "$kdir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

if [ -z "${KAFKA_BROKERS:-}" ]; then
    kdir=$work/kafka
    out=$("$src/scripts/kafka.sh" start "$kdir" 2>"$work/kafka.log") || { cat "$work/kafka.log" >&2; exit 2; }
    KAFKA_BROKERS=${out#KAFKA_BROKERS=}
fi
export KAFKA_BROKERS AGENT_INTERVAL=1s TOPIC_PREFIX=bench_agent_$$.

# utime + stime (fields 14, 15 of /proc/PID/stat; the names here have no spaces), seconds.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
pss_kib() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }

NPORT=$(free_port)
"$NE" --web.listen-address=127.0.0.1:$NPORT >"$work/ne.log" 2>&1 &
npid=$!
pids+=($npid)
HPB=$(free_port) HPC=$(free_port)
INSTANCE_ID=bench-a HEALTH_FILE=$work/a.alive "$AGENT" --create-topics --partitions 1 >"$work/a.out" 2>"$work/a.log" &
apid=$!; pids+=($apid)
INSTANCE_ID=bench-b HEALTH_PORT=$HPB "$AGENT" --create-topics --partitions 1 >"$work/b.out" 2>"$work/b.log" &
bpid=$!; pids+=($bpid)
INSTANCE_ID=bench-c HEALTH_PORT=$HPC METRICS_URL=http://127.0.0.1:$NPORT/metrics \
    METRICS_REQUESTS_COUNTER=promhttp_metric_handler_requests_total \
    METRICS_CONNECTIONS_GAUGE=promhttp_metric_handler_requests_in_flight \
    "$AGENT" --create-topics --partitions 1 >"$work/c.out" 2>"$work/c.log" &
cpid=$!; pids+=($cpid)
sleep 1
(while sleep 1; do curl -s -o /dev/null "http://127.0.0.1:$NPORT/metrics"; done) &
pids+=($!)
(while sleep 5; do
    HEALTH_FILE=$work/a.alive "$AGENT" --probe >/dev/null || echo "probe A failed" >>"$work/probe.err"
    curl -fs -o /dev/null "http://127.0.0.1:$HPB/healthz" || echo "probe B failed" >>"$work/probe.err"
    curl -fs -o /dev/null "http://127.0.0.1:$HPC/healthz" || echo "probe C failed" >>"$work/probe.err"
done) &
pids+=($!)

declare -A c0 c1 hwm pss
for p in $apid $bpid $cpid $npid; do c0[$p]=$(cpu_s $p); done
sleep "$DURATION"
for p in $apid $bpid $cpid $npid; do c1[$p]=$(cpu_s $p); hwm[$p]=$(hwm_kib $p); pss[$p]=$(pss_kib $p); done
delivered=""
for p in $apid $bpid $cpid; do
    kill -TERM $p
    wait $p || { echo "bench_agent: agent $p exited non-zero" >&2; exit 1; }
done
for f in a b c; do
    delivered+="$(sed -n 's/.*Stopped: \([0-9]*\) samples made, \([0-9]*\) delivered.*/\2/p' "$work/$f.log") "
done
probe_err=$(cat "$work/probe.err" 2>/dev/null | sort | uniq -c | tr '\n' ';' || true)
# Agent C's samples must carry the scraped request rate and connections.
c_req=$(kcat -b "$KAFKA_BROKERS" -C -t "${TOPIC_PREFIX}samples" -e -q 2>/dev/null |
    grep '"instance_id":"bench-c"' | grep -c '"req_per_s":[0-9]' || true)
[ "${c_req:-0}" -gt 0 ] || probe_err+="agent C samples without req_per_s;"

python3 - "$DURATION" "$delivered" "$probe_err" \
    "A exec probe" "${c0[$apid]}" "${c1[$apid]}" "${hwm[$apid]}" "${pss[$apid]}" \
    "B HTTP /healthz" "${c0[$bpid]}" "${c1[$bpid]}" "${hwm[$bpid]}" "${pss[$bpid]}" \
    "C HTTP + scrape" "${c0[$cpid]}" "${c1[$cpid]}" "${hwm[$cpid]}" "${pss[$cpid]}" \
    "node-exporter" "${c0[$npid]}" "${c1[$npid]}" "${hwm[$npid]}" "${pss[$npid]}" <<'PY'
import sys
d = float(sys.argv[1]); delivered = sys.argv[2].split(); probe_err = sys.argv[3]
rows = []
for i in range(4, len(sys.argv), 5):
    name, c0, c1, hwm, pss = sys.argv[i:i + 5]
    rows.append((name, float(c1) - float(c0), float(hwm) / 1024, float(pss) / 1024))
print(f"window {d:.0f} s, agents at 1 s (samples delivered A/B/C: {'/'.join(delivered)}), "
      "node-exporter scraped every 1 s")
print(f"{'':22}{'peak RSS':>12}{'PSS':>12}{'CPU s':>8}{'% of a core':>13}")
for name, cpu, rss, pss in rows:
    print(f"{name:22}{rss:>8.2f} MiB{pss:>8.2f} MiB{cpu:>8.2f}{100 * cpu / d:>12.3f}%")
ne_rss = rows[-1][2]
def ok(r):
    return r[2] <= 8 and r[2] <= ne_rss / 2 and 100 * r[1] / d < 0.5
for r in rows[:3]:
    print(f"{r[0]}: RSS <= 8 MiB {'yes' if r[2] <= 8 else 'NO'}, <= half of node-exporter's "
          f"{'yes' if r[2] <= ne_rss / 2 else 'NO'}, CPU < 0.5 % {'yes' if 100 * r[1] / d < 0.5 else 'NO'}")
if probe_err:
    print("liveness probe failures:", probe_err)
ok_a = ok(rows[0]) and not probe_err
print(f"targets on agent A: {'met' if ok_a else 'NOT met'}")
sys.exit(0 if ok_a else 1)
PY
