#!/usr/bin/env python3
"""A subscriber that shares no code with crescendo: kcat (librdkafka's CLI) and
python3-jsonschema only, working from the documentation alone (docs/schemas/*.schema.json).

Against a running crescendo-coordinator it produces agent samples (CPU over the threshold) and
two manual scale control commands with kcat, then reads <prefix>decisions and <prefix>commands
back with kcat (read_committed) and validates EVERY message against decision.schema.json and
command.schema.json. Also checks what a subscriber relies on: the Kafka key is the service,
every automatic command names a decision_id that was published on the decisions topic with
the same target (a manual scale has no decision message), automatic and manual commands both appear, an out-of-range manual scale produces no
command. Needs KAFKA_BROKERS, CRESC_BUILD, CRESC_SOURCE."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import jsonschema

BROKERS = os.environ.get("KAFKA_BROKERS", "")
BUILD = os.environ.get("CRESC_BUILD", "")
SOURCE = os.environ.get("CRESC_SOURCE", "")
PREFIX = "it_subscriber_%d." % os.getpid()
SERVICE = "music-generator"


def fail(msg):
    print("FAIL: " + msg)
    sys.stdout.flush()
    raise SystemExit(1)


def schema_validator(name):
    path = os.path.join(SOURCE, "docs", "schemas", name)
    if not os.path.exists(path):
        fail("%s is missing" % path)
    with open(path) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def kcat_produce(topic, key, values):
    data = "".join(json.dumps(v, separators=(",", ":")) + "\n" for v in values)
    r = subprocess.run(["kcat", "-P", "-b", BROKERS, "-t", topic, "-k", key],
                       input=data.encode(), capture_output=True, timeout=30)
    if r.returncode != 0:
        fail("kcat -P %s: %s" % (topic, r.stderr.decode()[-300:]))


def kcat_read(topic):
    """Every committed message of the topic as (key, value text), via kcat -e."""
    r = subprocess.run(["kcat", "-C", "-b", BROKERS, "-t", topic, "-o", "beginning", "-e", "-q",
                        "-X", "isolation.level=read_committed",
                        "-f", "%k\t%S\t%s\n"], capture_output=True, timeout=60)
    if r.returncode != 0:
        fail("kcat -C %s: %s" % (topic, r.stderr.decode()[-300:]))
    out = []
    for line in r.stdout.decode().splitlines():
        if not line:
            continue
        key, size, value = line.split("\t", 2)
        if int(size) != len(value.encode()):
            fail("a %s message contains a newline or tab (size %s): %r" % (topic, size, value))
        out.append((key, value))
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def now_ms():
    return int(time.time() * 1000)


def main():
    if not BROKERS or not BUILD or not SOURCE:
        fail("KAFKA_BROKERS, CRESC_BUILD and CRESC_SOURCE are required")
    coord_bin = os.path.join(BUILD, "coordinator", "crescendo-coordinator")
    if not os.access(coord_bin, os.X_OK):
        fail("%s not built" % coord_bin)
    v_decision = schema_validator("decision.schema.json")
    v_command = schema_validator("command.schema.json")
    v_sample = schema_validator("sample.schema.json")
    v_control = schema_validator("control.schema.json")

    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="it_subscriber_", suffix=".log", delete=False)
    env = dict(os.environ, TOPIC_PREFIX=PREFIX, HEALTH_PORT=str(port), HEALTH_ADDR="127.0.0.1",
               COORDINATOR_GROUP="it-subscriber-%d" % os.getpid(),
               COORDINATOR_ID="it-subscriber-%d" % os.getpid(), MIN_INSTANCES="2",
               MAX_INSTANCES="10", CPU_THRESHOLD="70", SCALING_COOLDOWN="300",
               SAMPLE_WINDOW="0", TICK="500ms", SESSION_TIMEOUT="6s", LOG_LEVEL="INFO")
    proc = subprocess.Popen([coord_bin], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=1) as r:
                    if r.status == 200:
                        break
            except Exception:
                pass
            if proc.poll() is not None or time.time() > deadline:
                fail("coordinator not ready (exit %s); log %s" % (proc.poll(), log.name))
            time.sleep(0.1)

        # Two instances at 95% CPU: the policy scales 2 -> ceil(2 * 95 / 70) = 3.
        samples = []
        for seq in (1, 2):
            for inst in ("a", "b"):
                s = {"schema_version": 1, "service": SERVICE, "instance_id": SERVICE + "-" + inst,
                     "node": "node-" + inst, "seq": seq, "ts_ms": now_ms(), "interval_ms": 1000,
                     "cpu_pct": 95.0, "mem_pct": 40.0, "req_per_s": 12.5,
                     "active_connections": 3}
                v_sample.validate(s)
                samples.append(s)
        kcat_produce(PREFIX + "samples", SERVICE, samples)

        def wait_commands(pred, what, timeout_s=30):
            end = time.time() + timeout_s
            while time.time() < end:
                cmds = [json.loads(v) for _, v in kcat_read(PREFIX + "commands")]
                if pred(cmds):
                    return cmds
                time.sleep(0.3)
            fail("no %s on %scommands within %d s; log %s" % (what, PREFIX, timeout_s, log.name))

        wait_commands(lambda cs: any(not c.get("manual") and c["to"] > c["from"] for c in cs),
                      "automatic scale-up command")
        print("ok: automatic scale-up command published")

        # Manual scales as the API would send them (control schema), one out of range.
        ctl = []
        for rid, target in (("it-sub-up-%d" % os.getpid(), 6),
                            ("it-sub-bad-%d" % os.getpid(), 50),
                            ("it-sub-down-%d" % os.getpid(), 2)):
            c = {"schema_version": 1, "request_id": rid, "service": SERVICE, "type": "scale",
                 "issued_at_ms": now_ms(), "target_instances": target,
                 "reason": "subscriber test"}
            v_control.validate(c)
            ctl.append(c)
        kcat_produce(PREFIX + "control", SERVICE, ctl[:2])
        wait_commands(lambda cs: any(c.get("request_id") == ctl[0]["request_id"] for c in cs),
                      "manual scale command")
        kcat_produce(PREFIX + "control", SERVICE, ctl[2:])
        wait_commands(lambda cs: any(c.get("request_id") == ctl[2]["request_id"] for c in cs),
                      "manual scale-down command")
        time.sleep(1.5)  # a few more ticks of decisions

        # Every message on both topics, validated.
        decisions = kcat_read(PREFIX + "decisions")
        commands = kcat_read(PREFIX + "commands")
        if len(decisions) < 2:
            fail("only %d decisions" % len(decisions))
        by_id = {}
        for key, text in decisions:
            d = json.loads(text)
            errs = sorted(v_decision.iter_errors(d), key=lambda e: list(e.path))
            if errs:
                fail("decision violates decision.schema.json: %s at %s: %s" %
                     (errs[0].message, list(errs[0].path), text[:400]))
            if key != d["service"]:
                fail("decision keyed %r for service %r" % (key, d["service"]))
            if d["decision_id"] in by_id:
                fail("decision_id %s published twice" % d["decision_id"])
            by_id[d["decision_id"]] = d
        seen = set()
        for key, text in commands:
            c = json.loads(text)
            errs = sorted(v_command.iter_errors(c), key=lambda e: list(e.path))
            if errs:
                fail("command violates command.schema.json: %s at %s: %s" %
                     (errs[0].message, list(errs[0].path), text))
            if key != c["service"]:
                fail("command keyed %r for service %r" % (key, c["service"]))
            if c["from"] == c["to"]:
                fail("command that changes nothing: %s" % text)
            if c["decision_id"] in seen:
                fail("two commands for decision %s" % c["decision_id"])
            seen.add(c["decision_id"])
            if c.get("manual"):
                # A manual scale is not an evaluation: no decision message carries its id.
                if not c["decision_id"].startswith(c["service"] + ":"):
                    fail("manual command's decision_id %s" % c["decision_id"])
                continue
            d = by_id.get(c["decision_id"])
            if d is None:
                fail("command %s names a decision that is not on the decisions topic" %
                     c["decision_id"])
            if d.get("target_instances") != c["to"] or not d.get("scale"):
                fail("command to=%d but its decision's target_instances=%s scale=%s" %
                     (c["to"], d.get("target_instances"), d.get("scale")))
        manual = [json.loads(t) for _, t in commands if json.loads(t).get("manual")]
        ids = {c.get("request_id") for c in manual}
        if ctl[1]["request_id"] in ids:
            fail("the out-of-range manual scale produced a command")
        if {ctl[0]["request_id"], ctl[2]["request_id"]} - ids:
            fail("manual commands missing: have %s" % ids)
        if not any(c["to"] < c["from"] for c in manual):
            fail("no scale-down command")
        print("ok: %d decisions and %d commands valid against the schemas; "
              "commands reference published decisions" % (len(decisions), len(commands)))

        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            fail("coordinator did not stop within 30 s of SIGTERM")
        if rc != 0:
            fail("coordinator exited %d after SIGTERM" % rc)
        print("PASS")
        return 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


if __name__ == "__main__":
    sys.exit(main())
