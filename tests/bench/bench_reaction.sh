#!/usr/bin/env bash
# Reaction benchmark: a coordinator with cooldown and sample window at zero; for each of
# TRIALS services below the threshold, one over-threshold sample is produced and the time
# until its scale command is consumed (read_committed) from <prefix>commands is measured.
# Prints min/p50/p90/p99/max. Target: p99 < 100 ms on loopback.
#
#   tests/bench/bench_reaction.sh [-b BUILD_DIR] [-n TRIALS]
# Uses KAFKA_BROKERS if set, else starts a broker with scripts/kafka.sh. For a look at the
# slow trials: TRACE=FILE writes one line per trial (bench_reaction --trace), and
# COORDINATOR_LOG_LEVEL=INFO LOG_FORMAT=json KEEP=1 keeps the coordinator's log (its
# "Scaling from" lines carry millisecond timestamps) in the work directory printed at the end.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${CRESC_BUILD:-$src/build}
trials=${TRIALS:-100}
while getopts "b:n:h" opt; do
    case "$opt" in
    b) build=$OPTARG ;;
    n) trials=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
. "$src/tests/bench/bench_lib.sh"
bench_broker
work=$(mktemp -d /tmp/crescendo-bench-react.XXXXXX)
[ -n "${KEEP:-}" ] || bench_cleanup_dirs+=("$work")
prefix="bench_react_$$_$(date +%s)."
port=$(bench_free_port)
bench_coordinator "$work/coordinator.log" "$port" TOPIC_PREFIX="$prefix" \
    COORDINATOR_GROUP="bench-react-$$" COORDINATOR_ID="bench-react-$$" \
    SCALING_COOLDOWN=0 SAMPLE_WINDOW=0 INSTANCE_TTL=10m MIN_INSTANCES=2 MAX_INSTANCES=10 \
    CPU_THRESHOLD=70 LOG_LEVEL="${COORDINATOR_LOG_LEVEL:-WARNING}" ${TICK:+TICK=$TICK}
echo "# coordinator ready (tick ${TICK:-default 1s}, cooldown 0, window 0); $trials trials"
"$build/tests/bench/bench_reaction" --kafka-brokers="$KAFKA_BROKERS" --topic-prefix="$prefix" \
    --trials="$trials" --log-level=WARNING ${TRACE:+--trace="$TRACE"}
rc=$?
echo "# coordinator metrics: decisions=$(bench_metric "$port" crescendo_coordinator_decisions_total)" \
    "commands=$(bench_metric "$port" crescendo_coordinator_commands_total)" \
    "evaluation_seconds_max=$(bench_metric "$port" crescendo_coordinator_evaluation_seconds_max)" \
    "tick_seconds_max=$(bench_metric "$port" crescendo_coordinator_tick_seconds_max)" \
    "commit_seconds_max=$(bench_metric "$port" crescendo_coordinator_commit_seconds_max)"
bench_stop "$bench_coord_pid"
[ -z "${KEEP:-}" ] || echo "# kept: $work"
exit $rc
