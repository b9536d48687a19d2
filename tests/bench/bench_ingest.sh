#!/usr/bin/env bash
# Ingest benchmark: fill <prefix>samples with SAMPLES samples from INSTANCES instances
# (bench_fill, real codec), then time `kcat -C -e` reading the topic raw to EOF, and a
# coordinator consuming and aggregating all of them (until its /metrics counter
# crescendo_coordinator_samples_consumed_total reaches SAMPLES). Prints both rates and the
# ratio (target >= 0.8), plus two floors measured in the same run: a plain librdkafka
# consumer (bench_consume) without and with the sample codec.
#
#   tests/bench/bench_ingest.sh [-b BUILD_DIR] [-n SAMPLES] [-i INSTANCES] [-s SERVICES]
# Uses KAFKA_BROKERS if set, else starts a broker with scripts/kafka.sh.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${CRESC_BUILD:-$src/build}
samples=${SAMPLES:-1000000}
instances=${INSTANCES:-10000}
services=${SERVICES:-100}
partitions=${PARTITIONS:-6}
while getopts "b:n:i:s:h" opt; do
    case "$opt" in
    b) build=$OPTARG ;;
    n) samples=$OPTARG ;;
    i) instances=$OPTARG ;;
    s) services=$OPTARG ;;
    *) sed -n '2,10p' "$0"; exit 2 ;;
    esac
done
build=$(cd "$build" && pwd)
. "$src/tests/bench/bench_lib.sh"
bench_broker
work=$(mktemp -d /tmp/crescendo-bench-ingest.XXXXXX)
bench_cleanup_dirs+=("$work")
prefix="bench_ingest_$$_$(date +%s)."
topic="${prefix}samples"

"$build/tests/bench/bench_fill" --kafka-brokers="$KAFKA_BROKERS" --topic-prefix="$prefix" \
    --samples="$samples" --instances="$instances" --services="$services" \
    --partitions="$partitions" --log-level=WARNING

# kcat, raw, to EOF (twice; the faster run is kept, which only makes the ratio stricter)
kcat_best=""
for run in 1 2; do
    t0=$(bench_now_ns)
    n=$(kcat -C -b "$KAFKA_BROKERS" -t "$topic" -e -q -o beginning -f '\n' | wc -l)
    t1=$(bench_now_ns)
    [ "$n" -eq "$samples" ] || { echo "kcat read $n of $samples messages"; exit 1; }
    dt=$(( t1 - t0 ))
    echo "# kcat run $run: $n messages in $(awk -v d=$dt 'BEGIN{printf "%.3f", d/1e9}') s"
    if [ -z "$kcat_best" ] || [ "$dt" -lt "$kcat_best" ]; then kcat_best=$dt; fi
done

# floors under the coordinator: librdkafka alone, then librdkafka + the sample codec
raw_line=$("$build/tests/bench/bench_consume" --kafka-brokers="$KAFKA_BROKERS" --topic="$topic" \
    --expect="$samples" --log-level=WARNING) || { echo "bench_consume failed"; exit 1; }
dec_line=$("$build/tests/bench/bench_consume" --kafka-brokers="$KAFKA_BROKERS" --topic="$topic" \
    --expect="$samples" --decode --log-level=WARNING) || { echo "bench_consume --decode failed"; exit 1; }
echo "# $raw_line"
echo "# $dec_line"
raw_rate=$(echo "$raw_line" | sed 's/.*: \([0-9]*\) messages\/s.*/\1/')
dec_rate=$(echo "$dec_line" | sed 's/.*: \([0-9]*\) messages\/s.*/\1/')

# the coordinator: a fresh group reads the topic from the beginning
port=$(bench_free_port)
t_start=$(bench_now_ns)
bench_coordinator "$work/coordinator.log" "$port" TOPIC_PREFIX="$prefix" \
    COORDINATOR_GROUP="bench-ingest-$$" COORDINATOR_ID="bench-ingest-$$" \
    PARTITIONS="$partitions" MAX_SAMPLE_SKEW=1h INSTANCE_TTL=1h SCALING_COOLDOWN=300 \
    MAX_SERVICES=$((services * 2 > 1000 ? services * 2 : 1000)) LOG_LEVEL=WARNING
t_ready=$(bench_now_ns)
t_first=""
deadline=$(( $(date +%s) + 600 ))
while :; do
    c=$(bench_metric "$port" crescendo_coordinator_samples_consumed_total)
    now=$(bench_now_ns)
    if [ -z "$t_first" ] && [ "${c%.*}" -gt 0 ]; then t_first=$now; c_first=${c%.*}; fi
    if [ "${c%.*}" -ge "$samples" ]; then t_done=$now; break; fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "coordinator consumed only $c of $samples in 600 s"; exit 1; }
    sleep 0.02
done
rejected=$(bench_metric "$port" crescendo_coordinator_samples_rejected_total)
dups=$(bench_metric "$port" crescendo_coordinator_samples_duplicate_total)
svcs=$(bench_metric "$port" crescendo_coordinator_services)
bench_stop "$bench_coord_pid"

awk -v n="$samples" -v k="$kcat_best" -v ts="$t_start" -v tr="$t_ready" -v tf="$t_first" \
    -v cf="$c_first" -v td="$t_done" -v rej="$rejected" -v dup="$dups" -v sv="$svcs" \
    -v rr="$raw_rate" -v dr="$dec_rate" 'BEGIN {
    kr = n / (k / 1e9)
    steady = (n - cf) / ((td - tf) / 1e9)
    e2e = n / ((td - tr) / 1e9)
    printf "kcat -C -e (raw, to EOF):           %9.0f samples/s (%.3f s)\n", kr, k / 1e9
    printf "librdkafka consumer, no decoding:   %9.0f samples/s (%.2f of kcat)\n", rr, rr / kr
    printf "librdkafka consumer + sample codec: %9.0f samples/s (%.2f of kcat)\n", dr, dr / kr
    printf "coordinator, ready -> all consumed: %9.0f samples/s (%.3f s; start-up to ready %.2f s)\n", e2e, (td - tr) / 1e9, (tr - ts) / 1e9
    printf "coordinator, first -> last sample:  %9.0f samples/s (%.3f s)\n", steady, (td - tf) / 1e9
    printf "ratio coordinator/kcat: %.2f (ready -> all), %.2f (first -> last); target >= 0.8: %s\n", e2e / kr, steady / kr, (e2e / kr >= 0.8 ? "met" : "NOT met")
    printf "coordinator counters: rejected %d, duplicates %d, services %d\n", rej, dup, sv
}'
