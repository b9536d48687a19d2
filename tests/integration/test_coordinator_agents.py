#!/usr/bin/env python3
"""Issue 5, done-when 1 with real agents: two simulated instances of crescendo-agent (the
`spike` profile: CPU near 95 % for 30-50 % of each cycle, about 30 % otherwise) publish to the
real broker; the coordinator scales the 2-instance service up when the spike comes (command on
<prefix>commands, the platform's log line, the state) and back down once it has passed and the
cooldown is over."""

import os
import signal
import subprocess
import time

import coord_it
from coord_it import (BROKERS, BUILD, Coordinator, check, commands, control, fail, latest_state,
                      wait_ack)

PREFIX = "it_cagents_%d." % os.getpid()
SVC = "music-generator"
AGENT = os.path.join(BUILD, "agent", "crescendo-agent")


def main():
    c = Coordinator("cagents", PREFIX, {
        "MIN_INSTANCES": "2", "MAX_INSTANCES": "10", "SCALING_COOLDOWN": "5", "TICK": "500ms",
        "SAMPLE_WINDOW": "0", "INSTANCE_TTL": "10s"})
    agent = None
    try:
        c.wait_ready()
        # Only CPU decides here: the simulated memory and request rate would otherwise vote
        # too (docs/agent.md shapes), and a short scale-down stabilization keeps the test short.
        control(PREFIX, SVC, "cfg", "config_update", config={
            "memory_threshold": 95, "request_rate_threshold": 5000,
            "behavior": {"scale_down": {"stabilization_window_s": 0, "select_policy": "max",
                                        "policies": [{"type": "percent", "value": 100,
                                                      "period_s": 15}]}}})
        ack, _ = wait_ack(PREFIX, SVC, "cfg")
        check(ack["status"] == "applied", "config not applied: %s" % ack)

        env = dict(os.environ)
        env.update({"KAFKA_BROKERS": BROKERS, "TOPIC_PREFIX": PREFIX, "SERVICE": SVC,
                    "HEALTH_PORT": "0", "LOG_LEVEL": "WARNING"})
        agent = subprocess.Popen([AGENT, "--simulate", "2", "--profile", "spike",
                                  "--simulate-period", "20s", "--interval", "500ms"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and not commands(PREFIX, SVC):
            if agent.poll() is not None:
                fail("agent exited: %s" % agent.stderr.read().decode()[-2000:])
            time.sleep(0.5)
        cmds = commands(PREFIX, SVC)
        check(cmds, "no scale command in 60 s of agent samples")
        up = cmds[0]
        check(up["from"] == 2 and up["to"] == 3 and
              up["reason"] == "Scaling up based on cpu-based-scaling", "first command %s" % up)
        line = ("INFO:crescendo.coordinator:Scaling from 2 to 3 instances: "
                "Scaling up based on cpu-based-scaling")
        check(c.wait_log(line, 5), "log line missing")
        st = latest_state(PREFIX, SVC)
        check(st["current_instances"] >= 3, "state shows %d instances" % st["current_instances"])
        check(st["live_total"] == 2, "state lists %d live instances" % st["live_total"])

        deadline = time.time() + 60
        down = None
        while time.time() < deadline and down is None:
            down = next((x for x in commands(PREFIX, SVC) if x["to"] < x["from"]), None)
            time.sleep(0.5)
        check(down is not None, "never scaled down after the spike: %s" % commands(PREFIX, SVC))
        check(down["reason"].startswith("Scaling down based on"), "reason %r" % down["reason"])
        check(down["issued_at_ms"] - up["issued_at_ms"] >= 5000, "cooldown not honoured")
        print("PASS: agent spike scaled %s" % ["%d->%d" % (x["from"], x["to"])
                                               for x in commands(PREFIX, SVC)])
    finally:
        if agent is not None and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            try:
                agent.wait(timeout=15)
            except subprocess.TimeoutExpired:
                agent.kill()
        c.stop_quietly()


if __name__ == "__main__":
    main()
    coord_it.passed()
