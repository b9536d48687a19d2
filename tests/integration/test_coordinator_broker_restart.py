#!/usr/bin/env python3
"""Issue 5, "a broker restart: the coordinator reconnects and continues; nothing published is
lost", on a real broker of its own (the shared one must not be restarted under other tests):
a coordinator scales a service, the broker is killed and restarted, and afterwards the same
coordinator process keeps deciding (new decisions and a new scale command), its earlier
commands are still there, and no decision id appears twice. Finally SIGTERM with the broker
stopped still exits 0 within 30 s."""

import os
import subprocess
import tempfile
import time

import coord_it
from coord_it import Coordinator, SampleSource, check, commands, consume, fail

SVC = "music-generator"
KAFKA_SH = os.environ.get("CRESC_KAFKA_SH") or os.path.join(
    os.environ.get("CRESC_SOURCE", "."), "scripts", "kafka.sh")


def main():
    kdir = tempfile.mkdtemp(prefix="coord-restart-kafka-")
    coord_it.LOG_DIRS.append(kdir)  # the broker's data and logs: kept only on failure
    r = subprocess.run([KAFKA_SH, "start", kdir], capture_output=True, timeout=180)
    if r.returncode != 0:
        fail("could not start a broker: %s" % r.stderr.decode()[-2000:])
    brokers = r.stdout.decode().strip().split("=", 1)[1]
    coord_it.BROKERS = brokers
    prefix = "it_crestart_%d." % os.getpid()
    c = None
    try:
        c = Coordinator("crestart", prefix, {
            "KAFKA_BROKERS": brokers, "SCALING_COOLDOWN": "3", "TICK": "500ms",
            "SAMPLE_WINDOW": "0", "INSTANCE_TTL": "60s", "MAX_INSTANCES": "40"})
        c.wait_ready()
        src = SampleSource(prefix, SVC, 2)
        deadline = time.time() + 30
        while not commands(prefix, SVC) and time.time() < deadline:
            src.push(90.0)
            time.sleep(0.3)
        before = commands(prefix, SVC)
        check(before, "no command before the restart")
        # calm load: the count stays while the broker is away
        src.push(50.0)
        time.sleep(1.0)
        n_dec = len(consume(prefix + "decisions"))

        r = subprocess.run([KAFKA_SH, "restart", kdir, "1"], capture_output=True, timeout=180)
        check(r.returncode == 0, "broker restart failed: %s" % r.stderr.decode()[-1000:])
        restarted = time.time()

        # after the restart: decisions continue, then a new scale-up goes through
        deadline = time.time() + 90
        while time.time() < deadline:
            if c.proc.poll() is not None:
                fail("coordinator exited after the broker restart:\n" + c.text()[-3000:])
            try:
                if len(consume(prefix + "decisions")) > n_dec + 3:
                    break
            except SystemExit:
                pass  # the broker may still be loading
            time.sleep(1.0)
        check(len(consume(prefix + "decisions")) > n_dec + 3, "no decisions after the restart")
        deadline = time.time() + 60
        while len(commands(prefix, SVC)) <= len(before) and time.time() < deadline:
            src.push(95.0)
            time.sleep(0.5)
        after = commands(prefix, SVC)
        check(len(after) > len(before), "no scale command after the restart:\n" + c.text()[-3000:])
        ids = [x["decision_id"] for x in after]
        check(ids[:len(before)] == [x["decision_id"] for x in before],
              "commands published before the restart were lost")
        check(len(ids) == len(set(ids)), "duplicated decision ids: %s" % ids)
        check(c.http("/readyz")[0] == 200, "not ready after the restart")
        resets = c.text().count("Dropping in-memory state")
        print("PASS: decisions and commands continue %.1f s after the restart; %d reset(s); "
              "commands %s" % (time.time() - restarted, resets,
                               ["%d->%d" % (x["from"], x["to"]) for x in after]))
        # SIGTERM with the broker gone: still exit 0 within Kubernetes' 30 s grace period.
        subprocess.run([KAFKA_SH, "stop", kdir], capture_output=True, timeout=120)
        time.sleep(2)
        t0 = time.time()
        rc = c.term(timeout=30)
        check(rc == 0, "SIGTERM with the broker down: exit code %d" % rc)
        print("SIGTERM with the broker down: exit 0 after %.1f s" % (time.time() - t0))
    finally:
        if c is not None:
            c.stop_quietly()
        subprocess.run([KAFKA_SH, "stop", kdir], capture_output=True, timeout=120)


if __name__ == "__main__":
    main()
    coord_it.passed()
