#!/usr/bin/env bash
# A client that shares no code with crescendo (kcat) reads a sample from the samples topic, and
# the JSON it prints validates against the documented schema docs/schemas/sample.schema.json.
set -euo pipefail
: "${KAFKA_BROKERS:?}" "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
prefix="it_kcat_$$."
topic="${prefix}samples"
schema=$CRESC_SOURCE/docs/schemas/sample.schema.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -f "$schema" ] || { echo "FAIL: $schema is missing"; exit 1; }
command -v kcat >/dev/null || { echo "FAIL: kcat is not installed"; exit 1; }

# Two producers: our idempotent producer (it_roundtrip --sample, through the Kafka wrapper)
# and, when the agent exists, a real `crescendo-agent --once` sample handed to kcat -P.
"$CRESC_BUILD/tests/integration/it_roundtrip" --sample "$topic" >"$work/produced" ||
    { echo "FAIL: it_roundtrip --sample could not produce to $topic"; exit 1; }
want=1
agent=$CRESC_BUILD/agent/crescendo-agent
if [ -x "$agent" ]; then
    timeout 60 "$agent" --once --interval 200ms >"$work/agent.json" 2>"$work/agent.log" ||
        { cat "$work/agent.log"; echo "FAIL: crescendo-agent --once failed"; exit 1; }
    kcat -b "$KAFKA_BROKERS" -P -t "$topic" -k music-generator "$work/agent.json" ||
        { echo "FAIL: kcat could not produce the agent's sample"; exit 1; }
    want=2
fi

# -e: exit at the end of the partition; -u: unbuffered; -f '%s\n' prints the value only.
timeout 60 kcat -b "$KAFKA_BROKERS" -C -t "$topic" -o beginning -e -q -f '%s\n' >"$work/read"
n=$(grep -c . "$work/read" || true)
[ "$n" -eq "$want" ] || { echo "FAIL: kcat read $n message(s) from $topic, expected $want"; cat "$work/read"; exit 1; }

python3 - "$schema" "$work/read" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
validator = cls(schema)
count = 0
for line in open(sys.argv[2]):
    line = line.strip()
    if not line:
        continue
    msg = json.loads(line)
    errors = sorted(validator.iter_errors(msg), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        print("FAIL: sample read by kcat does not match %s: %s at %s" % (sys.argv[1], e.message, "/".join(map(str, e.path))))
        sys.exit(1)
    for field in ("service", "instance_id", "seq", "ts_ms"):
        if field not in msg:
            print("FAIL: sample lacks %s" % field)
            sys.exit(1)
    count += 1
# A deliberately broken copy must be rejected, or the schema checks nothing.
bad = dict(msg)
bad["cpu_pct"] = "high"
if validator.is_valid(bad):
    print("FAIL: the schema accepts cpu_pct as a string")
    sys.exit(1)
print("kcat read %d sample(s); all valid against the schema" % count)
PY
echo "ok: $want sample(s) read by kcat and validated against docs/schemas/sample.schema.json"
