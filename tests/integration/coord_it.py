"""Helpers for the coordinator integration tests (test_coordinator_*.py): start and stop
crescendo-coordinator processes, produce samples and control commands with kcat, read the
decisions, commands and state topics back (read_committed, as any subscriber would)."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BROKERS = os.environ.get("KAFKA_BROKERS", "")
BUILD = os.environ.get("CRESC_BUILD", "")
COORD = os.path.join(BUILD, "coordinator", "crescendo-coordinator")
LOG_DIRS = []  # coordinator log dirs of this test, removed by passed() and kept on failure


def passed():
    """Remove the coordinators' log dirs: call at the end of a test that passed."""
    for d in LOG_DIRS:
        shutil.rmtree(d, ignore_errors=True)


def fail(msg):
    for d in LOG_DIRS:
        print("(coordinator logs kept in %s)" % d)
    print("FAIL: " + msg)
    sys.stdout.flush()
    raise SystemExit(1)


def check(cond, msg):
    if not cond:
        fail(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Coordinator:
    """One crescendo-coordinator process; stderr goes to a log file we can grep."""

    def __init__(self, name, prefix, env_extra=None):
        self.name = name
        self.port = free_port()
        self.logdir = tempfile.mkdtemp(prefix="coord-it-")
        LOG_DIRS.append(self.logdir)
        self.log_path = os.path.join(self.logdir, name + ".log")
        env = dict(os.environ)
        env.update({
            "KAFKA_BROKERS": BROKERS,
            "TOPIC_PREFIX": prefix,
            "COORDINATOR_ID": name,
            "COORDINATOR_GROUP": prefix + "coordinators",
            "HEALTH_PORT": str(self.port),
            "HEALTH_ADDR": "127.0.0.1",
            "PARTITIONS": "2",
            "SESSION_TIMEOUT": "6s",
            "LOG_LEVEL": "INFO",
        })
        env.update(env_extra or {})
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([COORD], env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def http(self, path):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=2) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()
        except OSError:
            return 0, ""

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail("%s exited early (rc %s):\n%s" % (self.name, self.proc.returncode, self.text()[-3000:]))
            if self.http("/readyz")[0] == 200:
                return
            time.sleep(0.2)
        fail("%s not ready after %d s:\n%s" % (self.name, timeout, self.text()[-3000:]))

    def wait_log(self, needle, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if needle in self.text():
                return True
            time.sleep(0.2)
        return False

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def term(self, timeout=30):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("%s did not exit within %d s of SIGTERM" % (self.name, timeout))

    def stop_quietly(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def produce(topic, records):
    """records: list of (key, dict) produced with kcat, key\\tjson per line."""
    lines = "".join("%s\t%s\n" % (k, json.dumps(v, separators=(",", ":"))) for k, v in records)
    r = subprocess.run(["kcat", "-P", "-b", BROKERS, "-t", topic, "-K", "\t"], input=lines.encode(),
                       capture_output=True, timeout=30)
    if r.returncode != 0:
        fail("kcat produce to %s: %s" % (topic, r.stderr.decode()))


def consume(topic, committed=True):
    """Every record of the topic so far: list of (partition, offset, key, dict or None)."""
    fmt = "%p\t%o\t%k\t%s\n"
    args = ["kcat", "-C", "-b", BROKERS, "-t", topic, "-e", "-q", "-f", fmt,
            "-X", "isolation.level=" + ("read_committed" if committed else "read_uncommitted"),
            # a short fetch wait lets a topic written every tick still reach its end (EOF)
            "-X", "fetch.wait.max.ms=10"]
    r = subprocess.run(args, capture_output=True, timeout=60)
    if r.returncode != 0:
        err = r.stderr.decode()
        if "Unknown topic" in err or "UNKNOWN_TOPIC" in err:
            return []
        fail("kcat consume %s: %s" % (topic, err))
    out = []
    for line in r.stdout.decode().splitlines():
        parts = line.split("\t", 3)
        if len(parts) < 4:
            continue
        value = json.loads(parts[3]) if parts[3] else None
        out.append((int(parts[0]), int(parts[1]), parts[2], value))
    return out


def latest_state(prefix, service):
    """The newest committed snapshot of a service (highest owner_epoch, then state_seq)."""
    best = None
    for _p, _o, key, v in consume(prefix + "state"):
        if key != service or v is None:
            continue
        rank = (v["owner_epoch"], v["state_seq"])
        if best is None or rank >= (best["owner_epoch"], best["state_seq"]):
            best = v
    return best


def commands(prefix, service):
    return [v for _p, _o, k, v in consume(prefix + "commands") if k == service and v is not None]


class SampleSource:
    """Agents of one service, as recorded samples: one sample per instance per push."""

    def __init__(self, prefix, service, instances):
        self.topic = prefix + "samples"
        self.service = service
        self.instances = ["%s-%d" % (service, i) for i in range(instances)]
        self.seq = 0

    def push(self, cpu, mem=30.0, req=5.0):
        self.seq += 1
        now = int(time.time() * 1000)
        recs = []
        for inst in self.instances:
            recs.append((self.service, {
                "schema_version": 1, "service": self.service, "instance_id": inst, "node": "node-1",
                "seq": self.seq, "ts_ms": now, "interval_ms": 500, "dropped": 0,
                "cpu_pct": cpu, "mem_pct": mem, "req_per_s": req, "active_connections": 3,
            }))
        produce(self.topic, recs)


def control(prefix, service, request_id, ctype, **fields):
    msg = {"schema_version": 1, "request_id": request_id, "service": service, "type": ctype,
           "issued_at_ms": int(time.time() * 1000)}
    msg.update(fields)
    produce(prefix + "control", [(service, msg)])


def wait_ack(prefix, service, request_id, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = latest_state(prefix, service)
        if st is not None:
            for a in st.get("acks", []):
                if a["request_id"] == request_id:
                    return a, st
        time.sleep(0.5)
    fail("request %s for %s never acknowledged in the state" % (request_id, service))
