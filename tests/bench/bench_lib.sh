# Shared by the bench_*.sh scripts (sourced): a broker (KAFKA_BROKERS, or a fresh one from
# scripts/kafka.sh that is stopped on exit), free ports, and a coordinator started with extra
# environment and waited for on /readyz. Callers set `src` and `build` first.

bench_cleanup_dirs=()
bench_pids=()
bench_broker_dir=""
bench_cleanup() {
    local p
    for p in "${bench_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${bench_pids[@]}"; do
        for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null || true
    done
    [ -n "$bench_broker_dir" ] && "$src/scripts/kafka.sh" stop "$bench_broker_dir" >/dev/null 2>&1
    for d in "${bench_cleanup_dirs[@]}"; do rm -rf "$d"; done
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_broker() {
    if [ -z "${KAFKA_BROKERS:-}" ]; then
        bench_broker_dir=$(mktemp -d /tmp/crescendo-bench-kafka.XXXXXX)
        bench_cleanup_dirs+=("$bench_broker_dir")
        local out
        out=$("$src/scripts/kafka.sh" start "$bench_broker_dir") || { echo "cannot start Kafka"; exit 1; }
        export KAFKA_BROKERS=${out#KAFKA_BROKERS=}
        echo "# broker: fresh single node at $KAFKA_BROKERS"
    else
        echo "# broker: $KAFKA_BROKERS"
    fi
}

bench_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_metric PORT NAME: the value of one Prometheus sample (0 if absent).
bench_metric() {
    curl -s --max-time 2 "http://127.0.0.1:$1/metrics" |
        awk -v n="$2" '$1 == n { v = $2 } END { print (v == "" ? 0 : v) }'
}

# bench_coordinator LOG PORT [VAR=value...]: start a coordinator in the background, wait for
# /readyz (60 s); sets bench_coord_pid.
bench_coordinator() {
    local log=$1 port=$2
    shift 2
    env "$@" HEALTH_PORT="$port" HEALTH_ADDR=127.0.0.1 KAFKA_BROKERS="$KAFKA_BROKERS" \
        "$build/coordinator/crescendo-coordinator" >"$log" 2>&1 &
    bench_coord_pid=$!
    bench_pids+=("$bench_coord_pid")
    for _ in $(seq 600); do
        if curl -sf --max-time 1 "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$bench_coord_pid" 2>/dev/null || { echo "coordinator exited:"; tail -20 "$log"; exit 1; }
        sleep 0.1
    done
    echo "coordinator not ready after 60 s:"; tail -20 "$log"; exit 1
}

bench_stop() { # PID: SIGTERM and wait
    kill -TERM "$1" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
}

bench_now_ns() { date +%s%N; }
