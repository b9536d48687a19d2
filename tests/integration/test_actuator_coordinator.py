#!/usr/bin/env python3
"""End to end: crescendo-coordinator with ACTUATOR=kubernetes pointed at a stand-in API server
(actuator_standin.py, which checks method, path, headers and body). CPU over the threshold
must lead to one PATCH of .../deployments/<service>/scale with {"spec":{"replicas":3}} and the
bearer token, and the service's state on <prefix>state must show actuator "kubernetes" with
status "ok". A service whose name is not a valid Kubernetes name gets its error reported in
its state's actuator_status, and the coordinator keeps running. Needs KAFKA_BROKERS,
CRESC_BUILD, CRESC_SOURCE; kcat."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BROKERS = os.environ.get("KAFKA_BROKERS", "")
BUILD = os.environ.get("CRESC_BUILD", "")
SOURCE = os.environ.get("CRESC_SOURCE", "")
PREFIX = "it_actcoord_%d." % os.getpid()


def fail(msg):
    print("FAIL: " + msg)
    sys.stdout.flush()
    raise SystemExit(1)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def kcat_produce(topic, key, values):
    data = "".join(json.dumps(v, separators=(",", ":")) + "\n" for v in values)
    r = subprocess.run(["kcat", "-P", "-b", BROKERS, "-t", topic, "-k", key],
                       input=data.encode(), capture_output=True, timeout=30)
    if r.returncode != 0:
        fail("kcat -P %s: %s" % (topic, r.stderr.decode()[-300:]))


def latest_state(service):
    r = subprocess.run(["kcat", "-C", "-b", BROKERS, "-t", PREFIX + "state", "-o", "beginning",
                        "-e", "-q", "-f", "%k\t%s\n"], capture_output=True, timeout=60)
    last = None
    for line in r.stdout.decode().splitlines():
        key, _, value = line.partition("\t")
        if key == service and value:
            last = json.loads(value)
    return last


def samples(service, cpu, seq):
    now = int(time.time() * 1000)
    return [{"schema_version": 1, "service": service, "instance_id": "%s-%s" % (service, i),
             "node": "node-" + i, "seq": seq, "ts_ms": now, "interval_ms": 1000,
             "cpu_pct": cpu, "mem_pct": 30.0} for i in ("a", "b")]


def main():
    if not BROKERS or not BUILD or not SOURCE:
        fail("KAFKA_BROKERS, CRESC_BUILD and CRESC_SOURCE are required")
    work = tempfile.mkdtemp(prefix="it_actcoord_")
    token = "tok-%d" % os.getpid()
    with open(os.path.join(work, "token"), "w") as f:
        f.write(token + "\n")
    standin = subprocess.Popen([sys.executable,
                                os.path.join(SOURCE, "tests", "integration",
                                             "actuator_standin.py"),
                                "--port-file", os.path.join(work, "port"),
                                "--log", os.path.join(work, "req.log"), "--token", token])
    coord = None
    log = open(os.path.join(work, "coordinator.log"), "w")
    try:
        for _ in range(100):
            if os.path.exists(os.path.join(work, "port")):
                break
            time.sleep(0.05)
        api_port = int(open(os.path.join(work, "port")).read())
        port = free_port()
        env = dict(os.environ, TOPIC_PREFIX=PREFIX, HEALTH_PORT=str(port),
                   HEALTH_ADDR="127.0.0.1", COORDINATOR_GROUP="it-actcoord-%d" % os.getpid(),
                   COORDINATOR_ID="it-actcoord-%d" % os.getpid(), MIN_INSTANCES="2",
                   MAX_INSTANCES="10", CPU_THRESHOLD="70", SCALING_COOLDOWN="300",
                   SAMPLE_WINDOW="0", TICK="500ms", STATE_INTERVAL="0", LOG_LEVEL="INFO",
                   ACTUATOR="kubernetes", ACTUATOR_K8S_API_URL="http://127.0.0.1:%d" % api_port,
                   ACTUATOR_K8S_NAMESPACE="prod",
                   ACTUATOR_K8S_TOKEN_FILE=os.path.join(work, "token"),
                   ACTUATOR_K8S_CA_FILE="", ACTUATOR_RETRIES="2",
                   ACTUATOR_BACKOFF_INITIAL="20ms", ACTUATOR_BACKOFF_MAX="50ms")
        coord = subprocess.Popen([os.path.join(BUILD, "coordinator", "crescendo-coordinator")],
                                 env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=1) as r:
                    if r.status == 200:
                        break
            except Exception:
                pass
            if coord.poll() is not None or time.time() > deadline:
                fail("coordinator not ready (exit %s): %s" %
                     (coord.poll(), open(log.name).read()[-800:]))
            time.sleep(0.1)

        kcat_produce(PREFIX + "samples", "music-generator", samples("music-generator", 95.0, 1))
        reqs = []
        end = time.time() + 30
        while time.time() < end and not reqs:
            if os.path.exists(os.path.join(work, "req.log")):
                reqs = [json.loads(l) for l in open(os.path.join(work, "req.log"))]
            time.sleep(0.1)
        if not reqs:
            fail("no request reached the stand-in API server; log: %s" %
                 open(log.name).read()[-800:])
        r = reqs[0]
        if r["problems"]:
            fail("stand-in found problems: %s" % r["problems"])
        if r["path"] != "/apis/apps/v1/namespaces/prod/deployments/music-generator/scale":
            fail("path %s" % r["path"])
        if r["body"] != {"spec": {"replicas": 3}}:
            fail("body %s" % r["body"])
        if r["auth"] != "Bearer " + token:
            fail("Authorization %r" % r["auth"])
        print("ok: coordinator PATCHed the scale subresource to 3")

        end = time.time() + 15
        st = None
        while time.time() < end:
            st = latest_state("music-generator")
            if st and st.get("current_instances") == 3 and st.get("actuator_status") == "ok":
                break
            time.sleep(0.3)
        if not st or st.get("actuator") != "kubernetes" or st.get("actuator_status") != "ok":
            fail("state does not show the applied actuator: %s" %
                 {k: st.get(k) for k in ("actuator", "actuator_status", "current_instances")}
                 if st else None)
        print("ok: state shows actuator kubernetes, status ok")

        # Not a Kubernetes name: the actuator cannot apply it; the state says why.
        kcat_produce(PREFIX + "samples", "Bad_Name", samples("Bad_Name", 95.0, 1))
        end = time.time() + 20
        while time.time() < end:
            st = latest_state("Bad_Name")
            if st and "not a valid Kubernetes name" in st.get("actuator_status", ""):
                break
            time.sleep(0.3)
        else:
            fail("the actuator error is not in the state: %s" %
                 (st.get("actuator_status") if st else None))
        print("ok: actuator error reported in the state: %s" % st["actuator_status"])
        if len([l for l in open(os.path.join(work, "req.log"))]) != 1:
            fail("expected exactly one request at the stand-in")
        if coord.poll() is not None:
            fail("coordinator died")

        coord.send_signal(signal.SIGTERM)
        if coord.wait(timeout=30) != 0:
            fail("coordinator exited %s after SIGTERM" % coord.returncode)
        print("PASS")
        return 0
    finally:
        for p in (coord, standin):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        log.close()
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    sys.exit(main())
