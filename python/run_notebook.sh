#!/usr/bin/env bash
# Executes notebooks/attnflow_python.ipynb headless with the attnflow module of a build tree
# and checks its figure. Usage: python/run_notebook.sh BUILD_PYTHON_DIR OUT_DIR
#   BUILD_PYTHON_DIR  the folder holding the attnflow package (<build>/python)
#   OUT_DIR           where the executed notebook and its PNG go
# The committed notebook is never modified. Exits 77 (a skip for ctest) when Debian's Jupyter
# packages are missing: jupyter-nbconvert python3-nbformat python3-ipykernel python3-matplotlib.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pkg="$(cd "$1" && pwd)"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
python=/usr/bin/python3
jupyter=/usr/bin/jupyter
if [ ! -x "$jupyter" ] || ! "$python" -c 'import nbformat, nbclient, ipykernel, matplotlib, numpy' 2>/dev/null; then
  echo "run_notebook: skipped: needs jupyter-nbconvert python3-nbformat python3-ipykernel python3-matplotlib" >&2
  exit 77
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export JUPYTER_CONFIG_DIR="$scratch/config" JUPYTER_DATA_DIR="$scratch/data"
export JUPYTER_RUNTIME_DIR="$scratch/runtime" IPYTHONDIR="$scratch/ipython"
export MPLCONFIGDIR="$scratch/matplotlib" MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1 PYDEVD_DISABLE_FILE_VALIDATION=1
unset JUPYTER_PATH PYTHONHOME
export PYTHONPATH="$pkg" ATTNFLOW_NOTEBOOK_OUT="$out"
name=attnflow_python
figures="$("$python" "$root/notebooks/make_python_notebook.py" --figures)"
for png in $figures; do rm -f "$out/$png"; done
"$jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
  --ExecutePreprocessor.kernel_name=python3 --output-dir "$out" --output "$name.ipynb" \
  "$root/notebooks/$name.ipynb"
"$python" - "$out/$name.ipynb" <<'PY'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
          if o.get("output_type") == "error"]
for o in errors:
    print(f"run_notebook: error output: {o.get('ename')}: {o.get('evalue')}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
status=0
for png in $figures; do
  if [ -s "$out/$png" ]; then
    echo "run_notebook: $out/$png ($(stat -c %s "$out/$png") bytes)"
  else
    echo "run_notebook: figure $out/$png missing or empty" >&2
    status=1
  fi
done
exit "$status"
