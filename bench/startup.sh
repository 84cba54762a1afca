#!/usr/bin/env bash
# Start-up benchmark (issue 12): median wall time of N runs (default 21) of
#   attnflow --version
#   attnflow analyze tests/data/tiny_attention.npy -q
# for each executable given (default: build/attnflow), and whether the executable that serves
# analyze links libtorch (ldd). Usage: bench/startup.sh [-n RUNS] [ATTNFLOW ...]
# e.g. bench/startup.sh build/attnflow /path/to/older/attnflow   (side by side)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=21
if [ "${1:-}" = "-n" ]; then runs="$2"; shift 2; fi
[ "$#" -gt 0 ] || set -- "$root/build/attnflow"
npy="$root/tests/data/tiny_attention.npy"

# median_ms CMD...: runs CMD $runs times (output discarded), prints the median in ms.
median_ms() {
  local times=() t0 t1
  "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; exit 1; }  # warm the page cache
  for ((k = 0; k < runs; k++)); do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000)))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m/1000}'
}

printf '%-48s %14s %22s %8s\n' "executable" "--version ms" "analyze tiny.npy ms" "libtorch"
for exe in "$@"; do
  v=$(median_ms "$exe" --version)
  a=$(median_ms "$exe" analyze "$npy" -q)
  libs=$(ldd "$exe")
  if grep -q libtorch <<<"$libs"; then torch=yes; else torch=no; fi
  printf '%-48s %14s %22s %8s\n' "$exe" "$v" "$a" "$torch"
done
echo "(median of $runs runs each, $(nproc) cores)"
