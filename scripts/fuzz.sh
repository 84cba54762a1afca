#!/usr/bin/env bash
# Fuzzes every reader (tests/fuzz) with clang's libFuzzer under ASan + UBSan: builds the fuzz
# binaries into ${ATTNFLOW_FUZZ_BUILD_DIR:-build-fuzz} and runs each target for
# ${ATTNFLOW_FUZZ_SECONDS:-20} seconds from its seeds (ctest -L fuzz). A crash, sanitizer report,
# leak, hang or exception other than attnflow::Error fails the run; the input is kept in
# build-fuzz/tests/fuzz/smoke/artifacts/<target>/ (copy it to tests/fuzz/regressions/<target>/).
# CI runs it after the test command (.ci/run).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install_deps.sh" clang-14 libfuzzer-14-dev
build="${ATTNFLOW_FUZZ_BUILD_DIR:-$root/build-fuzz}"
CC=clang-14 CXX=clang++-14 cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DATTNFLOW_FUZZ=ON -DATTNFLOW_SANITIZE=ON -DATTNFLOW_WITH_TORCH=OFF -DATTNFLOW_BUILD_APPS=OFF \
  -DATTNFLOW_BUILD_BENCHMARKS=OFF -DATTNFLOW_FUZZ_SECONDS="${ATTNFLOW_FUZZ_SECONDS:-20}" >/dev/null
targets=(attnflow_fuzz_replay)
for t in npy safetensors config tokenizer_json vocab_txt bpe_files tokenizer_config spiece_model corpus store; do
  targets+=("attnflow_fuzz_$t")
done
cmake --build "$build" -j"$(nproc)" --target "${targets[@]}"
cd "$build"
ctest -L fuzz --output-on-failure
