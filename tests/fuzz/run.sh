#!/usr/bin/env bash
# Build every fuzz target with clang (libFuzzer + ASan + UBSan, build-fuzz/) and run each for
# SECONDS (default 20) starting from its checked-in corpus tests/fuzz/corpus/<target>/.
#   tests/fuzz/run.sh [-t SECONDS] [-b BUILD_DIR] [--merge] [TARGET...]
#     -t SECONDS  time per target (CI: a few seconds); FUZZ_SECONDS also works
#     -b DIR      build dir (default build-fuzz/ in the repository)
#     --merge     add the new coverage-increasing inputs to the checked-in corpus (minimised)
#     TARGET      only these targets (e.g. fuzz_msg_state); default: every tests/fuzz/fuzz_*.c
# A crash, leak, UB report or a failed property stops that target; its input is saved under
# the work dir and the script ends with "N targets, N failed" and a non-zero status.
# Every crash found must become a corpus file (replayed by ctest -L unit) and a unit test.
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
secs=${FUZZ_SECONDS:-20}
build="$src/build-fuzz"
merge=0
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
    -t) secs=$2; shift ;;
    -b) build=$2; shift ;;
    --merge) merge=1 ;;
    -h | --help) sed -n '2,11p' "$0"; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1") ;;
    esac
    shift
done

if ! command -v clang >/dev/null 2>&1; then
    for v in 16 15 14; do
        if command -v clang-$v >/dev/null 2>&1; then cc=clang-$v; break; fi
    done
else
    cc=clang
fi
if [ -z "${cc:-}" ]; then
    echo "run.sh: clang not found (apt-get install clang)"
    exit 1
fi

work=$(mktemp -d /tmp/crescendo-fuzz.XXXXXX)
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
echo "== building fuzz targets with $cc in $build"
# The house warning set with -Werror, as in the gcc builds (FUZZ_WERROR=OFF to relax it).
if ! CC=$cc cmake -S "$src" -B "$build" -G Ninja -DCRESC_FUZZ=ON -DCRESC_WERROR="${FUZZ_WERROR:-ON}" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_FLAGS="$flags" >"$work/cmake.log" 2>&1; then
    tail -30 "$work/cmake.log"
    exit 1
fi
if [ ${#targets[@]} -eq 0 ]; then
    for f in "$src"/tests/fuzz/fuzz_*.c; do
        targets+=("$(basename "$f" .c)")
    done
fi
if ! ninja -C "$build" "${targets[@]/#/tests/fuzz/}" >"$work/build.log" 2>&1; then
    grep -E 'error|FAILED' "$work/build.log" | head -40
    exit 1
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
failed=0
for t in "${targets[@]}"; do
    seeds="$src/tests/fuzz/corpus/$t"
    mkdir -p "$work/$t" "$seeds"
    log="$work/$t.log"
    "$build/tests/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/$t-" \
        "$work/$t" "$seeds" >"$log" 2>&1
    rc=$?
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -oE 'cov: [0-9]+' | awk '{print $2}')
    if [ $rc -ne 0 ]; then
        failed=$((failed + 1))
        echo "FAIL $t (exit $rc): $(ls "$work/$t"-* 2>/dev/null | head -3 | tr '\n' ' ')"
        grep -E 'ERROR|SUMMARY|fuzz property|runtime error' "$log" | head -5
        grep -E '^    #[0-9]+ ' "$log" | head -12
    else
        echo "ok   $t: ${execs:-?} inputs in ${secs}s, coverage ${cov:-?} edges, corpus $(ls "$work/$t" | wc -l) new"
    fi
    if [ "$merge" = 1 ] && [ $rc -eq 0 ]; then
        "$build/tests/fuzz/$t" -merge=1 -max_len=65536 "$seeds" "$work/$t" >>"$log" 2>&1
    fi
done
echo "work dir (logs, crash inputs): $work"
echo "${#targets[@]} targets, $failed failed"
[ "$failed" -eq 0 ]
