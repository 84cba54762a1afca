#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job on
# the embedded example (offline): raw attention, rollout and attention flow
# for the [CLS] token of a shipped attention stack.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
build="${ATTNFLOW_BUILD_DIR:-$root/build}"
out="${1:-$root/out}"
mkdir -p "$out"
"$build/attnflow" analyze "$root/datasets/example/attention.npy" \
  --tokens "$root/datasets/example/tokens.txt" --target 0 --methods raw,rollout,flow \
  --output "$out/example_cls.csv"
