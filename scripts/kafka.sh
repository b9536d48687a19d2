#!/usr/bin/env bash
# Runs a real Apache Kafka 4.x broker (KRaft) from the jars Maven Central serves.
# Used by the integration and fault tests and the benchmarks; see docs/testing.md.
#
#   scripts/kafka.sh fetch                 download the broker jars into the cache (idempotent)
#   scripts/kafka.sh start [DIR]           one combined broker+controller on free loopback ports;
#                                          prints KAFKA_BROKERS=host:port, writes DIR/env
#   scripts/kafka.sh start3 [DIR]          three-node cluster (fault tests); same outputs
#   scripts/kafka.sh stop [DIR]            clean stop (SIGTERM, then SIGKILL after 30 s)
#   scripts/kafka.sh kill|pause|resume|restart DIR NODE   fault injection on one node (1..3)
#
# Environment: KAFKA_VERSION (4.4.0), KAFKA_CACHE (~/.cache/crescendo/kafka), KAFKA_HEAP (512m).
set -euo pipefail

KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
LOG4J_VERSION=${LOG4J_VERSION:-2.25.5}
KAFKA_CACHE=${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/crescendo/kafka}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
LIBS="$KAFKA_CACHE/$KAFKA_VERSION/libs"
CLUSTER_ID=4L6g3nShT-eMCtK--X86sw

die() { echo "kafka.sh: $*" >&2; exit 1; }

need_java() {
    if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
        [ "$(id -u)" = 0 ] || die "java 17 and maven are missing; run scripts/install-deps.sh as root"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless maven >/dev/null
    fi
}

cmd_fetch() {
    if [ -f "$LIBS/.complete" ]; then return 0; fi
    need_java
    mkdir -p "$KAFKA_CACHE/$KAFKA_VERSION/pom"
    cat >"$KAFKA_CACHE/$KAFKA_VERSION/pom/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.crescendo</groupId><artifactId>kafka-broker-libs</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
POM
    rm -rf "$LIBS"
    local i
    for i in 1 2 3; do
        if mvn -q -B -f "$KAFKA_CACHE/$KAFKA_VERSION/pom/pom.xml" \
            org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
            -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2; then
            touch "$LIBS/.complete"
            echo "kafka.sh: $(ls "$LIBS" | wc -l) jars in $LIBS" >&2
            return 0
        fi
        echo "kafka.sh: maven failed (try $i), retrying" >&2
        sleep 5
    done
    die "could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION from Maven Central"
}

free_port() {
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'
}

write_log4j() {
    cat >"$1/log4j2.properties" <<'L4J'
status = warn
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = info
rootLogger.appenderRef.out.ref = OUT
logger.req.name = kafka.request.logger
logger.req.level = warn
logger.sc.name = state.change.logger
logger.sc.level = warn
logger.oak.name = org.apache.kafka
logger.oak.level = warn
L4J
}

# write_props DIR NODE CPORT KPORT VOTERS RF
# log.index.size.max.bytes: a fresh partition's index files are sparse and mmap-ed; the first
# index entry faults them in with the disk's read-ahead, zero-filling up to that much per file
# (8 MiB per file with the 8 MiB read-ahead of the CI machines' disk: 1-1.5 s of broker CPU for
# the 18 output partitions a coordinator first writes). 1 MiB still holds an index entry for
# every 4 KiB of a 512 MiB segment.
write_props() {
    local dir=$1 node=$2 cport=$3 kport=$4 voters=$5 rf=$6 isr=1
    [ "$rf" -ge 3 ] && isr=2
    cat >"$dir/node-$node.properties" <<PROPS
process.roles=broker,controller
node.id=$node
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:$cport,CONTROLLER://127.0.0.1:$kport
advertised.listeners=PLAINTEXT://127.0.0.1:$cport
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data-$node
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
offsets.topic.replication.factor=$rf
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
share.coordinator.state.topic.num.partitions=1
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
num.network.threads=2
num.io.threads=2
num.recovery.threads.per.data.dir=1
group.coordinator.threads=1
share.coordinator.threads=1
log.cleaner.backoff.ms=1000
log.index.size.max.bytes=1048576
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
transaction.abort.timed.out.transaction.cleanup.interval.ms=5000
PROPS
}

java_opts() {
    echo "-Xms128m -Xmx$KAFKA_HEAP -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true" \
        "-Dlog4j2.configurationFile=$1/log4j2.properties -Dkafka.logs.dir=$1/logs"
}

launch_node() { # DIR NODE
    local dir=$1 node=$2
    # shellcheck disable=SC2046
    setsid java $(java_opts "$dir") -cp "$LIBS/*" kafka.Kafka "$dir/node-$node.properties" \
        >"$dir/node-$node.log" 2>&1 </dev/null &
    echo $! >"$dir/node-$node.pid"
}

wait_port() { # DIR NODE PORT
    local dir=$1 node=$2 port=$3 deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-90}))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ! kill -0 "$(cat "$dir/node-$node.pid")" 2>/dev/null; then
            tail -40 "$dir/node-$node.log" >&2
            die "broker node $node exited during start (log: $dir/node-$node.log)"
        fi
        [ $SECONDS -ge $deadline ] && { tail -40 "$dir/node-$node.log" >&2; die "broker node $node not ready in time"; }
        sleep 0.2
    done
}

cmd_start_n() { # N DIR
    local n=$1 dir=$2 i voters="" brokers=""
    cmd_fetch
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    write_log4j "$dir"
    declare -a cports kports
    for i in $(seq 1 "$n"); do
        cports[$i]=$(free_port)
        kports[$i]=$(free_port)
        voters="${voters:+$voters,}$i@127.0.0.1:${kports[$i]}"
        brokers="${brokers:+$brokers,}127.0.0.1:${cports[$i]}"
    done
    local rf=1
    [ "$n" -ge 3 ] && rf=3
    local t0=$SECONDS
    for i in $(seq 1 "$n"); do
        write_props "$dir" "$i" "${cports[$i]}" "${kports[$i]}" "$voters" "$rf"
        echo "${cports[$i]}" >"$dir/node-$i.port"
        # shellcheck disable=SC2046
        java $(java_opts "$dir") -cp "$LIBS/*" kafka.tools.StorageTool format -t "$CLUSTER_ID" \
            -c "$dir/node-$i.properties" >"$dir/format-$i.log" 2>&1 ||
            { cat "$dir/format-$i.log" >&2; die "storage format failed for node $i"; }
    done
    for i in $(seq 1 "$n"); do launch_node "$dir" "$i"; done
    for i in $(seq 1 "$n"); do wait_port "$dir" "$i" "${cports[$i]}"; done
    if command -v kcat >/dev/null; then
        local deadline=$((SECONDS + 60))
        until kcat -b "$brokers" -m 5 -L 2>/dev/null | grep -q " $n brokers:"; do
            [ $SECONDS -ge $deadline ] && die "cluster metadata never showed $n brokers"
            sleep 0.5
        done
    fi
    echo "KAFKA_BROKERS=$brokers" >"$dir/env"
    echo "kafka.sh: $n node(s) ready in $((SECONDS - t0)) s at $brokers (dir $dir)" >&2
    echo "KAFKA_BROKERS=$brokers"
}

node_pid() { cat "$1/node-$2.pid" 2>/dev/null || true; }

cmd_stop() {
    local dir=$1 f pid
    for f in "$dir"/node-*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
    done
    for f in "$dir"/node-*.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        local deadline=$((SECONDS + 30))
        while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null || true
        rm -f "$f"
    done
}

case "${1:-}" in
fetch) cmd_fetch ;;
start) cmd_start_n 1 "${2:-$(mktemp -d /tmp/crescendo-kafka.XXXXXX)}" ;;
start3) cmd_start_n 3 "${2:-$(mktemp -d /tmp/crescendo-kafka3.XXXXXX)}" ;;
stop) cmd_stop "${2:?directory}" ;;
kill) kill -KILL "$(node_pid "${2:?dir}" "${3:?node}")" ;;
pause) kill -STOP "$(node_pid "${2:?dir}" "${3:?node}")" ;;
resume) kill -CONT "$(node_pid "${2:?dir}" "${3:?node}")" ;;
restart)
    kill -KILL "$(node_pid "$2" "$3")" 2>/dev/null || true
    sleep 0.5
    launch_node "$2" "$3"
    wait_port "$2" "$3" "$(cat "$2/node-$3.port")"
    ;;
*) sed -n '2,14p' "$0"; exit 2 ;;
esac
