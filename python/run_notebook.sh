#!/usr/bin/env bash
# Executes notebooks/attnflow_python.ipynb headless with the attnflow module of a build tree
# and checks its figures (through scripts/execute_notebook.sh).
# Usage: python/run_notebook.sh BUILD_PYTHON_DIR OUT_DIR
#   BUILD_PYTHON_DIR  the folder holding the attnflow package (<build>/python)
#   OUT_DIR           where the executed notebook and its PNG go
# Exits 77 (a skip for ctest) when Debian's Jupyter packages are missing.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -eq 2 ] || { echo "usage: python/run_notebook.sh BUILD_PYTHON_DIR OUT_DIR" >&2; exit 2; }
# shellcheck disable=SC2046  # one figure name per line
exec bash "$root/scripts/execute_notebook.sh" --pythonpath "$1" \
  "$root/notebooks/attnflow_python.ipynb" "$2" \
  $(/usr/bin/python3 "$root/notebooks/make_python_notebook.py" --figures)
