#!/usr/bin/env bash
# crescendoctl against a running system (issue 6): a coordinator, crescendo-api and a simulated
# agent on the runner's real Kafka broker (fixtures/system.sh). Every subcommand, the table
# and JSON outputs (-o json must parse with python3 -m json.tool), read-your-writes through
# the coordinator, the API's errors shown as they came, and the exit codes: 0 ok, 1 API error,
# 2 usage error, 3 unreachable.
set -uo pipefail
: "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
SYS_NAME=ctl
SYS_WRITE_TIMEOUT=5s
SYS_COOLDOWN=600 # no automatic scaling right after the manual ones checked below
. "$CRESC_SOURCE/tests/integration/fixtures/system.sh"

ctl=$CRESC_BUILD/api/crescendoctl
[ -x "$ctl" ] || fail "$ctl is not built"
out=$sys_tmp/out
err=$sys_tmp/err
n_checks=0

# run EXPECTED_EXIT ARGS...: run crescendoctl, keep stdout/stderr, check the exit code.
run() {
    local want=$1 rc
    shift
    "$ctl" "$@" >"$out" 2>"$err"
    rc=$?
    n_checks=$((n_checks + 1))
    if [ "$rc" != "$want" ]; then
        echo "---- stdout ----"; head -40 "$out"; echo "---- stderr ----"; head -20 "$err"
        fail "crescendoctl $* exited $rc, expected $want"
    fi
}
has() { grep -q -- "$2" "$1" || { echo "---- $1 ----"; head -40 "$1"; fail "expected \"$2\" in $(basename "$1") of the last command"; }; }
json_ok() { python3 -m json.tool "$out" >/dev/null || { head -20 "$out"; fail "-o json output does not parse"; }; }
# jq-less field read: py EXPR evaluated with d = the JSON on stdout.
py() { python3 -c "import json,sys; d=json.load(open('$out')); print(($1))"; }

# ---- no API needed: usage and connection errors ---------------------------------------
run 0 --help
has "$out" "priorities set MATCH PRIORITY ALLOCATION"
has "$out" "Exit codes"
run 0 --version
has "$out" "crescendoctl "
run 2
has "$err" "no command given"
run 2 frobnicate
has "$err" "unknown command"
run 2 status --bogus
has "$err" "unknown option"
run 2 scale five
has "$err" "whole number"
run 2 -o yaml status
run 2 config set novalue
has "$err" "KEY=VALUE"
run 2 priorities set m-1 high 10
dead=$(free_port)
run 3 --api "http://127.0.0.1:$dead" status
has "$err" "cannot reach the API"
# A server that accepts the connection but never answers: the timeout gives exit 3 too.
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(8); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$sys_tmp/mute.port" &
mute=$!
for _ in $(seq 50); do [ -s "$sys_tmp/mute.port" ] && break; sleep 0.1; done
start=$(date +%s%N)
run 3 --api "http://127.0.0.1:$(cat "$sys_tmp/mute.port")" --timeout 700ms status
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
kill "$mute" 2>/dev/null; wait "$mute" 2>/dev/null
[ "$elapsed_ms" -lt 5000 ] || fail "--timeout 700ms took ${elapsed_ms} ms"
has "$err" "cannot reach the API"

# Answers that are not what an API sends: too big, not JSON, a proxy's HTML error, empty.
python3 "$CRESC_SOURCE/tests/integration/fixtures/odd_http.py" >"$sys_tmp/odd.port" &
odd=$!
for _ in $(seq 50); do [ -s "$sys_tmp/odd.port" ] && break; sleep 0.1; done
odd_url="http://127.0.0.1:$(cat "$sys_tmp/odd.port")"
run 1 --api "$odd_url/big" status
has "$err" "exceeds 4194304 bytes"
run 1 --api "$odd_url/notjson" status
has "$err" "not JSON"
run 1 --api "$odd_url/html" status
has "$err" "error: HTTP 502: <html> <h1>502 Bad Gateway</h1> </html>"
run 0 --api "$odd_url/empty" --token t priorities delete m-1
has "$out" "priority of m-1 deleted"
run 0 --api "$odd_url/empty" -o json --token t priorities delete m-1
json_ok
kill "$odd" 2>/dev/null; wait "$odd" 2>/dev/null

# ---- the running system -----------------------------------------------------------------
sys_start
export CRESCENDO_API=$API_URL
unset API_TOKEN API_TOKEN_FILE CRESCENDO_SERVICE

run 0 status
has "$out" "INSTANCES"
has "$out" "(min 2, max 10)"
has "$out" "cpu"
has "$out" "request rate"
run 0 -o json status
json_ok
[ "$(py 'd["min_instances"], d["max_instances"]')" = "(2, 10)" ] || fail "status: min/max not 2/10"
run 0 --service "$SYS_SERVICE" status -o json
json_ok

run 0 decision
has "$out" "SCALING NEEDED"
has "$out" "TARGET"
run 0 decision -o json
json_ok
py '"target_instances" in d and "reason" in d' | grep -q True || fail "decision JSON lacks target_instances/reason"

run 0 config get
has "$out" "min_instances"
has "$out" "load_balancer_strategy"
run 0 config get -o json
json_ok

# Writes need the token: 401 shown as it came, exit 1.
run 1 config set cpu_threshold=65.5
has "$err" "HTTP 401"
# Typed values: numbers as numbers, strings as strings; read your write back.
run 0 --token "$API_TOKEN_VALUE" config set cpu_threshold=65.5 load_balancer_strategy=least_connections max_instances=12
has "$out" "config applied"
run 0 -o json config get
[ "$(py 'd["cpu_threshold"], d["load_balancer_strategy"], d["max_instances"]')" = "(65.5, 'least_connections', 12)" ] ||
    fail "config set not read back: $(py 'd["cpu_threshold"], d["load_balancer_strategy"], d["max_instances"]')"
# A whole-config rule broken: 400 with the field, exit 1, nothing changed.
run 1 --token "$API_TOKEN_VALUE" config set min_instances=50
has "$err" "HTTP 400"
has "$err" "field: "
has "$err" "min_instances"
run 1 --token "$API_TOKEN_VALUE" config set cpu_threshold=150
has "$err" "HTTP 400"
has "$err" "cpu_threshold"
run 1 --token "$API_TOKEN_VALUE" config set load_balancer_strategy=fastest
has "$err" "HTTP 400"
run 0 -o json config get
[ "$(py 'd["min_instances"], d["cpu_threshold"]')" = "(2, 65.5)" ] || fail "a rejected config set changed the config"
# The token from a file, and from the environment.
printf '%s\n' "$API_TOKEN_VALUE" >"$sys_tmp/token"
run 0 --token-file "$sys_tmp/token" config set max_instances=10
API_TOKEN=$API_TOKEN_VALUE run 0 config set cpu_threshold=70
run 2 --token-file "$sys_tmp/missing-token" config set max_instances=10
has "$err" "token file"

# Priorities: create, list (table and JSON), replace, delete, delete again (404).
run 0 --token "$API_TOKEN_VALUE" priorities set match-123 8 30
has "$out" "priority of match-123 applied"
run 0 --token "$API_TOKEN_VALUE" priorities set match-456 3 50.5
run 0 priorities list
has "$out" "MATCH"
has "$out" "match-123"
has "$out" "match-456"
run 0 -o json priorities list
json_ok
[ "$(py '[(p["match_id"], p["priority"], p["resource_allocation"]) for p in d["priorities"]]')" = "[('match-123', 8, 30.0), ('match-456', 3, 50.5)]" ] ||
    fail "priorities list: $(py 'd["priorities"]')"
run 0 --token "$API_TOKEN_VALUE" priorities set match-123 9 20
run 0 -o json priorities list
[ "$(py '[(p["priority"], p["resource_allocation"]) for p in d["priorities"] if p["match_id"]=="match-123"]')" = "[(9, 20.0)]" ] ||
    fail "priorities set did not replace match-123"
run 1 --token "$API_TOKEN_VALUE" priorities set match-789 11 10
has "$err" "HTTP 400"
has "$err" "priority"
run 1 --token "$API_TOKEN_VALUE" priorities set match-789 5 0
has "$err" "HTTP 400"
has "$err" "resource_allocation"
run 0 --token "$API_TOKEN_VALUE" priorities delete match-456
has "$out" "deleted"
run 0 -o json priorities list
[ "$(py '[p["match_id"] for p in d["priorities"]]')" = "['match-123']" ] || fail "delete did not remove match-456"
run 1 --token "$API_TOKEN_VALUE" priorities delete match-456
has "$err" "HTTP 404"
run 0 -o json --token "$API_TOKEN_VALUE" priorities delete match-123
json_ok

# Manual scale with a reason; read back from the status.
run 0 --token "$API_TOKEN_VALUE" scale 6 --reason "Handling major tournament"
has "$out" "scale to 6 instances applied"
has "$out" "INSTANCES       6 (min 2, max 10)"
# The answer is the status once applied; with a cooldown, autoscaling leaves it there.
run 0 --token "$API_TOKEN_VALUE" -o json scale 5 --reason "back to five"
json_ok
[ "$(py 'd["current_instances"]')" = 5 ] || fail "scale 5 answered $(py 'd["current_instances"]') instances"
run 0 -o json status
[ "$(py 'd["current_instances"]')" = 5 ] || fail "scale 5: status says $(py 'd["current_instances"]') instances"
run 1 --token "$API_TOKEN_VALUE" scale 20000
has "$err" "HTTP 400"
has "$err" "target_instances"
# Outside [min, max]: refused (by the coordinator in the real system), the field named.
run 1 --token "$API_TOKEN_VALUE" scale 15
has "$err" "HTTP 4"
has "$err" "target_instances"
run 1 --token "wrong-$API_TOKEN_VALUE" scale 4
has "$err" "HTTP 401"

# An unknown service: 404 from the API, exit 1; JSON mode still prints the error body.
run 1 --service no-such-service status
has "$err" "HTTP 404"
run 1 --service no-such-service -o json status
json_ok

# No coordinator: the API's wait runs out and it answers 202 with the request id; exit 0.
if [ "${CRESC_STANDIN:-0}" != 1 ]; then
    sys_stop_coordinator
    run 0 --token "$API_TOKEN_VALUE" --timeout 30 priorities set match-late 5 10
    has "$out" "accepted, not applied yet: request "
    run 0 -o json --token "$API_TOKEN_VALUE" --timeout 30 scale 4
    json_ok
    [ -n "$(py 'd["request_id"]')" ] || fail "202 body without request_id"
fi

echo "PASS: crescendoctl, $n_checks invocations$([ "${CRESC_STANDIN:-0}" = 1 ] && echo ' (against the STAND-IN, not crescendo-api)')"
