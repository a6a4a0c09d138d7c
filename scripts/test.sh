#!/usr/bin/env bash
# The whole suite. With DATABASE_URL / REDIS_URL set it runs against real Postgres and Redis; without them
# on the embedded default (SQLite, in-memory channel layer) and skips the tests that need the services.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${DATABASE_URL:-}" ]; then echo "Database: ${DATABASE_URL%%@*}@…"; else echo "Database: SQLite (embedded default)"; fi
if [ -n "${REDIS_URL:-}" ]; then echo "Channel layer and broker: Redis"; else echo "Channel layer: in-memory (embedded default)"; fi
mkdir -p test-artifacts
exec .venv/bin/python -m pytest "$@"
