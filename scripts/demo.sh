#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the main job offline on the model
# and sentences that ship with the repository (datasets/models/sva, datasets/sva/demo.jsonl):
# extract attention and gradients -> raw, rollout, flow and gradient rollout of the [CLS] row
# -> figures and a text summary in out/demo/ (or the folder given as $1).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install_deps.sh"
# Only what the demo runs: the attnflow executables and their libraries (no tests, no benchmarks).
ATTNFLOW_TARGETS=attnflow "$root/scripts/build.sh"
build="${ATTNFLOW_BUILD_DIR:-$root/build}"
out="${1:-$root/out/demo}"
mkdir -p "$(dirname "$out")"
"$build/attnflow" demo --model "$root/datasets/models/sva" \
  --sentences "$root/datasets/sva/demo.jsonl" -o "$out" --overwrite
