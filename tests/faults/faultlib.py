"""Helpers for the fault scripts (tests/faults/*.py): a three-node Kafka cluster from
scripts/kafka.sh, crescendo daemons as subprocesses with their logs, kcat reads of the topics,
and the accounting checks shared by the scenarios (samples, decisions/commands, API views).
python3 stdlib only."""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("CRESC_BUILD") or os.path.join(SRC, "build-test")
KAFKA_SH = os.environ.get("CRESC_KAFKA_SH") or os.path.join(SRC, "scripts", "kafka.sh")


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg))
    sys.stdout.flush()


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cluster:
    """scripts/kafka.sh start3 in a temp dir (or one node with nodes=1)."""

    def __init__(self, workdir, nodes=3):
        self.dir = os.path.join(workdir, "kafka")
        os.makedirs(self.dir, exist_ok=True)
        cmd = "start3" if nodes == 3 else "start"
        r = subprocess.run([KAFKA_SH, cmd, self.dir], capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise Failure("kafka.sh %s failed: %s %s" % (cmd, r.stdout, r.stderr))
        self.brokers = r.stdout.strip().split("=", 1)[1]
        self.nodes = nodes
        log("cluster up: %s (%s)" % (self.brokers, r.stderr.strip().splitlines()[-1]))

    def fault(self, action, node):
        r = subprocess.run([KAFKA_SH, action, self.dir, str(node)], capture_output=True,
                           text=True, timeout=300)
        if r.returncode != 0:
            raise Failure("kafka.sh %s %s failed: %s %s" % (action, node, r.stdout, r.stderr))

    def stop(self):
        subprocess.run([KAFKA_SH, "stop", self.dir], capture_output=True, timeout=120)

    def metadata(self, topic=None):
        """{topic: {partition: (leader, [replicas], [isrs])}} and the broker count."""
        args = ["kcat", "-L", "-b", self.brokers, "-m", "10"]
        if topic:
            args += ["-t", topic]
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        topics, cur, n_brokers = {}, None, 0
        for line in r.stdout.splitlines():
            m = re.match(r'\s*(\d+) brokers:', line)
            if m:
                n_brokers = int(m.group(1))
            m = re.match(r'\s*topic "([^"]+)" with \d+ partitions:', line)
            if m:
                cur = m.group(1)
                topics[cur] = {}
                continue
            m = re.match(r'\s*partition (\d+), leader (-?\d+), replicas: ([\d,]*), isrs: ([\d,]*)',
                         line)
            if m and cur:
                topics[cur][int(m.group(1))] = (
                    int(m.group(2)), [int(x) for x in m.group(3).split(",") if x],
                    [int(x) for x in m.group(4).split(",") if x])
        return topics, n_brokers

    def wait_isr_full(self, topics, timeout=120):
        """Every partition of `topics` has all replicas back in sync."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            md, n = self.metadata()
            ok = n == self.nodes
            for t in topics:
                for _p, (leader, reps, isrs) in md.get(t, {}).items():
                    if leader < 0 or sorted(isrs) != sorted(reps):
                        ok = False
            if ok and all(t in md for t in topics):
                return time.time()
            time.sleep(1)
        raise Failure("ISR not full again within %d s: %s" % (timeout, self.metadata()[0]))


class Proc:
    """A daemon with its log file; env on top of os.environ."""

    def __init__(self, name, argv, env, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, name + ".log")
        self.env = dict(os.environ)
        self.env.update(env)
        self.argv = argv
        self.start()

    def start(self):
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self.log,
                                     stderr=subprocess.STDOUT)

    def text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def term(self, timeout=60):
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "timeout"
        self.log.close()
        return rc


def coordinator(name, workdir, brokers, prefix, extra=None):
    port = free_port()
    env = {"KAFKA_BROKERS": brokers, "TOPIC_PREFIX": prefix, "COORDINATOR_ID": name,
           "COORDINATOR_GROUP": prefix + "coordinators", "HEALTH_PORT": str(port),
           "HEALTH_ADDR": "127.0.0.1", "PARTITIONS": "3", "REPLICATION_FACTOR": "3",
           "SESSION_TIMEOUT": "6s", "TICK": "1s", "LOG_LEVEL": "INFO",
           # short cooldown + a fast load profile: the run scales often (commands to check)
           "SCALING_COOLDOWN": "5"}
    env.update(extra or {})
    p = Proc(name, [os.path.join(BUILD, "coordinator", "crescendo-coordinator")], env, workdir)
    p.port = port
    return p


def agent(name, workdir, brokers, prefix, service, n, profile="matchday", extra=None):
    env = {"KAFKA_BROKERS": brokers, "TOPIC_PREFIX": prefix, "SERVICE": service,
           "LOG_LEVEL": "INFO", "SIMULATE_PERIOD": "120s"}
    env.update(extra or {})
    return Proc(name, [os.path.join(BUILD, "agent", "crescendo-agent"), "--simulate", str(n),
                       "--profile", profile, "--interval", "1s", "--health-port", "0"],
                env, workdir)


def api(name, workdir, brokers, prefix, service, token, port=None, extra=None):
    port = port or free_port()
    env = {"KAFKA_BROKERS": brokers, "TOPIC_PREFIX": prefix, "SERVICE": service,
           "API_PORT": str(port), "API_BIND": "127.0.0.1", "API_TOKEN": token,
           "API_THREADS": "2", "LOG_LEVEL": "INFO"}
    env.update(extra or {})
    p = Proc(name, [os.path.join(BUILD, "api", "crescendo-api")], env, workdir)
    p.port = port
    return p


def req(port, method, path, body=None, headers=None, timeout=10):
    """(status, parsed JSON or raw text); status 0 when the connection failed."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body).encode() if body is not None else None
        h = dict(headers or {})
        if data is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        raw = r.read()
        try:
            return r.status, json.loads(raw)
        except ValueError:
            return r.status, raw.decode(errors="replace")
    except (OSError, http.client.HTTPException):
        return 0, None
    finally:
        c.close()


def wait_http(port, path, want=200, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st, body = req(port, "GET", path, timeout=3)
        if st == want:
            return body
        time.sleep(0.3)
    raise Failure("GET %s on port %d not %d within %d s" % (path, port, want, timeout))


def consume(brokers, topic, committed=True, timeout=300):
    """Every record: list of (partition, offset, key, value dict or None)."""
    fmt = "%p\t%o\t%k\t%s\n"
    args = ["kcat", "-C", "-b", brokers, "-t", topic, "-e", "-q", "-f", fmt,
            "-X", "isolation.level=" + ("read_committed" if committed else "read_uncommitted"),
            "-X", "fetch.wait.max.ms=10"]
    r = subprocess.run(args, capture_output=True, timeout=timeout)
    if r.returncode != 0:
        raise Failure("kcat -C %s: %s" % (topic, r.stderr.decode(errors="replace")[-500:]))
    out = []
    for line in r.stdout.decode(errors="replace").splitlines():
        parts = line.split("\t", 3)
        if len(parts) < 4:
            continue
        try:
            value = json.loads(parts[3]) if parts[3] else None
        except ValueError:
            value = None
        out.append((int(parts[0]), int(parts[1]), parts[2], value))
    return out


def account_samples(records, agent_log):
    """Per instance: delivered seqs gapless except where `dropped` says; no duplicates; and the
    agent's own totals (its "Stopped:" line) match what the topic holds. Returns a summary."""
    per = {}
    dup = 0
    for _p, _o, _k, v in records:
        if not v or "instance_id" not in v:
            continue
        per.setdefault(v["instance_id"], []).append((v["seq"], v.get("dropped", 0)))
    bad = []
    dropped_total = 0
    for inst, items in per.items():
        items.sort()
        prev = 0
        seen = set()
        for seq, dropped in items:
            if seq in seen:
                dup += 1
                continue
            seen.add(seq)
            if seq - prev - 1 != dropped:
                bad.append("%s: seq %d after %d carries dropped=%d (gap %d)"
                           % (inst, seq, prev, dropped, seq - prev - 1))
            dropped_total += dropped
            prev = seq
    delivered = sum(len(set(s for s, _ in v)) for v in per.values())
    stopped = re.findall(r"Stopped: (\d+) samples made, (\d+) delivered, (\d+) dropped, "
                         r"(\d+) failed, (\d+) unsent", agent_log)
    summary = {"instances": len(per), "delivered_in_topic": delivered,
               "duplicates": dup, "dropped_counted": dropped_total, "gap_errors": bad[:10],
               "n_gap_errors": len(bad)}
    if stopped:
        made, deliv, dropped, failed, unsent = (int(x) for x in stopped[-1])
        summary.update({"agent_made": made, "agent_delivered": deliv, "agent_dropped": dropped,
                        "agent_failed": failed, "agent_unsent": unsent})
    return summary


def account_decisions(decisions, commands):
    """decision_ids unique; every automatic command matches one scaling decision (target) and
    every scaling decision has exactly one command."""
    ids = [v["decision_id"] for _p, _o, _k, v in decisions if v]
    dec = {v["decision_id"]: v for _p, _o, _k, v in decisions if v}
    dup_dec = len(ids) - len(set(ids))
    cmd_ids = [v["decision_id"] for _p, _o, _k, v in commands if v and not v.get("manual")]
    dup_cmd = len(cmd_ids) - len(set(cmd_ids))
    problems = []
    for _p, _o, _k, c in commands:
        if not c or c.get("manual"):
            continue
        d = dec.get(c["decision_id"])
        if d is None:
            problems.append("command %s has no decision" % c["decision_id"])
        elif not d.get("scale") or d.get("target_instances") != c["to"]:
            problems.append("command %s to %s but decision says scale=%s target %s"
                            % (c["decision_id"], c["to"], d.get("scale"),
                               d.get("target_instances")))
    cmd_set = set(cmd_ids)
    for did, d in dec.items():
        if d.get("scale") and did not in cmd_set:
            problems.append("scaling decision %s has no command" % did)
    return {"decisions": len(ids), "duplicate_decisions": dup_dec, "commands": len(cmd_ids),
            "manual_commands": sum(1 for *_x, v in commands if v and v.get("manual")),
            "duplicate_commands": dup_cmd, "problems": problems[:10], "n_problems": len(problems)}


# Fields that depend on when the API rendered the answer, not on the state it holds.
TIMING_FIELDS = {"cooldown_remaining_s", "age_s", "view_age_ms"}


def strip_timing(doc):
    if isinstance(doc, dict):
        return {k: strip_timing(v) for k, v in doc.items() if k not in TIMING_FIELDS}
    if isinstance(doc, list):
        return [strip_timing(v) for v in doc]
    return doc


def compare_views(ports, service, timeout=60):
    """GET /scaling/status on every API until the bodies agree (modulo timing fields)."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        bodies = []
        for port in ports:
            st, body = req(port, "GET", "/scaling/status?service=" + service)
            bodies.append((st, strip_timing(body)))
        if all(b == bodies[0] for b in bodies) and bodies[0][0] == 200:
            return bodies[0][1]
        last = bodies
        time.sleep(1)
    diff = []
    if last and isinstance(last[0][1], dict) and isinstance(last[1][1], dict):
        a, b = last[0][1], last[1][1]
        diff = [k for k in set(a) | set(b) if a.get(k) != b.get(k)]
    raise Failure("API views differ after %d s: fields %s" % (timeout, diff or last))


def workdir(name):
    return tempfile.mkdtemp(prefix="crescendo-%s." % name)
