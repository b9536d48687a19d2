#!/usr/bin/env python3
"""Hostile-input campaign against a real crescendo-api (with a coordinator, a simulating agent
and the broker in KAFKA_BROKERS): several hundred malformed or hostile requests (bad JSON,
wrong types, huge numbers, NaN/Infinity literals, negative counts, deep nesting, long match ids,
encoded slashes, missing or wrong tokens, oversized bodies, wrong methods and content types,
bad query parameters and headers, slow clients). Every answer must be a 4xx whose body is a
JSON object with a non-empty "error"; no 5xx, ever; after every batch the service still answers
/healthz and a valid GET /scaling/status. Slow clients (partial headers or bodies) must not
stop others being served and are cut off within a bounded time. python3 stdlib only.

Env: KAFKA_BROKERS, CRESC_BUILD. HOSTILE_REPORT=FILE writes the per-class counts as JSON."""

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

BROKERS = os.environ.get("KAFKA_BROKERS", "")
BUILD = os.environ.get("CRESC_BUILD", "")
PREFIX = "it_hostile_%d." % os.getpid()
SERVICE = "hostile-svc"
TOKEN = "hostile-token-%d" % os.getpid()
MAX_BODY = 4096
CONN_TIMEOUT_S = 2

procs = []
logdir = tempfile.mkdtemp(prefix="it_hostile.")


def fail(msg):
    print("FAIL: " + msg)
    for name in sorted(os.listdir(logdir)):
        with open(os.path.join(logdir, name), errors="replace") as f:
            print("---- %s (last 25 lines)" % name)
            print("".join(f.readlines()[-25:]))
    sys.stdout.flush()
    raise SystemExit(1)


def start(name, argv, env_extra):
    env = dict(os.environ)
    env.update({"KAFKA_BROKERS": BROKERS, "TOPIC_PREFIX": PREFIX, "SERVICE": SERVICE,
                "LOG_LEVEL": "INFO"})
    env.update(env_extra)
    log = open(os.path.join(logdir, name + ".log"), "w")
    p = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    procs.append(p)
    return p


def stop_all():
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Api:
    def __init__(self):
        self.proc = start("api", [os.path.join(BUILD, "api", "crescendo-api")], {
            "API_PORT": "0", "API_BIND": "127.0.0.1", "API_TOKEN": TOKEN,
            "API_MAX_BODY": str(MAX_BODY), "API_WRITE_TIMEOUT": "2s", "API_THREADS": "2",
            "API_CONNECTION_TIMEOUT": "%ds" % CONN_TIMEOUT_S})
        path = os.path.join(logdir, "api.log")
        self.port = None
        for _ in range(200):
            with open(path) as f:
                m = re.search(r"Listening on http://[^:]+:(\d+)", f.read())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                fail("crescendo-api exited at start")
            time.sleep(0.1)
        if not self.port:
            fail("crescendo-api did not log its port")

    def request(self, method, path, body=None, headers=None, timeout=10):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
            hdrs = dict(headers or {})
            if body is not None:
                if isinstance(body, str):
                    body = body.encode("utf-8", "surrogatepass")
                hdrs.setdefault("Content-Length", str(len(body)))
            for k, v in hdrs.items():
                c.putheader(k, v)
            c.endheaders()
            if body:
                try:
                    c.send(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the server may answer 413 and close before the body is read
            r = c.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        finally:
            c.close()


def raw(port, data, timeout=10):
    """Send raw bytes, return (status or 0 if closed without an answer, body bytes)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        buf = b""
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            buf += chunk
        if not buf:
            return 0, b""
        head, _, body = buf.partition(b"\r\n\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3})", head)
        return (int(m.group(1)) if m else -1), body
    finally:
        s.close()


counts = {}
failures = []


def note(cls, ok, detail):
    c = counts.setdefault(cls, {"sent": 0, "ok": 0})
    c["sent"] += 1
    if ok:
        c["ok"] += 1
    else:
        failures.append("%s: %s" % (cls, detail))


def check_answer(cls, desc, status, headers, body):
    """The contract for every hostile request: 4xx + a JSON object with a non-empty error."""
    if not 400 <= status < 500:
        note(cls, False, "%s -> %d %r" % (desc, status, body[:200]))
        return
    try:
        doc = json.loads(body)
    except ValueError:
        note(cls, False, "%s -> %d with a body that is not JSON: %r" % (desc, status, body[:200]))
        return
    if not isinstance(doc, dict) or not isinstance(doc.get("error"), str) or not doc["error"]:
        note(cls, False, "%s -> %d without an error sentence: %r" % (desc, status, body[:200]))
        return
    if status == 405 and "allow" not in headers:
        note(cls, False, "%s -> 405 without Allow" % desc)
        return
    if status == 401 and "www-authenticate" not in headers:
        note(cls, False, "%s -> 401 without WWW-Authenticate" % desc)
        return
    note(cls, True, "")


def healthy(api, after):
    """The service keeps serving: /healthz and a valid status read."""
    try:
        st, _, body = api.request("GET", "/healthz")
        if st != 200:
            fail("after %s: /healthz answered %d" % (after, st))
        st, _, body = api.request("GET", "/scaling/status")
        if st != 200 or json.loads(body).get("service") != SERVICE:
            fail("after %s: GET /scaling/status answered %d %r" % (after, st, body[:200]))
    except (OSError, http.client.HTTPException, ValueError) as e:
        fail("after %s: the API stopped serving: %s" % (after, e))
    if api.proc.poll() is not None:
        fail("after %s: crescendo-api exited with %s" % (after, api.proc.returncode))


AUTH = {"Authorization": "Bearer " + TOKEN}
JSON_AUTH = dict(AUTH, **{"Content-Type": "application/json"})

BAD_JSON = [
    "", " ", "{", "}", "{\"target_instances\": }", "{'a': 1}", "[1, 2, 3]", "\"string\"", "42",
    "null", "true", "{\"a\": 1,}", "{\"a\" 1}", "{\"a\": 01}", "{\"a\": .5}", "{\"a\": +1}",
    "{\"a\": \"\\x41\"}", "{\"a\": \"\\ud800\"}", "\xff\xfe{}", "{\"a\": 1} trailing",
    "{\"a\": 1}{\"b\": 2}", "{\"a\": NaN}", "{\"a\": Infinity}", "{\"a\": -Infinity}",
    "{\"a\": nan}", "{\"\\u0000\": 1}", "{\"a\": \"\x00\"}", "/* c */ {}",
]
WRITES = [("POST", "/scaling/scale"), ("PUT", "/scaling/config"), ("POST", "/scaling/priorities")]

SCALE_BAD = [
    {"target_instances": "3"}, {"target_instances": True}, {"target_instances": None},
    {"target_instances": []}, {"target_instances": {}}, {"target_instances": 3.5},
    {"target_instances": -1}, {"target_instances": -2147483649}, {"target_instances": 10001},
    {"target_instances": 2 ** 31}, {"target_instances": 2 ** 63}, {"target_instances": 2 ** 64},
    {"target_instances": 10 ** 30}, {"reason": "no target"}, {},
    {"target_instances": 1, "reason": "r" * 256}, {"target_instances": 1, "reason": 5},
    {"target_instances": 1, "extra": 1}, {"target_instances": 1, "reason": ["a"]},
    {"TARGET_INSTANCES": 1},
]
SCALE_RAW = ['{"target_instances": 1e400}', '{"target_instances": -1e400}',
             '{"target_instances": 1e308}', '{"target_instances": NaN}',
             '{"target_instances": Infinity}', '{"target_instances": 1, "target_instances": 2}',
             '{"target_instances": 99999999999999999999999999999999}',
             '{"target_instances": -0.0}', '{"target_instances": 1.0e0}']

CONFIG_BAD = [
    {"min_instances": -1}, {"min_instances": "2"}, {"min_instances": 2.5},
    {"max_instances": 10 ** 12}, {"max_instances": 0, "min_instances": 5},
    {"min_instances": 9, "max_instances": 3}, {"cpu_threshold_up": 0},
    {"cpu_threshold_up": 101}, {"cpu_threshold_up": -5}, {"cpu_threshold_up": "high"},
    {"memory_threshold_up": 1e300}, {"cooldown_s": -1}, {"no_such_field": 1},
    {"policies": "all"}, {"policies": [{}]}, {"policies": [{"type": "nope"}]},
    {"policies": [1, 2, 3]}, {"load_balancer_strategy": "random-ish"},
    {"load_balancer_strategy": 7}, {"min_instances": None}, {"min_instances": [1]},
    {"min_instances": {"value": 1}}, {"scale_up_factor": 0}, {"scale_up_factor": -2},
]
CONFIG_RAW = ['{"min_instances": 1e999}', '{"cpu_threshold_up": NaN}',
              '{"cpu_threshold_up": -Infinity}', '{"min_instances": 1, "min_instances": 2}',
              '{"min_instances": 18446744073709551616}']

PRIORITY_BAD = [
    {"match_id": "m" * 300, "priority": 5, "resource_allocation": 10},
    {"match_id": "", "priority": 5, "resource_allocation": 10},
    {"match_id": "a/b", "priority": 5, "resource_allocation": 10},
    {"match_id": "a b", "priority": 5, "resource_allocation": 10},
    {"match_id": "../etc", "priority": 5, "resource_allocation": 10},
    {"match_id": "m\u00e9", "priority": 5, "resource_allocation": 10},
    {"match_id": "m\n", "priority": 5, "resource_allocation": 10},
    {"match_id": 7, "priority": 5, "resource_allocation": 10},
    {"match_id": "m1", "priority": 0, "resource_allocation": 10},
    {"match_id": "m1", "priority": 11, "resource_allocation": 10},
    {"match_id": "m1", "priority": -3, "resource_allocation": 10},
    {"match_id": "m1", "priority": "5", "resource_allocation": 10},
    {"match_id": "m1", "priority": 5.5, "resource_allocation": 10},
    {"match_id": "m1", "priority": 5, "resource_allocation": 0},
    {"match_id": "m1", "priority": 5, "resource_allocation": -1},
    {"match_id": "m1", "priority": 5, "resource_allocation": 100.0001},
    {"match_id": "m1", "priority": 5, "resource_allocation": "10"},
    {"match_id": "m1", "priority": 5},
    {"priority": 5, "resource_allocation": 10},
    {"match_id": "m1", "priority": 5, "resource_allocation": 10, "extra": True},
]
PRIORITY_RAW = ['{"match_id": "m1", "priority": 5, "resource_allocation": 1e999}',
                '{"match_id": "m1", "priority": 5, "resource_allocation": NaN}',
                '{"match_id": "m1", "priority": 1e400, "resource_allocation": 10}']


def deep(n, kind):
    return ("[" * n + "]" * n) if kind == "array" else ('{"a":' * n + "1" + "}" * n)


def campaign(api):
    batch = 0

    def end_batch(name):
        nonlocal batch
        batch += 1
        healthy(api, "batch %d (%s)" % (batch, name))

    # 1. Malformed JSON on every write route.
    for method, path in WRITES:
        for b in BAD_JSON:
            st, h, body = api.request(method, path, b, JSON_AUTH)
            check_answer("bad_json", "%s %s %r" % (method, path, b[:40]), st, h, body)
        end_batch("bad json " + path)

    # 2. Wrong types, out-of-range and huge numbers, NaN/Infinity, negative counts.
    for obj in SCALE_BAD:
        st, h, body = api.request("POST", "/scaling/scale", json.dumps(obj), JSON_AUTH)
        check_answer("scale_values", json.dumps(obj)[:60], st, h, body)
    for b in SCALE_RAW:
        st, h, body = api.request("POST", "/scaling/scale", b, JSON_AUTH)
        check_answer("scale_values", b, st, h, body)
    end_batch("scale values")
    for obj in CONFIG_BAD:
        st, h, body = api.request("PUT", "/scaling/config", json.dumps(obj), JSON_AUTH)
        check_answer("config_values", json.dumps(obj)[:60], st, h, body)
    for b in CONFIG_RAW:
        st, h, body = api.request("PUT", "/scaling/config", b, JSON_AUTH)
        check_answer("config_values", b, st, h, body)
    end_batch("config values")
    for obj in PRIORITY_BAD:
        st, h, body = api.request("POST", "/scaling/priorities", json.dumps(obj), JSON_AUTH)
        check_answer("priority_values", json.dumps(obj)[:60], st, h, body)
    for b in PRIORITY_RAW:
        st, h, body = api.request("POST", "/scaling/priorities", b, JSON_AUTH)
        check_answer("priority_values", b, st, h, body)
    end_batch("priority values")

    # 3. Deep nesting (within and beyond the body limit).
    for n in (64, 500, 1000, 2000):
        for kind in ("array", "object"):
            for method, path in WRITES:
                st, h, body = api.request(method, path, deep(n, kind), JSON_AUTH)
                check_answer("deep_nesting", "%s %s depth %d %s" % (method, path, n, kind), st,
                             h, body)
    end_batch("deep nesting")

    # 4. Oversized bodies: declared and real, chunked, and a lying Content-Length.
    for method, path in WRITES:
        big = '{"reason": "' + "x" * (MAX_BODY * 2) + '"}'
        st, h, body = api.request(method, path, big, JSON_AUTH)
        check_answer("oversized", "%s %s %d bytes" % (method, path, len(big)), st, h, body)
        st, h, body = api.request(method, path, "", dict(JSON_AUTH, **{"Content-Length": str(10 ** 12)}))
        check_answer("oversized", "%s %s Content-Length 1e12" % (method, path), st, h, body)
        st, h, body = api.request(method, path, "", dict(JSON_AUTH, **{"Content-Length": str(MAX_BODY + 1)}))
        check_answer("oversized", "%s %s Content-Length max+1" % (method, path), st, h, body)
        chunk = b"x" * 1024
        data = ("%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                "Connection: close\r\n\r\n" % (method, path, TOKEN)).encode()
        data += b"".join(b"400\r\n" + chunk + b"\r\n" for _ in range(8)) + b"0\r\n\r\n"
        st, body = raw(api.port, data)
        check_answer("oversized", "%s %s chunked 8 KiB" % (method, path), st, {}, body)
    end_batch("oversized")

    # 5. Content types.
    for ct in (None, "text/plain", "application/xml", "application/jsonx", "json",
               "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "",
               "application/json\x7f"):
        for method, path in WRITES:
            hdrs = dict(AUTH)
            if ct is not None:
                hdrs["Content-Type"] = ct
            st, h, body = api.request(method, path, '{"target_instances": 1}', hdrs)
            check_answer("content_type", "%s %s %r" % (method, path, ct), st, h, body)
    end_batch("content types")

    # 6. Tokens: missing, wrong, malformed, huge; on every write (bodies valid otherwise).
    valid = {"/scaling/scale": '{"target_instances": 1}',
             "/scaling/config": '{"min_instances": 1}',
             "/scaling/priorities": '{"match_id": "m1", "priority": 5, "resource_allocation": 5}'}
    tokens = [None, "", "Bearer", "Bearer ", "Bearer wrong",
              "Basic " + TOKEN, "Bearer " + TOKEN + "x", "Bearer " + TOKEN[:-1],
              "Bearer  " + TOKEN + " extra", "Bearer " + "t" * 6000, "Token " + TOKEN]
    for tok in tokens:
        for method, path in WRITES:
            hdrs = {"Content-Type": "application/json"}
            if tok is not None:
                hdrs["Authorization"] = tok
            st, h, body = api.request(method, path, valid[path], hdrs)
            check_answer("token", "%s %s %r" % (method, path, (tok or "")[:30]), st, h, body)
        hdrs = {} if tok is None else {"Authorization": tok}
        st, h, body = api.request("DELETE", "/scaling/priorities/m1", None, hdrs)
        check_answer("token", "DELETE %r" % (tok or "")[:30], st, h, body)
    end_batch("tokens")

    # 7. Methods.
    paths = ["/", "/healthz", "/readyz", "/metrics", "/openapi.json", "/scaling/status",
             "/scaling/decision", "/scaling/scale", "/scaling/config", "/scaling/priorities",
             "/scaling/priorities/m1"]
    allowed = {"/scaling/scale": {"POST"}, "/scaling/config": {"GET", "HEAD", "PUT"},
               "/scaling/priorities": {"GET", "HEAD", "POST"},
               "/scaling/priorities/m1": {"DELETE"}}
    for path in paths:
        for method in ("PATCH", "OPTIONS", "TRACE", "PUT", "POST", "DELETE", "FOO", "GET"):
            if method in allowed.get(path, {"GET", "HEAD"}):
                continue
            st, h, body = api.request(method, path, "{}", JSON_AUTH)
            check_answer("method", "%s %s" % (method, path), st, h, body)
    end_batch("methods")

    # 8. Paths: unknown, encoded slashes and dots, long ids, odd bytes.
    bad_paths = ["/nope", "/scaling", "/scaling/", "/scaling/status/", "//scaling/status",
                 "/scaling/statu", "/SCALING/STATUS", "/%2e%2e/etc/passwd",
                 "/scaling/%2e%2e/scaling/status", "/scaling/priorities/",
                 "/scaling/priorities/a/b", "/scaling/priorities/%2F",
                 "/scaling/priorities/a%2Fb", "/scaling/priorities/%2e%2e",
                 "/scaling/priorities/" + "m" * 200, "/scaling/priorities/" + "m" * 5000,
                 "/scaling/priorities/%00", "/scaling/priorities/%ff%fe",
                 "/scaling/priorities/a%20b", "/scaling/priorities/..",
                 "/scaling/priorities/unknown-match", "/" + "a" * 6000]
    for path in bad_paths:
        method = "DELETE" if path.startswith("/scaling/priorities/") else "GET"
        st, h, body = api.request(method, path, None, AUTH)
        check_answer("path", "%s %s" % (method, path[:60]), st, h, body)
    end_batch("paths")

    # 9. Query parameters and headers.
    queries = ["?service=", "?service=a/b", "?service=" + "s" * 300, "?service=%00",
               "?service=..%2F..", "?service=no-such-service", "?service=a%20b",
               "?service=%ff", "?service=svc&service=other-svc-x"]
    for q in queries:
        for path in ("/scaling/status", "/scaling/decision", "/scaling/config",
                     "/scaling/priorities"):
            st, h, body = api.request("GET", path + q, None, AUTH)
            check_answer("query", "GET %s%s" % (path, q[:40]), st, h, body)
    for key in ("has space", "k" * 200, "k\u00e9".encode().decode("latin-1"), "a/b", "k;DROP", "k" * 129):
        st, h, body = api.request("POST", "/scaling/scale", '{"target_instances": 1}',
                                  dict(JSON_AUTH, **{"Idempotency-Key": key}))
        check_answer("idempotency_key", "key %r" % key[:30], st, h, body)
    end_batch("queries and headers")


def slow_clients(api):
    """Slowloris: partial headers and partial bodies held open; others are served meanwhile;
    each slow connection is closed by the server within a bound once it stops sending."""
    socks = []
    for i in range(8):
        s = socket.create_connection(("127.0.0.1", api.port), timeout=30)
        if i % 2 == 0:  # partial headers
            s.sendall(b"GET /scaling/status HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        else:  # complete headers, partial body
            s.sendall(("PUT /scaling/config HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"min_"
                       % TOKEN).encode())
        socks.append(s)
    # Trickle one byte each for a while (not idle), serving others meanwhile.
    t_end = time.time() + 2 * CONN_TIMEOUT_S + 1
    while time.time() < t_end:
        for s in socks:
            try:
                s.sendall(b"a")
            except OSError:
                pass
        healthy(api, "slow clients trickling")
        note("slow_client_others_served", True, "")
        time.sleep(0.5)
    # Stop sending: the server must cut each connection within the idle timeout (+ margin);
    # an answer, if any, is a 4xx.
    bound = CONN_TIMEOUT_S + 8
    t0 = time.time()
    for s in socks:
        s.settimeout(max(0.1, bound - (time.time() - t0)))
        data = b""
        closed = False
        try:
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    closed = True
                    break
                data += chunk
        except socket.timeout:
            pass
        except ConnectionResetError:
            closed = True
        s.close()
        if not closed:
            note("slow_client", False, "connection still open %d s after the client went idle" % bound)
            continue
        if data:
            m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
            st = int(m.group(1)) if m else -1
            if not 400 <= st < 500:
                note("slow_client", False, "slow client answered %d" % st)
                continue
        note("slow_client", True, "")
    healthy(api, "slow clients")


def count_5xx(api):
    st, _, body = api.request("GET", "/metrics")
    if st != 200:
        fail("GET /metrics answered %d" % st)
    n = 0
    for line in body.decode().splitlines():
        if line.startswith("crescendo_api_requests_total") and re.search(r'code="5', line):
            n += int(float(line.rsplit(" ", 1)[1]))
    return n


def main():
    if not BROKERS or not BUILD:
        fail("KAFKA_BROKERS and CRESC_BUILD must be set")
    try:
        start("coordinator", [os.path.join(BUILD, "coordinator", "crescendo-coordinator"),
                              "--health-port", "0"],
              {"COORDINATOR_GROUP": PREFIX + "coordinators", "PARTITIONS": "2", "TICK": "1s"})
        time.sleep(1)
        start("agent", [os.path.join(BUILD, "agent", "crescendo-agent"), "--simulate", "3",
                        "--profile", "steady", "--interval", "1s", "--health-port", "0"], {})
        api = Api()
        deadline = time.time() + 60
        while True:
            try:
                st, _, _ = api.request("GET", "/scaling/status", timeout=2)
                if st == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                fail("no state for %s within 60 s" % SERVICE)
            time.sleep(0.3)
        five_before = count_5xx(api)
        t0 = time.time()
        campaign(api)
        slow_clients(api)
        # The API's own counters: not one 5xx answered during the campaign (a 503 while the
        # view was loading, before it started, is the documented answer and not counted).
        five = count_5xx(api) - five_before
        if five:
            failures.append("the API counted %d 5xx answers during the campaign" % five)
        # Requests sent (the health probes during the slowloris phase are not counted).
        total = sum(c["sent"] for k, c in counts.items() if k != "slow_client_others_served")
        ok = sum(c["ok"] for k, c in counts.items() if k != "slow_client_others_served")
        for cls in sorted(counts):
            print("%-26s %4d sent, %4d as required" % (cls, counts[cls]["sent"], counts[cls]["ok"]))
        print("hostile campaign: %d requests/probes, %d as required, %d failures, %.1f s"
              % (total, ok, len(failures), time.time() - t0))
        if os.environ.get("HOSTILE_REPORT"):
            with open(os.environ["HOSTILE_REPORT"], "w") as f:
                json.dump({"counts": counts, "failures": failures}, f, indent=1)
        if failures:
            fail("%d hostile requests broke the contract:\n  %s"
                 % (len(failures), "\n  ".join(failures[:40])))
        if total < 200:
            fail("only %d hostile requests sent (need at least 200)" % total)
        if api.proc.poll() is not None:
            fail("crescendo-api exited")
        api.proc.send_signal(signal.SIGTERM)
        rc = api.proc.wait(timeout=30)
        if rc != 0:
            fail("crescendo-api exited %d on SIGTERM after the campaign" % rc)
        print("PASS: %d hostile requests, all 4xx with a JSON reason; service kept serving" % total)
    finally:
        stop_all()


if __name__ == "__main__":
    main()
