# `attnflow evaluate`, CI-sized, end to end on the shipped SVA classifier: the table's shape and
# ranges, blank-out's own Spearman, the files, the same numbers for the same seed (only the
# random row moves with the seed), a run that removes tokens, and one clear error (exit 1, no
# output folder) for each bad input. tests/reference/evaluate_reference.py then recomputes the
# numbers from these runs' scores (tests evaluate_reference_*).
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(common --model ${SOURCE}/datasets/models/sva --corpus ${SOURCE}/datasets/sva/test.jsonl -q -j 1)

run_ok(evaluate ${common} -n 16 -o ${WORK}/unk --save-scores)
set(first_out "${LAST_OUT}")
foreach(expected "Faithfulness benchmark" "ceil(k m / 100) tokens, clamped to [1, m]"
                 "comp (AOPC)" "cost per example, median ms CPU (wall): shared model run")
  string(FIND "${first_out}" "${expected}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "evaluate output lacks '${expected}':\n${first_out}")
  endif()
endforeach()
foreach(f table.txt table.csv curves.csv timing.csv scores.jsonl deletion.png insertion.png)
  if(NOT EXISTS ${WORK}/unk/${f})
    message(FATAL_ERROR "evaluate did not write ${f}")
  endif()
endforeach()
# expect_lines(FILE N VAR): FILE has N lines, left in VAR.
function(expect_lines file expected var)
  file(STRINGS ${file} lines)
  list(LENGTH lines count)
  if(NOT count EQUAL expected)
    message(FATAL_ERROR "${file} has ${count} lines, expected ${expected}")
  endif()
  set(${var} "${lines}" PARENT_SCOPE)
endfunction()
expect_lines(${WORK}/unk/table.csv 19 rows)  # header + 18 methods
list(POP_FRONT rows header)
string(FIND "${header}" "method,examples,comprehensiveness,comprehensiveness_std,sufficiency" pos)
if(NOT pos EQUAL 0)
  message(FATAL_ERROR "table.csv header: ${header}")
endif()
set(methods)
foreach(row IN LISTS rows)
  string(REPLACE "," ";" f "${row}")
  list(GET f 0 method)
  list(GET f 1 n)
  list(GET f 2 comp)
  list(GET f 4 suff)
  list(GET f 18 rho)
  list(APPEND methods ${method})
  if(NOT n EQUAL 16 OR comp LESS -1 OR comp GREATER 1 OR suff LESS -1 OR suff GREATER 1 OR
     rho LESS -1 OR rho GREATER 1)
    message(FATAL_ERROR "out of range: ${row}")
  endif()
  if(method STREQUAL "blank-out" AND NOT rho EQUAL 1)
    message(FATAL_ERROR "blank-out's Spearman with itself is ${rho}: ${row}")
  endif()
endforeach()
if(NOT methods STREQUAL "raw;rollout;flow;grad-rollout;blank-out;input-x-gradient;norm;norm-rollout;norm-flow;globenc;globenc-flow;alti;alti-rollout;alti-flow;value-zeroing;value-zeroing-rollout;value-zeroing-flow;random")
  message(FATAL_ERROR "methods in table.csv: ${methods}")
endif()
expect_lines(${WORK}/unk/curves.csv 397 curve_rows)  # header + 18 methods x 2 curves x 11 points

# Deterministic for a seed: the same files again; another seed moves the random row only.
run_ok(evaluate ${common} -n 16 -o ${WORK}/again --no-plots)
run_ok(evaluate ${common} -n 16 -o ${WORK}/seed7 --no-plots --seed 7)
foreach(f table.csv curves.csv table.txt)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/unk/${f} ${WORK}/again/${f}
                  RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "${f} differs between two runs with the same seed")
  endif()
endforeach()
file(STRINGS ${WORK}/unk/table.csv a)
file(STRINGS ${WORK}/seed7/table.csv b)
foreach(i RANGE 1 18)
  list(GET a ${i} ra)
  list(GET b ${i} rb)
  string(FIND "${ra}" "random," is_random)
  if(is_random EQUAL 0 AND ra STREQUAL rb)
    message(FATAL_ERROR "--seed 7 did not change the random baseline: ${ra}")
  elseif(NOT is_random EQUAL 0 AND NOT ra STREQUAL rb)
    message(FATAL_ERROR "--seed 7 changed a method other than random:\n${ra}\n${rb}")
  endif()
endforeach()

# Tokens removed instead of replaced, a few methods, other bins.
run_ok(evaluate ${common} -n 12 -o ${WORK}/remove --perturbation remove --save-scores --no-plots
       -m rollout,blank-out,random --aopc-percents 10,50 --curve-percents 0,50,100)

# Bad inputs: one clear error each, exit 1, no output folder.
file(WRITE ${WORK}/unlabelled.txt "the key to the cabinets\nthe keys\n")
expect_error("--methods: unknown method 'lrp' (expected raw, rollout, flow, grad-rollout, blank-out, input-x-gradient, norm, norm-rollout, norm-flow, globenc, globenc-flow, alti, alti-rollout, alti-flow, value-zeroing, value-zeroing-rollout, value-zeroing-flow or random)"
             ${ATTNFLOW} evaluate ${common} -o ${WORK}/bad -m rollout,lrp)
expect_error("--aopc-percents: 0 is outside (0, 100] (percent of the tokens)"
             ${ATTNFLOW} evaluate ${common} -o ${WORK}/bad --aopc-percents 0,5)
expect_error("--curve-percents: 120 is outside [0, 100] (percent of the tokens)"
             ${ATTNFLOW} evaluate ${common} -o ${WORK}/bad --curve-percents 0,120)
expect_error("unlabelled.txt:1: no label (evaluate needs a labelled corpus: a JSONL \"label\" or a TSV label column)"
             ${ATTNFLOW} evaluate --model ${SOURCE}/datasets/models/sva --corpus ${WORK}/unlabelled.txt
             -o ${WORK}/bad -q)
expect_error("--perturbation: unknown 'zero' (expected unk, mask or remove)"
             ${ATTNFLOW} evaluate ${common} -o ${WORK}/bad --perturbation zero)
expect_error("--examples must be >= 0, got -3"
             ${ATTNFLOW} evaluate ${common} -o ${WORK}/bad -n -3)
expect_error("unk: exists (use --overwrite to replace it)"
             ${ATTNFLOW} evaluate ${common} -o ${WORK}/unk)
foreach(left bad bad.partial)
  if(EXISTS ${WORK}/${left})
    message(FATAL_ERROR "a failed evaluate left ${WORK}/${left}")
  endif()
endforeach()
