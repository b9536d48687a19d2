#!/usr/bin/env bash
# Installs what crescendo needs to build, run and test on Debian 12 (apt), idempotently:
# only missing packages are installed, and `apt-get update` runs once, only when needed.
#
#   scripts/install-deps.sh            Debian packages only
#   scripts/install-deps.sh --kafka    also fetch the Kafka broker jars (scripts/kafka.sh fetch)
#
# Runs as root, or through sudo otherwise. Other components append their packages to PACKAGES.
set -euo pipefail

# One package per line; add yours here (keep the comment saying who needs it).
PACKAGES=(
    build-essential cmake ninja-build pkg-config git   # build
    librdkafka-dev libjansson-dev libmicrohttpd-dev     # libraries
    libcurl4-openssl-dev libcmocka-dev                  # libraries, unit tests
    kcat                                                # integration tests (a client we did not write)
    clang clang-format valgrind                         # fuzzing, format check, leak checks
    libclang-rt-14-dev                                  # clang's ASan/libFuzzer runtimes (not pulled by clang without recommends)
    openjdk-17-jre-headless maven ca-certificates       # real Kafka broker from Maven Central
    python3 python3-jsonschema python3-yaml             # schema checks, test helpers
    curl procps                                         # integration tests (HTTP, process checks)
    bsdextrautils                                       # column(1), used by tests/bench/soak.sh
    chromium                                            # dashboard browser test (headless)
    prometheus-node-exporter                            # agent footprint benchmark (tests/bench/bench_agent.sh)
    wrk nginx-light                                     # API benchmark (tests/bench/bench_api.sh)
    openssl                                             # actuator TLS test (tests/integration/test_actuator_https.sh)
)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
want_kafka=0
for arg in "$@"; do
    case "$arg" in
    --kafka) want_kafka=1 ;;
    -h | --help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "install-deps.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done

SUDO=()
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null; then
        SUDO=(sudo)
    else
        echo "install-deps.sh: not root and no sudo; run it as root" >&2
        exit 1
    fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Slim images drop the man directories; the JRE's postinst writes into man1.
    "${SUDO[@]}" mkdir -p /usr/share/man/man1
    "${SUDO[@]}" apt-get update -qq
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
else
    echo "install-deps.sh: all ${#PACKAGES[@]} packages present" >&2
fi

if [ "$want_kafka" = 1 ]; then
    "$here/kafka.sh" fetch
fi
