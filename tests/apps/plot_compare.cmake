# `attnflow plot` for model comparisons and encoder-decoders: -k compare with several stores
# (positional inputs, --titles, -m, --own-scales), the -k cross flags, and bad input (one
# message, exit 1, no figure).
# Variables: ATTNFLOW (the executable), TOOL (attnflow_store_tool), WORK (scratch folder).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

# Three stores of different sizes and model names (one execute_process runs the three writes
# side by side; they touch different files and read no input).
execute_process(
  COMMAND ${TOOL} write ${WORK}/bert.h5 2 --layers 2 --heads 2 --model bert-tiny --spread 5
  COMMAND ${TOOL} write ${WORK}/gpt2.h5 2 --layers 3 --heads 2 --causal --seed 2 --model gpt2-tiny
  COMMAND ${TOOL} write ${WORK}/t5.h5 2 --layers 2 --heads 4 --seed 3 --spread 3 --model t5-tiny
  RESULTS_VARIABLE tool_rcs)
if(NOT tool_rcs STREQUAL "0;0;0")
  message(FATAL_ERROR "attnflow_store_tool failed: ${tool_rcs}")
endif()
set(STORES ${WORK}/bert.h5 ${WORK}/gpt2.h5 ${WORK}/t5.h5)

run_ok(plot ${STORES} -k compare --example 1 -o ${WORK}/compare.svg)
if(NOT LAST_OUT STREQUAL "wrote ${WORK}/compare.svg\n")
  message(FATAL_ERROR "plot -k compare: unexpected output: ${LAST_OUT}")
endif()
file(READ ${WORK}/compare.svg svg)
foreach(s "bert-tiny, layer 2" "gpt2-tiny, layer 3" "t5-tiny, layer 2" "raw at the last layer")
  string(FIND "${svg}" "${s}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "compare.svg lacks '${s}'")
  endif()
endforeach()
run_ok(plot ${STORES} -k compare --example 0 -m rollout --layer 2 --titles BERT,GPT-2,T5
       --own-scales -o ${WORK}/compare.png)
file(READ ${WORK}/compare.png head LIMIT 8 HEX)
if(NOT head STREQUAL "89504e470d0a1a0a")
  message(FATAL_ERROR "compare.png is not a PNG")
endif()

expect_error("attnflow: error: -k compare draws one method in every panel: -m raw,flow names 2 (e.g. -m rollout)"
               ${ATTNFLOW} plot ${STORES} -k compare --example 0 -m raw,flow -o ${WORK}/bad.png)
expect_error("attnflow: error: --titles: 2 titles for 3 stores"
               ${ATTNFLOW} plot ${STORES} -k compare --example 0 --titles a,b -o ${WORK}/bad.png)
expect_error("attnflow: error: 3 inputs: several stores are for -k compare (one panel each); -k heatmap draws one input"
               ${ATTNFLOW} plot ${STORES} -k heatmap --example 0 -o ${WORK}/bad.png)
expect_error("attnflow: error: --example 2: ${WORK}/bert.h5 holds 2 examples (0..1)"
               ${ATTNFLOW} plot ${STORES} -k compare --example 2 -o ${WORK}/bad.png)
if(EXISTS ${WORK}/bad.png)
  message(FATAL_ERROR "a failed plot left ${WORK}/bad.png")
endif()

# -k cross figures of .npy stacks are checked in tests/pipeline/plot_figures_test.cpp; here the
# CLI flags reach the pipeline.
expect_error("attnflow: error: --encoder-tokens is for -k cross and -k cross-heads"
               ${ATTNFLOW} plot ${WORK}/bert.h5 --example 0 --encoder-tokens ${WORK}/x.txt -o ${WORK}/bad.png)
expect_error("attnflow: error: -k cross: ${WORK}/bert.h5 holds no cross-attention (not an encoder-decoder store); give it as .npy of shape (layers, heads, decoder tokens, encoder tokens) with --tokens and --encoder-tokens"
               ${ATTNFLOW} plot ${WORK}/bert.h5 --example 0 -k cross -o ${WORK}/bad.png)
