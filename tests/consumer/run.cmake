# Installs the build tree into WORK/prefix, then configures, builds and runs
# the consumer project against it with find_package(attnflow).
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK}/prefix
                RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
# The installed attnflow finds the installed attnflow-torch (LIBEXECDIR/attnflow).
file(GLOB_RECURSE torch_exe ${WORK}/prefix/*/attnflow-torch)
if(torch_exe)
  execute_process(COMMAND ${WORK}/prefix/bin/attnflow extract --help RESULT_VARIABLE rc
                  OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc OR NOT out MATCHES "--batch-size")
    message(FATAL_ERROR "installed attnflow extract --help failed (${rc}): ${out}${err}")
  endif()
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${CONSUMER_SOURCE} -B ${WORK}/build
                        -DCMAKE_PREFIX_PATH=${WORK}/prefix RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer configure failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK}/build RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer build failed: ${rc}")
endif()
execute_process(COMMAND ${WORK}/build/consumer RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "consumer run failed: ${rc}")
endif()
