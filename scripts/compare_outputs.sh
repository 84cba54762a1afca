#!/usr/bin/env bash
# Behaviour check for refactors: runs the same jobs on the shipped data with two attnflow
# executables (e.g. a build of the last release and the working tree) and compares every output
# file: text and CSV byte for byte (run times masked), HDF5 stores dataset by dataset and
# attribute by attribute (creation time and version masked), figures through their gnuplot
# data files. Usage: scripts/compare_outputs.sh OLD_ATTNFLOW NEW_ATTNFLOW [WORK_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
old="$1" new="$2" work="${3:-$(mktemp -d /tmp/attnflow-compare.XXXXXX)}"
sva="$root/datasets/models/sva" demo="$root/datasets/sva/demo.jsonl"
data="$root/tests/data"

# jobs DIR ATTNFLOW: every job, outputs under DIR.
jobs() {
  local d="$1" a="$2"
  mkdir -p "$d"
  (cd "$root" && "$a" demo --model "$sva" --sentences "$demo" -o "$d/demo" --overwrite -q) \
    >"$d/demo.stdout" 2>"$d/demo.stderr"
  "$a" extract "$sva" "$demo" -o "$d/predicted.h5" --target predicted -q
  "$a" extract "$sva" "$demo" -o "$d/fused16.h5" --store fused --precision float16 -q
  "$a" extract "$data/models/gpt2_lm" "$work/gpt2.txt" -o "$d/gpt2.h5" --target last -q
  cp "$d/predicted.h5" "$d/analyzed.h5"
  "$a" analyze "$d/analyzed.h5" -m raw,rollout,flow,grad-rollout -t 0,-1 -o "$d/corpus.csv" \
    >"$d/corpus.stdout"
  "$a" analyze "$d/predicted.h5" --output-h5 "$d/derived.h5" -m rollout,flow --all-rows -q
  "$a" analyze "$data/tiny_attention.npy" -o "$d/tiny.csv" >"$d/tiny.stdout"
  "$a" analyze "$data/plot_attention.npy" --tokens "$data/plot_tokens.txt" --all-rows \
    -m raw,residual,rollout,flow --fusion max --alpha 0.4 -o "$d/plot_npy.csv" >"$d/plot_npy.stdout"
  for k in heatmap heads maps graph bars corr; do
    "$a" plot "$data/plot_attention.npy" --tokens "$data/plot_tokens.txt" -k "$k" \
      -o "$d/plot_$k.svg" --keep-script -q
  done
  "$a" plot "$d/predicted.h5" --examples 0-2 -k maps -o "$d/plots/" --keep-script -q
  "$a" generate sva -o "$d/sva_gen" -n 200 --seed 3 --fronted 40 -q
  (cd "$root" && "$a" reproduce abnar2020 --ci -n 40 -o "$d/reproduce" --overwrite -q) \
    >"$d/reproduce.stdout" 2>&1
}

echo "old: $old"; echo "new: $new"; echo "work: $work"
mkdir -p "$work"
printf 'the keys to the cabinet are\nhello world\na b c d e f\n' >"$work/gpt2.txt"
jobs "$work/old" "$old"
jobs "$work/new" "$new"
/usr/bin/python3 "$root/scripts/compare_trees.py" "$work/old" "$work/new"
