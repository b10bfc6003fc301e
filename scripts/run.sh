#!/usr/bin/env bash
# `make run`: the whole product on one machine. Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
export PYTHONUNBUFFERED=1
PORT=${PORT:-8000}
HOST=${HOST:-127.0.0.1}

private_redis=""
cleanup() {
  if [ -n "$private_redis" ] && [ -f var/redis-run/redis.pid ]; then
    kill "$(cat var/redis-run/redis.pid)" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if [ -z "${REDIS_URL:-}" ]; then
  REDIS_URL=$(bash scripts/redis.sh run)
  private_redis=1
  echo "==> Started a private Redis at $REDIS_URL (set REDIS_URL to use your own)"
fi
export REDIS_URL

echo "==> Migrating the database (${DATABASE_URL:-sqlite:///var/db.sqlite3})"
.venv/bin/python manage.py migrate --noinput -v0
echo "==> Seeding the demo plant"
.venv/bin/python manage.py seed_demo > var/seed.log
cat var/seed.log

{
  echo "web: .venv/bin/python -m metaverse.server -b $HOST -p $PORT --websocket_timeout -1 --ping-interval 5 --ping-timeout 10 metaverse.asgi:application"
  echo "worker: .venv/bin/celery -A metaverse worker -l warning -c 2 -n worker@%h"
  echo "beat: .venv/bin/celery -A metaverse beat -l warning -s var/celerybeat-schedule"
  if .venv/bin/python manage.py help demo_feed >/dev/null 2>&1; then
    echo "feed: .venv/bin/python manage.py demo_feed"
  fi
  if [ -n "${MQTT_URL:-}" ]; then
    echo "mqtt: .venv/bin/python manage.py mqtt_bridge"
  fi
} > var/Procfile

layout=$(.venv/bin/python manage.py shell -c "from twins.models import Factory; print(Factory.objects.get(slug='demo-plant').baseline_layout_id)" 2>/dev/null | tail -1)
cat <<BANNER

  Industrial Metaverse is starting on  http://$HOST:$PORT/
  Demo layout in 3D:                   http://$HOST:$PORT/layouts/$layout/
  API docs:                            http://$HOST:$PORT/api/docs/
  Django admin:                        http://$HOST:$PORT/admin/   (admin / admin)
  Log in as alice / alice (engineer), maggie / maggie (manager), victor / victor (viewer), olivia / olivia (owner).
  Press Ctrl-C to stop everything.

BANNER
.venv/bin/honcho -f var/Procfile -d . start
