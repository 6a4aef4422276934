#!/usr/bin/env bash
# Sets up, then runs the examples on the default device.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/python examples/vector_add.py
.venv/bin/python examples/matrix_copy_2d.py
