# `attnflow demo` (README command 1's job) on the shipped model and sentences: the files it
# promises, a summary that says something, and clear errors that leave nothing behind.
# Leaves ${WORK}/demo for the notebook test (fixture "demo_output").
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

set(model ${SOURCE}/datasets/models/sva)
set(sentences ${SOURCE}/datasets/sva/demo.jsonl)
execute_process(COMMAND ${ATTNFLOW} demo --model ${model} --sentences ${sentences}
                        -o ${WORK}/demo -q
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "demo failed (${rc}): ${err}")
endif()
foreach(f demo.h5 summary.txt maps_0.png heads_0.png graph_0.png bars_0.png maps_2.png
          correlations.png)
  if(NOT EXISTS ${WORK}/demo/${f})
    message(FATAL_ERROR "demo did not write ${f}; stdout: ${out}")
  endif()
  file(SIZE ${WORK}/demo/${f} size)
  if(size LESS 1000)
    message(FATAL_ERROR "${f} is only ${size} bytes")
  endif()
endforeach()
file(READ ${WORK}/demo/summary.txt summary)
foreach(expected "accuracy on these sentences: " "flow" "grad-rollout" "rollout vs flow"
                 "\"the key to the cabinets\"")
  string(FIND "${summary}" "${expected}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "summary.txt lacks '${expected}':\n${summary}")
  endif()
endforeach()
string(FIND "${out}" "wrote " pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "demo did not say where the files went: ${out}")
endif()

# An existing folder is kept unless --overwrite.
expect_failure("demo: exists (use --overwrite to replace it)" ${ATTNFLOW} demo --model ${model}
               --sentences ${sentences} -o ${WORK}/demo)
# A wrong model path: one message, no output folder.
expect_failure("${WORK}/nomodel: no such model file or directory" ${ATTNFLOW} demo
               --model ${WORK}/nomodel --sentences ${sentences} -o ${WORK}/bad)
if(EXISTS ${WORK}/bad OR EXISTS ${WORK}/bad.partial)
  message(FATAL_ERROR "a failed demo left an output folder")
endif()
# No gnuplot on PATH: said before any work.
file(MAKE_DIRECTORY ${WORK}/emptybin)
expect_failure("gnuplot" ${CMAKE_COMMAND} -E env PATH=${WORK}/emptybin ${ATTNFLOW} demo
               --model ${model} --sentences ${sentences} -o ${WORK}/nognuplot)
if(EXISTS ${WORK}/nognuplot)
  message(FATAL_ERROR "a demo without gnuplot left an output folder")
endif()
# An output folder that cannot be made (even root cannot create folders in /proc).
expect_failure("/proc/attnflow_demo_out: cannot create the output folder" ${ATTNFLOW} demo
               --model ${model} --sentences ${sentences} -o /proc/attnflow_demo_out)
