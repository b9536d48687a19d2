#!/usr/bin/env bash
# Leak check of the three daemons under valgrind --leak-check=full: crescendo-coordinator,
# crescendo-agent (--simulate) and crescendo-api run together against a real broker for
# SECONDS while the API serves reads and writes; then each gets SIGTERM and must exit 0 with
# no definitely-lost bytes and no memory errors (valgrind's error count 0). Valgrind makes
# them ~20x slower: timeouts are generous.
#   tests/faults/valgrind.sh [-b BUILD_DIR] [-t SECONDS]    (default build-test/, 30 s)
# Uses KAFKA_BROKERS if set, else starts a single-node broker with scripts/kafka.sh.
# Last line: "valgrind: N daemons clean, N failed".
set -uo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${CRESC_BUILD:-$src/build-test}
secs=30
while getopts "b:t:h" o; do
    case "$o" in
    b) build=$OPTARG ;;
    t) secs=$OPTARG ;;
    *) sed -n '2,9p' "$0"; exit 2 ;;
    esac
done
command -v valgrind >/dev/null || { echo "valgrind: not installed"; exit 1; }
work=$(mktemp -d /tmp/crescendo-valgrind.XXXXXX)
broker_dir=""
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -n "$broker_dir" ] && "$src/scripts/kafka.sh" stop "$broker_dir" >/dev/null 2>&1
}
trap cleanup EXIT
if [ -z "${KAFKA_BROKERS:-}" ]; then
    broker_dir=$work/kafka
    out=$("$src/scripts/kafka.sh" start "$broker_dir") || { echo "valgrind: broker did not start"; exit 1; }
    export KAFKA_BROKERS=${out#KAFKA_BROKERS=}
fi
export TOPIC_PREFIX="vg_$$." SERVICE=vg-svc API_TOKEN="vg-token-$$" LOG_LEVEL=INFO
vg=(valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
    --track-origins=no --num-callers=30 --error-exitcode=99)

# run NAME [VAR=VALUE...] CMD...: start under valgrind (the environment set outside it: valgrind
# does not follow an exec of env), log in $work/NAME.{vg,log}; sets the pid var NAME_pid.
run() {
    local name=$1
    shift
    local envs=()
    while [[ "$1" == *=* ]]; do
        envs+=("$1")
        shift
    done
    env "${envs[@]}" "${vg[@]}" --log-file="$work/$name.vg" "$@" >"$work/$name.log" 2>&1 &
    pids+=("$!")
    eval "${name}_pid=$!"
}

run coordinator COORDINATOR_GROUP="vg_$$" PARTITIONS=2 TICK=1s \
    "$build/coordinator/crescendo-coordinator" --health-port 0
sleep 5
run agent "$build/agent/crescendo-agent" --simulate 20 --profile spike --interval 1s --health-port 0
run api API_PORT=0 API_BIND=127.0.0.1 API_THREADS=2 API_WRITE_TIMEOUT=20s \
    "$build/api/crescendo-api"

port=""
for _ in $(seq 600); do
    port=$(sed -n 's/.*Listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$work/api.log" | head -1)
    [ -n "$port" ] && break
    sleep 0.2
done
[ -n "$port" ] || { echo "valgrind: crescendo-api did not start"; tail -20 "$work"/api.*; exit 1; }
api=http://127.0.0.1:$port
# Load while the daemons run: reads, and writes that go through the coordinator.
t_end=$((SECONDS + secs))
reads=0 writes=0 ok_writes=0
while [ $SECONDS -lt $t_end ]; do
    curl -s -o /dev/null -m 30 "$api/scaling/status" && reads=$((reads + 1))
    curl -s -o /dev/null -m 30 "$api/scaling/decision" && reads=$((reads + 1))
    code=$(curl -s -o /dev/null -w '%{http_code}' -m 30 -X PUT "$api/scaling/config" \
        -H "Authorization: Bearer $API_TOKEN" -H 'Content-Type: application/json' \
        -d "{\"cpu_threshold\": $((60 + writes % 20))}")
    writes=$((writes + 1))
    [ "$code" = 200 ] && ok_writes=$((ok_writes + 1))
    sleep 1
done
echo "valgrind: load for ${secs}s: $reads reads, $writes config writes ($ok_writes applied)"

clean=0 failed=0
for name in api agent coordinator; do
    pid_var=${name}_pid
    pid=${!pid_var}
    kill -TERM "$pid" 2>/dev/null
    rc=124
    for _ in $(seq 1200); do # up to 120 s
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            rc=$?
            break
        fi
        sleep 0.1
    done
    [ $rc = 124 ] && kill -9 "$pid" 2>/dev/null
    def=$(grep -E 'definitely lost:' "$work/$name.vg" | sed -E 's/.*definitely lost: ([0-9,]+) bytes in ([0-9,]+) blocks.*/\1 bytes in \2 blocks/')
    [ -z "$def" ] && grep -q 'All heap blocks were freed' "$work/$name.vg" && def="0 bytes (all heap blocks freed)"
    errs=$(grep -E 'ERROR SUMMARY' "$work/$name.vg" | sed -E 's/.*ERROR SUMMARY: ([0-9,]+) errors.*/\1/')
    if [ "$rc" = 0 ] && [ -n "$def" ] && [[ "$def" == 0\ * ]] && [ "$errs" = 0 ]; then
        clean=$((clean + 1))
        echo "ok   $name: exit 0 on SIGTERM, definitely lost: $def, errors: $errs"
    else
        failed=$((failed + 1))
        echo "FAIL $name: exit $rc, definitely lost: ${def:-?}, errors: ${errs:-?} (log $work/$name.vg)"
        grep -A25 -E 'definitely lost in|Invalid|uninitialised' "$work/$name.vg" | head -60
    fi
    grep -E 'in use at exit|possibly lost|still reachable' "$work/$name.vg" | sed 's/^==[0-9]*==/     /'
done
echo "logs: $work"
echo "valgrind: $clean daemons clean, $failed failed"
[ $failed -eq 0 ]
