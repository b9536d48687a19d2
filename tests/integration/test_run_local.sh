#!/usr/bin/env bash
# README command 1 (scripts/run-local.sh) end to end, without install and build: it starts the
# embedded broker and every daemon, prints the API and dashboard addresses, the API answers,
# samples reach the coordinator's state; SIGTERM stops everything and the script exits 0.
set -euo pipefail
: "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
work=$(mktemp -d)
pid=""
cleanup() {
    [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
api_port=$(free_port)
health_port=$(free_port)

BUILD_DIR=$CRESC_BUILD API_PORT=$api_port COORDINATOR_HEALTH_PORT=$health_port RUN_DIR=$work/run \
    setsid "$CRESC_SOURCE/scripts/run-local.sh" --no-install --no-build >"$work/out" 2>&1 &
pid=$!
for _ in $(seq 300); do
    grep -q "press Ctrl-C" "$work/out" && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/out"; echo "FAIL: run-local.sh exited early"; exit 1; }
    sleep 0.2
done
grep -q "press Ctrl-C" "$work/out" || { cat "$work/out"; echo "FAIL: run-local.sh never got ready"; exit 1; }
grep -q "Dashboard: http://127.0.0.1:$api_port/" "$work/out" || { cat "$work/out"; echo "FAIL: no dashboard address"; exit 1; }
for name in broker coordinator api agent-sim-a agent-sim-b agent-host; do
    grep -q "\[$name\]\|$name started" "$work/out" || { cat "$work/out"; echo "FAIL: $name did not start"; exit 1; }
done
curl -fsS "http://127.0.0.1:$api_port/healthz" >/dev/null || { echo "FAIL: API /healthz"; exit 1; }
# To files, not pipes: grep -q stops reading early and pipefail would count curl's EPIPE.
curl -fsS -o "$work/page" "http://127.0.0.1:$api_port/" || { echo "FAIL: dashboard page"; exit 1; }
grep -qi "<html" "$work/page" || { echo "FAIL: the dashboard page is not HTML"; exit 1; }

# The simulated agents' samples reach the coordinator, whose state reaches the API.
ok=0
for _ in $(seq 60); do
    if curl -fsS -o "$work/status" "http://127.0.0.1:$api_port/scaling/status" 2>/dev/null &&
        grep -q '"current_instances"' "$work/status"; then
        ok=1
        break
    fi
    sleep 1
done
[ "$ok" = 1 ] || { tail -40 "$work/out"; echo "FAIL: /scaling/status never showed the service's state"; exit 1; }

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
[ "$status" -eq 0 ] || { tail -30 "$work/out"; echo "FAIL: run-local.sh exited $status on SIGTERM"; exit 1; }
grep -q "broker stopped (exit status 0)" "$work/out" || { tail -30 "$work/out"; echo "FAIL: broker not stopped cleanly"; exit 1; }
if grep -q "did not stop in 15 s" "$work/out"; then
    tail -30 "$work/out"
    echo "FAIL: a process had to be killed"
    exit 1
fi
echo "ok: run-local.sh started everything, served the API and dashboard, stopped cleanly"
