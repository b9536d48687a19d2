#!/usr/bin/env python3
"""Broker faults on a three-node Kafka cluster (scripts/kafka.sh start3; topics replicated 3x,
min.insync.replicas=2) while simulated instances publish and two coordinators decide, with
two crescendo-api instances reading the state:
  1. kill -9 a broker other than the leader of <prefix>state partition 0, bring it back;
  2. kill -9 the broker that leads <prefix>state partition 0, bring it back;
  3. SIGSTOP a broker for PAUSE_S seconds (default 30), SIGCONT.
Afterwards: every sample accounted for (delivered, or counted in a later sample's `dropped`,
and the agent's own totals agree with the topic), no decision or command lost or duplicated
(unique decision ids, one command per scaling decision and none without one), the state
identical on both APIs (GET /scaling/status modulo timing fields), every daemon alive and
exiting 0 on SIGTERM.

  tests/faults/broker_faults.py [--instances N] [--down S] [--pause S] [--settle S] [--short]
Env: CRESC_BUILD (default build-test/), CRESC_KAFKA_SH. Prints a JSON summary last."""

import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

SERVICE = "faults-svc"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=100)
    ap.add_argument("--down", type=int, default=20, help="seconds a killed broker stays down")
    ap.add_argument("--pause", type=int, default=30, help="seconds a broker stays SIGSTOPped")
    ap.add_argument("--settle", type=int, default=15, help="seconds between faults")
    ap.add_argument("--short", action="store_true",
                    help="CI: 20 instances, only the kill of the state leader, 10 s down")
    a = ap.parse_args()
    faults = ["kill_other", "kill_state_leader", "pause"]
    if a.short:
        a.instances, a.down, a.settle = min(a.instances, 20), 10, 8
        faults = ["kill_state_leader"]

    work = fl.workdir("faults")
    prefix = "faults_%d." % os.getpid()
    summary = {"workdir": work, "instances": a.instances, "faults": []}
    procs = []
    cluster = None
    try:
        cluster = fl.Cluster(work, 3)
        b = cluster.brokers
        c1 = fl.coordinator("coord-a", work, b, prefix)
        time.sleep(2)
        c2 = fl.coordinator("coord-b", work, b, prefix)
        procs += [c1, c2]
        fl.wait_http(c1.port, "/readyz")
        fl.wait_http(c2.port, "/readyz")
        topics = [prefix + t for t in ("samples", "control", "decisions", "commands", "state")]
        md, n = cluster.metadata()
        for t in topics:
            fl.check(t in md, "topic %s not created" % t)
            for p, (_leader, reps, _isrs) in md[t].items():
                fl.check(len(reps) == 3, "%s[%d] has %d replicas, want 3" % (t, p, len(reps)))
        with open(os.path.join(cluster.dir, "node-1.properties")) as f:
            fl.check("min.insync.replicas=2" in f.read(), "the cluster's min.insync.replicas is not 2")
        summary["topics"] = "5 topics, replication factor 3, min.insync.replicas=2 (broker default)"

        ag = fl.agent("agent", work, b, prefix, SERVICE, a.instances)
        procs.append(ag)
        token = "faults-token"
        api1 = fl.api("api-1", work, b, prefix, SERVICE, token)
        api2 = fl.api("api-2", work, b, prefix, SERVICE, token)
        procs += [api1, api2]
        fl.wait_http(api1.port, "/scaling/status", timeout=120)
        fl.wait_http(api2.port, "/scaling/status", timeout=120)
        fl.log("running: %d instances, 2 coordinators, 2 APIs" % a.instances)
        time.sleep(a.settle)

        for fault in faults:
            md, _ = cluster.metadata()
            state_leaders = {p: v[0] for p, v in md[prefix + "state"].items()}
            if fault == "kill_state_leader":
                node = state_leaders[0]
            else:
                # Any broker but the leader of state partition 0 (with three partitions
                # each broker usually leads one of them).
                others = [n for n in (1, 2, 3) if n not in state_leaders.values()]
                others += [n for n in (1, 2, 3) if n != state_leaders[0]]
                node = others[0]
            t0 = time.time()
            if fault == "pause":
                fl.log("SIGSTOP broker %d for %d s" % (node, a.pause))
                cluster.fault("pause", node)
                time.sleep(a.pause)
                cluster.fault("resume", node)
            else:
                fl.log("kill -9 broker %d (%s; state leaders %s), down %d s"
                       % (node, fault, state_leaders, a.down))
                cluster.fault("kill", node)
                time.sleep(a.down)
                cluster.fault("restart", node)
            back = cluster.wait_isr_full(topics, timeout=180)
            for p in procs:
                fl.check(p.alive(), "%s died during %s:\n%s" % (p.name, fault, p.text()[-2000:]))
            # The APIs keep answering reads from their view throughout; check after the fault.
            for p in (api1, api2):
                st, _ = fl.req(p.port, "GET", "/scaling/status")
                fl.check(st == 200, "%s answered %d after %s" % (p.name, st, fault))
            summary["faults"].append({"fault": fault, "broker": node,
                                      "isr_full_after_s": round(back - t0, 1)})
            fl.log("%s on broker %d survived; ISR full %.1f s after the fault"
                   % (fault, node, back - t0))
            time.sleep(a.settle)

        # A config change through the API after the faults (the write path works again).
        st, body = fl.req(api1.port, "PUT", "/scaling/config", {"cpu_threshold": 72},
                           {"Authorization": "Bearer " + token, "Idempotency-Key": "faults-cfg-1"},
                           timeout=30)
        fl.check(st == 200, "PUT /scaling/config after the faults answered %d %s" % (st, body))

        # Stop publishing (the agent flushes), let the coordinators finish, then stop them so
        # the state topic holds its last word, and compare the two API views.
        rc = ag.term(timeout=60)
        fl.check(rc == 0, "agent exit %s on SIGTERM" % rc)
        time.sleep(5)
        for c in (c1, c2):
            rc = c.term(timeout=60)
            fl.check(rc == 0, "%s exit %s on SIGTERM" % (c.name, rc))
        view = fl.compare_views([api1.port, api2.port], SERVICE, timeout=60)
        summary["view"] = {k: view.get(k) for k in ("config_version", "owner_epoch",
                                                    "current_instances")}
        fl.check(view.get("thresholds", {}).get("cpu_pct") == 72.0,
                 "the config change is not in the final view: %s" % view.get("thresholds"))

        s = fl.account_samples(fl.consume(b, prefix + "samples", committed=False), ag.text())
        summary["samples"] = s
        fl.check(s["instances"] == a.instances, "samples from %d instances, want %d"
                 % (s["instances"], a.instances))
        fl.check(s["duplicates"] == 0, "%d duplicate samples" % s["duplicates"])
        fl.check(s["n_gap_errors"] == 0, "sample gaps not accounted for: %s" % s["gap_errors"])
        fl.check("agent_delivered" in s, "the agent did not log its Stopped: totals")
        fl.check(s["agent_delivered"] == s["delivered_in_topic"],
                 "agent says %d delivered, topic holds %d" % (s["agent_delivered"],
                                                             s["delivered_in_topic"]))
        fl.check(s["agent_made"] == s["agent_delivered"] + s["agent_dropped"] +
                 s["agent_failed"] + s["agent_unsent"], "agent totals do not add up: %s" % s)

        d = fl.account_decisions(fl.consume(b, prefix + "decisions"),
                                 fl.consume(b, prefix + "commands"))
        summary["decisions"] = d
        fl.check(d["decisions"] > 0, "no decisions at all")
        fl.check(d["duplicate_decisions"] == 0, "%d duplicate decisions" % d["duplicate_decisions"])
        fl.check(d["duplicate_commands"] == 0, "%d duplicate commands" % d["duplicate_commands"])
        fl.check(d["n_problems"] == 0, "decisions vs commands: %s" % d["problems"])
        for p in (api1, api2):
            rc = p.term(timeout=60)
            fl.check(rc == 0, "%s exit %s on SIGTERM" % (p.name, rc))
        summary["result"] = "PASS"
    except fl.Failure as e:
        summary["result"] = "FAIL: %s" % e
    finally:
        for p in procs:
            if p.alive():
                p.kill9()
        if cluster:
            cluster.stop()
    print(json.dumps(summary, indent=1))
    return 0 if summary["result"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
