#!/usr/bin/env bash
# README command 2: installs what is missing, builds, and runs the whole test suite:
#   1. Debian packages and the Kafka broker jars (scripts/install-deps.sh --kafka)
#   2. build with -Werror (build-test/), unit tests (ctest -L unit), integration tests against
#      a real Kafka broker (tests/integration/run.sh; KAFKA_BROKERS set = use that cluster)
#   3. clang-format check over every tracked *.c/*.h
#   4. the same build + unit + integration tests again with AddressSanitizer + UBSan (build-asan/)
#   5. a short libFuzzer run of every tests/fuzz target (clang, build-fuzz/)
# Last line: "N passed, N failed" over all suites; exit status non-zero on any failure.
#
#   scripts/test.sh [--quick] [--no-install] [--no-asan] [--no-integration] [--no-fuzz] [-k PATTERN]
#     --quick           skip the sanitizer pass and the fuzzing (developer loop); --no-asan is the same
#     --no-fuzz         skip the short libFuzzer run (tests/fuzz/run.sh, FUZZ_SECONDS per target, default 5)
#     --no-install      don't run install-deps.sh
#     --no-integration  unit tests and format check only
#     -k PATTERN        only integration tests whose name contains PATTERN
set -uo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$src"

asan=1 fuzz=1 install=1 integration=1 pattern=""
while [ $# -gt 0 ]; do
    case "$1" in
    --quick | --no-asan) asan=0 fuzz=0 ;;
    --no-fuzz) fuzz=0 ;;
    --no-install) install=0 ;;
    --no-integration) integration=0 ;;
    -k) pattern=$2; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

t_start=$SECONDS
logdir=$(mktemp -d /tmp/crescendo-test.XXXXXX)
total_pass=0
total_fail=0
summary=()
broker_dir=""

note() { printf '\n== %s (%d s)\n' "$*" $((SECONDS - t_start)); }
record() { # SUITE PASSED FAILED
    total_pass=$((total_pass + $2))
    total_fail=$((total_fail + $3))
    summary+=("$(printf '%-28s %3d passed, %3d failed' "$1" "$2" "$3")")
}
asan_pid=""
cleanup() {
    # The background sanitizer build is a process group of its own (setsid): stop all of it.
    if [ -n "$asan_pid" ] && kill -0 "$asan_pid" 2>/dev/null; then
        kill -TERM -- "-$asan_pid" 2>/dev/null || true
    fi
    if [ -n "$broker_dir" ]; then
        "$src/scripts/kafka.sh" stop "$broker_dir" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ "$install" = 1 ]; then
    note "installing dependencies"
    if ! "$src/scripts/install-deps.sh" --kafka; then
        echo "test.sh: installing the dependencies failed"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

jobs=$(nproc 2>/dev/null || echo 2)

# build DIR NAME EXTRA_CMAKE_ARGS...: configure + build; 0 on success.
build() {
    local dir=$1 name=$2
    shift 2
    if ! cmake -S "$src" -B "$dir" -G Ninja -DCRESC_WERROR=ON "$@" >"$logdir/cmake-$name.log" 2>&1; then
        tail -50 "$logdir/cmake-$name.log"
        return 1
    fi
    if ! ninja -C "$dir" -j "$jobs" >"$logdir/build-$name.log" 2>&1; then
        grep -E 'error|FAILED' "$logdir/build-$name.log" | head -60
        return 1
    fi
    echo "built $dir ($(grep -c 'Building C' "$logdir/build-$name.log") objects)"
}

# unit DIR NAME: ctest -L unit; records the counts.
unit() {
    local dir=$1 name=$2 out total failed
    ctest --test-dir "$dir" -L unit --output-on-failure -j "$jobs" --timeout 300 \
        >"$logdir/unit-$name.log" 2>&1
    grep -E '^ *[0-9]+/[0-9]+ Test' "$logdir/unit-$name.log" | sed 's/^ *//'
    out=$(grep -E 'tests? failed out of [0-9]+' "$logdir/unit-$name.log" | tail -1)
    if [ -z "$out" ]; then
        tail -40 "$logdir/unit-$name.log"
        record "unit ($name)" 0 1
        return
    fi
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$out")
    failed=$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$out")
    if [ "$failed" -gt 0 ]; then
        # Show what failed (ctest already printed the output of the failing tests).
        sed -n '/The following tests FAILED/,$p' "$logdir/unit-$name.log"
        grep -B2 -A30 -E '\[  FAILED  \]|\*\*\*Failed|Exception' "$logdir/unit-$name.log" | head -120
    fi
    record "unit ($name)" $((total - failed)) "$failed"
}

# integration DIR NAME: tests/integration/run.sh; records the counts from its last line.
integration() {
    local dir=$1 name=$2 last
    local args=(-b "$dir")
    [ -n "$pattern" ] && args+=(-k "$pattern")
    "$src/tests/integration/run.sh" "${args[@]}" 2>&1 | tee "$logdir/integration-$name.log"
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logdir/integration-$name.log" | tail -1)
    if [ -z "$last" ]; then
        record "integration ($name)" 0 1
        return
    fi
    record "integration ($name)" "$(cut -d' ' -f1 <<<"$last")" "$(cut -d' ' -f3 <<<"$last")"
}

# tests DIR NAME: unit tests, then integration tests, of one build.
tests() {
    note "unit tests ($2)"
    unit "$1" "$2"
    if [ "$integration" = 1 ]; then
        note "integration tests ($2)"
        integration "$1" "$2"
    fi
}

# built NAME STATUS: records a build's outcome; 0 when it can be tested.
built() {
    if [ "$2" -ne 0 ]; then
        echo "test.sh: the $1 build failed (log: $logdir/build-$1.log)"
        record "build ($1)" 0 1
        return 1
    fi
    record "build ($1)" 1 0
}

# One broker for both passes (each test uses its own topic prefix). If it cannot start here,
# run.sh tries again and fails loudly with the broker's log.
if [ "$integration" = 1 ] && [ -z "${KAFKA_BROKERS:-}" ]; then
    note "starting a Kafka broker"
    broker_dir="$logdir/kafka"
    if out=$("$src/scripts/kafka.sh" start "$broker_dir"); then
        export KAFKA_BROKERS=${out#KAFKA_BROKERS=}
    else
        echo "test.sh: the Kafka broker did not start; the integration suites will report it"
        broker_dir=""
    fi
fi

note "build (normal): $src/build-test"
build "$src/build-test" normal -DCMAKE_BUILD_TYPE=RelWithDebInfo
normal_ok=$?

# The integration tests mostly wait (timeouts, failovers, broker starts), so the sanitizer
# build runs meanwhile, niced so the tests keep the CPU when they want it.
if [ "$asan" = 1 ]; then
    note "build (asan) started in the background: $src/build-asan"
    setsid nice -n 15 bash -c "$(declare -f build); src='$src' logdir='$logdir' jobs='$jobs'; build '$src/build-asan' asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRESC_SANITIZE=ON" \
        >"$logdir/asan-build.out" 2>&1 &
    asan_pid=$!
fi

built normal "$normal_ok" && tests "$src/build-test" normal

note "clang-format check"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    mapfile -t files < <(git -C "$src" ls-files '*.c' '*.h')
else
    mapfile -t files < <(cd "$src" && find agent coordinator api shared tests -name '*.[ch]')
fi
bad=()
for f in "${files[@]}"; do
    if ! clang-format --dry-run --Werror "$src/$f" >/dev/null 2>&1; then
        bad+=("$f")
    fi
done
if [ ${#bad[@]} -eq 0 ]; then
    echo "clang-format: ${#files[@]} files clean"
    record "clang-format" 1 0
else
    echo "clang-format: ${#bad[@]} of ${#files[@]} files need formatting (run clang-format -i):"
    printf '    %s\n' "${bad[@]}"
    clang-format --dry-run "${bad[@]/#/$src/}" 2>&1 | head -40
    record "clang-format" 0 1
fi

if [ -n "$asan_pid" ]; then
    note "build (asan): waiting for it"
    wait "$asan_pid"
    asan_ok=$?
    cat "$logdir/asan-build.out"
    # LeakSanitizer needs ptrace-like thread suspension, which some containers forbid: probe it
    # once and keep ASan + UBSan (without leak checks) where it cannot work, saying so.
    leaks=1
    probe=$logdir/lsan-probe
    printf '#include <stdlib.h>\nint main(void){void *p = malloc(7); p = 0; return p != 0;}\n' >"$probe.c"
    if cc -fsanitize=address -g -o "$probe" "$probe.c" 2>/dev/null; then
        "$probe" >"$probe.out" 2>&1
        grep -q 'detected memory leaks' "$probe.out" || leaks=0
    fi
    [ "$leaks" = 0 ] && echo "test.sh: LeakSanitizer does not work here; leak checks off for this pass"
    export ASAN_OPTIONS="detect_leaks=$leaks:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    export LSAN_OPTIONS="suppressions=$src/tests/lsan.supp:print_suppressions=0"
    # Tests that measure memory read this: ASan's quarantine and shadow memory make RSS
    # growth figures meaningless in this pass.
    export CRESC_SANITIZED=1
    built asan "$asan_ok" && tests "$src/build-asan" asan
fi

# Fuzzing: a clang build of the fuzz targets, each run for FUZZ_SECONDS (the corpus itself is
# replayed by the unit tests of both passes: fuzz_replay_*).
if [ "$fuzz" = 1 ]; then
    note "fuzzing (${FUZZ_SECONDS:-5} s per target)"
    if nice -n 5 "$src/tests/fuzz/run.sh" -t "${FUZZ_SECONDS:-5}" -b "$src/build-fuzz" >"$logdir/fuzz.log" 2>&1; then
        grep -E '^(ok|FAIL) ' "$logdir/fuzz.log"
        record "fuzz" 1 0
    else
        tail -n 40 "$logdir/fuzz.log"
        record "fuzz" 0 1
    fi
fi

note "summary"
printf '%s\n' "${summary[@]}"
echo "total time $((SECONDS - t_start)) s; logs in $logdir"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
