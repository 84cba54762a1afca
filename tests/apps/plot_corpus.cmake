# `attnflow plot` on an HDF5 corpus: every kind of figure from one example
# (PNG and SVG), one figure per example into a folder (--examples), UTF-8
# token labels, the causal default target, and bad input reported with one
# clear message, exit 1 and no figure or folder left behind.
# Variables: ATTNFLOW (the executable), TOOL (attnflow_store_tool), PYTHON
# (python3 with h5py, may be empty: the Cyrillic corpus is then skipped),
# WORK (scratch folder).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(C ${WORK}/corpus.h5)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT err STREQUAL "")
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

# PNG signature, IHDR, width 640 (0x280), height 480 (0x1e0).
function(expect_png_640x480 path)
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "${path} was not written")
  endif()
  file(READ ${path} head LIMIT 24 HEX)
  if(NOT head STREQUAL "89504e470d0a1a0a0000000d4948445200000280000001e0")
    message(FATAL_ERROR "${path} is not a 640x480 PNG: ${head}")
  endif()
endfunction()

function(expect_svg path)
  if(NOT EXISTS ${path})
    message(FATAL_ERROR "${path} was not written")
  endif()
  file(SIZE ${path} size)
  file(READ ${path} svg LIMIT 4096)
  if(size EQUAL 0 OR NOT svg MATCHES "<svg")
    message(FATAL_ERROR "${path} is not an SVG")
  endif()
endfunction()

# Corpora from the store tool: 10 per-head examples with gradients (tokens
# such as naïve_1, Ünïcödé_4), and fused, derived, gradient-less, causal ones.
run(${TOOL} write ${C} 10 --layers 2 --heads 2 --gradient)
run(${TOOL} write ${WORK}/fused.h5 3 --mode fused --layers 2 --heads 2)
run(${TOOL} write ${WORK}/derived.h5 3 --mode derived --layers 2 --heads 2)
run(${TOOL} write ${WORK}/nograd.h5 3 --layers 2 --heads 2)
run(${TOOL} write ${WORK}/causal.h5 3 --layers 2 --heads 2 --causal --gradient)

# Every kind from one example, as PNG (exact size) and SVG.
foreach(kind heatmap heads maps graph bars corr)
  run(${ATTNFLOW} plot ${C} --example 3 -k ${kind} -m raw,rollout,flow,grad-rollout
      -o ${WORK}/${kind}.png --width 640 --height 480)
  if(NOT out STREQUAL "wrote ${WORK}/${kind}.png\n")
    message(FATAL_ERROR "plot -k ${kind}: unexpected output: ${out}")
  endif()
  expect_png_640x480(${WORK}/${kind}.png)
  run(${ATTNFLOW} plot ${C} --example 3 -k ${kind} -m raw,rollout,flow,grad-rollout -q
      -o ${WORK}/${kind}.svg)
  expect_svg(${WORK}/${kind}.svg)
endforeach()
# The example's own UTF-8 tokens are the labels (example 3 of the store tool).
file(READ ${WORK}/heatmap.svg svg)
if(NOT svg MATCHES "Ünïcödé_1" OR NOT svg MATCHES "naïve_6")
  message(FATAL_ERROR "heatmap.svg: the example's tokens are not its labels")
endif()

# One figure per example into a folder (created), named fig_<kind>_<index>.<format>.
run(${ATTNFLOW} plot ${C} --examples 0,2-3 -k heatmap -o ${WORK}/figs/ --width 640 --height 480)
foreach(i 0 2 3)
  expect_png_640x480(${WORK}/figs/fig_heatmap_${i}.png)
  string(FIND "${out}" "wrote ${WORK}/figs/fig_heatmap_${i}.png" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "--examples: fig_heatmap_${i}.png not reported: ${out}")
  endif()
endforeach()
if(EXISTS ${WORK}/figs/fig_heatmap_1.png)
  message(FATAL_ERROR "--examples 0,2-3 also drew example 1")
endif()
run(${ATTNFLOW} plot ${C} --examples 8-9 -k bars --format svg -q -o ${WORK}/figs)
expect_svg(${WORK}/figs/fig_bars_8.svg)
expect_svg(${WORK}/figs/fig_bars_9.svg)
# A single example into a folder gets the same name.
run(${ATTNFLOW} plot ${C} --example 5 -k graph -q -o ${WORK}/figs/)
expect_svg(${WORK}/figs/fig_bars_9.svg)
if(NOT EXISTS ${WORK}/figs/fig_graph_5.png)
  message(FATAL_ERROR "--example 5 -o figs/ did not write figs/fig_graph_5.png")
endif()

# Fused store: the fused layer is the heatmap, and maps work without heads.
run(${ATTNFLOW} plot ${WORK}/fused.h5 --example 1 -k heatmap -q -o ${WORK}/fused.svg)
file(READ ${WORK}/fused.svg svg)
if(NOT svg MATCHES "heads fused \\(mean, before storing\\)")
  message(FATAL_ERROR "fused.svg: title does not say the heads were fused before storing")
endif()
run(${ATTNFLOW} plot ${WORK}/fused.h5 --example 1 -k maps -q -o ${WORK}/fused_maps.png)

# Causal store: maps, bars and corr explain the last token unless -t is given.
run(${ATTNFLOW} plot ${WORK}/causal.h5 --example 1 -k bars -q -o ${WORK}/causal.svg)
file(READ ${WORK}/causal.svg svg)
if(NOT svg MATCHES "Relevance for target token 10 ")  # example 1 has 11 tokens
  message(FATAL_ERROR "causal.svg: the default target is not the last token")
endif()
run(${ATTNFLOW} plot ${WORK}/causal.h5 --example 1 -k bars -t 0 -q -o ${WORK}/causal0.svg)
file(READ ${WORK}/causal0.svg svg)
if(NOT svg MATCHES "Relevance for target token 0 ")
  message(FATAL_ERROR "causal0.svg: -t 0 was not kept")
endif()

# Cyrillic tokens, in a corpus written with plain h5py (docs/hdf5-schema.md).
if(PYTHON)
  file(WRITE ${WORK}/cyrillic.py [=[
import sys
import h5py
import numpy as np
tokens = ["[CLS]", "Кот", "сидит", "на", "ковре", "[SEP]"]
n, layers, heads = len(tokens), 2, 2
rng = np.random.default_rng(7)
with h5py.File(sys.argv[1], "w") as f:
    f.attrs["attnflow_schema_version"] = 1
    for key, value in {"attnflow_version": "h5py", "created": "2024-01-01T00:00:00Z",
                       "model": "h5py", "tokenizer": "whitespace", "store_mode": "per-head",
                       "attention_dtype": "float32", "gradient_dtype": "float32",
                       "fusion": "mean"}.items():
        f.attrs[key] = value
    f.attrs["layers"] = layers
    f.attrs["heads"] = heads
    f.attrs["causal"] = False
    f.attrs["num_examples"] = 1
    g = f.create_group("examples/000000000")
    g["tokens"] = np.array(tokens, dtype=h5py.string_dtype())
    logits = rng.normal(size=(layers, heads, n, n)) * 2
    g["attention"] = (np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)).astype(np.float32)
]=])
  execute_process(COMMAND ${PYTHON} -c "import h5py" RESULT_VARIABLE no_h5py OUTPUT_QUIET
                  ERROR_QUIET)
  if(no_h5py EQUAL 0)
    run(${PYTHON} ${WORK}/cyrillic.py ${WORK}/cyrillic.h5)
    foreach(kind heatmap maps)
      run(${ATTNFLOW} plot ${WORK}/cyrillic.h5 --example 0 -k ${kind} -q
          -o ${WORK}/cyrillic_${kind}.svg)
      file(READ ${WORK}/cyrillic_${kind}.svg svg)
      if(NOT svg MATCHES "Кот" OR NOT svg MATCHES "сидит" OR NOT svg MATCHES "ковре")
        message(FATAL_ERROR "cyrillic_${kind}.svg: the Cyrillic labels are missing")
      endif()
    endforeach()
    run(${ATTNFLOW} plot ${WORK}/cyrillic.h5 --example 0 -k heatmap -q
        -o ${WORK}/cyrillic_heatmap.png --width 640 --height 480)
    expect_png_640x480(${WORK}/cyrillic_heatmap.png)
  else()
    message(STATUS "h5py not available: Cyrillic corpus skipped")
  endif()
endif()

# Errors: one message, exit 1, nothing written.
set(P ${ATTNFLOW} plot ${C})
expect_error("attnflow: error: --example 12: ${C} holds 10 examples (0..9)"
               ${P} --example 12 -o ${WORK}/x.png)
expect_error("attnflow: error: --examples 0,3,12: ${C} holds 10 examples (0..9)"
               ${P} --examples 0,3,12 -o ${WORK}/none/)
expect_error("attnflow: error: --examples: '2-x' is not an index or a range A-B"
               ${P} --examples 0,2-x -o ${WORK}/none/)
expect_error("attnflow: error: --examples: range 5-3 is empty (write 3-5)"
               ${P} --examples 5-3 -o ${WORK}/none/)
expect_error("attnflow: error: ${C} holds 10 examples (0..9): choose one with --example I"
               ${P} -o ${WORK}/x.png)
expect_error("attnflow: error: --examples writes one figure per example: -o ${WORK}/x.png must name a folder"
               ${P} --examples 0-1 -o ${WORK}/x.png)
expect_error("attnflow: error: ${WORK}/derived.h5: stores no attention (store mode 'derived'"
               ${ATTNFLOW} plot ${WORK}/derived.h5 --example 0 -o ${WORK}/x.png)
expect_error("attnflow: error: grad-rollout: example 2 of ${WORK}/nograd.h5 has no gradient stored"
               ${ATTNFLOW} plot ${WORK}/nograd.h5 --examples 2,0-1 -m grad-rollout -o ${WORK}/none/)
expect_error("attnflow: error: grad-rollout: example 0 of ${WORK}/nograd.h5 has no gradient stored"
               ${ATTNFLOW} plot ${WORK}/nograd.h5 --example 0 -k bars -m rollout,grad-rollout
               -o ${WORK}/x.png)
expect_error("attnflow: error: grad-rollout: ${WORK}/fused.h5 stores head-fused attention (store mode 'fused'"
               ${ATTNFLOW} plot ${WORK}/fused.h5 --example 0 -m grad-rollout -o ${WORK}/x.png)
expect_error("attnflow: error: -k heads: ${WORK}/fused.h5 stores head-fused attention"
               ${ATTNFLOW} plot ${WORK}/fused.h5 --example 0 -k heads -o ${WORK}/x.png)
expect_error("attnflow: error: --head 2: ${WORK}/fused.h5 stores head-fused attention"
               ${ATTNFLOW} plot ${WORK}/fused.h5 --example 0 -k heatmap --head 2 -o ${WORK}/x.png)
expect_error("attnflow: error: --target: example 0 of ${C}: token 5 out of range (sequence has 4 tokens, valid 0..3 or -4..-1)"
               ${P} --examples 0-9 -t 5 -o ${WORK}/none/)
expect_error("attnflow: error: --layer: 3 out of range 1..2 (${C} example 0 has 2 layers)"
               ${P} --example 0 -k heads --layer 3 -o ${WORK}/x.png)
expect_error("attnflow: error: --head: 3 out of range 1..2 (${C} example 0 has 2 heads)"
               ${P} --example 0 -k heatmap --head 3 -o ${WORK}/x.png)
expect_error("attnflow: error: gnuplot not found: install the Debian package gnuplot-nox"
               ${CMAKE_COMMAND} -E env PATH=/nonexistent ${P} --example 0 -o ${WORK}/x.png)
expect_error("attnflow: error: gnuplot not found: install the Debian package gnuplot-nox"
               ${CMAKE_COMMAND} -E env PATH=/nonexistent ${P} --examples 0-1 -o ${WORK}/none/)
expect_error("attnflow: error: ${WORK}/missing.h5: cannot open"
               ${ATTNFLOW} plot ${WORK}/missing.h5 --example 0 -o ${WORK}/x.png)
expect_error("attnflow: error: --gradient and --tokens are for .npy input"
               ${P} --example 0 --tokens ${WORK}/t.txt -o ${WORK}/x.png)
expect_error("attnflow: error: --format: unknown 'jpg' (expected png, svg or pdf)"
               ${P} --examples 0-1 --format jpg -o ${WORK}/none/)
expect_error("attnflow: error: --format is for a folder output (-o DIR/)"
               ${P} --example 0 --format svg -o ${WORK}/x.png)
expect_error("attnflow: error: ${WORK}/no/x.png: folder '${WORK}/no' does not exist"
               ${P} --example 0 -o ${WORK}/no/x.png)
# Unwritable output folders: a file in the way, and (not as root) a read-only folder.
expect_error("attnflow: error: ${C}/: output folder is a file" ${P} --examples 0-1 -o ${C}/)
expect_error("attnflow: error: ${C}/figs/: cannot create the output folder"
               ${P} --examples 0-1 -o ${C}/figs/)
file(MAKE_DIRECTORY ${WORK}/readonly)
execute_process(COMMAND chmod 555 ${WORK}/readonly)
execute_process(COMMAND ${CMAKE_COMMAND} -E touch ${WORK}/readonly/probe RESULT_VARIABLE writable
                OUTPUT_QUIET ERROR_QUIET)
if(NOT writable EQUAL 0)
  expect_error("attnflow: error: ${WORK}/readonly/: output folder is not writable"
                 ${P} --examples 0-1 -o ${WORK}/readonly/)
else()
  message(STATUS "running as root: the read-only folder case is skipped")
  file(REMOVE ${WORK}/readonly/probe)
endif()
execute_process(COMMAND chmod 755 ${WORK}/readonly)
foreach(left x.png x.png.partial none no readonly/fig_maps_0.png figs/fig_heatmap_1.png)
  if(EXISTS ${WORK}/${left})
    message(FATAL_ERROR "a failed run left ${WORK}/${left} behind")
  endif()
endforeach()
# .npy input takes no corpus options.
expect_error("--example, --examples and --format are for HDF5 corpora (.h5/.hdf5)"
               ${ATTNFLOW} plot ${WORK}/a.npy --example 0 -o ${WORK}/x.png)
