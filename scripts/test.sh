#!/usr/bin/env bash
# The README's test command: set up (idempotent), lint, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
ruff check recsys dialogue graph api tests
python -m pytest -n 2 -q "$@"
