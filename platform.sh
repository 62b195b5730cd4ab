#!/usr/bin/env bash
# Platform's runner. The system runs under the .NET Aspire AppHost (Platform.AppHost): PostgreSQL, Redis, api,
# realtime-0/1, worker, admin and the Aspire dashboard. This script installs what a fresh machine lacks and starts
# or stops the AppHost; it never launches a service itself.
#
#   ./platform.sh up                 install what is missing, run the AppHost in the foreground (Ctrl+C stops all)
#   ./platform.sh start | stop       the same in the background / stop it, leaving no process behind
#   ./platform.sh status             what runs, and its health
#   ./platform.sh logs [resource]    the AppHost's log (a resource's console log is in the dashboard)
#   ./platform.sh seed               load the demo data again (the AppHost loads it on the first run)
#   ./platform.sh test               the whole test suite (what CI runs)
#   ./platform.sh bench [scenario…]  benchmarks (bench/README.md); --smoke for the short CI version
#   ./platform.sh train-outcomes     retrain the outcome classifier and print it beside the rubric (docs/impact-scoring.md)
#   ./platform.sh train-outcomes --fine-tune   the fine-tuned transformer experiment (tools/impact/finetune/run.sh)
#
# Ports (override with environment variables): PLATFORM_PG_PORT=55432 PLATFORM_REDIS_PORT=56379
# PLATFORM_API_PORT=5080 PLATFORM_REALTIME_PORTS="5090 5091" PLATFORM_WORKER_PORT=5070 PLATFORM_ADMIN_PORT=5050;
# PLATFORM_SEEDS=false skips the demo data.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${PLATFORM_STATE_DIR:-$ROOT/.platform}"
LOGS="$STATE/logs"
PIDS="$STATE/pids"
CONFIGURATION="${PLATFORM_CONFIGURATION:-Release}"
START_TIMEOUT="${PLATFORM_START_TIMEOUT:-300}"
APPHOST_DLL="$ROOT/Platform.AppHost/bin/$CONFIGURATION/net10.0/Platform.AppHost.dll"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Prerequisites: installed when we can (root + apt-get), otherwise named exactly.
# ---------------------------------------------------------------------------------------------
pg_bindir() {
  local d
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  return 1
}

apt_install() {
  # $@: Debian packages
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing $* (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    if [ ! -f "$STATE/.apt-updated" ]; then
      apt-get update -qq >"$LOGS/apt.log" 2>&1 || true
      touch "$STATE/.apt-updated"
    fi
    apt-get install -y -qq --no-install-recommends "$@" >>"$LOGS/apt.log" 2>&1 || die "apt-get install $* failed (see $LOGS/apt.log)"
  else
    die "missing: $*. Install them (Debian/Ubuntu: sudo apt-get install $*) and run again."
  fi
}

ensure_runtime_deps() {
  mkdir -p "$LOGS" "$PIDS"
  command -v dotnet >/dev/null 2>&1 || die "the .NET 10 SDK is missing: install it from https://dot.net (dotnet-install.sh) and run again."
  pg_bindir >/dev/null || apt_install postgresql
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server
  command -v curl >/dev/null 2>&1 || apt_install curl
  # The seeds' loaders, and ss for the pid files.
  command -v jq >/dev/null 2>&1 || apt_install jq
  command -v python3 >/dev/null 2>&1 || apt_install python3
  command -v ss >/dev/null 2>&1 || apt_install iproute2
  [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || apt_install fonts-dejavu-core  # the font of the impact report PDF
}

ensure_test_deps() {
  ensure_runtime_deps
  [ -x /usr/bin/chromium ] || apt_install chromium
  command -v node >/dev/null 2>&1 || apt_install nodejs npm
  [ -d /usr/lib/python3/dist-packages/aiosmtpd ] || apt_install python3-aiosmtpd  # loopback SMTP server of the email tests
  if [ -f "$ROOT/Platform.Tests/js/package.json" ] && [ ! -d "$ROOT/Platform.Tests/js/node_modules" ]; then
    say "installing the test suite's npm packages"
    (cd "$ROOT/Platform.Tests/js" && npm ci --no-audit --no-fund --loglevel=error >"$LOGS/npm.log" 2>&1) || die "npm ci failed (see $LOGS/npm.log)"
  fi
}

# ---------------------------------------------------------------------------------------------
# The AppHost
# ---------------------------------------------------------------------------------------------
build() {
  say "building ($CONFIGURATION)"
  dotnet build "$ROOT/Platform.AppHost/Platform.AppHost.csproj" -c "$CONFIGURATION" -nologo -clp:ErrorsOnly >"$LOGS/build.log" 2>&1 \
    || { tail -n 40 "$LOGS/build.log"; die "build failed (full log: $LOGS/build.log)"; }
}

apphost_args() {
  # Port overrides and the state directory, as AppHost configuration (Platform:Ports:*, Platform:StateDirectory).
  local rt="${PLATFORM_REALTIME_PORTS:-}"
  echo "--Platform:StateDirectory=$STATE"
  [ -n "${PLATFORM_PG_PORT:-}" ] && echo "--Platform:Ports:Postgres=$PLATFORM_PG_PORT"
  [ -n "${PLATFORM_REDIS_PORT:-}" ] && echo "--Platform:Ports:Redis=$PLATFORM_REDIS_PORT"
  [ -n "${PLATFORM_API_PORT:-}" ] && echo "--Platform:Ports:Api=$PLATFORM_API_PORT"
  [ -n "$rt" ] && echo "--Platform:Ports:Realtime=${rt// /,}"
  [ -n "${PLATFORM_WORKER_PORT:-}" ] && echo "--Platform:Ports:Worker=$PLATFORM_WORKER_PORT"
  [ -n "${PLATFORM_ADMIN_PORT:-}" ] && echo "--Platform:Ports:Admin=$PLATFORM_ADMIN_PORT"
  [ -n "${PLATFORM_SEEDS:-}" ] && echo "--Platform:Seeds=$PLATFORM_SEEDS"
  return 0
}

apphost_env() {
  # What the AppHost's launch profile sets under `dotnet run`: the dashboard's addresses, plain http on loopback.
  export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
  export DOTNET_ENVIRONMENT="$ASPNETCORE_ENVIRONMENT"
  export ASPNETCORE_URLS="${PLATFORM_DASHBOARD_URL:-http://localhost:15080}"
  export ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="${PLATFORM_OTLP_URL:-http://localhost:19080}"
  export ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="${PLATFORM_RESOURCE_SERVICE_URL:-http://localhost:20080}"
  export ASPIRE_ALLOW_UNSECURED_TRANSPORT=true
}

apphost_pid() {
  local f="$PIDS/apphost.pid"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"
}

write_pids() {
  # A pid file per service, found by the port it listens on, for tools that measure a process (bench/run.sh).
  # shellcheck disable=SC1091
  ( set -a; . "$STATE/env"; set +a
    pid_on() { local port="${1##*:}"; ss -Htlnp "sport = :${port%%/*}" 2>/dev/null | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2; }
    pid_on "$API_URL" >"$PIDS/api.pid"
    pid_on "$WORKER_URL" >"$PIDS/worker.pid"
    pid_on "$ADMIN_URL" >"$PIDS/admin.pid"
    i=0; for u in $REALTIME_URLS; do pid_on "$u" >"$PIDS/realtime-$i.pid"; i=$((i + 1)); done )
}

cmd_start() {
  local t0=$SECONDS pid
  ensure_runtime_deps
  if pid="$(apphost_pid)"; then say "already running (AppHost pid $pid)"; print_urls; return; fi
  build
  rm -f "$STATE/env"
  say "starting the AppHost"
  apphost_env
  mapfile -t args < <(apphost_args)
  # In its own session, so that stop can end the AppHost and everything it started as one process group.
  setsid dotnet "$APPHOST_DLL" "${args[@]}" >"$LOGS/apphost.log" 2>&1 < /dev/null &
  echo $! >"$PIDS/apphost.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  until [ -f "$STATE/env" ]; do
    if ! apphost_pid >/dev/null; then tail -n 40 "$LOGS/apphost.log" >&2; die "the AppHost exited during start-up (log: $LOGS/apphost.log)"; fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 20 "$LOGS/apphost.log" >&2
      die "not healthy after ${START_TIMEOUT}s (log: $LOGS/apphost.log; the dashboard shows each resource's state and log)"
    fi
    sleep 1
  done
  write_pids
  say "healthy after $((SECONDS - t0))s"
  print_urls
}

print_urls() {
  # shellcheck disable=SC1091
  . "$STATE/env"
  cat <<EOF

  Dashboard    $DASHBOARD_URL
  API          $API_URL   (reference: $API_URL/docs)
  Realtime     $REALTIME_URLS
  Admin        $ADMIN_URL   (password: $ADMIN_PASSWORD)
  Operator key $OPERATOR_KEY
  Settings     $STATE/env  (source it: set -a; . .platform/env; set +a)

EOF
}

our_processes() {
  # Everything a run of this checkout starts: DCP (it names the AppHost it watches), the services, the servers.
  local apphost="${1:-}"
  {
    [ -n "$apphost" ] && pgrep -f -- "dcp.*(monitor|--monitor).*\b$apphost\b" || true
    pgrep -f -- "$ROOT/Platform\.(Api|Realtime|Worker|Admin)" || true
    pgrep -f -- "-D $STATE/data/postgres/data" || true
    pgrep -f -- "redis-server $STATE/data/redis/redis.conf" || true
    pgrep -f -- "http.server .*--directory $ROOT/seeds" || true
  } | sort -u
}

cmd_stop() {
  local pid="" left
  if pid="$(apphost_pid)"; then
    # SIGTERM lets the AppHost hand its resources to DCP's clean-up, which stops them after the AppHost is gone.
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  # Wait for that clean-up; whatever still runs after a minute is ended here, so nothing outlives stop.
  for _ in $(seq 1 60); do
    [ -z "$(our_processes "$pid")" ] && break
    sleep 1
  done
  left="$(our_processes "$pid")"
  if [ -n "$left" ]; then kill -TERM $left 2>/dev/null || true; sleep 2; kill -KILL $left 2>/dev/null || true; fi
  rm -f "$PIDS"/*.pid "$STATE/env"
  say "stopped"
}

cmd_up() {
  ensure_runtime_deps
  build
  apphost_env
  mapfile -t args < <(apphost_args)
  say "running the AppHost; it prints the URLs once everything is healthy; Ctrl+C stops everything"
  exec dotnet "$APPHOST_DLL" "${args[@]}"
}

cmd_status() {
  local pid
  if ! pid="$(apphost_pid)"; then echo "not running"; return 0; fi
  echo "AppHost      pid $pid"
  [ -f "$STATE/env" ] || { echo "starting (no $STATE/env yet)"; return 0; }
  # shellcheck disable=SC1091
  ( set -a; . "$STATE/env"; set +a
    printf '%-12s %-26s %s\n' SERVICE URL HEALTH
    for pair in "api $API_URL" "worker $WORKER_URL" "admin $ADMIN_URL"; do
      read -r name url <<<"$pair"
      printf '%-12s %-26s %s\n' "$name" "$url" "$(curl -s -m 5 "$url/health" || echo unreachable)"
    done
    i=0; for u in $REALTIME_URLS; do
      h="${u/ws:/http:}"; printf '%-12s %-26s %s\n' "realtime-$i" "$h" "$(curl -s -m 5 "$h/health" || echo unreachable)"; i=$((i + 1))
    done
    echo "dashboard    $DASHBOARD_URL" )
}

cmd_logs() {
  if [ $# -gt 0 ] && [ -f "$STATE/env" ]; then
    # shellcheck disable=SC1091
    . "$STATE/env"
    say "$1's console log: ${DASHBOARD_URL%%/login*}/consolelogs/resource/$1 (sign in once with $DASHBOARD_URL)"
  fi
  tail -n 100 -F "$LOGS/apphost.log"
}

load_seeds() {
  [ -f "$STATE/env" ] || die "the system is not running: ./platform.sh start first"
  (set -a; . "$STATE/env"; set +a; "$ROOT/seeds/load.sh" --again)
}

cmd_test() {
  ensure_test_deps
  say "building (Debug)"
  dotnet build "$ROOT/Platform.sln" -nologo -clp:ErrorsOnly
  say "running the test suite"
  # Integration tests start their own throwaway PostgreSQL and Redis (Platform.Tests/Infrastructure); the AppHost
  # tests run the whole system on free ports. A hung test fails the run after 5 minutes (with a dump).
  # Console output stays short (failures with their messages); the TRX file keeps everything, and the failed tests
  # are listed again at the very end so the last lines of a CI log name them.
  local results="$ROOT/Platform.Tests/artifacts" rc=0
  rm -f "$results/tests.trx"
  dotnet test "$ROOT/Platform.Tests/Platform.Tests.csproj" --no-build -nologo --blame-hang-timeout 5m \
    --logger "console;verbosity=minimal" --logger "trx;LogFileName=tests.trx" --results-directory "$results" "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    [ -f "$results/tests.trx" ] && python3 "$ROOT/tools/trx-failures.py" "$results/tests.trx"
    die "the test suite failed (exit $rc)"
  fi
  if [ -x "$ROOT/bench/run.sh" ]; then
    say "benchmark smoke run"
    "$ROOT/bench/run.sh" --smoke
  fi
}

cmd_train_outcomes() {
  # Retrains the outcome classifier's weights from seeds/impact/training-sentences.jsonl and prints rubric vs classifier.
  # --fine-tune [phase…]: the fine-tuning experiment instead, outside the solution (it downloads libtorch and a C runtime).
  if [ "${1:-}" = "--fine-tune" ]; then shift; "$ROOT/tools/impact/finetune/run.sh" "$@"; return; fi
  dotnet run -c Release --project "$ROOT/tools/impact/train" -- "$@"
}

cmd_bench() {
  [ -x "$ROOT/bench/run.sh" ] || die "bench/run.sh is missing"
  ensure_test_deps
  "$ROOT/bench/run.sh" "$@"
}

main() {
  local cmd="${1:-help}"; shift || true
  mkdir -p "$LOGS" "$PIDS"
  case "$cmd" in
    up) cmd_up ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    logs) cmd_logs "$@" ;;
    test) cmd_test "$@" ;;
    bench) cmd_bench "$@" ;;
    train-outcomes) cmd_train_outcomes "$@" ;;
    seed) load_seeds ;;
    *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' ;;
  esac
}

main "$@"
