#!/usr/bin/env bash
# Runs every integration test (tests/integration/test_*.sh and test_*.py) against a real Kafka
# broker: the cluster in KAFKA_BROKERS if set, else a fresh single-node broker started with
# scripts/kafka.sh (a broker that cannot start is a failure, never a skip). Builds nothing.
#
#   tests/integration/run.sh [-b BUILD_DIR] [-k PATTERN] [-t SECONDS] [-j JOBS]
#
# Each test gets KAFKA_BROKERS, CRESC_BUILD (absolute build dir), CRESC_SOURCE (repo) and
# CRESC_KAFKA_SH; it passes by exiting 0. Prints PASS/FAIL per test and a last line
# "N passed, N failed"; exits non-zero on any failure. JOBS (IT_JOBS, default 2) tests run at
# a time (tests marked exclusive run alone, first); each has SECONDS (IT_TIMEOUT, default 300).
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${CRESC_BUILD:-$src/build}
pattern=${IT_FILTER:-}
per_test=${IT_TIMEOUT:-300}
jobs=${IT_JOBS:-2}
while getopts "b:k:t:j:h" opt; do
    case "$opt" in
    b) build=$OPTARG ;;
    k) pattern=$OPTARG ;;
    t) per_test=$OPTARG ;;
    j) jobs=$OPTARG ;;
    *) sed -n '2,11p' "$0"; exit 2 ;;
    esac
done
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run.sh: build dir $build not found (build first)"; echo "0 passed, 1 failed"; exit 1; }

logs=$(mktemp -d /tmp/crescendo-it.XXXXXX)
broker_dir=""
cleanup() {
    if [ -n "$broker_dir" ]; then
        "$src/scripts/kafka.sh" stop "$broker_dir" || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${KAFKA_BROKERS:-}" ]; then
    broker_dir="$logs/kafka"
    mkdir -p "$broker_dir"
    if ! out=$("$src/scripts/kafka.sh" start "$broker_dir" 2>"$logs/kafka-start.log"); then
        echo "FAIL kafka-broker: could not start a Kafka broker; integration tests cannot run"
        echo "---- scripts/kafka.sh output ----"
        cat "$logs/kafka-start.log"
        for f in "$broker_dir"/node-*.log; do
            [ -f "$f" ] && { echo "---- $f (last 60 lines) ----"; tail -60 "$f"; }
        done
        echo "0 passed, 1 failed"
        exit 1
    fi
    export KAFKA_BROKERS=${out#KAFKA_BROKERS=}
    echo "run.sh: started Kafka at $KAFKA_BROKERS ($(tail -1 "$logs/kafka-start.log"))"
else
    echo "run.sh: using the existing Kafka cluster at $KAFKA_BROKERS"
fi
export CRESC_BUILD=$build CRESC_SOURCE=$src CRESC_KAFKA_SH=$src/scripts/kafka.sh

passed=0
failed=0
failed_names=()
pids=()      # running tests: pid, name and start time at the same index
names=()
starts=()

# reap: reports every finished test (PASS/FAIL) and keeps the running ones.
reap() {
    local i rc took why keep_p=() keep_n=() keep_s=()
    for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
            keep_p+=("${pids[$i]}") keep_n+=("${names[$i]}") keep_s+=("${starts[$i]}")
            continue
        fi
        wait "${pids[$i]}" 2>/dev/null
        rc=$(cat "$logs/${names[$i]}.rc" 2>/dev/null || echo 1)
        took=$((SECONDS - starts[i]))
        if [ "$rc" -eq 0 ]; then
            passed=$((passed + 1))
            echo "PASS ${names[$i]} (${took} s)"
        else
            failed=$((failed + 1))
            failed_names+=("${names[$i]}")
            why="exit $rc"
            [ "$rc" -eq 124 ] && why="timed out after ${per_test} s"
            echo "FAIL ${names[$i]} (${took} s, $why); last lines of $logs/${names[$i]}.log:"
            tail -40 "$logs/${names[$i]}.log" | sed 's/^/    /'
        fi
    done
    pids=("${keep_p[@]}") names=("${keep_n[@]}") starts=("${keep_s[@]}")
}

# launch TEST: starts one test in the background.
launch() {
    local t=$1 name runner=bash
    name=$(basename "$t")
    name=${name%.*}
    [[ "$t" == *.py ]] && runner=python3
    (
        timeout --kill-after=10 "$per_test" "$runner" "$t" >"$logs/$name.log" 2>&1
        echo $? >"$logs/$name.rc"
    ) &
    pids+=($!) names+=("$name") starts+=("$SECONDS")
}

# run_all JOBS TEST...: runs the tests, at most JOBS at a time, reporting each as it ends.
run_all() {
    local n=$1 t
    shift
    for t in "$@"; do
        while [ ${#pids[@]} -ge "$n" ]; do
            sleep 0.5
            reap
        done
        launch "$t"
    done
    while [ ${#pids[@]} -gt 0 ]; do
        sleep 0.5
        reap
    done
}

# Tests are independent (own topic prefixes, private brokers when they break one), and most
# of their time is spent waiting, so two run side by side (IT_JOBS / -j; 1 = one at a time).
# A test with tight timing that a busy neighbour breaks says so with a line
# "# integration: exclusive" in its first 20 lines (or is named in IT_EXCLUSIVE); those run
# first, alone.
exclusive_names=" ${IT_EXCLUSIVE:-test_agent} "
shopt -s nullglob
alone=()
shared=()
for t in "$src"/tests/integration/test_*.sh "$src"/tests/integration/test_*.py; do
    name=$(basename "$t")
    name=${name%.*}
    if [ -n "$pattern" ] && [[ "$name" != *$pattern* ]]; then
        continue
    fi
    if [[ "$exclusive_names" == *" $name "* ]] || head -20 "$t" | grep -q '^# integration: exclusive'; then
        alone+=("$t")
    else
        shared+=("$t")
    fi
done
run_all 1 "${alone[@]}"
run_all "$jobs" "${shared[@]}"

if [ $((passed + failed)) -eq 0 ]; then
    echo "run.sh: no integration test matched"
    failed=1
fi
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $logs)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
