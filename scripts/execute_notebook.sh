#!/usr/bin/env bash
# Executes one notebook headless with Debian's Python and Jupyter and checks the figures it must
# write; shared by scripts/run_notebooks.sh (the demo notebook) and python/run_notebook.sh (the
# Python-module notebook). The committed .ipynb is never modified: nbconvert writes the executed
# copy to OUT_DIR.
# Usage: scripts/execute_notebook.sh [--pythonpath DIR] NOTEBOOK.ipynb OUT_DIR [FIGURE.png ...]
#   --pythonpath DIR  put DIR (e.g. <build>/python, the attnflow package) on the kernel's PYTHONPATH
# The caller exports what the notebook reads (ATTNFLOW_DEMO_H5, ...); ATTNFLOW_NOTEBOOK_OUT is set
# to OUT_DIR. Exits non-zero when a cell fails or a figure is missing or empty; exits 77 (a skip
# for ctest) when the Debian packages are missing: jupyter-nbconvert python3-nbformat
# python3-ipykernel python3-matplotlib python3-scipy python3-h5py python3-numpy.
set -euo pipefail
pythonpath=""
if [ "${1:-}" = "--pythonpath" ]; then
  pythonpath="$(cd "$2" && pwd)"
  shift 2
fi
[ $# -ge 2 ] || { echo "usage: execute_notebook.sh [--pythonpath DIR] NOTEBOOK.ipynb OUT_DIR [FIGURE ...]" >&2; exit 2; }
nb="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
name="$(basename "$nb" .ipynb)"
mkdir -p "$2"
out="$(cd "$2" && pwd)"
shift 2
[ "$out" != "$(dirname "$nb")" ] || { echo "execute_notebook: OUT_DIR must not be the folder of the committed notebook" >&2; exit 1; }

# Debian's Python and Jupyter only (not a pyenv/venv python3 that happens to be first in PATH).
python=/usr/bin/python3
jupyter=/usr/bin/jupyter
if [ ! -x "$jupyter" ] || [ ! -x /usr/bin/jupyter-nbconvert ] \
   || ! "$python" -c 'import nbformat, nbclient, ipykernel, matplotlib, scipy, h5py, numpy' 2>/dev/null; then
  echo "execute_notebook: skipped: needs the Debian packages jupyter-nbconvert python3-nbformat" \
       "python3-ipykernel python3-matplotlib python3-scipy python3-h5py python3-numpy" >&2
  exit 77
fi

# Keep Jupyter, IPython and matplotlib away from $HOME (read-only or shared in CI) and the
# user's own kernels: only Debian's kernel spec (/usr/share/jupyter/kernels/python3, which runs
# /usr/bin/python3) is found. No __pycache__ in the source tree.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export JUPYTER_CONFIG_DIR="$scratch/config" JUPYTER_DATA_DIR="$scratch/data"
export JUPYTER_RUNTIME_DIR="$scratch/runtime" IPYTHONDIR="$scratch/ipython"
export MPLCONFIGDIR="$scratch/matplotlib" MPLBACKEND=Agg PYTHONDONTWRITEBYTECODE=1 PYDEVD_DISABLE_FILE_VALIDATION=1
unset JUPYTER_PATH PYTHONPATH PYTHONHOME
[ -z "$pythonpath" ] || export PYTHONPATH="$pythonpath"
export ATTNFLOW_NOTEBOOK_OUT="$out"

for png in "$@"; do rm -f "$out/$png"; done
start=$(date +%s)
echo "execute_notebook: executing $nb"
if ! "$jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
       --ExecutePreprocessor.kernel_name=python3 \
       --output-dir "$out" --output "$name.ipynb" "$nb"; then
  echo "execute_notebook: $name: a cell failed (see the traceback above)" >&2
  exit 1
fi
# nbconvert stops at the first failing cell; also refuse error outputs left in the copy.
status=0
"$python" - "$out/$name.ipynb" <<'PY' || status=1
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
          if o.get("output_type") == "error"]
for o in errors:
    print(f"execute_notebook: error output: {o.get('ename')}: {o.get('evalue')}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
for png in "$@"; do
  if [ -s "$out/$png" ]; then
    echo "execute_notebook: $name: $out/$png ($(stat -c %s "$out/$png") bytes)"
  else
    echo "execute_notebook: $name: figure $out/$png missing or empty" >&2
    status=1
  fi
done
echo "execute_notebook: $name: $(( $(date +%s) - start )) s"
exit "$status"
