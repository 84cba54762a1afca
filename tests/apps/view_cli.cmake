# `attnflow view` from the command line: a page per store kind (per-head with gradients and
# a derived run, fused, causal), --examples, and bad input reported with one clear message,
# exit 1 and no page (nor PAGE.partial) left behind. The page's content is checked in a browser
# by tests/view/view_browser_test.py.
# Variables: ATTNFLOW (the executable), TOOL (attnflow_store_tool), WORK (scratch folder).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

function(tool)
  execute_process(COMMAND ${TOOL} ${ARGN} OUTPUT_QUIET COMMAND_ERROR_IS_FATAL ANY)
endfunction()

# The page's embedded data (the JSON between <script type="application/json" ...> and </script>).
function(page_data path var)
  file(READ ${path} page)
  string(REGEX MATCH "id=\"attnflow-data\">([^<]*)</script>" found "${page}")
  if(NOT found)
    message(FATAL_ERROR "${path}: no attnflow-data element")
  endif()
  set(${var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

# A build without d3 has no view: say so (ctest reports the test as skipped) and stop.
execute_process(COMMAND ${ATTNFLOW} view ${WORK}/none.h5 --example 0 ERROR_VARIABLE err
                OUTPUT_QUIET)
if(err MATCHES "built without d3")
  message(NOTICE "SKIP: attnflow was built without d3")
  return()
endif()

set(C ${WORK}/corpus.h5)
tool(write ${C} 4 --layers 2 --heads 3 --gradient)
tool(write ${WORK}/fused.h5 2 --mode fused --layers 2 --heads 2)
tool(write ${WORK}/derived.h5 2 --mode derived --layers 2 --heads 2)
tool(write ${WORK}/nograd.h5 2 --layers 2 --heads 2)
tool(write ${WORK}/causal.h5 2 --layers 2 --heads 2 --causal)
run_ok(analyze ${C} -m rollout -t 0,1 --run extra -q)

# One example: the report line, methods with grad-rollout (gradients stored) and the run.
run_ok(view ${C} --example 2 -o ${WORK}/one.html)
if(NOT LAST_OUT MATCHES "^wrote ${WORK}/one.html \\([0-9]+ bytes, example 2\\)\n$")
  message(FATAL_ERROR "view: unexpected output: ${LAST_OUT}")
endif()
page_data(${WORK}/one.html data)
string(JSON n LENGTH "${data}" examples)
string(JSON methods GET "${data}" examples 0 methods)
string(JSON m LENGTH "${methods}")
set(names "")
math(EXPR last "${m} - 1")
foreach(k RANGE ${last})
  string(JSON name GET "${methods}" ${k} name)
  list(APPEND names "${name}")
endforeach()
if(NOT n EQUAL 1 OR NOT names STREQUAL "raw;rollout;flow;grad-rollout;extra: rollout")
  message(FATAL_ERROR "one.html: ${n} examples, methods ${names}")
endif()
string(JSON bits GET "${data}" bits)
string(JSON heads GET "${data}" examples 0 heads)
if(NOT bits EQUAL 8 OR NOT heads EQUAL 3)
  message(FATAL_ERROR "one.html: bits ${bits}, heads ${heads}")
endif()

# A target row the run does not keep: no panel of it, a note instead.
run_ok(view ${C} --example 2 -t 3 -o ${WORK}/row3.html -q)
page_data(${WORK}/row3.html data)
string(JSON m LENGTH "${data}" examples 0 methods)
string(JSON note GET "${data}" examples 0 notes 0)
if(NOT m EQUAL 4 OR NOT note STREQUAL "Run 'extra' keeps no rollout maps of row 3.")
  message(FATAL_ERROR "row3.html: ${m} methods, note '${note}'")
endif()

# Several examples, 16 bits, -m, --no-derived, the default output name.
run_ok(view ${C} --examples 3,0-1 -o ${WORK}/three.html --bits 16 -m raw,flow
    --no-derived -q)
if(NOT LAST_OUT STREQUAL "")
  message(FATAL_ERROR "view -q printed: ${LAST_OUT}")
endif()
page_data(${WORK}/three.html data)
string(JSON i0 GET "${data}" examples 0 index)
string(JSON i2 GET "${data}" examples 2 index)
string(JSON m LENGTH "${data}" examples 0 methods)
string(JSON bits GET "${data}" bits)
if(NOT i0 EQUAL 3 OR NOT i2 EQUAL 1 OR NOT m EQUAL 2 OR NOT bits EQUAL 16)
  message(FATAL_ERROR "three.html: examples ${i0}..${i2}, ${m} methods, ${bits} bits")
endif()
execute_process(COMMAND ${ATTNFLOW} view ${C} --example 0 -q WORKING_DIRECTORY ${WORK}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT EXISTS ${WORK}/view.html)
  message(FATAL_ERROR "view without -o did not write view.html")
endif()

# Fused store: one "head"; causal store: the method view explains the last token.
run_ok(view ${WORK}/fused.h5 --example 1 -o ${WORK}/fused.html -q)
page_data(${WORK}/fused.html data)
string(JSON head GET "${data}" examples 0 head_names 0)
if(NOT head STREQUAL "fused (mean)")
  message(FATAL_ERROR "fused.html: head name ${head}")
endif()
run_ok(view ${WORK}/causal.h5 --example 0 -o ${WORK}/causal.html -q)
page_data(${WORK}/causal.html data)
string(JSON target GET "${data}" examples 0 target)
string(JSON n LENGTH "${data}" examples 0 tokens)
math(EXPR last "${n} - 1")
if(NOT target EQUAL last)
  message(FATAL_ERROR "causal.html: target ${target}, expected the last token ${last}")
endif()

# Bad input: one message, exit 1, no page.
set(P ${WORK}/bad.html)
expect_error("holds 4 examples (0..3): choose one with --example I or several with --examples"
             ${ATTNFLOW} view ${C} -o ${P})
expect_error("--example 9: ${C} holds 4 examples (0..3)" ${ATTNFLOW} view ${C} --example 9 -o ${P})
expect_error("--examples 0-7: ${C} holds 4 examples (0..3)"
             ${ATTNFLOW} view ${C} --examples 0-7 -o ${P})
expect_error("--bits: 12 (expected 8 or 16)" ${ATTNFLOW} view ${C} --example 0 --bits 12 -o ${P})
expect_error("--min-weight: 2 (expected 0..1)"
             ${ATTNFLOW} view ${C} --example 0 --min-weight 2 -o ${P})
expect_error("--target: example 0 of ${C}: token 40 out of range"
             ${ATTNFLOW} view ${C} --example 0 -t 40 -o ${P})
expect_error("method: unknown 'foo'" ${ATTNFLOW} view ${C} --example 0 -m foo -o ${P})
expect_error("stores no attention (store mode 'derived'"
             ${ATTNFLOW} view ${WORK}/derived.h5 --example 0 -o ${P})
expect_error("grad-rollout: example 1 of ${WORK}/nograd.h5 has no gradient stored"
             ${ATTNFLOW} view ${WORK}/nograd.h5 --example 1 -m raw,grad-rollout -o ${P})
expect_error("grad-rollout: ${WORK}/fused.h5 stores head-fused attention"
             ${ATTNFLOW} view ${WORK}/fused.h5 --example 0 -m grad-rollout -o ${P})
expect_error("x.npy: view reads an HDF5 store" ${ATTNFLOW} view ${WORK}/x.npy --example 0 -o ${P})
expect_error("${WORK}/missing.h5: cannot open" ${ATTNFLOW} view ${WORK}/missing.h5 --example 0
             -o ${P})
expect_error("${WORK}/no/such/folder/v.html: cannot write to folder"
             ${ATTNFLOW} view ${C} --example 0 -o ${WORK}/no/such/folder/v.html)
expect_failure("--example excludes --examples"
               ${ATTNFLOW} view ${C} --example 0 --examples 1 -o ${P})
if(EXISTS ${P} OR EXISTS ${P}.partial)
  message(FATAL_ERROR "a failed view left ${P} behind")
endif()
