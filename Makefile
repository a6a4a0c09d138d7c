# Etude's chores. `make run` sets up and serves the demo; `make test` sets up and runs the whole suite.
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup system-deps run worker test test-fast lint bench clean

setup: .venv/.installed

.venv/.installed: requirements.txt requirements-dev.txt requirements-nodeps.txt scripts/setup.sh
	bash scripts/setup.sh
	touch $@

system-deps:
	bash scripts/system-deps.sh

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "Etude is at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	$(PY) -m daphne -b $(HOST) -p $(PORT) webapp.asgi:application

worker: setup
	$(PY) manage.py inference_worker

test: setup system-deps
	bash scripts/test.sh

test-fast: setup
	$(PY) -m pytest -m "not e2e" -q

lint: setup
	$(PY) -m ruff check inference webapp tests
	$(PY) -m mypy

bench: setup
	$(PY) -m inference.bench.session --json

clean:
	rm -rf .venv var staticfiles test-artifacts
