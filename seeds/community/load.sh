#!/usr/bin/env bash
# Loads a demo community through the public API: 240 members in 10 teams, four months of signals,
# consents, pulse surveys, learning catalysts and ideas with adoption trees, then a champion refresh.
# Needs API_URL and OPERATOR_KEY (./platform.sh up exports them). Deterministic: the same data every run;
# signals are idempotent on sourceRef, so re-running adds nothing twice.
set -euo pipefail
: "${API_URL:?API_URL is required}"
: "${OPERATOR_KEY:?OPERATOR_KEY is required}"
exec python3 "$(dirname "$0")/generate.py"
