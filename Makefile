# One command to run the demo, one to test it. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := run
PY := .venv/bin/python

.PHONY: setup run test bench lint frontend clean

setup:            ## idempotent install: .venv, Python packages, npm packages, frontend build
	@bash scripts/setup.sh

run: setup        ## migrate, seed the demo plant, start Redis, daphne, Celery worker + beat and the demo feed
	@bash scripts/run.sh

test: setup       ## start what the tests need (Redis, Mosquitto, Chromium) and run the whole suite
	@bash scripts/test.sh $(ARGS)

bench: setup      ## run the benchmarks (make bench NAME=simulation for one)
	@bash scripts/bench.sh $(NAME)

frontend:
	@cd frontend && npm run build

clean:
	rm -rf var/static var/*.sqlite3 frontend/dist
