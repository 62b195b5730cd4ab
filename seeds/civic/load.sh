#!/usr/bin/env bash
# Loads the civic seeds through the public API (run by ./platform.sh up with API_URL and OPERATOR_KEY set):
#   - a tenant "civic-demo" (its API key is kept in .platform/civic-tenant-key),
#   - Riverton, served by a `file` source (seeds/civic/riverton),
#   - Lakeshore, served by an `http` source over seeds/civic/lakeshore (CIVIC_FEED_URL, the AppHost's civic-feed),
# then asks for a scan of both. Running it again reuses the tenant and the cities.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
STATE="${PLATFORM_STATE_DIR:-$ROOT/.platform}"
mkdir -p "$STATE/pids" "$STATE/logs"
: "${API_URL:?API_URL is required}" "${OPERATOR_KEY:?OPERATOR_KEY is required}"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# 1. The static server for the http source: the AppHost runs it as the `civic-feed` resource and passes its URL;
#    run by hand without it, a python3 http.server on a free port (its pid in .platform/pids/civic-http.pid).
if [[ -n "${CIVIC_FEED_URL:-}" ]]; then
  FEED="${CIVIC_FEED_URL%/}/feed.json"
else
  PIDFILE="$STATE/pids/civic-http.pid"
  if [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    PORT="$(cat "$STATE/civic-http.port")"
  else
    PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    nohup python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$HERE/lakeshore" >"$STATE/logs/civic-http.log" 2>&1 &
    echo $! >"$PIDFILE"
    echo "$PORT" >"$STATE/civic-http.port"
    for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$PORT/feed.json" >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  FEED="http://127.0.0.1:$PORT/feed.json"
fi

# 2. The tenant.
KEYFILE="$STATE/civic-tenant-key"
if [[ ! -s "$KEYFILE" ]]; then
  curl -fsS -X POST "$API_URL/v1/tenants" -H "Authorization: Bearer $OPERATOR_KEY" -H 'Content-Type: application/json' \
    -d '{"name":"civic-demo"}' | json 'd["apiKey"]' >"$KEYFILE"
fi
KEY="$(cat "$KEYFILE")"

# 3. The cities (409 when they exist already).
create_city() {
  curl -sS -o /dev/null -w '%{http_code}\n' -X POST "$API_URL/v1/civic/cities" -H "Authorization: Bearer $KEY" \
    -H 'Content-Type: application/json' -d "$1"
}
create_city "{\"slug\":\"riverton\",\"name\":\"City of Riverton\",\"cron\":\"0 0 6 * * ?\",\"sources\":[{\"kind\":\"file\",\"location\":\"$HERE/riverton\"}]}"
create_city "{\"slug\":\"lakeshore\",\"name\":\"Town of Lakeshore\",\"cron\":\"0 30 6 * * ?\",\"sources\":[{\"kind\":\"http\",\"location\":\"$FEED\"}]}"

# 4. Scan now (the cron schedules scan daily at 06:00 and 06:30 UTC).
CITIES="$(curl -fsS "$API_URL/v1/civic/cities" -H "Authorization: Bearer $KEY")"
for id in $(echo "$CITIES" | json '" ".join(c["id"] for c in d)'); do
  curl -fsS -X POST "$API_URL/v1/internal/cities/$id/scan" -H "Authorization: Bearer $OPERATOR_KEY" >/dev/null
done
echo "civic seeds: 2 cities, feed at $FEED; tenant key in $KEYFILE"
