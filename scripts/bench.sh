#!/usr/bin/env bash
# `make bench [NAME=simulation]`: run one benchmark or all of them (figures go to docs/benchmarks.md by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${1:-}" ]; then
  exec .venv/bin/python "bench/$1.py"
fi
for script in bench/*.py; do
  [ "$(basename "$script")" = "__init__.py" ] && continue
  echo "==> $script"
  .venv/bin/python "$script"
done
