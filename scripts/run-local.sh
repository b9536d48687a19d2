#!/usr/bin/env bash
# README command 1: installs what is missing, builds (build/), and runs the whole system on this
# machine on the embedded broker (librdkafka's mock cluster): coordinator, API and three agents
# (two simulating a match day, one sampling this host). Prints where the API and dashboard
# listen; Ctrl-C or SIGTERM stops every process cleanly (SIGTERM, wait, exit 0).
#
#   scripts/run-local.sh [--no-install] [--no-build]
#
# Environment: API_PORT (8080), COORDINATOR_HEALTH_PORT (8091), BUILD_DIR (build/), RUN_DIR
# (logs; default a new /tmp/crescendo-run.*), and every daemon variable (MIN_INSTANCES,
# CPU_THRESHOLD, LOG_LEVEL, ...), passed through as usual.
set -uo pipefail

API_PORT=${API_PORT:-8080}
COORDINATOR_HEALTH_PORT=${COORDINATOR_HEALTH_PORT:-8091}

# ---- the processes: edit here (binary relative to build/, then its flags) ------------------
BROKER="shared/crescendo-embedded-broker --partitions 6"
DAEMONS=(
    "coordinator|coordinator/crescendo-coordinator --health-port $COORDINATOR_HEALTH_PORT"
    "api|api/crescendo-api --port $API_PORT"
    "agent-sim-a|agent/crescendo-agent --simulate 3 --profile matchday --instance-id sim-a --seed 1 --health-port 0"
    "agent-sim-b|agent/crescendo-agent --simulate 3 --profile matchday --instance-id sim-b --seed 2 --health-port 0"
    "agent-host|agent/crescendo-agent --interval 5s --health-port 0"
)
# ---------------------------------------------------------------------------------------------

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$src/build}
install=1 do_build=1
for arg in "$@"; do
    case "$arg" in
    --no-install) install=0 ;;
    --no-build) do_build=0 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "run-local.sh: unknown argument $arg (see --help)" >&2; exit 2 ;;
    esac
done

say() { echo "run-local: $*"; }

if [ "$install" = 1 ]; then
    "$src/scripts/install-deps.sh" || { say "installing dependencies failed"; exit 1; }
fi
if [ "$do_build" = 1 ]; then
    say "building into $build"
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null ||
        { say "cmake failed"; exit 1; }
    # -k 0: build everything that builds, so a broken component doesn't stop the others.
    if ! ninja -C "$build" -k 0 >"$build/run-local-build.log" 2>&1; then
        grep -E 'FAILED|error' "$build/run-local-build.log" | head -20
        say "some targets failed to build (see $build/run-local-build.log); starting what exists"
    fi
fi

RUN_DIR=${RUN_DIR:-$(mktemp -d /tmp/crescendo-run.XXXXXX)}
mkdir -p "$RUN_DIR"
names=()
pids=()

stop_all() {
    trap '' INT TERM
    say "stopping"
    local i pid deadline
    # Reverse start order: agents, API, coordinator, and the broker last.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill -TERM "${pids[$i]}" 2>/dev/null || true
        pid=${pids[$i]}
        deadline=$((SECONDS + 15))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
        if kill -0 "$pid" 2>/dev/null; then
            say "${names[$i]} did not stop in 15 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null
        say "${names[$i]} stopped (exit status $?)"
    done
    say "logs are in $RUN_DIR"
    exit 0
}
trap stop_all INT TERM

# start NAME BINARY ARGS...: in its own session, so Ctrl-C reaches only this script, which
# then stops the processes in order; output goes to RUN_DIR/NAME.log and, prefixed, here.
start() {
    local name=$1 bin=$2
    shift 2
    setsid "$bin" "$@" > >(trap "" INT; tee -a "$RUN_DIR/$name.log" | sed -u "s/^/[$name] /") 2>&1 </dev/null &
    names+=("$name")
    pids+=($!)
}

read -ra broker_argv <<<"$BROKER"
if [ ! -x "$build/${broker_argv[0]}" ]; then
    say "$build/${broker_argv[0]} is not built; cannot start"
    exit 1
fi
rm -f "$RUN_DIR/broker.env"
start broker "$build/${broker_argv[0]}" "${broker_argv[@]:1}" --env-file "$RUN_DIR/broker.env"
for _ in $(seq 100); do
    [ -s "$RUN_DIR/broker.env" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || { say "the embedded broker exited"; stop_all; }
    sleep 0.1
done
[ -s "$RUN_DIR/broker.env" ] || { say "the embedded broker did not become ready"; stop_all; }
export "$(cat "$RUN_DIR/broker.env")"
say "embedded Kafka broker at $KAFKA_BROKERS"

for entry in "${DAEMONS[@]}"; do
    name=${entry%%|*}
    read -ra argv <<<"${entry#*|}"
    if [ ! -x "$build/${argv[0]}" ]; then
        say "$name: $build/${argv[0]} does not exist (not built yet); skipping it"
        continue
    fi
    start "$name" "$build/${argv[0]}" "${argv[@]:1}"
    say "$name started (pid ${pids[-1]})"
done

if [ -x "$build/api/crescendo-api" ]; then
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$API_PORT/healthz" 2>/dev/null && break
        sleep 0.2
    done
    say "API:       http://127.0.0.1:$API_PORT/scaling/status"
    say "Dashboard: http://127.0.0.1:$API_PORT/"
else
    say "no API yet: nothing listens on port $API_PORT"
fi
say "running; press Ctrl-C to stop everything (logs: $RUN_DIR)"

# Report processes that die on their own; keep the rest running until Ctrl-C / SIGTERM.
declare -A reported
while :; do
    for i in "${!pids[@]}"; do
        if [ -z "${reported[$i]:-}" ] && ! kill -0 "${pids[$i]}" 2>/dev/null; then
            wait "${pids[$i]}" 2>/dev/null
            say "${names[$i]} exited on its own (status $?); see $RUN_DIR/${names[$i]}.log"
            reported[$i]=1
        fi
    done
    sleep 1 &
    wait $! 2>/dev/null
done
