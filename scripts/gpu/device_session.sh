#!/usr/bin/env bash
# Issue 22 in one command on the GPU machine (H200, PyTorch 2.x + CUDA, transformers, no
# network): environment report, CUDA build + torch tests, --device cuda vs cpu on the golden
# models, goldens from transformers, extraction throughput vs the Hugging Face anchor, a profile.
#
#   run: bash scripts/gpu/device_session.sh      (timeout_s 570, carry ["build-gpu-deps"])
#
# Everything comes back in at most 7 files under $OUT (default ./gpu-out): summary.txt (the
# results, read this first), session.log (every command's output), env.txt, throughput.json,
# goldens.tar.gz, profile.txt. Bulky work (build, stores) goes to $WORK (/tmp/attnflow-gpu).
# Every step has its own `timeout` and the whole run stops starting steps near $BUDGET seconds
# (default 530), so it ends inside the device tool's 10-minute limit. docs/gpu.md explains it.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${OUT:-$ROOT/gpu-out}"
WORK="${WORK:-/tmp/attnflow-gpu}"
BUDGET="${BUDGET:-530}"
EXAMPLES="${EXAMPLES:-1024}" # throughput corpus (per-head fp16: 4.7 MB an example on disk)
PY="${PYTHON:-python3}"
JOBS="${JOBS:-$(nproc)}"
DEVICE="${DEVICE:-cuda}"  # dry runs on a machine without a GPU: DEVICE=cpu
DEPS="$WORK/deps"          # the carried Debian packages, unpacked (never into /)
BUILD="$WORK/build"
mkdir -p "$OUT" "$WORK"
SUMMARY="$OUT/summary.txt"
: >"$SUMMARY"
exec > >(tee -a "$OUT/session.log") 2>&1
START=$SECONDS

say() { echo "$*" | tee -a "$SUMMARY"; }
left() { echo $((BUDGET - (SECONDS - START))); }
# step NAME SECONDS CMD...: runs CMD under `timeout`, capped by the time left; logs rc + time.
step() {
  local name=$1 limit=$2
  shift 2
  local l
  l=$(left)
  if ((l < 15)); then
    say "SKIP  $name: only ${l}s of the budget left"
    return 99
  fi
  ((limit > l)) && limit=$l
  echo "=== $name (timeout ${limit}s, t=$((SECONDS - START))s)"
  local t0=$SECONDS rc
  if declare -F "$1" >/dev/null; then # a function of this script (exported below)
    timeout --kill-after=5 "$limit" bash -c '"$@"' _ "$@"
  else
    timeout --kill-after=5 "$limit" "$@"
  fi
  rc=$?
  local msg="rc $rc, $((SECONDS - t0))s"
  ((rc == 124 || rc == 137)) && msg="TIMED OUT after ${limit}s"
  if ((rc == 0)); then say "OK    $name ($msg)"; else say "FAIL  $name ($msg)"; fi
  return $rc
}

# seconds between two `date +%s.%N` readings, and a / b, without bc (may be absent there)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
export ROOT OUT WORK PY SUMMARY EXAMPLES JOBS DEVICE
export -f say elapsed ratio

say "# issue 22 device session, $(date -u +%FT%TZ), budget ${BUDGET}s, $(nproc) cores"

# --------------------------------------------------------------------------- 1. environment
{
  echo "## nvidia-smi"; timeout 20 nvidia-smi 2>&1 || echo "nvidia-smi: not available"
  echo "## os"; cat /etc/os-release 2>/dev/null | head -3; uname -a; ldd --version 2>&1 | head -1
  echo "## tools"
  for t in g++ c++ gcc cmake ninja make nvcc ccache nsys ncu gnuplot h5dump apt-get dpkg; do
    printf '%-8s %s\n' "$t" "$(command -v "$t" || echo MISSING)"
  done
  g++ --version 2>&1 | head -1; cmake --version 2>&1 | head -1; nvcc --version 2>&1 | tail -2
  echo "## python ($PY)"
  timeout 60 "$PY" - <<'EOF' 2>&1
import importlib, sys
print("python", sys.version.split()[0], sys.executable)
for m in ("torch", "transformers", "h5py", "numpy", "safetensors", "networkx"):
    try:
        v = importlib.import_module(m); print(f"{m:13s} {getattr(v, '__version__', '?')}")
    except Exception as e:
        print(f"{m:13s} MISSING ({e})")
import torch, torch.utils
print("cuda", torch.version.cuda, "available", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
print("cxx11_abi", torch._C._GLIBCXX_USE_CXX11_ABI)
print("cmake_prefix", torch.utils.cmake_prefix_path)
import glob, site
inc = [d for p in site.getsitepackages() for d in glob.glob(p + "/nvidia/*/include") if glob.glob(d + "/nvtx3")]
print("nvtx3_include", inc[0] if inc else "")
EOF
  echo "## apt offline?"
  timeout 15 apt-get install -s -y libeigen3-dev 2>&1 | tail -2 || echo "apt-get: not usable"
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"
TORCH_PREFIX="${TORCH_PREFIX:-$(grep '^cmake_prefix ' "$OUT/env.txt" | cut -d' ' -f2)}"
ABI=$(grep '^cxx11_abi ' "$OUT/env.txt" | cut -d' ' -f2)
NVTX=$(grep '^nvtx3_include ' "$OUT/env.txt" | cut -d' ' -f2)
say "torch: $(grep -E '^(torch|transformers) ' "$OUT/env.txt" | tr -s ' ' | paste -sd, -); $(grep '^cuda ' "$OUT/env.txt"); cxx11 ABI $ABI"
say "gpu: $(timeout 10 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo none)"

# --------------------------------------------------------------------------- C++ dependencies
# Carried .deb files (scripts/gpu/fetch_deps.sh on the build machine) are unpacked into $DEPS.
if ls "$ROOT"/build-gpu-deps/debs/*.deb >/dev/null 2>&1; then
  rm -rf "$DEPS" && mkdir -p "$DEPS"
  for f in "$ROOT"/build-gpu-deps/debs/*.deb; do dpkg -x "$f" "$DEPS" || say "WARN  dpkg -x $f failed"; done
  say "deps: unpacked $(ls "$ROOT"/build-gpu-deps/debs/*.deb | wc -l) carried .deb files into $DEPS"
else
  say "deps: no carried build-gpu-deps/debs (scripts/gpu/fetch_deps.sh + carry [\"build-gpu-deps\"]): system only"
fi
have() { [[ -e /usr/include/$1 || -e /usr/local/include/$1 || -e $DEPS/usr/include/$1 ]]; }
missing=()
for dep in "Eigen3:eigen3/Eigen/Core" "Boost.Graph:boost/graph/adjacency_list.hpp" \
  "Boost.Iostreams:boost/iostreams/stream.hpp" "HDF5:hdf5/serial/hdf5.h" "zlib:zlib.h" \
  "nlohmann-json:nlohmann/json.hpp" "CLI11:CLI/CLI.hpp" "gnuplot-iostream:gnuplot-iostream.h" \
  "ICU:unicode/uchar.h" "GTest:gtest/gtest.h"; do
  name=${dep%%:*} hdr=${dep#*:}
  if [[ $name == HDF5 ]] && [[ -e /usr/include/hdf5.h ]]; then continue; fi
  have "$hdr" || missing+=("$name")
done
command -v g++ >/dev/null || missing+=("g++")
[[ -n $TORCH_PREFIX && -d $TORCH_PREFIX/Torch ]] || missing+=("libtorch (torch.utils.cmake_prefix_path)")
if ((${#missing[@]})); then say "MISSING for the C++ build: ${missing[*]}"; else say "deps: everything the C++ build needs is there"; fi
CAN_BUILD=1
for m in "${missing[@]}"; do [[ $m != GTest ]] && CAN_BUILD=0; done
TESTS=ON
[[ " ${missing[*]} " == *" GTest "* ]] && TESTS=OFF

# --------------------------------------------------------------------------- 4a. goldens (background)
# make_model_golden.py uses transformers' own BERT / GPT-2 classes whenever `import transformers`
# works (HAVE_TRANSFORMERS); it runs on one CPU thread, so it overlaps the build.
rm -rf "$WORK/goldens"
(timeout 240 "$PY" "$ROOT/tests/hf/make_model_golden.py" --out "$WORK/goldens" >"$WORK/goldens.log" 2>&1
  echo "rc $?" >>"$WORK/goldens.log") &
GOLDEN_PID=$!
# The random BERT-base model for step 5 (transformers; one CPU process) also overlaps the build.
# REUSE_BERT=1 keeps an existing $WORK/bert (dry runs without transformers).
[[ -n ${REUSE_BERT:-} && -f $WORK/bert/model/model.safetensors ]] || (timeout 240 "$PY" "$ROOT/bench/gpu/make_random_bert.py" "$WORK/bert" --examples "$EXAMPLES" >"$WORK/bert.log" 2>&1
  echo "rc $?" >>"$WORK/bert.log") &
BERT_PID=$!

# --------------------------------------------------------------------------- 2. build + tests
run_test() { # the gtest binary; its PASSED / FAILED lines go to the summary
  local log rc
  log="$WORK/$(basename "$1").log"
  (cd "$ROOT" && "$1" --gtest_brief=1) >"$log" 2>&1
  rc=$?
  cat "$log"
  grep -E '^\[  (PASSED|FAILED)|tests? ran' "$log" | sed 's/^/      /' >>"$SUMMARY"
  return $rc
}
export -f run_test
AF="${PREBUILT:-}" # dry runs: PREBUILT=build/attnflow skips the build, uses that executable
if [[ -n $AF ]]; then
  say "SKIP  build: PREBUILT=$AF"
elif ((CAN_BUILD)); then
  lib="$DEPS/usr/lib/x86_64-linux-gnu"
  ldflags="-Wl,--no-as-needed"
  cmake_deps=()
  if [[ -d $DEPS/usr ]]; then
    # DT_RPATH (not RUNPATH) so the carried libraries also serve indirect dependencies
    # (libhdf5 -> libsz, libcurl, ...) without LD_LIBRARY_PATH.
    ldflags+=" -Wl,--disable-new-dtags -Wl,-rpath,$lib:$DEPS/lib/x86_64-linux-gnu -Wl,-rpath-link,$lib:$DEPS/lib/x86_64-linux-gnu"
    cmake_deps=(-DCMAKE_PREFIX_PATH="$DEPS/usr;$DEPS/usr/share/eigen3/cmake" -DICU_ROOT="$DEPS/usr"
      -DZLIB_ROOT="$DEPS/usr" -DHDF5_C_INCLUDE_DIR="$DEPS/usr/include/hdf5/serial"
      -DHDF5_C_LIBRARY_hdf5="$lib/hdf5/serial/libhdf5.so" -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON)
  fi
  abi=()
  [[ -n $NVTX ]] && abi+=(-Dnvtx3_dir="$NVTX")
  [[ $ABI == False ]] && abi+=(-DCMAKE_CXX_FLAGS=-D_GLIBCXX_USE_CXX11_ABI=0) &&
    say "WARN  torch uses the old C++ ABI: building everything with _GLIBCXX_USE_CXX11_ABI=0 (carried Boost/ICU use the new one: link errors possible)"
  export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}" CCACHE_DIR="$WORK/ccache"
  gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  # CMAKE_POLICY_VERSION_MINIMUM: CMake 4 refuses old cmake_minimum_required() in Debian's configs.
  step "configure (libtorch CUDA, tests $TESTS)" 120 cmake -S "$ROOT" -B "$BUILD" "${gen[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_POLICY_VERSION_MINIMUM=3.5 -DTorch_DIR="$TORCH_PREFIX/Torch" -DATTNFLOW_BUILD_TESTS=$TESTS \
    -DATTNFLOW_BUILD_BENCHMARKS=OFF -DATTNFLOW_BUILD_PYTHON=OFF \
    -DCMAKE_EXE_LINKER_FLAGS="$ldflags" -DCMAKE_SHARED_LINKER_FLAGS="$ldflags" \
    "${cmake_deps[@]}" "${abi[@]}"
  targets=(attnflow attnflow-torch)
  [[ $TESTS == ON ]] && targets+=(attnflow_torch_tests attnflow_pipeline_torch_tests)
  if [[ -n ${CONFIGURE_ONLY:-} ]]; then
    say "SKIP  build (CONFIGURE_ONLY set: a dry run)"
  elif grep -q '^TORCH_LIBRARY:FILEPATH=/' "$BUILD/CMakeCache.txt" 2>/dev/null &&
    [[ -f $BUILD/build.ninja || -f $BUILD/Makefile ]] && step "build ${targets[*]} (-j$JOBS)" 330 cmake --build "$BUILD" -j"$JOBS" --target "${targets[@]}"; then
    AF="$BUILD/attnflow"
    ldd "$BUILD/attnflow-torch" | grep -E 'torch_cuda|not found' | tee -a "$SUMMARY"
    for t in attnflow_torch_tests attnflow_pipeline_torch_tests; do
      [[ -x $BUILD/tests/$t ]] || continue
      step "test $t" 90 run_test "$BUILD/tests/$t"
    done
  fi
else
  say "SKIP  build: missing ${missing[*]} (steps 2, 3 and attnflow's half of 5 need it)"
fi

# --------------------------------------------------------------------------- 3. cuda vs cpu
compare_model() { # NAME DIR: the same batches on both devices, compared to 1e-5
  local m=$1 d=$2 src=$2 target=none
  [[ -f $d/model.pt ]] && src=$d/model.pt
  case $m in
    bert_cls | sva_encoder | torchscript_bert) target=predicted ;;
    gpt2_lm | gpt2_lm_fp16) target=last ;;
  esac
  "$PY" "$ROOT/bench/gpu/compare_devices.py" corpus "$d" "$WORK/dev/$m.txt" || return 1
  local dev tag
  for tag in ref test; do
    dev=cpu
    [[ $tag == test ]] && dev=$DEVICE
    "$AF" extract "$src" "$WORK/dev/$m.txt" -o "$WORK/dev/$m-$tag.h5" --device "$dev" -b 4 \
      --target "$target" -q --overwrite || return 1
  done
  "$PY" "$ROOT/bench/gpu/compare_devices.py" stores "$WORK/dev/$m-ref.h5" "$WORK/dev/$m-test.h5" --tol 1e-5 | tee -a "$SUMMARY"
}
export AF BUILD
export -f compare_model
if [[ -n $AF ]]; then
  mkdir -p "$WORK/dev"
  for d in "$ROOT"/tests/data/models/*/; do
    m=$(basename "$d")
    step "cuda vs cpu: $m" 40 compare_model "$m" "${d%/}"
  done
fi

# --------------------------------------------------------------------------- 4b. goldens: diff
step "goldens from transformers (wait)" 200 bash -c "while kill -0 $GOLDEN_PID 2>/dev/null; do sleep 1; done"
cat "$WORK/goldens.log"
grep -E '^reference:|^rc ' "$WORK/goldens.log" | tee -a "$SUMMARY"
if [[ -d $WORK/goldens ]] && grep -q '^rc 0' "$WORK/goldens.log"; then
  tar -C "$WORK" -czf "$OUT/goldens.tar.gz" goldens
  "$PY" "$ROOT/bench/gpu/compare_devices.py" goldens "$ROOT/tests/data/models" "$WORK/goldens" --tol 1e-5 | tee -a "$SUMMARY"
fi

# --------------------------------------------------------------------------- 5. throughput
step "random BERT-base model (wait)" 120 bash -c "while kill -0 $BERT_PID 2>/dev/null; do sleep 1; done"
cat "$WORK/bert.log"
TP="$WORK/throughput.tsv"
: >"$TP"
bench_extract() { # NAME ARGS...: ex/s from extract's summary line; the store is removed after
  local name=$1
  shift
  local h5="$WORK/tp-$name.h5" t0 wall line
  t0=$(date +%s.%N)
  line=$("$AF" extract "$WORK/bert/model" "$WORK/bert/corpus.txt" -o "$h5" --device "$DEVICE" -b 64 --overwrite "$@" 2>&1) || {
    echo "$line"
    return 1
  }
  wall=$(elapsed "$t0")
  echo "$line"
  printf '%s\t%s\t%s\n' "$name" "$(echo "$line" | sed -n 's/.*(\([0-9.]*\) examples\/s).*/\1/p' | tail -1)" \
    "$(du -m "$h5" | cut -f1) MB store, wall ${wall}s (model load included)" >>"$TP"
}
bench_analyze() { # rollout + flow of the CLS row over the fused fp16 store, on the CPU
  local t0 wall
  t0=$(date +%s.%N)
  "$AF" analyze "$WORK/tp-fused-fp16.h5" -m rollout,flow -t 0 --no-store -o "$WORK/cls.csv" -q || return 1
  wall=$(elapsed "$t0")
  printf 'analyze-cls-rollout-flow\t%s\t%s\n' "$(ratio "$EXAMPLES" "$wall")" "cpu, $JOBS threads, wall ${wall}s" >>"$TP"
}
export TP
export -f bench_extract bench_analyze
if [[ -f $WORK/bert/model/model.safetensors ]]; then
  if [[ -n $AF ]]; then
    step "extract cuda per-head fp16" 90 bench_extract perhead-fp16 --store per-head --precision float16
    step "extract cuda fused fp32" 60 bench_extract fused-fp32 --store fused
    step "extract cuda fused fp16" 60 bench_extract fused-fp16 --store fused --precision float16 &&
      step "analyze rollout+flow, CLS row (fused fp16 store)" 90 bench_analyze
    rm -f "$WORK"/tp-*.h5
  fi
  step "HF anchor" 150 "$PY" "$ROOT/bench/gpu/hf_anchor.py" "$WORK/bert/model" --examples "$EXAMPLES" -b 64 -n 128 \
    --json "$WORK/hf.json" --profile "$WORK/prof"
  "$PY" - "$TP" "$WORK/hf.json" "$OUT/throughput.json" <<'EOF' | tee -a "$SUMMARY"
import json, os, sys
tp, hfj, out = sys.argv[1:]
rows = [l.rstrip("\n").split("\t") for l in open(tp) if l.strip()]
hf = json.load(open(hfj))["examples_per_s"] if os.path.exists(hfj) else {}
af = {r[0]: float(r[1]) if r[1] else None for r in rows}
target = {"perhead-fp16": 800, "fused-fp16": 1600, "fused-fp32": 1600}
anchor = {"perhead-fp16": "perhead-fp16", "fused-fp16": "headmean-fp32", "fused-fp32": "headmean-fp32"}
print(f"{'run':28s} {'ex/s':>9s} {'target':>7s} {'HF anchor':>22s} {'ratio':>6s}  note")
for r in rows:
    v = af[r[0]]
    a = anchor.get(r[0])
    ref = hf.get(a)
    ratio = f"{v / ref:6.2f}" if v and ref else "     -"
    print(f"{r[0]:28s} {v or 0:9.1f} {target.get(r[0], ''):>7} {(a or '') + (f' {ref:.0f}' if ref else ''):>22s} {ratio}  {r[2]}")
if af.get("fused-fp16") and af.get("analyze-cls-rollout-flow"):
    c = 1 / (1 / af["fused-fp16"] + 1 / af["analyze-cls-rollout-flow"])
    af["derived-cls-combined"] = c
    ref = hf.get("forward")
    print(f"{'derived-cls (fused+analyze)':28s} {c:9.1f} {'':>7} {'forward' + (f' {ref:.0f}' if ref else ''):>22s} "
          f"{(f'{c / ref:6.2f}' if ref else '     -')}  1/(1/extract + 1/analyze)")
for k, v in hf.items():
    print(f"hf {k:25s} {v:9.1f}")
json.dump({"attnflow": af, "hf": hf, "notes": {r[0]: r[2] for r in rows}}, open(out, "w"), indent=1)
EOF
else
  say "SKIP  throughput: no random model ($WORK/bert.log above)"
fi

# --------------------------------------------------------------------------- 6. profile
{
  [[ -f $WORK/prof/hf_anchor_profile.txt ]] && { echo "## HF anchor, perhead-fp16, torch.profiler"; cat "$WORK/prof/hf_anchor_profile.txt"; }
} >"$OUT/profile.txt"
if [[ -n $AF ]] && command -v nsys >/dev/null && (($(left) > 100)) && [[ -f $WORK/bert/corpus.txt ]]; then
  head -256 "$WORK/bert/corpus.txt" >"$WORK/prof-corpus.txt"
  step "nsys: attnflow extract per-head fp16, 256 examples" 80 nsys profile -o "$WORK/prof/af" --force-overwrite true \
    --trace cuda,osrt,nvtx "$(dirname "$AF")/attnflow-torch" extract "$WORK/bert/model" "$WORK/prof-corpus.txt" -o "$WORK/prof.h5" \
    --device cuda -b 64 --precision float16 --overwrite -q
  [[ -f $WORK/prof/af.nsys-rep ]] && step "nsys stats" 60 bash -c "nsys stats --report cuda_gpu_kern_sum,cuda_gpu_mem_time_sum,osrt_sum '$WORK/prof/af.nsys-rep' 2>&1 | head -150 >>'$OUT/profile.txt'"
else
  say "SKIP  nsys profile (no nsys, no build, or under 100 s left)"
fi

say "done in $((SECONDS - START))s; files: $(cd "$OUT" && ls | paste -sd' ' -)"
