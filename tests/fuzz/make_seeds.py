#!/usr/bin/env python3
"""Regenerate the seed corpora under tests/fuzz/corpus/ from the repository's own examples:
docs/messages.md (one JSON example per message kind), tests/data/ fixtures (/proc, cgroup,
Prometheus pages, policy cases) and a hand-written set of API requests. Idempotent; files
named seed-* are rewritten, any other file (crash reproducers, minimised finds) is kept."""
import json
import os
import re
import sys

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(SRC, "tests", "fuzz", "corpus")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def read(path):
    with open(os.path.join(SRC, path), "rb") as f:
        return f.read()


def messages():
    text = open(os.path.join(SRC, "docs", "messages.md")).read()
    kinds = {"sample": [], "control": [], "decision": [], "command": [], "state": []}
    for block in re.findall(r"```json\n(.*?)```", text, re.S):
        obj = json.loads(block)
        if "instance_id" in obj:
            kinds["sample"].append(obj)
        elif "request_id" in obj and "type" in obj:
            kinds["control"].append(obj)
        elif "evaluated_at_ms" in obj:
            kinds["decision"].append(obj)
        elif "from" in obj and "to" in obj:
            kinds["command"].append(obj)
        elif "state_seq" in obj:
            kinds["state"].append(obj)
    for kind, objs in kinds.items():
        if not objs:
            sys.exit(f"make_seeds: no {kind} example in docs/messages.md")
        for i, obj in enumerate(objs):
            put(f"fuzz_msg_{kind}", f"doc{i}.json", json.dumps(obj, indent=1))
            put(f"fuzz_msg_{kind}", f"doc{i}-compact.json", json.dumps(obj, separators=(",", ":")))
            # Near misses: a field removed, a wrong type, a bad version, truncated.
            keys = list(obj)
            for k in keys[:6]:
                miss = dict(obj)
                del miss[k]
                put(f"fuzz_msg_{kind}", f"doc{i}-no-{k}.json", json.dumps(miss))
            wrong = dict(obj)
            wrong[keys[-1]] = "x"
            put(f"fuzz_msg_{kind}", f"doc{i}-type.json", json.dumps(wrong))
            bad = dict(obj)
            bad["schema_version"] = 99
            put(f"fuzz_msg_{kind}", f"doc{i}-version.json", json.dumps(bad))
            s = json.dumps(obj)
            put(f"fuzz_msg_{kind}", f"doc{i}-truncated.json", s[: len(s) // 2])
        put(f"fuzz_msg_{kind}", "empty", "")
        put(f"fuzz_msg_{kind}", "object", "{}")
        put(f"fuzz_msg_{kind}", "array", "[1,2]")
        if kind == "control":
            cfg = next(o for o in objs if o["type"] == "config_update")
            config_seeds(cfg["config"])
    return kinds


def config_seeds(example):
    put("fuzz_config", "doc-example.json", json.dumps(example))
    put("fuzz_config", "empty.json", "{}")
    put("fuzz_config", "minmax.json", '{"min_instances": 2, "max_instances": 5}')
    put("fuzz_config", "min-gt-max.json", '{"min_instances": 9, "max_instances": 5}')
    put("fuzz_config", "huge.json", '{"max_instances": 1e308, "cooldown_s": -1}')
    put("fuzz_config", "nan.json", '{"cpu_threshold_up": NaN}')
    put("fuzz_config", "nested.json", "[" * 64 + "]" * 64)
    for name in sorted(os.listdir(os.path.join(SRC, "tests", "data", "policies"))):
        case = json.loads(read(os.path.join("tests", "data", "policies", name)))
        cfg = case.get("input", {}).get("config") if isinstance(case, dict) else None
        if isinstance(cfg, dict) and cfg:
            put("fuzz_config", "policy-" + name, json.dumps(cfg))
    tc = os.path.join("tests", "data", "traces", "cpu_spike.config.json")
    if os.path.exists(os.path.join(SRC, tc)):
        put("fuzz_config", "trace-config.json", read(tc))


def offline():
    # The policy cases wrap the `evaluate` input in {"input": ...}.
    for name in sorted(os.listdir(os.path.join(SRC, "tests", "data", "policies"))):
        case = json.loads(read(os.path.join("tests", "data", "policies", name)))
        put("fuzz_offline", name, json.dumps(case["input"], indent=1))
    put("fuzz_offline", "empty.json", "{}")
    put("fuzz_offline", "not-json", "metrics: cpu=90")


def agent():
    stat_sel, mem_sel, disk_sel = b"\x00", b"\x01", b"\x02"
    for d in sorted(os.listdir(os.path.join(SRC, "tests", "data", "proc"))):
        base = os.path.join("tests", "data", "proc", d)
        for f in sorted(os.listdir(os.path.join(SRC, base))):
            data = read(os.path.join(base, f))
            if f.startswith("stat"):
                put("fuzz_procfs", f"{d}-{f}", stat_sel + data)
            elif f == "meminfo":
                put("fuzz_procfs", f"{d}-{f}", mem_sel + data)
            elif f == "diskstats":
                put("fuzz_procfs", f"{d}-{f}", disk_sel + data)
                put("fuzz_procfs", f"{d}-{f}-byname", b"\x03" + data)
    sel = {"cpu.max": b"\x00", "cpu.stat": b"\x01", "memory.stat": b"\x02",
           "memory.max": b"\x03", "memory.current": b"\x04", "io.stat": b"\x05"}
    for d in sorted(os.listdir(os.path.join(SRC, "tests", "data", "cgroup"))):
        base = os.path.join("tests", "data", "cgroup", d)
        for f in sorted(os.listdir(os.path.join(SRC, base))):
            if f in sel:
                put("fuzz_cgroup", f"{d}-{f}", sel[f] + read(os.path.join(base, f)))
    for f in sorted(os.listdir(os.path.join(SRC, "tests", "data", "prom"))):
        data = read(os.path.join("tests", "data", "prom", f))
        put("fuzz_promtext", f, b"http_requests_total\n" + data)
    put("fuzz_promtext", "labels", 'x\nx{a="b\\"c",d="\\n"} 1.5e3 1700000000000\nx 2\n'
        "x NaN\nx +Inf\n# TYPE x counter\n")


API = [
    ("get-status", "GET", "/scaling/status", "-", "-", "", "", ""),
    ("get-status-svc", "GET", "/scaling/status", "game-server", "-", "", "", ""),
    ("bad-svc", "GET", "/scaling/status", "a/b", "-", "", "", ""),
    ("healthz", "GET", "/healthz", "-", "-", "", "", ""),
    ("put-405", "PUT", "/scaling/status", "-", "-", "", "", ""),
    ("unknown", "GET", "/nope", "-", "-", "", "", ""),
    ("scale", "POST", "/scaling/scale", "-", "k-1", "Bearer s3cret-token", "application/json",
     '{"target_instances": 3, "reason": "load test"}'),
    ("scale-neg", "POST", "/scaling/scale", "-", "-", "Bearer x", "application/json",
     '{"target_instances": -1}'),
    ("scale-huge", "POST", "/scaling/scale", "-", "-", "", "application/json",
     '{"target_instances": 1e400}'),
    ("scale-nan", "POST", "/scaling/scale", "-", "-", "", "application/json",
     '{"target_instances": NaN}'),
    ("config", "PUT", "/scaling/config", "-", "-", "Bearer s3cret-token", "application/json",
     '{"min_instances": 1, "max_instances": 8, "cpu_threshold_up": 75}'),
    ("config-bad", "PUT", "/scaling/config", "-", "bad key!", "", "application/json",
     '{"min_instances": "one"}'),
    ("priority", "POST", "/scaling/priorities", "-", "-", "", "application/json",
     '{"match_id": "m-1", "priority": 5, "resource_allocation": 12.5}'),
    ("priority-bad", "POST", "/scaling/priorities", "-", "-", "", "text/plain",
     '{"match_id": "", "priority": 11, "resource_allocation": 0}'),
    ("delete", "DELETE", "/scaling/priorities/m-1", "-", "-", "Bearer s3cret-token", "", ""),
    ("delete-slash", "DELETE", "/scaling/priorities/a/b", "-", "-", "", "", ""),
    ("delete-long", "DELETE", "/scaling/priorities/" + "m" * 300, "-", "-", "", "", ""),
    ("deep", "PUT", "/scaling/config", "-", "-", "", "application/json", "[" * 2000),
    ("dup", "POST", "/scaling/scale", "-", "-", "", "application/json",
     '{"target_instances": 1, "target_instances": 2}'),
]


def api():
    for name, *fields in API:
        put("fuzz_api_request", name, "\n".join(fields))


def ctl():
    put("fuzz_ctl", "status-args", b"status\0--service\0game-server")
    put("fuzz_ctl", "config-set", b"config\0set\0min_instances=2\0max_instances=9")
    put("fuzz_ctl", "error-json", '{"error": "bad", "field": "min_instances"}')


if __name__ == "__main__":
    messages()
    offline()
    agent()
    api()
    ctl()
    for t in sorted(os.listdir(OUT)):
        print(f"{t}: {len(os.listdir(os.path.join(OUT, t)))} files")
