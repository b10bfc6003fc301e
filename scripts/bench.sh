#!/usr/bin/env bash
# `make bench [NAME=simulation]`: start what the benchmarks need (Redis, Mosquitto; PostgreSQL and Chromium are
# found, not started), say plainly what is missing, then run bench/NAME.py (extra arguments go to it) or every
# script in bench/. Figures go to docs/benchmarks.md by hand, with the command that produced them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
started=()
cleanup() {
  for pidfile in "${started[@]:-}"; do
    [ -n "$pidfile" ] && [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}
trap cleanup EXIT

name=${1:-}
[ $# -gt 0 ] && shift
if [ -n "$name" ] && [ ! -f "bench/$name.py" ]; then
  echo "No benchmark bench/$name.py; there are: $(cd bench && ls -- *.py | grep -v '^__init__' | sed 's/\.py$//' | tr '\n' ' ')" >&2
  exit 2
fi

answers() { .venv/bin/python -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('$1', $2)))"; }
missing=()  # "script: what it needs" for every benchmark that cannot run here

# Redis: the channel layer, the Celery broker and the realtime room of every benchmark that starts the product.
if [ -z "${REDIS_URL:-}" ]; then
  if answers 127.0.0.1 6379 && .venv/bin/python -c "import redis; redis.Redis(port=6379, socket_timeout=1).ping()" 2>/dev/null; then
    export REDIS_URL="redis://127.0.0.1:6379/0"
  else
    export REDIS_URL=$(bash scripts/redis.sh bench)
    started+=("var/redis-bench/redis.pid")
  fi
fi
echo "==> Redis: $REDIS_URL"
# bench/realtime.py starts its own redis-server pinned to the server's core, so it needs the binary itself.
command -v redis-server >/dev/null 2>&1 || missing+=("realtime: redis-server (apt-get install redis-server)")
command -v taskset >/dev/null 2>&1 || missing+=("realtime: taskset (apt-get install util-linux)")

# PostgreSQL: bench/ingest.py measures on it where one answers (BENCH_PG_URL), and on SQLite always.
export BENCH_PG_URL=${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/bench_ingest}
if .venv/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1].rsplit('/', 1)[0] + '/postgres', connect_timeout=2).close()" "$BENCH_PG_URL" 2>/dev/null; then
  echo "==> PostgreSQL: ${BENCH_PG_URL%/*} (scratch database ${BENCH_PG_URL##*/})"
else
  export BENCH_DBS=${BENCH_DBS:-sqlite}
  echo "==> PostgreSQL: none answers at ${BENCH_PG_URL%/*} — bench/ingest.py measures SQLite only (set BENCH_PG_URL to one)"
fi

# Mosquitto: the MQTT phase of bench/ingest.py.
if [ -z "${MQTT_URL:-}" ]; then
  if answers 127.0.0.1 1883; then
    export MQTT_URL="mqtt://127.0.0.1:1883"
  elif mosquitto=$(command -v mosquitto || ls /usr/sbin/mosquitto 2>/dev/null); then
    port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p var/mosquitto-bench
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npid_file %s/var/mosquitto-bench/mosquitto.pid\n' "$port" "$PWD" > var/mosquitto-bench/mosquitto.conf
    "$mosquitto" -d -c var/mosquitto-bench/mosquitto.conf
    started+=("var/mosquitto-bench/mosquitto.pid")
    export MQTT_URL="mqtt://127.0.0.1:$port"
  fi
fi
if [ -n "${MQTT_URL:-}" ]; then
  echo "==> MQTT: $MQTT_URL"
else
  echo "==> MQTT: no broker answers and mosquitto is not installed (apt-get install mosquitto) — bench/ingest.py skips its MQTT phase"
fi

# Chromium: bench/scene.py drives the 3D page in it.
CHROMIUM_PATH=${CHROMIUM_PATH:-$(command -v chromium || command -v chromium-browser || true)}
if [ -n "$CHROMIUM_PATH" ]; then
  export CHROMIUM_PATH
  echo "==> Chromium: $CHROMIUM_PATH"
else
  missing+=("scene: Chromium (apt-get install chromium, or set CHROMIUM_PATH)")
  echo "==> Chromium: missing (apt-get install chromium, or set CHROMIUM_PATH)"
fi

cannot_run() {  # prints why bench/$1.py cannot run here, if it cannot
  local entry found=1
  for entry in "${missing[@]:-}"; do
    if [ -n "$entry" ] && [ "${entry%%:*}" = "$1" ]; then
      echo "bench/$1.py needs ${entry#*: }"
      found=0
    fi
  done
  return $found
}

if [ -n "$name" ]; then
  if cannot_run "$name"; then
    exit 1
  fi
  .venv/bin/python "bench/$name.py" "$@"
  exit
fi
status=0
for script in bench/*.py; do
  script_name=$(basename "$script" .py)
  [ "$script_name" = "__init__" ] && continue
  echo "==> $script"
  if cannot_run "$script_name"; then
    echo "    skipped"
    status=1
    continue
  fi
  .venv/bin/python "$script" || status=$?
done
exit $status
