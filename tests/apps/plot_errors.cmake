# `attnflow plot`: every kind of figure from one .npy stack, and bad input
# reported with one clear message, a non-zero exit and no figure left behind.
# Variables: ATTNFLOW (the executable), DATA (tests/data), WORK (scratch folder).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(STACK ${DATA}/plot_attention.npy)
set(TOKENS ${DATA}/plot_tokens.txt)

include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

# Every kind draws a figure.
foreach(kind heatmap heads maps graph bars corr)
  execute_process(COMMAND ${ATTNFLOW} plot ${STACK} --tokens ${TOKENS} -k ${kind}
                          -o ${WORK}/${kind}.png --width 640 --height 480
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT EXISTS ${WORK}/${kind}.png OR NOT out MATCHES "wrote ${WORK}/${kind}.png"
     OR NOT err STREQUAL "")
    message(FATAL_ERROR "plot -k ${kind} failed (${rc}): ${out} ${err}")
  endif()
  file(READ ${WORK}/${kind}.png head LIMIT 24 HEX)
  # PNG signature, IHDR, width 640 (0x280), height 480 (0x1e0)
  if(NOT head STREQUAL "89504e470d0a1a0a0000000d4948445200000280000001e0")
    message(FATAL_ERROR "${kind}.png is not a 640x480 PNG: ${head}")
  endif()
endforeach()
execute_process(COMMAND ${ATTNFLOW} plot ${STACK} --tokens ${TOKENS} -k maps --hide-special -q
                        -m raw,residual,rollout,flow -o ${WORK}/maps.svg RESULT_VARIABLE rc)
file(READ ${WORK}/maps.svg svg)
if(NOT rc EQUAL 0 OR NOT svg MATCHES "Кот" OR svg MATCHES ">\\[SEP\\]<")
  message(FATAL_ERROR "maps.svg: Cyrillic labels missing or [SEP] not hidden")
endif()

# Errors.
set(P ${ATTNFLOW} plot ${STACK} --tokens ${TOKENS})
expect_failure("attnflow: error: gnuplot not found: install the Debian package gnuplot-nox"
               ${CMAKE_COMMAND} -E env PATH=/nonexistent ${P} -o ${WORK}/no_gnuplot.png)
expect_failure("attnflow: error: ${WORK}/no/such/folder/x.png: folder '${WORK}/no/such/folder' does not exist"
               ${P} -o ${WORK}/no/such/folder/x.png)
expect_failure("attnflow: error: ${WORK}/x.jpg: unknown image format '.jpg' (expected .png, .svg or .pdf)"
               ${P} -o ${WORK}/x.jpg)
expect_failure("attnflow: error: --kind: unknown 'pie' (expected heatmap, heads, maps, graph, bars, corr, cross, cross-heads or compare)"
               ${P} -k pie -o ${WORK}/x.png)
expect_failure("attnflow: error: --layer: 9 out of range 1..6 (${STACK} has 6 layers)"
               ${P} -k heads --layer 9 -o ${WORK}/x.png)
expect_failure("attnflow: error: --head: 5 out of range 1..4 (${STACK} has 4 heads)"
               ${P} -k heatmap --head 5 -o ${WORK}/x.png)
expect_failure("attnflow: error: target rows: token 99 out of range (sequence has 8 tokens, valid 0..7 or -8..-1)"
               ${P} -k maps -t 99 -o ${WORK}/x.png)
expect_failure("attnflow: error: ${WORK}/x.png: every token is hidden"
               ${P} -k heatmap --hide-special --hide Кот,сидит,на,ковре,café,naïve -o ${WORK}/x.png)
expect_failure("attnflow: error: ${TOKENS}: 8 token labels for 3 tokens in ${DATA}/tiny_attention.npy"
               ${ATTNFLOW} plot ${DATA}/tiny_attention.npy --tokens ${TOKENS} -o ${WORK}/x.png)
expect_failure("attnflow: error: ${WORK}/missing.npy: cannot open"
               ${ATTNFLOW} plot ${WORK}/missing.npy -o ${WORK}/x.png)
expect_failure("grad-rollout: needs a gradient stack" ${P} -m grad-rollout -o ${WORK}/x.png)
expect_failure("attnflow: error: --values: unknown 'some' (expected auto, show or hide)"
               ${P} -k heatmap --values some -o ${WORK}/x.png)
expect_failure("attnflow: error: --scaling: unknown 'log' (expected none, sum or max)"
               ${P} -k bars --scaling log -o ${WORK}/x.png)
foreach(left x.png x.png.partial x.jpg no_gnuplot.png)
  if(EXISTS ${WORK}/${left})
    message(FATAL_ERROR "a failed run left ${WORK}/${left} behind")
  endif()
endforeach()

execute_process(COMMAND ${ATTNFLOW} plot --help RESULT_VARIABLE rc OUTPUT_VARIABLE out)
if(NOT rc EQUAL 0 OR NOT out MATCHES "--hide-special")
  message(FATAL_ERROR "plot --help failed: ${out}")
endif()
