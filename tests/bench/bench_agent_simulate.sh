#!/usr/bin/env bash
# Simulation capacity benchmark: one crescendo-agent process publishing synthetic samples for
# N instances (10000) at a 1 s interval for DURATION seconds (30) against a real broker
# (KAFKA_BROKERS, or one started here). Prints samples made and delivered, the rate, CPU
# seconds, CPU % of one core and peak RSS; exit 0 when every tick's samples were made and
# delivered (made == N x ticks, delivered == made, dropped == 0).
#
#   tests/bench/bench_agent_simulate.sh [BUILD_DIR]      (env N, DURATION, PROFILE, KAFKA_BROKERS)
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:-${CRESC_BUILD:-$src/build}}" && pwd)
AGENT=$build/agent/crescendo-agent
N=${N:-10000}
DURATION=${DURATION:-30}
PROFILE=${PROFILE:-matchday}
work=$(mktemp -d /tmp/bench-sim.XXXXXX)
kdir="" apid=""
cleanup() {
    [ -n "$apid" ] && kill "$apid" 2>/dev/null || true
    [ -n "$kdir" ] && "$src/scripts/kafka.sh" stop "$kdir" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${KAFKA_BROKERS:-}" ]; then
    kdir=$work/kafka
    out=$("$src/scripts/kafka.sh" start "$kdir" 2>"$work/kafka.log") || { cat "$work/kafka.log" >&2; exit 2; }
    KAFKA_BROKERS=${out#KAFKA_BROKERS=}
fi
export KAFKA_BROKERS TOPIC_PREFIX=bench_sim_$$.

"$AGENT" --simulate "$N" --profile "$PROFILE" --interval 1s --partitions 6 >/dev/null 2>"$work/agent.log" &
apid=$!
sleep "$DURATION"
cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$apid/stat")
hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$apid/status")
kill -TERM $apid
wait $apid || { echo "bench_agent_simulate: agent exited non-zero" >&2; tail "$work/agent.log" >&2; exit 1; }
apid=""
read -r made delivered dropped < <(sed -n 's/.*Stopped: \([0-9]*\) samples made, \([0-9]*\) delivered, \([0-9]*\) dropped.*/\1 \2 \3/p' "$work/agent.log")
python3 - "$N" "$DURATION" "$made" "$delivered" "$cpu" "$hwm" <<'PY'
import sys
n, d, made, delivered = (int(x) for x in sys.argv[1:5]); cpu = float(sys.argv[5]); hwm = int(sys.argv[6])
ticks = made // n
print(f"{n} simulated instances at 1 s for {d} s: {made} samples made ({ticks} ticks), {delivered} delivered, "
      f"{made / d:.0f} samples/s")
print(f"CPU {cpu:.2f} s ({100 * cpu / d:.1f} % of one core), peak RSS {hwm / 1024:.1f} MiB")
ok = made % n == 0 and ticks >= d - 1 and delivered == made
print("every tick made and delivered" if ok else "NOT every tick made and delivered")
sys.exit(0 if ok else 1)
PY
