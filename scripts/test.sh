#!/usr/bin/env bash
# The README's test command: set up (idempotent), lint, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The chat page's end-to-end test drives Debian's Chromium through Playwright (no browser download);
# without Chromium that one test is skipped with its reason.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "test.sh: could not install chromium; the browser test will be skipped"
fi
. .venv/bin/activate
ruff check recsys dialogue graph api tests scripts
python -m pytest -n 2 -q "$@"
