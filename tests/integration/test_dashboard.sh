#!/usr/bin/env bash
# The dashboard in a real browser (issue 6): a running system (coordinator, crescendo-api and
# a simulated agent on the runner's Kafka broker, fixtures/system.sh), GET / opened in headless
# Chromium (Debian's `chromium`). Checks that the page shows the live data (values, charts,
# timeline, priorities: fixtures/dom_check.py), that a config change made through the API
# appears on the page, that closed reads (401) are reported on the page, and saves a 1280x900
# screenshot (to $DASHBOARD_SCREENSHOT, default /tmp/crescendo-dashboard.png).
set -uo pipefail
: "${CRESC_BUILD:?}" "${CRESC_SOURCE:?}"
SYS_NAME=dash
. "$CRESC_SOURCE/tests/integration/fixtures/system.sh"

browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || fail "chromium is not installed (scripts/install-deps.sh installs it)"
fx=$CRESC_SOURCE/tests/integration/fixtures

# chrome ARGS...: headless Chromium with a throwaway profile and no background traffic.
chrome() {
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --disable-dev-shm-usage --user-data-dir="$(mktemp -d "$sys_tmp/profile.XXXXXX")" "$@" \
        2>>"$sys_tmp/chromium.log"
}

api() { curl -sS --max-time 10 "$@"; }
auth=(-H "Authorization: Bearer $API_TOKEN_VALUE" -H "Content-Type: application/json")

sys_start

# The page itself: served at GET / as HTML, self-contained (no external scripts, styles, fonts).
api -D "$sys_tmp/headers" -o "$sys_tmp/page.html" "$API_URL/" || fail "GET / failed"
grep -qi '^content-type: text/html' "$sys_tmp/headers" || fail "GET / is not text/html: $(grep -i content-type "$sys_tmp/headers")"
refs=$(grep -Eoi '<(script|link|img)[^>]+(src|href)=[^>]*|@import|url\(|https?://[^"'"'"' )<]+' "$sys_tmp/page.html" |
    grep -v '^http://www.w3.org/2000/svg$' || true)
[ -z "$refs" ] || fail "the page references something outside itself: $refs"

# Some state for every panel: two match priorities, and let decisions accumulate.
api "${auth[@]}" -X POST -d '{"match_id":"match-123","priority":8,"resource_allocation":30.0}' \
    "$API_URL/scaling/priorities" >/dev/null || fail "POST /scaling/priorities failed"
api "${auth[@]}" -X POST -d '{"match_id":"derby-7","priority":10,"resource_allocation":55.0}' \
    "$API_URL/scaling/priorities" >/dev/null || fail "POST /scaling/priorities failed"
# Wait until the simulated samples show up as metrics in the status.
for _ in $(seq 60); do
    api "$API_URL/scaling/status" -o "$sys_tmp/status.json" &&
        python3 -c 'import json,sys; m=json.load(open(sys.argv[1]))["metrics"]; sys.exit(0 if m.get("cpu_pct") is not None and m.get("request_rate_per_s") is not None else 1)' "$sys_tmp/status.json" &&
        break
    sleep 0.5
done

# expect FILE: what the API says now, for dom_check.py.
expect() {
    api "$API_URL/scaling/status" -o "$sys_tmp/s.json" || fail "GET /scaling/status failed"
    api "$API_URL/scaling/config" -o "$sys_tmp/c.json" || fail "GET /scaling/config failed"
    api "$API_URL/scaling/priorities" -o "$sys_tmp/p.json" || fail "GET /scaling/priorities failed"
    python3 - "$sys_tmp/s.json" "$sys_tmp/c.json" "$sys_tmp/p.json" >"$1" <<'EOF'
import json, sys
s, c, p = (json.load(open(f)) for f in sys.argv[1:4])
print(json.dumps({"status": s, "config": c, "min_polls": 3,
                  "priorities": [m["match_id"] for m in p["priorities"]]}))
EOF
}

# 1. The page after ~8 s of (virtual) time: live values, charts, timeline, priorities.
chrome --virtual-time-budget=8000 --dump-dom "$API_URL/" >"$sys_tmp/dom1.html" || fail "chromium --dump-dom failed"
expect "$sys_tmp/expect1.json"
python3 "$fx/dom_check.py" "$sys_tmp/dom1.html" "$sys_tmp/expect1.json" || fail "the page does not show the live data"

# 2. Live: change the config through the API, the page shows the new thresholds and version.
api "${auth[@]}" -X PUT -d '{"cpu_threshold": 55.5, "memory_threshold": 65}' \
    "$API_URL/scaling/config" >/dev/null || fail "PUT /scaling/config failed"
api "${auth[@]}" -X DELETE "$API_URL/scaling/priorities/match-123" >/dev/null ||
    fail "DELETE /scaling/priorities/match-123 failed"
chrome --virtual-time-budget=6000 --dump-dom "$API_URL/" >"$sys_tmp/dom2.html" || fail "chromium --dump-dom failed"
expect "$sys_tmp/expect2.json"
python3 "$fx/dom_check.py" "$sys_tmp/dom2.html" "$sys_tmp/expect2.json" || fail "the page did not follow the config change"
grep -q 'data-testid="metric-cpu-threshold"[^>]*>55.5 %' "$sys_tmp/dom2.html" || fail "cpu threshold 55.5 not shown"

# 3. Reads closed (API_AUTH_READS=true) on a second API over the same topics: the page loads,
#    its reads get 401 and it says so instead of showing stale or empty charts as if live.
if [ "${CRESC_STANDIN:-0}" != 1 ]; then
    port2=$(free_port)
    API_PORT=$port2 API_BIND=127.0.0.1 API_TOKEN=$API_TOKEN_VALUE API_AUTH_READS=true \
        "$CRESC_BUILD/api/crescendo-api" >"$sys_tmp/api-auth.log" 2>&1 &
    sys_pids+=($!)
    wait_http "http://127.0.0.1:$port2/readyz" 60 || fail "the second crescendo-api did not become ready"
    chrome --virtual-time-budget=4000 --dump-dom "http://127.0.0.1:$port2/" >"$sys_tmp/dom3.html" ||
        fail "chromium --dump-dom failed"
    python3 - "$sys_tmp/dom3.html" <<'EOF' || fail "with reads closed, the page does not ask for a token"
import re, sys
dom = open(sys.argv[1]).read()
alert = re.search(r'data-testid="alert"[^>]*>([^<]*)<', dom)
conn = re.search(r'data-testid="conn-status"[^>]*>([^<]*)<', dom)
assert alert and "HTTP 401" in alert.group(1) and "enter an API token" in alert.group(1), alert and alert.group(1)
assert conn and conn.group(1) == "offline", conn and conn.group(1)
assert 'data-testid="instances-current" id="c-inst">–<' in dom, "instances shown without access"
EOF
fi

# 4. Screenshot, checked to be a real 1280x900 PNG with content.
chrome --virtual-time-budget=8000 --window-size=1280,900 --hide-scrollbars \
    --screenshot="$sys_tmp/dashboard.png" "$API_URL/" >/dev/null || fail "chromium --screenshot failed"
python3 - "$sys_tmp/dashboard.png" <<'EOF' || fail "the screenshot is not a 1280x900 PNG with content"
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (1280, 900), (w, h)
assert len(b) > 30000, "suspiciously small: %d bytes" % len(b)
EOF
shot=${DASHBOARD_SCREENSHOT:-${TMPDIR:-/tmp}/crescendo-dashboard.png}
cp "$sys_tmp/dashboard.png" "$shot" || fail "cannot copy the screenshot to $shot"

echo "PASS: dashboard shows live data in headless Chromium; screenshot $shot$([ "${CRESC_STANDIN:-0}" = 1 ] && echo ' (against the STAND-IN, not crescendo-api)')"
