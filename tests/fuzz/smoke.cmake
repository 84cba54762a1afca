# A short libFuzzer run of one target from its seeds: fails on any crash, sanitizer report,
# leak or exception other than attnflow::Error; the input that failed is kept in
# WORK/artifacts/TARGET/ (copy it to tests/fuzz/regressions/TARGET/ to replay it forever).
# -DFUZZER=binary -DTARGET=name -DPYTHON=... -DSOURCE=repo -DSECONDS=n -DWORK=dir
if(NOT EXISTS ${WORK}/seeds/${TARGET})
  execute_process(COMMAND ${PYTHON} ${SOURCE}/tests/fuzz/make_seeds.py ${SOURCE} ${WORK}/seeds
                  RESULT_VARIABLE rc OUTPUT_QUIET)
  if(rc)
    message(FATAL_ERROR "make_seeds.py failed: ${rc}")
  endif()
endif()
set(corpus ${WORK}/corpus/${TARGET})
set(artifacts ${WORK}/artifacts/${TARGET}/)
file(MAKE_DIRECTORY ${corpus} ${artifacts})
set(ENV{ATTNFLOW_FUZZ_SCRATCH} ${WORK}/scratch)
set(ENV{ASAN_OPTIONS} "detect_leaks=1:allocator_may_return_null=0")
set(ENV{UBSAN_OPTIONS} "halt_on_error=1:print_stacktrace=1")
set(ENV{LSAN_OPTIONS} "suppressions=${LSAN_SUPPRESSIONS}:print_suppressions=0")
set(regressions)
if(EXISTS ${SOURCE}/tests/fuzz/regressions/${TARGET})
  set(regressions ${SOURCE}/tests/fuzz/regressions/${TARGET})
endif()
execute_process(COMMAND ${FUZZER} -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
                        -max_len=131072 -print_final_stats=1 -artifact_prefix=${artifacts}
                        ${corpus} ${WORK}/seeds/${TARGET} ${regressions}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(REGEX MATCH "stat::number_of_executed_units: *[0-9]+" runs "${err}")
message(STATUS "fuzz ${TARGET}: ${runs}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzz ${TARGET} found a problem (exit ${rc}); input kept in ${artifacts}\n"
                      "${err}")
endif()
