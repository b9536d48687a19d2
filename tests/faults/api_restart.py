#!/usr/bin/env python3
"""Restart crescendo-api under load: reader threads poll GET /scaling/status and a writer
PUTs /scaling/config (each with its own Idempotency-Key) while the API gets SIGTERM and is
started again on the same port. Clients may see errors (refused connections, 503 while the
new view loads) only for requests that overlap the restart window (SIGTERM .. first 200 of the
new process); none before or after. The new process rebuilds its view from the state topic:
its config and config_version equal what the writer last got applied.

  tests/faults/api_restart.py [--restarts N] [--readers N]
Env: KAFKA_BROKERS (else a single-node broker is started), CRESC_BUILD."""

import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faultlib as fl  # noqa: E402

SERVICE = "apirestart-svc"
TOKEN = "apirestart-token"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--readers", type=int, default=4)
    a = ap.parse_args()
    work = fl.workdir("apirestart")
    prefix = "apirestart_%d." % os.getpid()
    procs, cluster = [], None
    summary = {"workdir": work}
    stop = threading.Event()
    log = []  # (t_start, t_end, kind, status)
    lock = threading.Lock()
    try:
        brokers = os.environ.get("KAFKA_BROKERS")
        if not brokers:
            cluster = fl.Cluster(work, 1)
            brokers = cluster.brokers
        extra = {"REPLICATION_FACTOR": "-1", "PARTITIONS": "2"}
        procs.append(fl.coordinator("coord", work, brokers, prefix, extra))
        # The coordinator creates the topics; an agent first would auto-create samples with
        # the broker's default partition count.
        fl.wait_http(procs[0].port, "/readyz")
        procs.append(fl.agent("agent", work, brokers, prefix, SERVICE, 10, profile="steady"))
        port = fl.free_port()
        api = fl.api("api", work, brokers, prefix, SERVICE, TOKEN, port=port,
                     extra={"API_WRITE_TIMEOUT": "5s"})
        procs.append(api)
        fl.wait_http(port, "/scaling/status", timeout=120)
        applied = {}

        def reader():
            while not stop.is_set():
                t0 = time.time()
                st, _ = fl.req(port, "GET", "/scaling/status", timeout=5)
                with lock:
                    log.append((t0, time.time(), "read", st))
                time.sleep(0.05)

        def writer():
            i = 0
            while not stop.is_set():
                i += 1
                body = {"cpu_threshold": 60.0 + i % 30}
                t0 = time.time()
                st, resp = fl.req(port, "PUT", "/scaling/config", body,
                                  {"Authorization": "Bearer " + TOKEN,
                                   "Idempotency-Key": "w-%d-%d" % (os.getpid(), i)}, timeout=10)
                with lock:
                    log.append((t0, time.time(), "write", st))
                    if st == 200:
                        applied["cpu_threshold"] = resp["cpu_threshold"]
                time.sleep(0.5)

        threads = [threading.Thread(target=reader) for _ in range(a.readers)]
        threads.append(threading.Thread(target=writer))
        for t in threads:
            t.start()
        windows = []
        time.sleep(5)
        for r in range(a.restarts):
            t_stop = time.time()
            rc = api.term(timeout=60)
            fl.check(rc == 0, "crescendo-api exit %s on SIGTERM" % rc)
            api.start()
            fl.wait_http(port, "/scaling/status", timeout=120)
            t_ready = time.time()
            windows.append((t_stop, t_ready))
            fl.log("restart %d: %.2f s from SIGTERM to the first 200 of the new process"
                   % (r, t_ready - t_stop))
            time.sleep(6)
        stop.set()
        for t in threads:
            t.join()
        # Errors only for requests overlapping a restart window.
        bad, in_window_errors, total = [], 0, len(log)
        for t0, t1, kind, st in log:
            ok = st == 200
            overlaps = any(t0 <= w1 and t1 >= w0 for w0, w1 in windows)
            if not ok and overlaps:
                in_window_errors += 1
            elif not ok:
                bad.append("%s at %.2f answered %d" % (kind, t0, st))
        summary.update({"requests": total, "errors_in_restart_windows": in_window_errors,
                        "errors_outside": len(bad),
                        "restart_s": [round(w1 - w0, 2) for w0, w1 in windows],
                        "writes_applied": sum(1 for x in log if x[2] == "write" and x[3] == 200)})
        fl.check(not bad, "errors outside the restart windows: %s" % bad[:10])
        # The rebuilt view holds the last applied write.
        time.sleep(2)
        st, cfg = fl.req(port, "GET", "/scaling/config")
        fl.check(st == 200 and cfg["cpu_threshold"] == applied.get("cpu_threshold"),
                 "the rebuilt view has cpu_threshold %s, the last applied write set %s"
                 % (cfg.get("cpu_threshold") if isinstance(cfg, dict) else cfg,
                    applied.get("cpu_threshold")))
        for p in procs:
            rc = p.term(timeout=60)
            fl.check(rc == 0, "%s exit %s on SIGTERM" % (p.name, rc))
        summary["result"] = "PASS"
    except fl.Failure as e:
        summary["result"] = "FAIL: %s" % e
    finally:
        stop.set()
        for p in procs:
            if p.alive():
                p.kill9()
        if cluster:
            cluster.stop()
    print(json.dumps(summary, indent=1))
    return 0 if summary["result"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
