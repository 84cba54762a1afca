#!/usr/bin/env bash
# Configures and builds attnflow into ${ATTNFLOW_BUILD_DIR:-build} (Release, ccache when
# present). Extra arguments go to cmake's configure step. ATTNFLOW_TARGETS (space-separated)
# builds only those targets, e.g. ATTNFLOW_TARGETS=attnflow for the executables alone.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${ATTNFLOW_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
targets=()
for t in ${ATTNFLOW_TARGETS:-}; do targets+=(--target "$t"); done
cmake --build "$build" -j"$(nproc)" "${targets[@]}"
