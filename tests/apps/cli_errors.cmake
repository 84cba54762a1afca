# The CLI reports bad input with one clear message and a non-zero exit, and
# leaves no output file behind.
file(MAKE_DIRECTORY ${WORK})
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

expect_failure("attnflow: error: ${WORK}/missing.npy: cannot open" ${ATTNFLOW} analyze ${WORK}/missing.npy)
expect_failure("target rows: token 99 out of range" ${ATTNFLOW} analyze ${DATA}/tiny_attention.npy -t 99
               -o ${WORK}/out.csv)
if(EXISTS ${WORK}/out.csv)
  message(FATAL_ERROR "a failed run left ${WORK}/out.csv behind")
endif()
# Negative target rows count from the end; one before the first token is an error naming the
# row and the token count, as in the corpus mode and in plot.
expect_failure("attnflow: error: target rows: token -4 out of range (sequence has 3 tokens, valid 0..2 or -3..-1)"
               ${ATTNFLOW} analyze ${DATA}/tiny_attention.npy -t -4)
expect_failure("attnflow: error: target rows: token -4 out of range (sequence has 3 tokens, valid 0..2 or -3..-1)"
               ${ATTNFLOW} plot ${DATA}/tiny_attention.npy -t -4 -o ${WORK}/x.png)
expect_failure("method: unknown 'lrp'" ${ATTNFLOW} analyze ${DATA}/tiny_attention.npy -m lrp)
expect_failure("grad-rollout: needs a gradient stack" ${ATTNFLOW} analyze ${DATA}/tiny_attention.npy
               -m grad-rollout)
expect_failure("is negative" ${ATTNFLOW} analyze ${DATA}/negative_attention.npy)
execute_process(COMMAND ${ATTNFLOW} analyze --help RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "--flow-algorithm")
  message(FATAL_ERROR "analyze --help failed: ${out}")
endif()
execute_process(COMMAND ${ATTNFLOW} analyze ${DATA}/tiny_attention.npy -o ${WORK}/ok.csv -q
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT EXISTS ${WORK}/ok.csv)
  message(FATAL_ERROR "a valid run failed")
endif()
