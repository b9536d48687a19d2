#!/usr/bin/env python3
"""Issue 5, done-when 1, on the real broker: recorded samples push CPU above the threshold
for a 2-instance service; a scale command to the policy's count appears on <prefix>commands,
the state shows it, the platform's log line is printed; with the load gone and the cooldown
over it scales back down. Also: control commands are acknowledged (applied, rejected with the
reason, not applied twice), /metrics and /readyz answer, and SIGTERM exits 0 after leaving
the group."""

import json
import os
import subprocess
import time

import coord_it
from coord_it import (COORD, Coordinator, SampleSource, check, commands, control, consume, fail,
                      latest_state, wait_ack)

PREFIX = "it_cscale_%d." % os.getpid()
SVC = "music-generator"
COOLDOWN_S = 8


def wait_commands(n, src, cpu, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        src.push(cpu)
        cmds = commands(PREFIX, SVC)
        if len(cmds) >= n:
            return cmds
        time.sleep(0.25)
    fail("expected %d commands within %d s, got %s" % (n, timeout, commands(PREFIX, SVC)))


def main():
    c = Coordinator("cscale", PREFIX, {
        "MIN_INSTANCES": "2", "MAX_INSTANCES": "10", "CPU_THRESHOLD": "70",
        "SCALING_COOLDOWN": str(COOLDOWN_S), "TICK": "250ms", "SAMPLE_WINDOW": "0",
        "INSTANCE_TTL": "10s",
    })
    try:
        c.wait_ready()
        check(c.http("/healthz")[0] == 200, "/healthz is not 200")

        # Short scale-down stabilization so the test need not wait 300 s (PUT /scaling/config).
        control(PREFIX, SVC, "cfg-1", "config_update", config={
            "behavior": {"scale_down": {"stabilization_window_s": 0, "select_policy": "max",
                                        "policies": [{"type": "percent", "value": 100,
                                                      "period_s": 15}]}}})
        ack, st = wait_ack(PREFIX, SVC, "cfg-1")
        check(ack["status"] == "applied", "config update not applied: %s" % ack)
        check(st["config_version"] == 2, "config_version %s, expected 2" % st["config_version"])
        check(st["current_instances"] == 2, "a new service starts at MIN_INSTANCES=2")

        src = SampleSource(PREFIX, SVC, 2)
        up = wait_commands(1, src, 90.0, 30)[0]
        # cpu-based-scaling, threshold mode: ceil(2 x 1.5) = 3 (docs/policies.md)
        check(up["from"] == 2 and up["to"] == 3, "scale-up command %s, expected 2 -> 3" % up)
        check(up["reason"] == "Scaling up based on cpu-based-scaling", "reason %r" % up["reason"])
        check(up["config_version"] == 2, "command names config version %s" % up["config_version"])
        check(not up["manual"], "automatic command marked manual")
        line = "INFO:crescendo.coordinator:Scaling from 2 to 3 instances: Scaling up based on cpu-based-scaling"
        check(c.wait_log(line, 5), "log line missing: %s" % line)

        decisions = [v for _p, _o, k, v in consume(PREFIX + "decisions") if k == SVC]
        match = [d for d in decisions if d["decision_id"] == up["decision_id"]]
        check(len(match) == 1, "the command's decision is not on the decisions topic once")
        check(match[0]["target_instances"] == 3 and match[0]["scale"], "decision %s" % match[0])

        # The policy's count, asked offline with the decision's inputs and the service config.
        st = latest_state(PREFIX, SVC)
        req = {"now_ms": 1000, "current_instances": 2, "config": st["config"],
               "metrics": match[0]["metrics"]}
        ev = subprocess.run([COORD, "evaluate"], input=json.dumps(req).encode(),
                            capture_output=True, timeout=10)
        check(ev.returncode == 0, "evaluate failed: %s" % ev.stderr.decode())
        check(json.loads(ev.stdout)["target_instances"] == up["to"],
              "evaluate says %s, the command %d" % (ev.stdout.decode()[:200], up["to"]))

        deadline = time.time() + 10
        while time.time() < deadline:
            st = latest_state(PREFIX, SVC)
            if st and st["current_instances"] == 3:
                break
            time.sleep(0.3)
        check(st and st["current_instances"] == 3, "state does not show 3 instances")
        check(st["last_scale_at_ms"] > 0 and st["history"]["scale_events"],
              "state has no scale event")

        # Load gone: it scales back down, but not before the cooldown has run.
        down = wait_commands(2, src, 10.0, 40)[1]
        check(down["from"] == 3 and down["to"] == 2, "scale-down command %s, expected 3 -> 2" % down)
        check(down["reason"] == "Scaling down based on composite-scaling" or
              down["reason"].startswith("Scaling down based on"), "reason %r" % down["reason"])
        gap = down["issued_at_ms"] - up["issued_at_ms"]
        check(gap >= COOLDOWN_S * 1000 - 50, "scaled down %d ms after scaling up: cooldown %d s "
              "not honoured" % (gap, COOLDOWN_S))
        check(c.wait_log("Scaling from 3 to 2 instances: " + down["reason"], 5),
              "scale-down log line missing")
        decisions = [v for _p, _o, k, v in consume(PREFIX + "decisions") if k == SVC]
        blocked = [d for d in decisions if any(g["kind"] == "cooldown" for g in d["guards"])]
        check(blocked, "no decision was held back by the cooldown")

        # Manual scale: outside [min, max] rejected with the reason, never clamped.
        control(PREFIX, SVC, "scale-50", "scale", target_instances=50, reason="too many")
        ack, _ = wait_ack(PREFIX, SVC, "scale-50")
        check(ack["status"] == "rejected" and "outside" in ack["reason"], "ack %s" % ack)
        n_before = len(commands(PREFIX, SVC))
        control(PREFIX, SVC, "scale-4", "scale", target_instances=4, reason="match day")
        ack, _ = wait_ack(PREFIX, SVC, "scale-4")
        check(ack["status"] == "applied", "manual scale not applied: %s" % ack)
        # The same request again (a redelivery) is acknowledged once and not applied twice.
        control(PREFIX, SVC, "scale-4", "scale", target_instances=4, reason="match day")
        control(PREFIX, SVC, "prio-x", "priority_upsert", match_id="derby", priority=10,
                resource_allocation=40)
        wait_ack(PREFIX, SVC, "prio-x")
        cmds = commands(PREFIX, SVC)
        manual = [m for m in cmds[n_before:] if m["manual"]]
        check(len(manual) == 1 and manual[0]["to"] == 4 and manual[0]["request_id"] == "scale-4",
              "manual commands %s" % manual)
        st = latest_state(PREFIX, SVC)
        check([a["request_id"] for a in st["acks"]].count("scale-4") == 1, "scale-4 acked twice")
        prio = [p for p in st["priorities"] if p["match_id"] == "derby"]
        check(prio and prio[0]["priority"] == 10 and prio[0]["allocated_pct"] > 0,
              "priority not in the state with its allocation: %s" % st["priorities"])

        code, body = c.http("/metrics")
        check(code == 200, "/metrics %d" % code)
        for name in ("crescendo_coordinator_samples_consumed_total",
                     "crescendo_coordinator_decisions_total",
                     "crescendo_coordinator_commands_total",
                     "crescendo_coordinator_consumer_lag",
                     "crescendo_coordinator_evaluation_seconds_count"):
            check(name in body, "%s missing from /metrics" % name)
        vals = dict(l.rsplit(" ", 1) for l in body.splitlines() if l and not l.startswith("#"))
        check(float(vals["crescendo_coordinator_commands_total"]) >= 3, "commands_total %s" %
              vals["crescendo_coordinator_commands_total"])

        rc = c.term()
        check(rc == 0, "SIGTERM exit code %d" % rc)
        check("leaving the group" in c.text(), "no clean leave on SIGTERM")
        print("PASS: 2 -> 3 -> 2 with cooldown (%d ms apart), manual 2 -> 4, acks, metrics, "
              "SIGTERM" % gap)
    finally:
        c.stop_quietly()


if __name__ == "__main__":
    main()
    coord_it.passed()
