#!/usr/bin/env python3
"""Issue 5, "a deposed owner cannot publish once a newer owner has taken over", on the real
broker: the owner of a busy service is frozen (SIGSTOP) until the group gives its partitions
to the other coordinator, which keeps scaling; then the frozen one is resumed (SIGCONT) with
its stale in-memory state, still convinced it owns the service and due to scale. Whatever it
tries, a read_committed subscriber never sees a command of the old owner after the new
owner's first, no decision id appears twice, and both coordinators end up healthy.

Also SIGTERM leaves the group: with a 30 s session timeout, the survivor of a SIGTERM takes
the service over in a fraction of it (a kill -9 would cost the whole timeout)."""

import os
import signal
import time

import coord_it
from coord_it import (Coordinator, SampleSource, check, commands, consume, fail)

SVC = "music-generator"


def owner_of(cs):
    for c in cs:
        if ("New service %s " % SVC) in c.text() or ("Took over %s:" % SVC) in c.text():
            return c
    return None


def zombie_phase():
    prefix = "it_czomb_%d." % os.getpid()
    env = {"MIN_INSTANCES": "2", "MAX_INSTANCES": "60", "SCALING_COOLDOWN": "4",
           "TICK": "500ms", "SAMPLE_WINDOW": "0", "INSTANCE_TTL": "120s",
           "SESSION_TIMEOUT": "6s"}
    a = Coordinator("czomb-a", prefix, env)
    b = Coordinator("czomb-b", prefix, env)
    try:
        a.wait_ready()
        b.wait_ready()
        time.sleep(2)  # let the group settle on two members
        a.wait_ready()
        b.wait_ready()
        src = SampleSource(prefix, SVC, 2)
        deadline = time.time() + 30
        while not commands(prefix, SVC) and time.time() < deadline:
            src.push(90.0)
            time.sleep(0.3)
        check(commands(prefix, SVC), "no first command")
        owner = owner_of([a, b])
        check(owner is not None, "no coordinator owns %s" % SVC)
        other = b if owner is a else a
        old_epoch = commands(prefix, SVC)[-1]["owner_epoch"]

        owner.proc.send_signal(signal.SIGSTOP)
        frozen_at = time.time()
        before = other.text().count("Took over %s:" % SVC)
        while other.text().count("Took over %s:" % SVC) == before and time.time() - frozen_at < 40:
            src.push(90.0)
            time.sleep(0.3)
        check(other.text().count("Took over %s:" % SVC) > before, "no takeover while frozen")
        # the new owner publishes at least one command of its own (cooldown 4 s, load high)
        deadline = time.time() + 20
        while time.time() < deadline:
            src.push(90.0)
            new = [c for c in commands(prefix, SVC) if c["owner_epoch"] > old_epoch]
            if new:
                break
            time.sleep(0.3)
        check(new, "new owner issued no command")
        owner.proc.send_signal(signal.SIGCONT)
        for _ in range(30):  # the zombie wakes with a due scale-up in memory
            src.push(90.0)
            time.sleep(0.3)
        a.wait_ready(60)
        b.wait_ready(60)

        cmds = commands(prefix, SVC)
        ids = [c["decision_id"] for c in cmds]
        check(len(ids) == len(set(ids)), "duplicated decision ids: %s" % ids)
        first_new = next(i for i, c in enumerate(cmds) if c["owner_epoch"] > old_epoch)
        stale = [c for c in cmds[first_new:] if c["owner_epoch"] <= old_epoch]
        check(not stale, "commands of the deposed owner after the new owner's: %s" % stale)
        epochs = [c["owner_epoch"] for c in cmds]
        check(epochs == sorted(epochs), "owner epochs go backwards: %s" % epochs)
        raw = [v for _p, _o, k, v in consume(prefix + "commands", committed=False) if k == SVC]
        attempted = [c for c in raw if c["owner_epoch"] == old_epoch and
                     c["decision_id"] not in ids]
        print("zombie phase: %d committed commands, epochs %s; %d aborted attempt(s) by the "
              "deposed owner, invisible to read_committed" % (len(cmds), epochs, len(attempted)))
    finally:
        for c in (a, b):
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGCONT)
            c.stop_quietly()


def sigterm_phase():
    prefix = "it_cterm_%d." % os.getpid()
    env = {"SCALING_COOLDOWN": "60", "TICK": "500ms", "SESSION_TIMEOUT": "30s"}
    a = Coordinator("cterm-a", prefix, env)
    b = Coordinator("cterm-b", prefix, env)
    try:
        a.wait_ready()
        b.wait_ready()
        time.sleep(2)
        a.wait_ready()
        b.wait_ready()
        src = SampleSource(prefix, SVC, 2)
        deadline = time.time() + 20
        owner = None
        while owner is None and time.time() < deadline:
            src.push(50.0)
            time.sleep(0.3)
            owner = owner_of([a, b])
        check(owner is not None, "no owner for %s" % SVC)
        other = b if owner is a else a
        before = other.text().count("Took over %s:" % SVC)
        t0 = time.time()
        rc = owner.term()
        check(rc == 0, "SIGTERM exit code %d" % rc)
        while other.text().count("Took over %s:" % SVC) == before and time.time() - t0 < 60:
            time.sleep(0.2)
        took = time.time() - t0
        check(other.text().count("Took over %s:" % SVC) > before, "survivor never took over")
        check(took < 15, "takeover took %.1f s: the stopped coordinator did not leave the group "
              "(session timeout 30 s)" % took)
        print("sigterm phase: exit 0, takeover %.1f s later with a 30 s session timeout" % took)
    finally:
        a.stop_quietly()
        b.stop_quietly()


def main():
    sigterm_phase()
    zombie_phase()
    print("PASS")


if __name__ == "__main__":
    main()
    coord_it.passed()
