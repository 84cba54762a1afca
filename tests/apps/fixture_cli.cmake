# attnflow analyze / encdec / plot on the committed schema-3 fixtures (tests/data/store_v3_*.h5,
# copied into WORK): selections and fused heads named in the report, and one clear error naming
# what is missing for what a fused, derived or gradient-less store cannot give.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)
foreach(name per_head fused derived encdec)
  file(COPY ${DATA}/store_v3_${name}.h5 DESTINATION ${WORK})
  set(${name} ${WORK}/store_v3_${name}.h5)
endforeach()

function(expect_out pattern)
  string(FIND "${LAST_OUT}" "${pattern}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "expected '${pattern}' in the output, got: ${LAST_OUT}")
  endif()
endfunction()

function(expect_lines file count)
  file(STRINGS ${file} lines)
  list(LENGTH lines n)
  if(NOT n EQUAL count)
    message(FATAL_ERROR "${file}: ${n} lines, expected ${count}")
  endif()
endfunction()

# Per-head with a layer and head selection: analyzed as stored layers 1..2, and the report says
# which model layers and heads they are; --layers counts the stored layers.
run_ok(analyze ${per_head} --no-store -o ${WORK}/per_head.csv)
expect_out("3 examples (2 layers, 2 heads; stored layers are model layers 1,3 of 3, model heads 2,4 of 4)")
expect_lines(${WORK}/per_head.csv 19)  # 3 examples x 3 methods x 2 layers + header
run_ok(analyze ${per_head} --run cli -m grad-rollout,alti-rollout,norm-flow,value-zeroing -t 0,-1 -q)
run_ok(analyze ${per_head} --no-store --layers 2 -m raw -o ${WORK}/layer2.csv -q)
expect_lines(${WORK}/layer2.csv 4)
expect_error("store_v3_per_head.h5: layer 3 (--layers) out of range: the store holds 2 layers (model layers 1,3 of 3, model heads 2,4 of 4), analyzed as layers 1..2"
             ${ATTNFLOW} analyze ${per_head} --no-store --layers 3)

# Fused (weighted fusion of 2 selected heads, causal, alti contributions).
run_ok(analyze ${fused} --no-store -o ${WORK}/fused.csv)
expect_out("(3 layers, 2 heads; stored heads are model heads 1,3 of 3; heads fused with 'weighted:0.250000,0.750000')")
expect_lines(${WORK}/fused.csv 19)  # 2 examples x 3 methods x 3 layers + header
run_ok(analyze ${fused} --no-store -m alti-rollout -q)
expect_error("store_v3_fused.h5: a fused-mode store (its heads were fused with 'weighted:0.250000,0.750000' when extracted) has no per-head maps for --fusion max"
             ${ATTNFLOW} analyze ${fused} --no-store --fusion max)
expect_error("store_v3_fused.h5: grad-rollout needs per-head attention and gradients; this store is fused"
             ${ATTNFLOW} analyze ${fused} --no-store -m grad-rollout)
expect_error("store_v3_fused.h5: the norm contributions are not in this store (extract with --contributions norm)"
             ${ATTNFLOW} analyze ${fused} --no-store -m norm)
expect_error("stores head-fused attention (store mode 'fused', heads fused by weighted:0.250000,0.750000 before storing); use -k heatmap"
             ${ATTNFLOW} plot ${fused} --example 0 -k heads -o ${WORK}/heads.svg)

# Derived: no attention; analyze and plot say so and where the results are.
expect_error("store_v3_derived.h5: a derived-mode store holds no attention to analyze; its results are the run /derived/extract that attnflow extract --store derived computed"
             ${ATTNFLOW} analyze ${derived})
expect_error("store_v3_derived.h5: stores no attention (store mode 'derived'"
             ${ATTNFLOW} plot ${derived} --example 0 -o ${WORK}/derived.svg)

# Encoder-decoder: analyze reads the encoder; encdec needs the gradients example 1 lacks.
run_ok(analyze ${encdec} --no-store -q -o ${WORK}/encoder.csv)
run_ok(analyze ${encdec} --no-store)
expect_out("the encoder of an encoder-decoder store (the decoder: attnflow encdec)")
run_ok(encdec ${encdec} --examples 0 -o ${WORK}/encdec.csv)
expect_out("encdec: 1 examples")
expect_error("store_v3_encdec.h5 example 1: no gradient stored (extract with a --target"
             ${ATTNFLOW} encdec ${encdec} -o ${WORK}/encdec_all.csv)
expect_error("store_v3_encdec.h5: example 1: grad-rollout needs a gradient, the example has none"
             ${ATTNFLOW} analyze ${encdec} --no-store -m grad-rollout)
if(EXISTS ${WORK}/encdec_all.csv)
  message(FATAL_ERROR "a failed encdec left its CSV behind")
endif()

# Figures of a selected store name the model layers and heads in their titles.
function(expect_in_file file pattern)
  file(READ ${file} text)
  string(FIND "${text}" "${pattern}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${file}: expected '${pattern}'")
  endif()
endfunction()
run_ok(plot ${per_head} --example 0 -k heatmap -o ${WORK}/heatmap.svg)
expect_in_file(${WORK}/heatmap.svg "Layer 2 (model layer 3), model heads 2,4 fused (mean)")
run_ok(plot ${per_head} --example 0 -k heatmap -l 1 --head 2 -o ${WORK}/head.svg)
expect_in_file(${WORK}/head.svg "Layer 1 (model layer 1), head 2 (model head 4)")
run_ok(plot ${per_head} --example 0 -k heads -o ${WORK}/heads_selected.svg)
expect_in_file(${WORK}/heads_selected.svg "Layer 2 (model layer 3): attention of each head (model heads 2,4)")
run_ok(plot ${fused} --example 1 -k heatmap -o ${WORK}/fused.svg)
expect_in_file(${WORK}/fused.svg "Layer 3, model heads 1,3 fused (weighted:0.250000,0.750000, before storing)")
