#!/usr/bin/env bash
# Executes the notebooks in notebooks/ headless on a demo store and checks their figures
# (through scripts/execute_notebook.sh).
# Usage: scripts/run_notebooks.sh [DEMO_H5 [OUT_DIR]]
#   DEMO_H5  store written by `attnflow demo` (default: $ATTNFLOW_DEMO_H5, else out/demo/demo.h5)
#   OUT_DIR  where the executed notebook and its PNG figures go (default: DIR_OF_DEMO_H5/notebook)
# Exits non-zero when a cell fails or a figure is missing or empty; exits 77 (a skip for ctest)
# when the Debian packages are missing (see scripts/execute_notebook.sh).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
h5="${1:-${ATTNFLOW_DEMO_H5:-$root/out/demo/demo.h5}}"
[ -f "$h5" ] || { echo "run_notebooks: no store $h5 (run scripts/demo.sh first)" >&2; exit 1; }
h5="$(cd "$(dirname "$h5")" && pwd)/$(basename "$h5")"
out="${2:-$(dirname "$h5")/notebook}"
export ATTNFLOW_DEMO_H5="$h5"
# shellcheck disable=SC2046  # one figure name per line
exec bash "$root/scripts/execute_notebook.sh" "$root/notebooks/attnflow_demo.ipynb" "$out" \
  $(/usr/bin/python3 "$root/notebooks/make_demo_notebook.py" --figures)
