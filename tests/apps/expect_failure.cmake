# Shared by the CLI test scripts (include() it): a command that must fail with a clear message.
#   expect_failure(EXPECTED <command> [args...])  exit status not 0, EXPECTED in stderr
#   expect_error(EXPECTED <command> [args...])    the same with exit status 1 (attnflow::Error)
function(_attnflow_expect_failure strict expected)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "expected failure for: ${ARGN}\nstdout: ${out}")
  endif()
  if(strict AND NOT rc EQUAL 1)
    message(FATAL_ERROR "expected exit code 1 (a clear error), got ${rc} for: ${ARGN}\n"
                        "stdout: ${out}\nstderr: ${err}")
  endif()
  string(FIND "${err}" "${expected}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "for ${ARGN}: expected '${expected}' in stderr, got: ${err}")
  endif()
endfunction()

function(expect_failure expected)
  _attnflow_expect_failure(FALSE "${expected}" ${ARGN})
endfunction()

function(expect_error expected)
  _attnflow_expect_failure(TRUE "${expected}" ${ARGN})
endfunction()

# run_ok(args...): `${ATTNFLOW} args...` succeeds; its stdout is left in LAST_OUT.
function(run_ok)
  execute_process(COMMAND ${ATTNFLOW} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\nstdout: ${out}\nstderr: ${err}")
  endif()
  set(LAST_OUT "${out}" PARENT_SCOPE)
endfunction()
