#!/usr/bin/env bash
# Issue 2 round trip: every message kind encoded, produced to the real broker, consumed in a
# consumer group, decoded and compared field by field (tests/integration/it_roundtrip.c), which
# also checks that topic creation is idempotent and that the state topic is compacted.
# Then kcat reads every topic back and each message validates against docs/schemas/<kind>.
set -euo pipefail
: "${KAFKA_BROKERS:?}" "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
bin=$CRESC_BUILD/tests/integration/it_roundtrip
[ -x "$bin" ] || { echo "FAIL: $bin not built"; exit 1; }
prefix="it_roundtrip_$$."
TOPIC_PREFIX=$prefix "$bin"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for pair in samples:sample control:control decisions:decision commands:command state:state; do
    topic=$prefix${pair%%:*}
    kind=${pair#*:}
    timeout 60 kcat -b "$KAFKA_BROKERS" -C -t "$topic" -o beginning -e -q -f '%s\n' >"$work/$kind"
    python3 - "$CRESC_SOURCE/docs/schemas/$kind.schema.json" "$work/$kind" "$topic" <<'PY'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
validator = cls(schema)
n = 0
for line in open(sys.argv[2]):
    if not line.strip():
        continue
    errors = list(validator.iter_errors(json.loads(line)))
    if errors:
        print("FAIL: %s: %s at /%s" % (sys.argv[3], errors[0].message, "/".join(map(str, errors[0].path))))
        sys.exit(1)
    n += 1
if n == 0:
    print("FAIL: kcat read nothing from %s" % sys.argv[3])
    sys.exit(1)
print("%s: %d message(s) valid against %s" % (sys.argv[3], n, sys.argv[1].rsplit("/", 1)[-1]))
PY
done
