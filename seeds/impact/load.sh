#!/usr/bin/env bash
# Loads the TEEI CSR demo through the public API: one tenant, two companies, a year of program data each
# (CSV imports), SROI inputs, a signed webhook source with a few domain events, and the monthly metrics jobs.
# Run by ./platform.sh up (and ./platform.sh seed) with API_URL and OPERATOR_KEY in the environment. Re-runnable:
# the tenant and companies are found again and re-imports of the same files are no-ops.
set -euo pipefail
: "${API_URL:?API_URL is required}" "${OPERATOR_KEY:?OPERATOR_KEY is required}"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

op() { curl -sS -f -H "Authorization: Bearer $OPERATOR_KEY" -H 'Content-Type: application/json' "$@"; }
api() { curl -sS -f -H "Authorization: Bearer $API_KEY" "$@"; }

TENANT_ID="$(op "$API_URL/v1/tenants?limit=1000" | jq -r '.tenants[] | select(.name == "TEEI CSR demo") | .id' | head -n1)"
if [ -z "$TENANT_ID" ]; then
  created="$(op -X POST "$API_URL/v1/tenants" -d '{"name":"TEEI CSR demo"}')"
  TENANT_ID="$(jq -r .id <<<"$created")"; API_KEY="$(jq -r .apiKey <<<"$created")"
else
  API_KEY="$(op -X POST "$API_URL/v1/tenants/$TENANT_ID/api-keys" | jq -r .apiKey)"
fi
echo "tenant $TENANT_ID"

company() { # $1 external id, $2 name → company id
  local id
  id="$(api "$API_URL/v1/impact/companies" | jq -r --arg x "$1" '.companies[] | select(.externalId == $x) | .id')"
  [ -n "$id" ] || id="$(api -X POST -H 'Content-Type: application/json' "$API_URL/v1/impact/companies" \
    -d "$(jq -nc --arg n "$2" --arg x "$1" '{name:$n, externalId:$x}')" | jq -r .id)"
  echo "$id"
}

load_company() { # $1 key, $2 name, $3 participants, $4 volunteers
  local key="$1" id kind
  id="$(company "$key" "$2")"
  python3 "$HERE/generate.py" "$key" "$WORK/$key" "$3" "$4" 2025-12
  for kind in participants sessions checkins feedback courses; do
    api -X POST -H 'Content-Type: text/csv' --data-binary "@$WORK/$key/$kind.csv" \
      "$API_URL/v1/impact/imports?companyId=$id&kind=$kind" \
      | jq -c --arg k "$kind" '{kind:$k, rows, imported, unchanged, rejected, textsQueuedForScoring, duplicate}'
  done
  # The impact map: quantities counted from the data in the report window.
  api -X PUT -H 'Content-Type: application/json' "$API_URL/v1/impact/companies/$id/sroi-inputs" -d '{
    "investment": 150000, "discountRate": 0.035, "volunteerHourValue": 29.95,
    "outcomes": [
      {"name": "Improved job readiness", "measure": "improved_job_readiness", "financialProxy": 4200, "deadweight": 0.25, "displacement": 0.10, "attribution": 0.30, "dropOff": 0.20, "durationYears": 3},
      {"name": "Reduced isolation", "measure": "improved_belonging", "financialProxy": 1600, "deadweight": 0.15, "displacement": 0, "attribution": 0.40, "dropOff": 0.50, "durationYears": 2},
      {"name": "Language progression", "measure": "improved_lang_level_proxy", "financialProxy": 900, "deadweight": 0.20, "displacement": 0, "attribution": 0.25, "dropOff": 0, "durationYears": 1},
      {"name": "Course credentials", "measure": "credentials", "financialProxy": 1200, "deadweight": 0.30, "displacement": 0, "attribution": 0.20, "dropOff": 0.30, "durationYears": 2}
    ]}' >/dev/null
  api -X POST "$API_URL/v1/impact/companies/$id/metrics?period=2025-12..2026-11" | jq -c '{metricsJobs: .jobs}'
  echo "$id" > "$WORK/$key.id"
}

load_company nordlys "Nordlys Energi ASA" 140 28
load_company fjord "Fjord Logistics AS" 90 18

# A live connector: signed domain events (HMAC-SHA256 over "timestamp.body").
NORDLYS="$(cat "$WORK/nordlys.id")"
SECRET="$(api -X POST -H 'Content-Type: application/json' "$API_URL/v1/impact/webhooks/buddy/secret" -d "{\"companyId\":\"$NORDLYS\"}" | jq -r .secret)"
send() { # $1 envelope
  local ts sig
  ts="$(date +%s)"
  sig="sha256=$(printf '%s.%s' "$ts" "$1" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)"
  curl -sS -f -X POST "$API_URL/v1/impact/webhooks/buddy" -H 'Content-Type: application/json' \
    -H "X-Platform-Tenant: $TENANT_ID" -H "X-Impact-Timestamp: $ts" -H "X-Impact-Signature: $sig" --data-binary "$1" | jq -c .
}
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
send "{\"type\":\"buddy.match.created\",\"data\":{\"matchId\":\"demo-m1\",\"participantId\":\"nordlys-p00001\",\"buddyId\":\"nordlys-v0001\"},\"metadata\":{\"id\":\"demo-evt-1\",\"version\":\"v1\",\"timestamp\":\"$now\",\"correlationId\":\"demo\"}}"
send "{\"type\":\"upskilling.course.completed\",\"data\":{\"recordId\":\"demo-u1\",\"participantId\":\"nordlys-p00001\",\"course\":\"Excel basics\",\"credential\":\"CERT-demo\"},\"metadata\":{\"id\":\"demo-evt-2\",\"version\":\"v1\",\"timestamp\":\"$now\",\"correlationId\":\"demo\",\"causationId\":\"demo-evt-1\"}}"

echo "report: $API_URL/v1/impact/companies/$NORDLYS/report?period=2025-12..2026-11&format=html (Authorization: Bearer <tenant API key>)"
echo "tenant API key for the demo: $API_KEY"
