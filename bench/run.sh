#!/usr/bin/env bash
# Benchmarks (bench/README.md).
#
#   bench/run.sh [--smoke] [scenario…]     scenarios: api api-rls throughput connections resume append-cost jobs notify
#                                           algorithms community events impact civic faults (default: all but api-rls)
#
# Uses the running system (./platform.sh start, .platform/env) or starts one — with the tenant rate limits off —
# and stops what it started. Always measures the machine's limits first (pgbench single-row INSERT, redis-benchmark
# PUBLISH, a trivial Kestrel endpoint) so every scenario reports ratios to them. Writes bench/results/<scenario>.json,
# <scenario>.svg and README.md; --smoke runs seconds-long versions into bench/results/raw/ (git-ignored) and only
# checks that each scenario ran and wrote well-formed JSON.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STATE="${PLATFORM_STATE_DIR:-$ROOT/.platform}"
# faults comes last: it kills and restarts the system's processes (bench/faults).
ALL=(api throughput connections resume append-cost jobs notify algorithms community events impact civic faults)
SMOKE=0
SCENARIOS=()
for a in "$@"; do
  case "$a" in
    --smoke) SMOKE=1 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    api|api-rls|throughput|connections|resume|append-cost|jobs|notify|algorithms|community|events|impact|civic|faults) SCENARIOS+=("$a") ;;
    *) echo "unknown scenario: $a (one of: ${ALL[*]})" >&2; exit 2 ;;
  esac
done
[ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=("${ALL[@]}")
OUT="$ROOT/bench/results"; [ $SMOKE = 1 ] && OUT="$ROOT/bench/results/raw"
# The smoke run reuses the Debug build `./platform.sh test` has just made; full runs measure Release.
if [ $SMOKE = 1 ]; then export PLATFORM_CONFIGURATION="${PLATFORM_CONFIGURATION:-Debug}"; else export PLATFORM_CONFIGURATION="${PLATFORM_CONFIGURATION:-Release}"; fi
CONFIG="$PLATFORM_CONFIGURATION"
mkdir -p "$OUT" "$STATE/logs"
LOGDIR="$STATE/logs"
export BENCH_COMMAND="bench/run.sh${*:+ $*}"
SMOKEFLAG=(); [ $SMOKE = 1 ] && SMOKEFLAG=(--smoke)

say() { printf '\033[1;35mbench>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mbench error:\033[0m %s\n' "$*" >&2; exit 1; }

# 10,000 WebSockets need 10,000+ descriptors in the load program and ~5,000 per node: raise the soft limit to the
# hard one (inherited by the Realtime nodes when this script starts them).
hard="$(ulimit -Hn)"; [ "$hard" = unlimited ] && hard=1048576
ulimit -n "$(( hard > 65536 ? 65536 : hard ))" 2>/dev/null || true

# ---------------------------------------------------------------------------------------------
# Tools: pgbench/psql (postgresql-contrib, postgresql-client), redis-benchmark (redis-tools).
# ---------------------------------------------------------------------------------------------
need=()
command -v pgbench >/dev/null 2>&1 || need+=(postgresql-contrib)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${need[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >"$LOGDIR/bench-apt.log" 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$LOGDIR/bench-apt.log" 2>&1 || die "apt-get install ${need[*]} failed (see $LOGDIR/bench-apt.log)"
  else
    die "missing: ${need[*]} (Debian/Ubuntu: sudo apt-get install ${need[*]})"
  fi
fi
# pgbench may live only in the server's bin directory.
command -v pgbench >/dev/null 2>&1 || { for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do [ -x "$d/pgbench" ] && PATH="$d:$PATH" && break; done; }

# ---------------------------------------------------------------------------------------------
# The system under test: the running one, or one we start (and stop on exit).
# ---------------------------------------------------------------------------------------------
healthy() {
  [ -f "$STATE/env" ] || return 1
  # shellcheck disable=SC1091
  ( set -a; . "$STATE/env"; set +a
    [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$API_URL/health")" = 200 ] || exit 1
    for u in $REALTIME_URLS; do
      [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "${u/ws:/http:}/health")" = 200 ] || exit 1
    done
    for f in "$STATE"/pids/realtime-*.pid; do [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null || exit 1; done
  )
}

port_busy() { [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }
free_port() { local p="$1"; while port_busy "$p"; do p=$((p + 1)); done; echo "$p"; }

STARTED=0
CHILD=""
OWNER_API=""
cleanup() {
  local rc=$?
  [ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null || true
  [ -n "$OWNER_API" ] && kill "$OWNER_API" 2>/dev/null || true
  # Processes the faults scenario started again outside the AppHost (Redis's retitled process escapes stop's patterns);
  # read before stop, which removes the pid files.
  local restarted=""
  for f in "$STATE"/pids/faults-*.pid; do [ -f "$f" ] && restarted="$restarted $(cat "$f")"; done
  if [ $STARTED = 1 ]; then say "stopping the system this run started"; "$ROOT/platform.sh" stop >/dev/null 2>&1 || true; fi
  for p in $restarted; do kill "$p" 2>/dev/null || true; done
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if healthy; then
  say "using the running system ($STATE/env)"
  api_pid="$(cat "$STATE/pids/api.pid" 2>/dev/null || true)"
  if [ -n "$api_pid" ] && ! tr '\0' '\n' < "/proc/$api_pid/environ" 2>/dev/null | grep -qi '^Platform__RateLimits__Enabled=false$'; then
    say "warning: the running Api enforces tenant rate limits (50 posts/s): expect 429s; for real numbers let bench/run.sh start the system"
  fi
else
  # Clean up a half-started system of this checkout, then start one on free ports (other checkouts on this machine
  # may hold the defaults) with the tenant rate limits off: the benchmark measures the system, not its throttle.
  "$ROOT/platform.sh" stop >/dev/null 2>&1 || true
  export PLATFORM_PG_PORT="${PLATFORM_PG_PORT:-$(free_port 55432)}"
  export PLATFORM_REDIS_PORT="${PLATFORM_REDIS_PORT:-$(free_port 56379)}"
  export PLATFORM_API_PORT="${PLATFORM_API_PORT:-$(free_port 5080)}"
  if [ -z "${PLATFORM_REALTIME_PORTS:-}" ]; then r0="$(free_port 5090)"; r1="$(free_port $((r0 + 1)))"; export PLATFORM_REALTIME_PORTS="$r0 $r1"; fi
  export PLATFORM_WORKER_PORT="${PLATFORM_WORKER_PORT:-$(free_port 5070)}"
  export PLATFORM_ADMIN_PORT="${PLATFORM_ADMIN_PORT:-$(free_port 5050)}"
  # The AppHost's own dashboard listens too: another checkout's running system holds the default ports.
  export PLATFORM_DASHBOARD_URL="${PLATFORM_DASHBOARD_URL:-http://localhost:$(free_port 15080)}"
  export PLATFORM_OTLP_URL="${PLATFORM_OTLP_URL:-http://localhost:$(free_port 19080)}"
  export PLATFORM_RESOURCE_SERVICE_URL="${PLATFORM_RESOURCE_SERVICE_URL:-http://localhost:$(free_port 20080)}"
  export Platform__RateLimits__Enabled=false PLATFORM_SEEDS=false
  # The civic benchmark reads its meetings from a `file` source, which the services accept only under a configured root.
  export BENCH_CIVIC_SOURCES="$STATE/bench-civic-sources"; mkdir -p "$BENCH_CIVIC_SOURCES"
  export Platform__Civic__Sources__FileRoots__0="$BENCH_CIVIC_SOURCES"
  say "starting the system (ports: pg $PLATFORM_PG_PORT, redis $PLATFORM_REDIS_PORT, api $PLATFORM_API_PORT, realtime $PLATFORM_REALTIME_PORTS; rate limits off)"
  STARTED=1
  "$ROOT/platform.sh" start >"$LOGDIR/bench-start.log" 2>&1 || { tail -n 30 "$LOGDIR/bench-start.log" >&2; die "./platform.sh start failed"; }
fi
set -a
# shellcheck disable=SC1091
. "$STATE/env"
set +a

# The CPU accounting (CpuSnapshot) tells the system under test from other work on the machine by this process tree.
export BENCH_APPHOST_PID="$(cat "$STATE/pids/apphost.pid" 2>/dev/null || true)"
LOAD_DLL="$ROOT/bench/Platform.Bench.Load/bin/$CONFIG/net10.0/Platform.Bench.Load.dll"
JOBS_DLL="$ROOT/bench/jobs/bin/$CONFIG/net10.0/Platform.Bench.Jobs.dll"
# Always (incrementally) built: `./platform.sh start` builds the services only, so a load program left from an older
# checkout would otherwise measure the new services with old code.
say "building the load programs ($CONFIG)"
dotnet build "$ROOT/bench/Platform.Bench.Load/Platform.Bench.Load.csproj" -c "$CONFIG" -nologo -clp:ErrorsOnly >"$LOGDIR/bench-build.log" 2>&1 \
  && dotnet build "$ROOT/bench/jobs/Platform.Bench.Jobs.csproj" -c "$CONFIG" -nologo -clp:ErrorsOnly >>"$LOGDIR/bench-build.log" 2>&1 \
  && dotnet build "$ROOT/bench/notify/Platform.Bench.Notify.csproj" -c "$CONFIG" -nologo -clp:ErrorsOnly >>"$LOGDIR/bench-build.log" 2>&1 \
  || { tail -n 30 "$LOGDIR/bench-build.log" >&2; die "build failed"; }
# The module benchmarks (one program each, measuring a module's hot spot against its seed target), built when their scenario runs.
module_dll() {
  local project="$1" dll="$ROOT/bench/$1/bin/$CONFIG/net10.0/Platform.Bench.${2}.dll"
  dotnet build "$ROOT/bench/$project/Platform.Bench.${2}.csproj" -c "$CONFIG" -nologo -clp:ErrorsOnly >>"$LOGDIR/bench-build.log" 2>&1 \
    || { tail -n 30 "$LOGDIR/bench-build.log" >&2; die "build of bench/$project failed"; }
  echo "$dll"
}
# A module benchmark writes its own shape; the smoke check only asks for a JSON object with measured values.
module_result() {
  local name="$1" written="$2"
  if [ -f "$written" ] && [ "$written" != "$OUT/$name.json" ]; then mv "$written" "$OUT/$name.json"; fi
  if [ -f "$OUT/$name.json" ]; then load validate --module --file "$OUT/$name.json" || FAILED+=("$name"); else say "$name wrote no $OUT/$name.json"; FAILED+=("$name"); fi
}
load() { dotnet "$LOAD_DLL" "$@"; }

# Realtime nodes: port:pid pairs for the memory measurement (realtime-N serves the N-th URL).
NODES=""; i=0
for u in $REALTIME_URLS; do
  port="${u##*:}"; pid="$(cat "$STATE/pids/realtime-$i.pid" 2>/dev/null || echo 0)"
  NODES="$NODES${NODES:+,}$port:$pid"; i=$((i + 1))
done

{
  echo ".NET SDK $(dotnet --version), services built $CONFIG, PostgreSQL client $(psql --version | awk '{print $3}'), pgbench $(pgbench --version | awk '{print $3}'), $(redis-server --version | awk '{print "Redis " $3}' | sed 's/v=//'), redis-benchmark $(redis-benchmark --version | awk '{print $2}'), commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo n/a), $(uname -sr)"
} > "$OUT/versions.txt"

# api-rls: a second Api process, the running one's command line and environment but connected as the schema owner
# (ConnectionStrings:platformdb := ConnectionStrings:platformdb-owner, a superuser, which row-level security does not
# bind) on its own port, so the same run measures the API path with row-level security on (API_URL) and off.
start_owner_api() {
  local api_pid port cwd owner e deadline
  api_pid="$(cat "$STATE/pids/api.pid" 2>/dev/null || true)"
  [ -n "$api_pid" ] && [ -r "/proc/$api_pid/environ" ] || { say "api-rls: no readable Api process (.platform/pids/api.pid)"; return 1; }
  local -a envs=() keep=() cmd=()
  mapfile -d '' envs < "/proc/$api_pid/environ"
  mapfile -d '' cmd < "/proc/$api_pid/cmdline"
  cwd="$(readlink "/proc/$api_pid/cwd")"
  owner=""
  for e in "${envs[@]}"; do
    case "$e" in
      ConnectionStrings__platformdb-owner=*) owner="${e#*=}"; keep+=("$e") ;;
      ConnectionStrings__platformdb=*|ASPNETCORE_URLS=*|HTTP_PORTS=*|HTTPS_PORTS=*|ASPNETCORE_HTTP_PORTS=*|ASPNETCORE_HTTPS_PORTS=*|Kestrel__*) ;;
      *) keep+=("$e") ;;
    esac
  done
  [ -n "$owner" ] || { say "api-rls: the running Api has no ConnectionStrings__platformdb-owner"; return 1; }
  port="$(free_port 5180)"
  OWNER_API_URL="http://127.0.0.1:$port"
  ( cd "$cwd" && exec env -i "${keep[@]}" "ConnectionStrings__platformdb=$owner" "ASPNETCORE_URLS=$OWNER_API_URL" "${cmd[@]}" ) \
    >"$LOGDIR/bench-owner-api.log" 2>&1 < /dev/null &
  OWNER_API=$!
  deadline=$((SECONDS + 120))
  until [ "$(curl -s -o /dev/null -m 5 -w '%{http_code}' "$OWNER_API_URL/health")" = 200 ]; do
    kill -0 "$OWNER_API" 2>/dev/null && [ $SECONDS -lt $deadline ] || { tail -n 20 "$LOGDIR/bench-owner-api.log" >&2; say "api-rls: the owner-connected Api did not start"; return 1; }
    sleep 1
  done
  say "api-rls: owner-connected Api (RLS off) at $OWNER_API_URL, pid $OWNER_API"
}

FAILED=()
run_step() {
  # $1: name (its JSON: $OUT/<name>.json; "-" after the name: the caller checks the output), $2: timeout seconds,
  # rest: command. Output goes to the console and $LOGDIR/bench-<name>.log.
  local name="$1" secs="$2" check=1; shift 2
  [ "$1" = - ] && { check=0; shift; }
  say "$name: $*"
  local t0=$SECONDS rc=0
  timeout --kill-after=10 "$secs" "$@" 2>&1 | tee "$LOGDIR/bench-$name.log" || rc=${PIPESTATUS[0]}
  if [ $rc != 0 ]; then say "$name FAILED (exit $rc, log $LOGDIR/bench-$name.log)"; FAILED+=("$name"); return 0; fi
  if [ $check = 0 ]; then
    :
  elif [ -f "$OUT/$name.json" ]; then
    load validate --file "$OUT/$name.json" || FAILED+=("$name")
  elif [ $SMOKE = 1 ]; then
    say "$name wrote no $OUT/$name.json"; FAILED+=("$name")
  fi
  say "$name done in $((SECONDS - t0))s"
}

if [ $SMOKE = 1 ]; then T=90; else T=1200; fi
# Module benchmarks seed their own data first (thousands of rows through the API or a scratch database): more time.
if [ $SMOKE = 1 ]; then MT=300; else MT=2400; fi
TRIVIAL_PORT="$(free_port 5999)"
run_step limits "$T" dotnet "$LOAD_DLL" limits "${SMOKEFLAG[@]}" --out "$OUT/limits.json" --trivial-port "$TRIVIAL_PORT"

for s in "${SCENARIOS[@]}"; do
  case "$s" in
    api|throughput|resume|append-cost)
      run_step "$s" "$T" dotnet "$LOAD_DLL" "$s" "${SMOKEFLAG[@]}" --out "$OUT/$s.json" ;;
    api-rls)
      if start_owner_api; then
        run_step api-rls "$T" dotnet "$LOAD_DLL" api-rls "${SMOKEFLAG[@]}" --out "$OUT/api-rls.json" --owner-api-url "$OWNER_API_URL"
        kill "$OWNER_API" 2>/dev/null || true; OWNER_API=""
      else
        FAILED+=(api-rls)
      fi ;;
    connections)
      run_step connections "$T" dotnet "$LOAD_DLL" connections "${SMOKEFLAG[@]}" --out "$OUT/connections.json" --nodes "$NODES" ;;
    jobs)
      # bench/jobs is the job engine's own benchmark (ours vs Quartz); it writes jobs.json (smoke: raw/jobs.smoke.json).
      rm -f "$OUT/jobs.json"
      # Full: a 3,000-job backlog (Quartz drains ~20–100 jobs/s here; 10,000 would take minutes); BENCH_JOBS_ARGS overrides.
      read -r -a JOBS_ARGS <<< "${BENCH_JOBS_ARGS:---jobs 3000 --latency-jobs 300}"
      [ $SMOKE = 1 ] && JOBS_ARGS=(--smoke --jobs 60 --latency-jobs 20)
      run_step jobs "$T" - dotnet "$JOBS_DLL" "${JOBS_ARGS[@]}" --out "$ROOT/bench/results"
      if [ $SMOKE = 1 ] && [ -f "$OUT/jobs.smoke.json" ]; then mv "$OUT/jobs.smoke.json" "$OUT/jobs.json"; fi
      if [ -f "$OUT/jobs.json" ]; then load validate --file "$OUT/jobs.json" || FAILED+=(jobs); else say "jobs wrote no jobs.json"; FAILED+=(jobs); fi ;;
    notify)
      # Hook for the notifications benchmark: bench/notify/run.sh, called as `run.sh [--smoke] --out <file.json>`
      # with .platform/env exported, writing the same JSON shape as the other scenarios (bench/README.md).
      if [ -x "$ROOT/bench/notify/run.sh" ]; then
        run_step notify "$T" "$ROOT/bench/notify/run.sh" "${SMOKEFLAG[@]}" --out "$OUT/notify.json"
      elif [ -d "$ROOT/bench/notify" ]; then
        say "notify: bench/notify exists but has no executable run.sh — skipped"
      else
        say "notify: bench/notify does not exist yet — skipped"
      fi ;;
    algorithms)
      rm -f "$OUT/algorithms.json"
      run_step algorithms "$MT" - dotnet "$(module_dll algorithms Algorithms)" "${SMOKEFLAG[@]}" --out "$OUT/algorithms.json"
      module_result algorithms "$OUT/algorithms.json" ;;
    community)
      # Champion scoring through a job: 10,000 members / 200,000 signals (smoke: 1,000 / 20,000).
      rm -f "$ROOT/bench/results/raw/community.smoke.json"
      run_step community "$MT" - dotnet "$(module_dll community Community)" "${SMOKEFLAG[@]}" --out "$ROOT/bench/results"
      module_result community "$([ $SMOKE = 1 ] && echo "$ROOT/bench/results/raw/community.smoke.json" || echo "$OUT/community.json")" ;;
    events)
      # Recommendations and the full match recalculation at 10,000 attendees, through the running Api.
      rm -f "$OUT/events.json"
      run_step events "$MT" - dotnet "$(module_dll events Events)" "${SMOKEFLAG[@]}" --out "$OUT/events.json"
      module_result events "$OUT/events.json" ;;
    impact)
      # Outcome scoring through jobs and the report over 10,000 participants (smoke: 1,000, the size at which the volunteers query once chose a plan that took minutes).
      rm -f "$ROOT/bench/results/raw/impact.smoke.json"
      run_step impact "$MT" - dotnet "$(module_dll impact Impact)" "${SMOKEFLAG[@]}" --out "$ROOT/bench/results"
      module_result impact "$([ $SMOKE = 1 ] && echo "$ROOT/bench/results/raw/impact.smoke.json" || echo "$OUT/impact.json")" ;;
    civic)
      # The civic pipeline end to end through the running Api and Worker (60 meetings; smoke: 6).
      run_step civic "$MT" - python3 "$ROOT/bench/civic/bench.py" "${SMOKEFLAG[@]}"
      module_result civic "$([ $SMOKE = 1 ] && echo "$ROOT/bench/results/raw/civic-smoke.json" || echo "$OUT/civic.json")" ;;
    faults)
      # kill -9 / restart each part of the system under traffic (bench/faults, docs/operations.md). Only on a system
      # this run started: it kills processes and starts them again outside the AppHost, which `platform.sh stop` ends.
      if [ $STARTED = 1 ]; then
        run_step faults "$MT" dotnet "$(module_dll faults Faults)" "${SMOKEFLAG[@]}" --out "$OUT/faults.json" --state "$STATE"
      else
        say "faults: skipped — it kills and restarts processes, so it runs only on a system bench/run.sh starts (./platform.sh stop first)"
      fi ;;
  esac
done

NOTE="${BENCH_NOTE:-Load generators ran on the same machine as the system under test. The load average before and after each scenario is in the table: where it is far above the core count, other work shared the machine and the absolute numbers are lower bounds; compare the ratios to the limits, which were measured in the same run under the same conditions.}"
load report --dir "$OUT" --note "$NOTE"
if [ ${#FAILED[@]} -gt 0 ]; then die "failed: ${FAILED[*]}"; fi
say "results in ${OUT#$ROOT/}/README.md"
