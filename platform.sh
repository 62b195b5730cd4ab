#!/usr/bin/env bash
# Platform's local runner: the same topology and configuration contract as Platform.AppHost
# (ARCHITECTURE §2, §4), without Aspire or a container engine.
#
#   ./platform.sh up                 start everything, load seeds, print URLs, stop on Ctrl+C
#   ./platform.sh start | stop       the same in the background / stop exactly what was started
#   ./platform.sh status             what runs, and its health
#   ./platform.sh logs [service]     follow the logs (api, realtime-0, realtime-1, worker, admin, postgres, redis)
#   ./platform.sh test               the whole test suite (what CI runs)
#   ./platform.sh bench [scenario…]  benchmarks (bench/README.md); --smoke for the short CI version
#
# Ports (override with environment variables): PLATFORM_PG_PORT=55432 PLATFORM_REDIS_PORT=56379
# PLATFORM_API_PORT=5080 PLATFORM_REALTIME_PORTS="5090 5091" PLATFORM_WORKER_PORT=5070 PLATFORM_ADMIN_PORT=5060
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE="${PLATFORM_STATE_DIR:-$ROOT/.platform}"
LOGS="$STATE/logs"
PIDS="$STATE/pids"
CONFIGURATION="${PLATFORM_CONFIGURATION:-Release}"

PG_PORT="${PLATFORM_PG_PORT:-55432}"
REDIS_PORT="${PLATFORM_REDIS_PORT:-56379}"
API_PORT="${PLATFORM_API_PORT:-5080}"
read -r -a REALTIME_PORTS <<< "${PLATFORM_REALTIME_PORTS:-5090 5091}"
WORKER_PORT="${PLATFORM_WORKER_PORT:-5070}"
ADMIN_PORT="${PLATFORM_ADMIN_PORT:-5060}"
START_TIMEOUT="${PLATFORM_START_TIMEOUT:-180}"

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
}

ensure_test_deps() {
  ensure_runtime_deps
  [ -x /usr/bin/chromium ] || apt_install chromium
  command -v node >/dev/null 2>&1 || apt_install nodejs npm
  if [ -f "$ROOT/Platform.Tests/js/package.json" ] && [ ! -d "$ROOT/Platform.Tests/js/node_modules" ]; then
    say "installing the test suite's npm packages"
    (cd "$ROOT/Platform.Tests/js" && npm ci --no-audit --no-fund --loglevel=error >"$LOGS/npm.log" 2>&1) || die "npm ci failed (see $LOGS/npm.log)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Secrets: generated once per checkout, kept in .platform/ (git-ignored), never in the repository.
# ---------------------------------------------------------------------------------------------
random_token() { head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }

ensure_secrets() {
  local f="$STATE/secrets"
  if [ ! -f "$f" ]; then
    umask 077
    {
      echo "OPERATOR_KEY=op_$(random_token)"
      echo "JWT_SIGNING_KEY=$(random_token)$(random_token)"
      echo "ADMIN_PASSWORD=$(random_token | head -c 20)"
    } > "$f"
  fi
  # Added after the first release of this runner: older secrets files get the line appended.
  grep -q '^IMPACT_MASTER_KEY=' "$f" || echo "IMPACT_MASTER_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '\n')" >> "$f"
  # shellcheck disable=SC1090
  . "$f"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL and Redis under .platform/
# ---------------------------------------------------------------------------------------------
as_pg_user() {
  # PostgreSQL refuses to run as root; under root it runs as the 'postgres' account.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_dir() { echo "$STATE/pg"; }

start_postgres() {
  local bin dir; bin="$(pg_bindir)"; dir="$(pg_dir)"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    say "initialising PostgreSQL in $dir"
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/false postgres
      chown -R postgres "$dir"
      # The server account must be able to reach the data directory.
      local p="$dir"; while [ "$p" != "/" ]; do p="$(dirname "$p")"; chmod o+x "$p" 2>/dev/null || true; done
    fi
    as_pg_user "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$LOGS/initdb.log" 2>&1 \
      || die "initdb failed (see $LOGS/initdb.log)"
  fi
  if as_pg_user "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then return; fi
  [ "$(id -u)" = 0 ] && { touch "$LOGS/postgres.log"; chown postgres "$LOGS/postgres.log"; }
  as_pg_user "$bin/pg_ctl" -D "$dir/data" -l "$LOGS/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -k $dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c shared_buffers=256MB" start >/dev/null \
    || die "PostgreSQL did not start (see $LOGS/postgres.log)"
  as_pg_user "$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'platformdb'" | grep -q 1 \
    || as_pg_user "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres platformdb
}

stop_postgres() {
  local bin dir; bin="$(pg_bindir 2>/dev/null)" || return 0; dir="$(pg_dir)"
  [ -f "$dir/data/postmaster.pid" ] && as_pg_user "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}

start_redis() {
  if [ -f "$PIDS/redis.pid" ] && kill -0 "$(cat "$PIDS/redis.pid")" 2>/dev/null; then return; fi
  mkdir -p "$STATE/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STATE/redis" --save "" --appendonly no \
    --daemonize yes --pidfile "$PIDS/redis.pid" --logfile "$LOGS/redis.log" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return; sleep 0.1; done
  die "Redis did not start (see $LOGS/redis.log)"
}

stop_redis() { stop_pid redis; }

# ---------------------------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------------------------
pg_cs() { echo "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=platformdb;Maximum Pool Size=100"; }
redis_cs() { echo "127.0.0.1:$REDIS_PORT"; }

build() {
  say "building ($CONFIGURATION)"
  dotnet build "$ROOT/Platform.Local.slnf" -c "$CONFIGURATION" -nologo -clp:ErrorsOnly >"$LOGS/build.log" 2>&1 \
    || { tail -n 40 "$LOGS/build.log"; die "build failed (full log: $LOGS/build.log)"; }
}

service_env() {
  # The configuration contract of ARCHITECTURE §2: what the AppHost injects, injected the same way here.
  local name="$1" url="$2" i=0
  export ASPNETCORE_URLS="$url"
  export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Production}"
  export OTEL_SERVICE_NAME="${name%-[0-9]*}"
  export OTEL_RESOURCE_ATTRIBUTES="service.instance.id=$name"
  export ConnectionStrings__platformdb; ConnectionStrings__platformdb="$(pg_cs)"
  export ConnectionStrings__redis; ConnectionStrings__redis="$(redis_cs)"
  export services__api__http__0="http://127.0.0.1:$API_PORT"
  export services__worker__http__0="http://127.0.0.1:$WORKER_PORT"
  for p in "${REALTIME_PORTS[@]}"; do export "services__realtime__http__$i=http://127.0.0.1:$p"; i=$((i + 1)); done
  export Platform__OperatorKey="$OPERATOR_KEY"
  export Platform__Jwt__SigningKey="$JWT_SIGNING_KEY"
  export Admin__Password="$ADMIN_PASSWORD"
  # Wraps the per-person data keys of impact PII (docs/impact.md); losing it makes that PII unreadable.
  export Platform__Impact__MasterKey="$IMPACT_MASTER_KEY"
}

start_service() {
  # $1: instance name, $2: project, $3: port
  local name="$1" project="$2" port="$3"
  if [ -f "$PIDS/$name.pid" ] && kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then return; fi
  local dll="$ROOT/$project/bin/$CONFIGURATION/net10.0/$project.dll"
  [ -f "$dll" ] || die "$dll is missing: the build did not produce it"
  (
    service_env "$name" "http://127.0.0.1:$port"
    cd "$ROOT/$project"
    exec dotnet "$dll" >>"$LOGS/$name.log" 2>&1
  ) &
  echo $! > "$PIDS/$name.pid"
}

services() {
  echo "api Platform.Api $API_PORT"
  local i=0
  for p in "${REALTIME_PORTS[@]}"; do echo "realtime-$i Platform.Realtime $p"; i=$((i + 1)); done
  echo "worker Platform.Worker $WORKER_PORT"
  echo "admin Platform.Admin $ADMIN_PORT"
}

wait_healthy() {
  local deadline=$((SECONDS + START_TIMEOUT)) name project port pending
  while :; do
    pending=""
    while read -r name project port; do
      if [ -f "$PIDS/$name.pid" ] && ! kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then
        tail -n 30 "$LOGS/$name.log" >&2
        die "$name exited during start-up (log: $LOGS/$name.log)"
      fi
      [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health" 2>/dev/null)" = 200 ] || pending="$pending $name"
    done < <(services)
    [ -z "$pending" ] && return 0
    [ $SECONDS -ge $deadline ] && die "not healthy after ${START_TIMEOUT}s:$pending (logs in $LOGS)"
    sleep 0.5
  done
}

write_env() {
  local rt="" i=0
  for p in "${REALTIME_PORTS[@]}"; do rt="$rt${rt:+ }ws://127.0.0.1:$p"; i=$((i + 1)); done
  cat > "$STATE/env" <<EOF
API_URL=http://127.0.0.1:$API_PORT
REALTIME_URLS="$rt"
ADMIN_URL=http://127.0.0.1:$ADMIN_PORT
WORKER_URL=http://127.0.0.1:$WORKER_PORT
OPERATOR_KEY=$OPERATOR_KEY
ADMIN_PASSWORD=$ADMIN_PASSWORD
DATABASE_URL=postgresql://postgres@127.0.0.1:$PG_PORT/platformdb
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
ConnectionStrings__platformdb="$(pg_cs)"
ConnectionStrings__redis=$(redis_cs)
EOF
}

stop_pid() {
  local name="$1" f="$PIDS/$1.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

cmd_start() {
  local t0=$SECONDS
  ensure_runtime_deps
  ensure_secrets
  start_postgres
  start_redis
  build
  say "starting services"
  while read -r name project port; do start_service "$name" "$project" "$port"; done < <(services)
  wait_healthy
  write_env
  say "healthy after $((SECONDS - t0))s"
  print_urls
}

print_urls() {
  # shellcheck disable=SC1091
  . "$STATE/env"
  cat <<EOF

  API          $API_URL   (OpenAPI: $API_URL/docs)
  Realtime     $REALTIME_URLS
  Admin        $ADMIN_URL   (password: $ADMIN_PASSWORD)
  Operator key $OPERATOR_KEY
  Settings     $STATE/env  (source it: set -a; . .platform/env; set +a)

EOF
}

cmd_stop() {
  local name project port
  if [ -d "$PIDS" ]; then
    while read -r name project port; do stop_pid "$name"; done < <(services)
    # Instances from an earlier run with other port settings.
    for f in "$PIDS"/*.pid; do [ -e "$f" ] || continue; n="$(basename "$f" .pid)"; [ "$n" = redis ] || stop_pid "$n"; done
  fi
  stop_redis
  stop_postgres
  say "stopped"
}

load_seeds() {
  local loader
  for loader in "$ROOT"/seeds/*/load.sh; do
    [ -x "$loader" ] || continue
    say "loading seeds/$(basename "$(dirname "$loader")")"
    (set -a; . "$STATE/env"; set +a; "$loader") >>"$LOGS/seeds.log" 2>&1 || say "warning: $loader failed (see $LOGS/seeds.log)"
  done
}

cmd_up() {
  trap 'echo; cmd_stop; exit 0' INT TERM
  cmd_start
  load_seeds
  say "running; Ctrl+C stops everything"
  tail -q -n 0 -F "$LOGS"/api.log "$LOGS"/realtime-*.log "$LOGS"/worker.log "$LOGS"/admin.log 2>/dev/null &
  wait
}

cmd_status() {
  local name project port pid state health
  printf '%-12s %-8s %-6s %s\n' SERVICE PID PORT HEALTH
  while read -r name project port; do
    pid="-"; state="stopped"; health="-"
    if [ -f "$PIDS/$name.pid" ] && kill -0 "$(cat "$PIDS/$name.pid")" 2>/dev/null; then
      pid="$(cat "$PIDS/$name.pid")"
      health="$(curl -s "http://127.0.0.1:$port/health" 2>/dev/null || echo unreachable)"
    fi
    printf '%-12s %-8s %-6s %s\n' "$name" "$pid" "$port" "$health"
  done < <(services)
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && echo "redis        up       $REDIS_PORT" || echo "redis        down     $REDIS_PORT"
  [ -f "$(pg_dir)/data/postmaster.pid" ] && echo "postgres     up       $PG_PORT" || echo "postgres     down     $PG_PORT"
}

cmd_logs() {
  if [ $# -gt 0 ]; then tail -n 100 -F "$LOGS/$1.log"; else tail -n 20 -F "$LOGS"/*.log; fi
}

cmd_test() {
  ensure_test_deps
  say "building (Debug)"
  dotnet build "$ROOT/Platform.Local.slnf" -nologo -clp:ErrorsOnly
  say "running the test suite"
  # Integration tests start their own throwaway PostgreSQL and Redis (Platform.Tests/Infrastructure).
  # A hung test fails the run after 5 minutes (with a dump) instead of eating the CI budget.
  dotnet test "$ROOT/Platform.Tests/Platform.Tests.csproj" --no-build -nologo --blame-hang-timeout 5m \
    --logger "console;verbosity=normal" --results-directory "$ROOT/Platform.Tests/artifacts" "$@"
  if [ -x "$ROOT/bench/run.sh" ]; then
    say "benchmark smoke run"
    "$ROOT/bench/run.sh" --smoke
  fi
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
    seed) load_seeds ;;
    *) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//' ;;
  esac
}

main "$@"
