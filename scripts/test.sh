#!/usr/bin/env bash
# `make test`: start what the suite needs (Redis, Mosquitto, Chromium), then run it. Extra args go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export METAVERSE_TESTING=1
export PYTHONUNBUFFERED=1
started=()
cleanup() {
  for pidfile in "${started[@]:-}"; do
    [ -n "$pidfile" ] && [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
}
trap cleanup EXIT

answers() { .venv/bin/python -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1', $1)))"; }

if [ -z "${REDIS_URL:-}" ]; then
  if answers 6379 && .venv/bin/python -c "import redis; redis.Redis(port=6379, socket_timeout=1).ping()" 2>/dev/null; then
    export REDIS_URL="redis://127.0.0.1:6379/0"
  else
    export REDIS_URL=$(bash scripts/redis.sh test)
    started+=("var/redis-test/redis.pid")
  fi
fi
# Separate test runs (and `make run`) sharing one Redis never see each other's groups or keys.
export METAVERSE_CHANNEL_PREFIX="test-$$"
echo "==> Redis: $REDIS_URL"

if [ -z "${MQTT_URL:-}" ]; then
  if answers 1883; then
    export MQTT_URL="mqtt://127.0.0.1:1883"
  else
    if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
      echo "==> Installing Debian's mosquitto for the MQTT tests"
      (apt-get update -qq && apt-get install -y -qq mosquitto) >/dev/null
    fi
    port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p var/mosquitto
    printf 'listener %s 127.0.0.1\nallow_anonymous true\npid_file %s/var/mosquitto/mosquitto.pid\n' "$port" "$PWD" > var/mosquitto/mosquitto.conf
    "$(command -v mosquitto || echo /usr/sbin/mosquitto)" -d -c var/mosquitto/mosquitto.conf
    started+=("var/mosquitto/mosquitto.pid")
    export MQTT_URL="mqtt://127.0.0.1:$port"
  fi
fi
echo "==> MQTT: $MQTT_URL"

if [ -z "${CHROMIUM_PATH:-}" ]; then
  CHROMIUM_PATH=$(command -v chromium || command -v chromium-browser || true)
  if [ -z "$CHROMIUM_PATH" ]; then
    echo "==> Installing Debian's chromium for the browser tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null
    CHROMIUM_PATH=$(command -v chromium)
  fi
fi
export CHROMIUM_PATH
echo "==> Chromium: $CHROMIUM_PATH"
echo "==> Database: ${DATABASE_URL:-sqlite (var/test.sqlite3)}"

mkdir -p test-artifacts
.venv/bin/python -m pytest "$@"
