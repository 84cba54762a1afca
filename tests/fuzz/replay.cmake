# Replays the seeds (built by make_seeds.py) and regressions/<target>/ through every target.
# -DREPLAY=attnflow_fuzz_replay -DPYTHON=... -DSOURCE=repo -DTARGETS=a;b;... -DWORK=dir
execute_process(COMMAND ${PYTHON} ${SOURCE}/tests/fuzz/make_seeds.py ${SOURCE} ${WORK}/seeds
                RESULT_VARIABLE rc OUTPUT_QUIET)
if(rc)
  message(FATAL_ERROR "make_seeds.py failed: ${rc}")
endif()
set(ENV{ATTNFLOW_FUZZ_SCRATCH} ${WORK})
foreach(t ${TARGETS})
  set(inputs ${WORK}/seeds/${t})
  if(EXISTS ${SOURCE}/tests/fuzz/regressions/${t})
    list(APPEND inputs ${SOURCE}/tests/fuzz/regressions/${t})
  endif()
  execute_process(COMMAND ${REPLAY} ${t} ${inputs} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err TIMEOUT 120)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "fuzz replay ${t} failed (${rc}):\n${out}${err}")
  endif()
  message(STATUS "${out}")
endforeach()
