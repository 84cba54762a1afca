# The lean `attnflow` and attnflow-torch: --help lists every subcommand, the libtorch ones are
# reached through attnflow (their own --help included), and a missing attnflow-torch or a build
# without libtorch gives one clear error. The lean executable does not link libtorch.
# -DATTNFLOW=... -DHAVE_TORCH=ON|OFF -DWORK=...
file(MAKE_DIRECTORY ${WORK})
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

run_ok(--help)
foreach(sub analyze plot generate compare extract train demo reproduce)
  string(REGEX MATCH "\n  ${sub} " found "${LAST_OUT}")
  if(NOT found)
    message(FATAL_ERROR "attnflow --help does not list '${sub}':\n${LAST_OUT}")
  endif()
endforeach()
run_ok(--version)
if(NOT LAST_OUT MATCHES "^[0-9]+\\.[0-9]+\\.[0-9]+")
  message(FATAL_ERROR "attnflow --version: ${LAST_OUT}")
endif()

execute_process(COMMAND ldd ${ATTNFLOW} OUTPUT_VARIABLE libs RESULT_VARIABLE rc)
if(rc EQUAL 0 AND libs MATCHES "libtorch")
  message(FATAL_ERROR "the lean attnflow links libtorch:\n${libs}")
endif()

if(HAVE_TORCH)
  # extract --help is attnflow-torch's: it knows extract's options.
  run_ok(extract --help)
  if(NOT LAST_OUT MATCHES "--batch-size" OR NOT LAST_OUT MATCHES "attnflow extract")
    message(FATAL_ERROR "attnflow extract --help:\n${LAST_OUT}")
  endif()
  run_ok(reproduce --help)
  if(NOT LAST_OUT MATCHES "--examples")
    message(FATAL_ERROR "attnflow reproduce --help:\n${LAST_OUT}")
  endif()
  # `train` is a group: classifier and mlm; the backbone-only flags are checked.
  run_ok(train --help)
  if(NOT LAST_OUT MATCHES "classifier" OR NOT LAST_OUT MATCHES "mlm")
    message(FATAL_ERROR "attnflow train --help:\n${LAST_OUT}")
  endif()
  expect_error("--freeze-backbone: only with --backbone" ${ATTNFLOW} train classifier --train a
               --valid b --vocab v -o ${WORK}/t --freeze-backbone)
  expect_error("--pooling: only with --backbone" ${ATTNFLOW} train classifier --train a
               --valid b --vocab v -o ${WORK}/t --pooling cls)
  expect_error("--layers: not with --backbone (the backbone's config.json decides)" ${ATTNFLOW}
               train classifier --train a --valid b --backbone ${WORK} -o ${WORK}/t --layers 2)
  expect_error("pooling: unknown 'max' (expected mean or cls)" ${ATTNFLOW} train classifier
               --train a --valid b --backbone ${WORK} -o ${WORK}/t --pooling max)
  expect_error("attnflow: error: ${WORK}/no-model: no such model directory or file"
               ${ATTNFLOW} extract ${WORK}/no-model ${WORK}/c.txt -o ${WORK}/o.h5)
  expect_error("cannot run ${WORK}/missing-torch-exe for extract"
               ${CMAKE_COMMAND} -E env ATTNFLOW_TORCH_EXE=${WORK}/missing-torch-exe
               ${ATTNFLOW} extract a b -o c.h5)
else()
  foreach(sub extract train demo reproduce)
    expect_error("attnflow was built without libtorch: ${sub} is not available" ${ATTNFLOW} ${sub})
  endforeach()
endif()
