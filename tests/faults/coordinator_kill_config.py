#!/usr/bin/env python3
"""kill -9 the coordinator that owns the service while a PUT /scaling/config is in flight
(--rounds times, default 8; the kill lands before the request, as it arrives or while
the owner applies it). The change touches three fields
at once, so a half-applied change would show. Per round:
  - the first answer is 200 (applied), 202 (accepted: must be applied later) or an error
    (503/timeout: reported failed);
  - once a coordinator owns the service again, the config is either entirely the old one (same
    config_version) or entirely the new one (version + 1), never a mix;
  - the client then retries with the same Idempotency-Key until 200: the final config is the
    new one and config_version went up by exactly one (applied once, not twice).
The killed coordinator is restarted each round, so two always compete.

  tests/faults/coordinator_kill_config.py [--rounds N]
Env: KAFKA_BROKERS (else a single-node broker is started), CRESC_BUILD."""

import argparse
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

SERVICE = "cfgkill-svc"
TOKEN = "cfgkill-token"
FIELDS = ("cpu_threshold", "memory_threshold", "max_instances")
KILL_AT_S = (0.0, 0.005, 0.01, 0.02, -0.2, 0.04, 0.003, 0.08)


def services_owned(c):
    st, body = fl.req(c.port, "GET", "/metrics", timeout=3)
    if st != 200 or not isinstance(body, str):
        return None
    for line in body.splitlines():
        if line.startswith("crescendo_coordinator_services "):
            return float(line.split()[1])
    return None


def owner(coords, timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for c in coords:
            if c.alive() and (services_owned(c) or 0) >= 1:
                return c
        time.sleep(0.3)
    raise fl.Failure("no coordinator owns %s within %d s" % (SERVICE, timeout))


def config_of(api_port):
    st, body = fl.req(api_port, "GET", "/scaling/config")
    fl.check(st == 200, "GET /scaling/config answered %d" % st)
    st2, status = fl.req(api_port, "GET", "/scaling/status")
    fl.check(st2 == 200, "GET /scaling/status answered %d" % st2)
    return {k: body[k] for k in FIELDS}, status["config_version"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=8)
    a = ap.parse_args()
    work = fl.workdir("cfgkill")
    prefix = "cfgkill_%d." % os.getpid()
    procs, cluster = [], None
    summary = {"workdir": work, "rounds": []}
    try:
        brokers = os.environ.get("KAFKA_BROKERS")
        if not brokers:
            cluster = fl.Cluster(work, 1)
            brokers = cluster.brokers
        extra = {"REPLICATION_FACTOR": "-1", "PARTITIONS": "2"}
        coords = [fl.coordinator("coord-a", work, brokers, prefix, extra)]
        time.sleep(2)
        coords.append(fl.coordinator("coord-b", work, brokers, prefix, extra))
        procs += coords
        fl.wait_http(coords[0].port, "/readyz")  # topics created before the agent publishes
        ag = fl.agent("agent", work, brokers, prefix, SERVICE, 5, profile="steady")
        api = fl.api("api", work, brokers, prefix, SERVICE, TOKEN,
                     extra={"API_WRITE_TIMEOUT": "8s"})
        procs += [ag, api]
        fl.wait_http(api.port, "/scaling/status", timeout=120)
        rng = random.Random(os.getpid())
        for rnd in range(a.rounds):
            own = owner(coords)
            old, v0 = config_of(api.port)
            new = {"cpu_threshold": 50.0 + rnd, "memory_threshold": 60.0 + rnd,
                   "max_instances": 20 + rnd}
            key = "cfgkill-%d-%d" % (os.getpid(), rnd)
            hdr = {"Authorization": "Bearer " + TOKEN, "Idempotency-Key": key}
            result = {}

            def put():
                result["first"] = fl.req(api.port, "PUT", "/scaling/config", new, hdr,
                                         timeout=30)

            t = threading.Thread(target=put)
            # The kill lands before the PUT (negative), as it arrives, or while the owner
            # applies it (the apply takes a few ms): a different moment each round.
            delay = KILL_AT_S[rnd % len(KILL_AT_S)] + rng.uniform(0.0, 0.003)
            if delay < 0:
                own.kill9()
                time.sleep(-delay)
                t.start()
            else:
                t.start()
                time.sleep(delay)
                own.kill9()
            t.join()
            first = result["first"][0]
            fl.log("round %d: killed %s %.0f ms after the PUT; first answer %d"
                   % (rnd, own.name, delay * 1000, first))
            own.start()  # back as a competitor
            owner(coords)
            # Applied entirely or not at all, whatever the first answer said.
            time.sleep(2)
            mid, v1 = config_of(api.port)
            whole_old = mid == old and v1 == v0
            whole_new = mid == new and v1 == v0 + 1
            fl.check(whole_old or whole_new,
                     "round %d: half applied? before %s v%d, after %s v%d, wanted %s"
                     % (rnd, old, v0, mid, v1, new))
            if first == 200:
                fl.check(whole_new, "round %d: answered 200 but the change is not there" % rnd)
            # Retry with the same key until 200: applied once.
            deadline = time.time() + 90
            answers = []
            while True:
                st, body = fl.req(api.port, "PUT", "/scaling/config", new, hdr, timeout=30)
                answers.append(st)
                if st == 200 or time.time() > deadline:
                    break
                time.sleep(1)
            fl.check(st == 200, "round %d: retries answered %s" % (rnd, answers))
            time.sleep(1)
            final, v2 = config_of(api.port)
            fl.check(final == new, "round %d: final config %s, wanted %s" % (rnd, final, new))
            fl.check(v2 == v0 + 1, "round %d: config_version %d -> %d: applied %d times"
                     % (rnd, v0, v2, v2 - v0))
            summary["rounds"].append({"killed": own.name, "kill_after_ms": round(delay * 1000),
                                      "first_answer": first,
                                      "after_kill": "new" if whole_new else "old",
                                      "retries": answers, "config_version": [v0, v2]})
        for p in procs:
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
