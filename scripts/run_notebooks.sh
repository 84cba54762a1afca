#!/usr/bin/env bash
# Executes the notebooks in notebooks/ headless on a demo store and checks their figures.
# Usage: scripts/run_notebooks.sh [DEMO_H5 [OUT_DIR]]
#   DEMO_H5  store written by `attnflow demo` (default: $ATTNFLOW_DEMO_H5, else out/demo/demo.h5)
#   OUT_DIR  where the executed notebook and its PNG figures go (default: DIR_OF_DEMO_H5/notebook)
# The committed .ipynb files are never modified: nbconvert writes the executed copy to OUT_DIR.
# Exits non-zero when a cell fails or a figure is missing or empty; exits 77 (a skip for ctest)
# when the Debian packages are missing: jupyter-nbconvert python3-nbformat python3-ipykernel
# python3-matplotlib python3-scipy python3-h5py python3-numpy.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
h5="${1:-${ATTNFLOW_DEMO_H5:-$root/out/demo/demo.h5}}"
[ -f "$h5" ] || { echo "run_notebooks: no store $h5 (run scripts/demo.sh first)" >&2; exit 1; }
h5="$(cd "$(dirname "$h5")" && pwd)/$(basename "$h5")"
out="${2:-$(dirname "$h5")/notebook}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
[ "$out" != "$root/notebooks" ] || { echo "run_notebooks: OUT_DIR must not be notebooks/ (the committed notebooks)" >&2; exit 1; }

# Debian's Python and Jupyter only (not a pyenv/venv python3 that happens to be first in PATH).
python=/usr/bin/python3
jupyter=/usr/bin/jupyter
if [ ! -x "$jupyter" ] || [ ! -x /usr/bin/jupyter-nbconvert ] \
   || ! "$python" -c 'import nbformat, nbclient, ipykernel, matplotlib, scipy, h5py, numpy' 2>/dev/null; then
  echo "run_notebooks: skipped: needs the Debian packages jupyter-nbconvert python3-nbformat" \
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
export ATTNFLOW_DEMO_H5="$h5" ATTNFLOW_NOTEBOOK_OUT="$out"

# notebook -> the figures it must write
declare -A figures=(
  [attnflow_demo]="$("$python" "$root/notebooks/make_demo_notebook.py" --figures | tr '\n' ' ')"
)
status=0
for name in "${!figures[@]}"; do
  nb="$root/notebooks/$name.ipynb"
  for png in ${figures[$name]}; do rm -f "$out/$png"; done
  start=$(date +%s)
  echo "run_notebooks: executing $nb on $h5"
  if ! "$jupyter" nbconvert --to notebook --execute --ExecutePreprocessor.timeout=300 \
         --ExecutePreprocessor.kernel_name=python3 \
         --output-dir "$out" --output "$name.ipynb" "$nb"; then
    echo "run_notebooks: $name: a cell failed (see the traceback above)" >&2
    status=1
    continue
  fi
  # nbconvert stops at the first failing cell; also refuse error outputs left in the copy.
  if ! "$python" - "$out/$name.ipynb" <<'EOF'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
          if o.get("output_type") == "error"]
for o in errors:
    print(f"run_notebooks: error output: {o.get('ename')}: {o.get('evalue')}", file=sys.stderr)
sys.exit(1 if errors else 0)
EOF
  then
    status=1
  fi
  for png in ${figures[$name]}; do
    if [ -s "$out/$png" ]; then
      echo "run_notebooks: $name: $out/$png ($(stat -c %s "$out/$png") bytes)"
    else
      echo "run_notebooks: $name: figure $out/$png missing or empty" >&2
      status=1
    fi
  done
  echo "run_notebooks: $name: $(( $(date +%s) - start )) s"
done
exit "$status"
