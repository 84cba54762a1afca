#!/usr/bin/env bash
# Opt-in soak (not in ctest): extract + analyze of a few thousand SVA examples, SIGKILLed many
# times at random moments and resumed, compared bit for bit with an uninterrupted run; then the
# full-disk test on the same corpus.  Usage: tests/soak/soak.sh BUILD_DIR [EXAMPLES] [KILLS]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="$1" examples="${2:-3000}" kills="${3:-60}"
work="${SOAK_WORK:-/tmp/attnflow-soak}"
/usr/bin/python3 "$root/tests/soak/resume_kill.py" --attnflow "$build/attnflow" \
  --model "$root/datasets/models/sva" --corpus "$root/datasets/sva/train.jsonl" \
  --examples "$examples" --batch 8 --kills "$kills" --analyze-kills "$((kills / 3))" \
  --work "$work/kill"
/usr/bin/python3 "$root/tests/soak/full_disk.py" --attnflow "$build/attnflow" \
  --model "$root/datasets/models/sva" --corpus "$root/datasets/sva/train.jsonl" \
  --examples "$examples" --size 8m --work "$work/disk" || [ $? -eq 77 ]
