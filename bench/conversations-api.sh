#!/usr/bin/env bash
# p50/p95/p99 of POST and GET /v1/conversations/{id}/activities with wrk against a running system.
# Usage: ./platform.sh start && bench/conversations-api.sh [duration=20s] [connections=16]
# Needs API_URL and OPERATOR_KEY (from .platform/env) and wrk. Raise the tenant limits for the Api first
# (Platform__RateLimits__ActivitiesPerWindow etc.), or the run measures 429s (they are counted as non2xx).
set -euo pipefail
[ -f .platform/env ] && source .platform/env
: "${API_URL:?set API_URL}" "${OPERATOR_KEY:?set OPERATOR_KEY}"
DURATION=${1:-20s}; CONNECTIONS=${2:-16}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
json() { python3 -c "import json,sys;print(json.load(sys.stdin)[\"$1\"])"; }

api_key=$(curl -sf -X POST "$API_URL/v1/tenants" -H "Authorization: Bearer $OPERATOR_KEY" -H 'Content-Type: application/json' -d '{"name":"bench"}' | json apiKey)
channel=$(curl -sf -X POST "$API_URL/v1/channels" -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' -d '{"name":"bench"}' | json id)
conv=$(curl -sf -X POST "$API_URL/v1/conversations" -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' -d "{\"channelId\":\"$channel\"}" | json id)
token=$(curl -sf -X POST "$API_URL/v1/conversations/$conv/tokens" -H "Authorization: Bearer $api_key" -H 'Content-Type: application/json' -d '{"userId":"bench"}' | json token)

report='done = function(s, l, r)
  io.write(string.format("p50=%.2fms p95=%.2fms p99=%.2fms requests=%d rps=%.0f non2xx=%d socket_errors=%d\n",
    l:percentile(50)/1000, l:percentile(95)/1000, l:percentile(99)/1000, s.requests, s.requests/(s.duration/1e6),
    s.errors.status, s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout))
end'
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $api_key"
local n = 0
request = function()
  n = n + 1
  return wrk.format(nil, nil, nil, '{"type":"message","text":"bench message ' .. n .. '","from":{"id":"bench"}}')
end
$report
LUA
cat > "$work/get.lua" <<LUA
wrk.headers["Authorization"] = "Bearer $token"
$report
LUA

echo "POST /v1/conversations/{id}/activities (tenant API key, $CONNECTIONS connections, $DURATION)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$work/post.lua" "$API_URL/v1/conversations/$conv/activities" | tail -1
echo "GET /v1/conversations/{id}/activities?watermark=1000&limit=100 (client token, $CONNECTIONS connections, $DURATION)"
wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$work/get.lua" "$API_URL/v1/conversations/$conv/activities?watermark=1000&limit=100" | tail -1
