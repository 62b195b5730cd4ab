#!/usr/bin/env bash
# Loads the demo conference (Platform Summit 2026, 2,000 deterministic attendees) through the public API.
# ./platform.sh up runs this with API_URL and OPERATOR_KEY in the environment. Each run creates a new
# "Events demo" tenant; its API key is printed (and logged in .platform/logs/seeds.log).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
: "${API_URL:?API_URL is required}"
: "${OPERATOR_KEY:?OPERATOR_KEY is required}"
exec dotnet run -c Release --project "$ROOT/bench/events" -- seed --attendees "${EVENTS_SEED_ATTENDEES:-2000}"
