# `attnflow train lm` and `attnflow generate text` end to end: a tiny run on the start of the
# shipped text writes a model directory whose training.json holds the loss curve; generate text
# gives the same characters for the same seed (through the lean attnflow, which passes
# `generate text` to attnflow-torch); an unknown prompt character is one clear error; extract
# reads the model like any causal LM (attention + dy/dA with --target next).
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
file(READ ${TEXT} text LIMIT 4000)
file(WRITE ${WORK}/text.txt "${text}")
set(model ${WORK}/lm)
run_ok(train lm --text ${WORK}/text.txt -o ${model} --n-ctx 8 --n-embd 16 --n-head 2 --n-layer 2
       --max-iters 20 --eval-interval 10 --eval-iters 2 -j 1 --no-plot -q)
foreach(f config.json model.safetensors tokenizer.json training.json)
  if(NOT EXISTS ${model}/${f})
    message(FATAL_ERROR "train lm wrote no ${f}")
  endif()
endforeach()
file(READ ${model}/training.json training)
string(JSON points LENGTH "${training}" curve)
if(NOT points EQUAL 3)
  message(FATAL_ERROR "training.json: ${points} evaluations, expected 3 (steps 0, 10, 20)")
endif()
string(JSON arch GET "${training}" architecture)
if(NOT arch STREQUAL "AttnflowCharGPT")
  message(FATAL_ERROR "training.json: architecture ${arch}")
endif()

run_ok(generate text ${model} --prompt "First" -n 40 --seed 3 -j 1)
set(first "${LAST_OUT}")
run_ok(generate text ${model} --prompt "First" -n 40 --seed 3 -j 1)
if(NOT first STREQUAL LAST_OUT)
  message(FATAL_ERROR "generate text: the same seed gave\n${first}\nand\n${LAST_OUT}")
endif()
string(LENGTH "${first}" n)
if(NOT n EQUAL 46)  # "First" + 40 characters + newline (the text is ASCII)
  message(FATAL_ERROR "generate text: ${n} bytes, expected 46: ${first}")
endif()
run_ok(generate text ${model} --prompt "First" -n 40 --seed 4 -j 1)
if(first STREQUAL LAST_OUT)
  message(FATAL_ERROR "generate text: seeds 3 and 4 gave the same text")
endif()
expect_error("U+007E" ${ATTNFLOW} generate text ${model} --prompt "First~" -n 5)
expect_error("--temperature" ${ATTNFLOW} generate text ${model} --prompt "First" --temperature 0)
expect_error("exists" ${ATTNFLOW} train lm --text ${WORK}/text.txt -o ${model} --max-iters 1 -q)

file(WRITE ${WORK}/prompt.txt "First Ci\n")  # n_ctx 8 characters
run_ok(extract ${model} ${WORK}/prompt.txt -o ${WORK}/prompt.h5 --target next -j 1 -q)
if(NOT EXISTS ${WORK}/prompt.h5)
  message(FATAL_ERROR "extract wrote no store")
endif()
# extract's tokenizer path (tokenizer.json) also refuses a character the text did not have
file(WRITE ${WORK}/unknown.txt "First~\n")
expect_error("U+007E" ${ATTNFLOW} extract ${model} ${WORK}/unknown.txt -o ${WORK}/unknown.h5 -q)
