#!/usr/bin/env bash
# bench/run.sh's hook for the notify scenario: run.sh [--smoke] --out <file.json>.
# Uses the PostgreSQL and Redis of the running system (.platform/env); the benchmark starts its own Worker and
# Realtime processes on a scratch database and drops it afterwards.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE="${PLATFORM_STATE_DIR:-$ROOT/.platform}"
args=() out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ -n "$out" ] || { echo "usage: $0 [--smoke] --out <file.json>" >&2; exit 2; }
set -a; . "$STATE/env"; set +a
# The newest build (Release after a full bench build, Debug after ./platform.sh test).
dll="$(ls -t "$ROOT"/bench/notify/bin/{Release,Debug}/net10.0/Platform.Bench.Notify.dll 2>/dev/null | head -n 1 || true)"
[ -n "$dll" ] || { echo "bench/notify is not built: dotnet build Platform.sln" >&2; exit 1; }
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
dotnet "$dll" "${args[@]}" --out "$dir"
mkdir -p "$(dirname "$out")"
cp "$dir/notify.json" "$out"
[ -f "$dir/notify.md" ] && cp "$dir/notify.md" "${out%.json}.md"
