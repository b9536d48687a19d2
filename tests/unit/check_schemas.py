#!/usr/bin/env python3
"""Check the message contract with an implementation that shares no code with ours.

Validates, with python3-jsonschema (draft 2020-12):
  * every docs/schemas/<kind>.schema.json is itself a valid schema;
  * what our encoders produce (`test_msg --dump DIR`) validates against its schema;
  * every schema example validates, and appears verbatim (as JSON) in docs/messages.md;
  * messages our decoders reject are rejected by the schema too (a sample of cases).

Usage: check_schemas.py PATH/TO/test_msg   (exit 0 = pass; one line per failure)
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:  # the suite must not pass quietly without its checker
    print("check_schemas: python3-jsonschema is not installed (apt-get install python3-jsonschema)")
    sys.exit(1)

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KINDS = ["sample", "control", "decision", "command", "state"]

# (kind, path, new value) edits that the decoders reject; the schema must reject them too.
DELETE = object()
MUST_FAIL = [
    ("sample", "schema_version", DELETE),
    ("sample", "service", "game server"),
    ("sample", "instance_id", ""),
    ("sample", "seq", 0),
    ("sample", "cpu_pct", 100.5),
    ("sample", "mem_pct", "41"),
    ("sample", "ts_ms", -1),
    ("sample", "disk.read_ops_per_s", -1),
    ("control", "type", "explode"),
    ("control", "priority", 11),
    ("control", "resource_allocation", 0),
    ("control", "match_id", DELETE),
    ("command", "to", 10001),
    ("command", "decision_id", "a b"),
    ("command", "owner_epoch", -1),
    ("decision", "direction", "sideways"),
    ("decision", "votes.0.desired", "2"),
    ("decision", "guards.0.kind", "bogus"),
    ("decision", "metrics.cpu_pct", 101),
    ("state", "config.min_instances", -1),
    ("state", "config.load_balancer_strategy", "random"),
    ("state", "priorities.1.priority", 12),
    ("state", "acks.1.status", "maybe"),
    ("state", "live.0.cpu_pct", "x"),
    ("state", "history.scale_events", DELETE),
]


def edit(doc, path, value):
    doc = copy.deepcopy(doc)
    parts = path.split(".")
    cur = doc
    for p in parts[:-1]:
        cur = cur[int(p)] if isinstance(cur, list) else cur[p]
    last = parts[-1]
    if isinstance(cur, list):
        last = int(last)
    if value is DELETE:
        del cur[last]
    else:
        cur[last] = value
    return doc


def doc_examples():
    """Every ```json block of docs/messages.md, parsed."""
    text = open(os.path.join(SOURCE, "docs", "messages.md"), encoding="utf-8").read()
    blocks = re.findall(r"```json\n(.*?)```", text, flags=re.S)
    out = []
    for b in blocks:
        try:
            out.append(json.loads(b))
        except ValueError:
            pass  # partial snippets are allowed; full examples must parse
    return out


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    failures = []
    documented = doc_examples()
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.argv[1], "--dump", tmp], check=True)
        for kind in KINDS:
            path = os.path.join(SOURCE, "docs", "schemas", kind + ".schema.json")
            schema = json.load(open(path, encoding="utf-8"))
            jsonschema.Draft202012Validator.check_schema(schema)
            validator = jsonschema.Draft202012Validator(schema)
            encoded = json.load(open(os.path.join(tmp, kind + ".json"), encoding="utf-8"))
            for err in validator.iter_errors(encoded):
                failures.append(f"{kind}: encoder output invalid at {list(err.path)}: {err.message}")
            examples = schema.get("examples", [])
            if not examples:
                failures.append(f"{kind}: schema has no examples")
            for i, ex in enumerate(examples):
                for err in validator.iter_errors(ex):
                    failures.append(f"{kind}: example {i} invalid at {list(err.path)}: {err.message}")
                if ex not in documented:
                    failures.append(f"{kind}: example {i} is not in docs/messages.md")
            newer = dict(encoded, schema_version=2)
            if validator.is_valid(newer):
                failures.append(f"{kind}: schema accepts schema_version 2 (our decoders reject it)")
            extra = dict(encoded, x_future_field=[1, 2])
            if not validator.is_valid(extra):
                failures.append(f"{kind}: schema rejects an unknown extra field")
            for k, p, v in MUST_FAIL:
                if k == kind and validator.is_valid(edit(encoded, p, v)):
                    failures.append(f"{kind}: schema accepts {p}={'<deleted>' if v is DELETE else v!r}")
    for f in failures:
        print("check_schemas:", f)
    if not failures:
        print(f"check_schemas: {len(KINDS)} schemas, encoder output, examples and "
              f"{len(MUST_FAIL)} reject cases OK")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
