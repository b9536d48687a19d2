#!/usr/bin/env bash
# crescendo-api black-box test: a real broker, a running crescendo-coordinator fed by a
# simulating crescendo-agent, and crescendo-api on a loopback port; tests/integration/it_api.c
# (libcurl) checks every endpoint's success and error classes, the auth-reads mode, the 202
# path (coordinator stopped; the write is applied once it is back: not lost), the 503 path
# (broker stopped, on a private broker so other tests keep theirs) and a clean SIGTERM exit.
set -euo pipefail
: "${KAFKA_BROKERS:?}" "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
KAFKA_SH=${CRESC_KAFKA_SH:-$CRESC_SOURCE/scripts/kafka.sh}
IT=$CRESC_BUILD/tests/integration/it_api
API=$CRESC_BUILD/api/crescendo-api
COORD=$CRESC_BUILD/coordinator/crescendo-coordinator
AGENT=$CRESC_BUILD/agent/crescendo-agent
for b in "$IT" "$API" "$COORD" "$AGENT"; do
    [ -x "$b" ] || { echo "FAIL: $b not built"; exit 1; }
done

work=$(mktemp -d /tmp/it_api.XXXXXX)
pids=()
private_broker=""
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    # A coordinator whose broker is gone may spend its transaction timeout on the last
    # commit: give everything 10 s, then kill what is left.
    for _ in $(seq 100); do
        alive=0
        for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    [ -n "$private_broker" ] && "$KAFKA_SH" stop "$private_broker" >/dev/null 2>&1 || true
    [ "$passed" = 1 ] && rm -rf "$work" # logs stay for a failed run
}
passed=0
trap cleanup EXIT
fail() {
    echo "FAIL: $*"
    for f in "$work"/*.log; do echo "---- $f (last 30 lines)"; tail -30 "$f"; done
    exit 1
}

export API_TOKEN="it-token-$$-$RANDOM"
export SERVICE=music-generator

start_coord() { # $1 log name
    COORDINATOR_GROUP="it_api_$$" PARTITIONS=2 TICK=1s "$COORD" --health-port 0 >>"$work/$1.log" 2>&1 &
    coord_pid=$!
    pids+=("$coord_pid")
}
start_agent() {
    "$AGENT" --simulate 3 --profile steady --interval 1s --health-port 0 >>"$work/$1.log" 2>&1 &
    pids+=("$!")
}
# start_api LOG [VAR=VALUE...]: sets api_pid and api_url.
start_api() {
    local log=$work/$1.log
    shift
    env API_PORT=0 API_BIND=127.0.0.1 API_MAX_BODY=4096 API_WRITE_TIMEOUT=1500ms API_THREADS=2 \
        API_CONNECTION_TIMEOUT=2s "$@" \
        "$API" >"$log" 2>&1 &
    api_pid=$!
    pids+=("$api_pid")
    local port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/.*Listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log" | head -1)
        [ -n "$port" ] && break
        sleep 0.1
    done
    [ -n "$port" ] || fail "crescendo-api did not start"
    api_url=http://127.0.0.1:$port
}
wait_service() { # the view is ready and shows the service
    for _ in $(seq 300); do
        if curl -fs "$api_url/readyz" >/dev/null && curl -fs "$api_url/scaling/status" >/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    fail "no state for $SERVICE at $api_url within 30 s"
}

# ---- the main suite on the shared broker ---------------------------------------------
export TOPIC_PREFIX="it_api_$$."
start_coord coord
sleep 1
start_agent agent
start_api api
grep -q "$API_TOKEN" "$work"/api.log && fail "the token appears in the API log"
wait_service
API_URL=$api_url "$IT" main || fail "it_api main"

main_url=$api_url
main_pid=$api_pid

# Not ready while the state topic cannot be read (here: it does not exist): /readyz and the
# reads answer 503 with Retry-After, /healthz 200.
start_api api-notready TOPIC_PREFIX="it_api_none_$$."
sleep 1
code=$(curl -s -o /dev/null -w '%{http_code}' "$api_url/readyz")
[ "$code" = 503 ] || fail "/readyz answered $code without a state topic"
hdrs=$(curl -s -D - -o /dev/null "$api_url/scaling/status")
grep -q '^HTTP/1.1 503' <<<"$hdrs" || fail "status answered $(head -1 <<<"$hdrs") while not ready"
grep -qi '^Retry-After: 1' <<<"$hdrs" || fail "no Retry-After on a 503 read"
code=$(curl -s -o /dev/null -w '%{http_code}' "$api_url/healthz")
[ "$code" = 200 ] || fail "/healthz answered $code"
kill "$api_pid"; wait "$api_pid" 2>/dev/null || true

# Reads closed by configuration.
start_api api-authreads API_AUTH_READS=true
wait_service_auth() {
    for _ in $(seq 300); do
        curl -fs "$api_url/readyz" >/dev/null && return 0
        sleep 0.1
    done
    fail "second API not ready"
}
wait_service_auth
API_URL=$api_url "$IT" authreads || fail "it_api authreads"
kill "$api_pid"; wait "$api_pid" 2>/dev/null || true

# 202: the coordinator is stopped, so no acknowledgement can come.
api_url=$main_url
kill "$coord_pid"; wait "$coord_pid" 2>/dev/null || true
match="m-timeout-$$"
API_URL=$api_url "$IT" timeout "$match" || fail "it_api timeout"
# ... and the accepted write is applied once a coordinator runs again (not lost).
start_coord coord2
API_URL=$api_url "$IT" recovered "$match" || fail "it_api recovered"

# SIGTERM: a clean exit, status 0, within a few seconds.
kill -TERM "$main_pid"
for _ in $(seq 100); do kill -0 "$main_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$main_pid" 2>/dev/null && fail "crescendo-api still running 10 s after SIGTERM"
wait "$main_pid" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "crescendo-api exited $rc after SIGTERM"
grep -q "shutting down" "$work/api.log" || fail "no shutdown log line"

# SIGTERM while the view is still replaying the state topic (ASan/valgrind builds catch a
# shutdown that frees the write path under the view thread): exit 0.
start_api api-early
kill -TERM "$api_pid"
for _ in $(seq 100); do kill -0 "$api_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$api_pid" 2>/dev/null && fail "crescendo-api still running 10 s after an early SIGTERM"
wait "$api_pid" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "crescendo-api exited $rc after an early SIGTERM"

# ---- 503: a private broker that is stopped under the API -----------------------------
private_broker=$work/kafka
mkdir -p "$private_broker"
out=$("$KAFKA_SH" start "$private_broker" 2>"$work/kafka-start.log") || fail "private broker did not start"
export KAFKA_BROKERS=${out#KAFKA_BROKERS=}
export TOPIC_PREFIX="it_api_down_$$."
start_coord coord3
sleep 1
start_agent agent3
start_api api3
wait_service
"$KAFKA_SH" stop "$private_broker" >/dev/null 2>&1
private_broker=""
API_URL=$api_url "$IT" unavailable || fail "it_api unavailable"
# SIGTERM with the broker down: still a prompt, clean exit.
kill -TERM "$api_pid"
for _ in $(seq 150); do kill -0 "$api_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$api_pid" 2>/dev/null && fail "crescendo-api still running 15 s after SIGTERM (broker down)"
wait "$api_pid" && rc=0 || rc=$?
[ "$rc" -eq 0 ] || fail "crescendo-api exited $rc after SIGTERM (broker down)"
passed=1
echo "PASS: crescendo-api HTTP black-box tests"
