#!/usr/bin/env bash
# Installs NVIDIA's nv-local-gpu-verifier (PyPI, pinned) into .cache/nv-verifier,
# a virtualenv of its own, for scripts/bench-gpu.sh only. Never run by the
# tests: the comparison is a benchmark, not a check.
#
# Usage: bash scripts/install-nv-verifier.sh
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=2.7.3
VENV=.cache/nv-verifier
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "nv-local-gpu-verifier==$VERSION"
"$VENV/bin/python" -c "import verifier, importlib.metadata as m; print('nv-local-gpu-verifier', m.version('nv-local-gpu-verifier'))"
