#!/usr/bin/env bash
# Read/write benchmark of crescendo-api (issue: "Performance"), figures side by side from one
# run: wrk with CONNS connections (100) for DURATION seconds (30) on GET /scaling/status of
# crescendo-api and on nginx serving the same JSON body as a static file from a loopback port
# (same worker count as the API's threads), alternating in ROUNDS (3) slices. Prints both throughputs, their ratio (target
# >= 0.7) and the API's p99 (target < 10 ms). Then the write path: POST /scaling/priorities
# through Kafka and the coordinator and back (WRITE_CONNS connections, WRITE_DURATION s), p99
# (target < 50 ms) and how many writes were applied (200) versus timed out (202).
# Starts a broker (unless KAFKA_BROKERS is set), a coordinator and a simulating agent.
#
#   tests/bench/bench_api.sh [BUILD_DIR]   (env DURATION, ROUNDS, CONNS, WRITE_DURATION, WRITE_CONNS;
#                                           SMOKE=1: 3 s runs for CI)
# Exit 0 when every target holds, 1 otherwise, 2 when it cannot run.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-${CRESC_BUILD:-$src/build}}" && pwd)
if [ "${SMOKE:-0}" = 1 ]; then
    DURATION=${DURATION:-3} WRITE_DURATION=${WRITE_DURATION:-3} ROUNDS=${ROUNDS:-1}
fi
DURATION=${DURATION:-30}
ROUNDS=${ROUNDS:-3}
CONNS=${CONNS:-100}
WRITE_DURATION=${WRITE_DURATION:-10}
WRITE_CONNS=${WRITE_CONNS:-1}
API=$build/api/crescendo-api
COORD=$build/coordinator/crescendo-coordinator
AGENT=$build/agent/crescendo-agent
for b in "$API" "$COORD" "$AGENT"; do
    [ -x "$b" ] || { echo "bench_api: $b not built" >&2; exit 2; }
done
for t in wrk nginx curl; do
    command -v $t >/dev/null || [ -x /usr/sbin/$t ] || { echo "bench_api: $t missing (scripts/install-deps.sh)" >&2; exit 2; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/bench-api.XXXXXX)
pids=() kdir=""
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "$kdir" ] && "$src/scripts/kafka.sh" stop "$kdir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

if [ -z "${KAFKA_BROKERS:-}" ]; then
    kdir=$work/kafka
    mkdir -p "$kdir"
    out=$("$src/scripts/kafka.sh" start "$kdir" 2>"$work/kafka.log") || { cat "$work/kafka.log"; exit 2; }
    export KAFKA_BROKERS=${out#KAFKA_BROKERS=}
fi
export TOPIC_PREFIX="bench_api_$$." SERVICE=music-generator API_TOKEN="bench-$$-$RANDOM"
threads=$(nproc)

COORDINATOR_GROUP="bench_api_$$" PARTITIONS=2 TICK=1s "$COORD" --health-port 0 >"$work/coord.log" 2>&1 &
pids+=($!)
sleep 1
"$AGENT" --simulate 3 --profile steady --interval 1s --health-port 0 >"$work/agent.log" 2>&1 &
pids+=($!)
api_port=$(free_port)
API_PORT=$api_port API_BIND=127.0.0.1 API_THREADS=$threads LOG_LEVEL=WARNING "$API" >"$work/api.log" 2>&1 &
pids+=($!)
api=http://127.0.0.1:$api_port
for _ in $(seq 300); do
    curl -fs "$api/scaling/status" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -fs "$api/scaling/status" >"$work/status.json" || { echo "bench_api: the API has no state" >&2; tail "$work"/*.log; exit 2; }

# nginx: the same body as a static file, as many workers as the API has threads.
mkdir -p "$work/www/scaling"
cp "$work/status.json" "$work/www/scaling/status"
ngx_port=$(free_port)
cat >"$work/nginx.conf" <<NGX
daemon off;
worker_processes $threads;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$ngx_port;
        root $work/www;
        location / { default_type application/json; }
    }
}
NGX
"$NGINX" -c "$work/nginx.conf" -p "$work" &
pids+=($!)
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$ngx_port/scaling/status" >/dev/null 2>&1 && break; sleep 0.1; done

# wrk's "Requests/sec" and its 99% latency in ms.
rps() { sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$1"; }
p99_ms() {
    awk '$1=="99%" { v=$2; u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+$/,"",v);
        if (u=="us") v/=1000; else if (u=="s") v*=1000; printf "%.3f\n", v }' "$1"
}
non2xx() { sed -n 's/.*Non-2xx or 3xx responses: \([0-9]*\).*/\1/p' "$1"; }

# The two servers run in alternating slices (ROUNDS of DURATION/ROUNDS seconds each), so load
# from anything else on the machine falls on both alike; throughput is the total over the
# slices and p99 the worst slice's.
slice=$(( DURATION / ROUNDS > 0 ? DURATION / ROUNDS : 1 ))
echo "bench_api: wrk -t2 -c$CONNS, ${DURATION}s per server in $ROUNDS alternating slices, $threads API threads / nginx workers, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg), body $(wc -c <"$work/status.json") bytes"
for r in $(seq "$ROUNDS"); do
    wrk -t2 -c"$CONNS" -d"${slice}s" --latency "$api/scaling/status" >"$work/wrk-api-$r.txt"
    wrk -t2 -c"$CONNS" -d"${slice}s" --latency "http://127.0.0.1:$ngx_port/scaling/status" >"$work/wrk-nginx-$r.txt"
done
# Sum requests and seconds over the slices ("N requests in 10.01s"), worst p99.
total_rps() { cat "$@" | sed -n 's/^ *\([0-9]*\) requests in \([0-9.]*\)\(m\?s\).*/\1 \2 \3/p' |
    awk '{ t = ($3 == "ms") ? $2 / 1000 : $2; n += $1; s += t } END { if (s > 0) printf "%.0f\n", n / s }'; }
worst_p99() { for f in "$@"; do p99_ms "$f"; done | sort -g | tail -1; }
api_rps=$(total_rps "$work"/wrk-api-*.txt) ngx_rps=$(total_rps "$work"/wrk-nginx-*.txt)
api_p99=$(worst_p99 "$work"/wrk-api-*.txt) ngx_p99=$(worst_p99 "$work"/wrk-nginx-*.txt)
cp "$work/wrk-api-1.txt" "$work/wrk-api.txt"
[ -n "$api_rps" ] && [ -n "$ngx_rps" ] || { cat "$work"/wrk-*.txt; exit 2; }
ratio=$(awk -v a="$api_rps" -v n="$ngx_rps" 'BEGIN { printf "%.2f", a / n }')
printf '%-28s %10.0f req/s   p99 %7.3f ms   non-2xx %s\n' "crescendo-api GET status" "$api_rps" "$api_p99" "$(non2xx "$work/wrk-api.txt" || true)"
printf '%-28s %10.0f req/s   p99 %7.3f ms\n' "nginx static same body" "$ngx_rps" "$ngx_p99"
ok=1
v_ratio=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.7) ? "ok" : "MISSED" }')
v_p99=$(awk -v p="$api_p99" 'BEGIN { print (p < 10) ? "ok" : "MISSED" }')
echo "ratio api/nginx            $ratio (target >= 0.70: $v_ratio)"
echo "api read p99               $api_p99 ms (target < 10 ms: $v_p99)"
[ "$v_ratio" = ok ] && [ "$v_p99" = ok ] || ok=0

# Write path: each POST waits for the coordinator's acknowledgement in the state topic.
cat >"$work/post.lua" <<LUA
local n = 0
request = function()
    n = n + 1
    local body = string.format('{"match_id":"bench-%d","priority":%d,"resource_allocation":%d}', n % 50, 1 + n % 10, 1 + n % 40)
    return wrk.format("POST", "/scaling/priorities",
        {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $API_TOKEN"}, body)
end
LUA
wrk -t1 -c"$WRITE_CONNS" -d"${WRITE_DURATION}s" --latency -s "$work/post.lua" "$api" >"$work/wrk-write.txt"
w_rps=$(rps "$work/wrk-write.txt") w_p99=$(p99_ms "$work/wrk-write.txt")
metrics=$(curl -fs "$api/metrics")
applied=$(echo "$metrics" | sed -n 's/^crescendo_api_writes_total{outcome="applied"} //p')
timeout=$(echo "$metrics" | sed -n 's/^crescendo_api_writes_total{outcome="timeout"} //p')
unavail=$(echo "$metrics" | sed -n 's/^crescendo_api_writes_total{outcome="unavailable"} //p')
v_w=$(awk -v p="$w_p99" 'BEGIN { print (p < 50) ? "ok" : "MISSED" }')
printf '%-28s %10.0f req/s   p99 %7.3f ms   (%s connections)\n' "POST priorities (write)" "$w_rps" "$w_p99" "$WRITE_CONNS"
echo "write path p99             $w_p99 ms (target < 50 ms: $v_w); applied $applied, 202 $timeout, 503 $unavail"
[ "$v_w" = ok ] && [ "${timeout:-0}" = 0 ] && [ "${unavail:-0}" = 0 ] || ok=0
[ "$ok" = 1 ]
