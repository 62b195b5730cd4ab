#!/usr/bin/env bash
# Loads every module's demo data through the public API, once: the AppHost runs this as its `seeds` resource when
# the system is up, and later runs find the marker and skip (./platform.sh seed loads again on purpose).
# Needs API_URL and OPERATOR_KEY; CIVIC_FEED_URL names the static server of the civic http source.
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${PLATFORM_STATE_DIR:-$HERE/../.platform}"
MARKER="$STATE/seeded"
: "${API_URL:?API_URL is required}" "${OPERATOR_KEY:?OPERATOR_KEY is required}"

if [[ -f "$MARKER" && "${1:-}" != "--again" ]]; then
  echo "seeds were loaded on $(cat "$MARKER"); ./platform.sh seed loads them again"
  exit 0
fi
failed=0
for loader in "$HERE"/*/load.sh; do
  name="$(basename "$(dirname "$loader")")"
  echo "==> seeds/$name"
  if ! bash "$loader"; then
    echo "seeds/$name failed" >&2
    failed=1
  fi
done
mkdir -p "$STATE"
if [[ $failed == 0 ]]; then date -u +%FT%TZ >"$MARKER"; fi
exit $failed
