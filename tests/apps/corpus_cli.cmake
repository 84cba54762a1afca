# `attnflow analyze` on HDF5 corpora: results in place / in a separate file /
# nowhere, the summary CSV, overwrite and resume, and one clear message with
# a non-zero exit for every kind of bad input (nothing complete-looking left).
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})

include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

function(tool)
  execute_process(COMMAND ${TOOL} ${ARGN} RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "store tool failed: ${ARGN}\n${err}")
  endif()
endfunction()

function(expect_lines file count)
  file(READ ${file} text)
  string(REGEX MATCHALL "\n" newlines "${text}")
  list(LENGTH newlines n)
  if(NOT n EQUAL count)
    message(FATAL_ERROR "${file}: ${n} lines, expected ${count}")
  endif()
endfunction()

set(C ${WORK}/corpus.h5)
tool(write ${C} 12 --layers 2 --heads 3 --dtype float16 --gradient)

# In place, summary CSV: 12 examples x 3 methods x 1 row x 2 layers + header.
run_ok(analyze ${C} -o ${WORK}/summary.csv -j 2)
expect_lines(${WORK}/summary.csv 73)
file(STRINGS ${WORK}/summary.csv header LIMIT_COUNT 1)
if(NOT header STREQUAL "example,label,target,prediction,tokens,method,layer,row,row_token,sum,max,argmax,argmax_token,entropy,self")
  message(FATAL_ERROR "unexpected CSV header: ${header}")
endif()
if(NOT LAST_OUT MATCHES "12 examples" OR NOT LAST_OUT MATCHES "/derived/analyze")
  message(FATAL_ERROR "unexpected report: ${LAST_OUT}")
endif()
expect_error("run 'analyze' already exists (complete, 12 of 12 examples)" ${ATTNFLOW} analyze ${C})
run_ok(analyze ${C} --resume -o ${WORK}/resumed.csv -q)
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/summary.csv ${WORK}/resumed.csv
                RESULT_VARIABLE differ)
if(differ)
  message(FATAL_ERROR "--resume of a complete run did not reproduce the summary")
endif()
run_ok(analyze ${C} --overwrite -m rollout,grad-rollout -t 0,-1 --csv-values -o ${WORK}/values.csv -q)
expect_lines(${WORK}/values.csv 97)  # 12 x 2 methods x 2 rows x 2 layers + header
run_ok(analyze ${C} --run second -m flow --layers 2 --all-rows --precision float64 -q)

# Separate output file, and compute-only.
run_ok(analyze ${C} --output-h5 ${WORK}/derived.h5 -q)
if(NOT EXISTS ${WORK}/derived.h5 OR EXISTS ${WORK}/derived.h5.partial)
  message(FATAL_ERROR "--output-h5 did not produce a finished file")
endif()
expect_error("a derived-mode store holds no attention to analyze" ${ATTNFLOW} analyze ${WORK}/derived.h5)
run_ok(analyze ${C} --no-store -o ${WORK}/nostore.csv -q)
expect_lines(${WORK}/nostore.csv 73)
expect_error("--no-store and --output-h5 exclude each other" ${ATTNFLOW}
               analyze ${C} --no-store --output-h5 ${WORK}/x.h5)
expect_error("example 0: target rows: token -99 out of range (sequence has " ${ATTNFLOW} analyze ${C}
             --no-store -t -99)
expect_error("--overwrite and --resume exclude each other" ${ATTNFLOW} analyze ${C} --overwrite --resume)
expect_error("--gradient and --tokens are for .npy input" ${ATTNFLOW} analyze ${C} --gradient g.npy)
expect_error("are for HDF5 corpora (.h5/.hdf5)" ${ATTNFLOW}
               analyze ${DATA}/tiny_attention.npy --output-h5 ${WORK}/x.h5)
expect_error("--precision: unknown 'float16'" ${ATTNFLOW} analyze ${C} --no-store --precision float16)

# A bad example stops the run with its index; earlier results are kept and
# --resume continues once the input is fixed; no CSV is left behind.
set(B ${WORK}/bad.h5)
tool(write ${B} 10 --layers 2 --heads 3)
tool(poison ${B} 6 nan)
expect_error("bad.h5: example 6: attention: layer" ${ATTNFLOW} analyze ${B} -o ${WORK}/bad.csv -j 2)
expect_error("results of examples 0..5 are kept in run 'again'" ${ATTNFLOW} analyze ${B} --run again -q)
if(EXISTS ${WORK}/bad.csv OR EXISTS ${WORK}/bad.csv.partial)
  message(FATAL_ERROR "a failed run left its CSV behind")
endif()
expect_error("run 'analyze' already exists (failed, 6 of 10 examples)" ${ATTNFLOW} analyze ${B})
tool(poison ${B} 6 negative)
expect_error("bad.h5: example 6: attention: layer" ${ATTNFLOW} analyze ${B} --resume)
expect_error("is negative" ${ATTNFLOW} analyze ${B} --resume)

set(U ${WORK}/utf8.h5)
tool(write ${U} 4 --layers 2 --heads 3)
tool(poison ${U} 2 bad-utf8)
expect_error("utf8.h5: example 2: token 1 is not valid UTF-8 (byte 0xff at offset 2)" ${ATTNFLOW}
               analyze ${U} --output-h5 ${WORK}/utf8_out.h5)
if(EXISTS ${WORK}/utf8_out.h5 OR NOT EXISTS ${WORK}/utf8_out.h5.partial)
  message(FATAL_ERROR "a failed --output-h5 run must leave only FILE.partial")
endif()

set(M ${WORK}/missing.h5)
tool(write ${M} 3 --layers 2 --heads 3)
tool(poison ${M} 1 drop-attention)
expect_error("missing.h5: example 1: missing dataset 'attention'" ${ATTNFLOW} analyze ${M} --no-store)
set(S ${WORK}/shape.h5)
tool(write ${S} 3 --layers 2 --heads 3)
tool(poison ${S} 0 bad-shape)
expect_error("shape.h5: example 0: dataset 'attention' has shape (2, 3, 3), expected (2, 3, 4, 4)" ${ATTNFLOW}
               analyze ${S} --no-store)
set(V ${WORK}/schema.h5)
tool(write ${V} 2)
tool(set-root-int ${V} attnflow_schema_version 99)
expect_error("schema.h5: schema version 99 is not supported" ${ATTNFLOW} analyze ${V})
set(T ${WORK}/truncated.h5)
tool(write ${T} 3)
file(SIZE ${T} size)
math(EXPR half "${size} / 2")
execute_process(COMMAND truncate -s ${half} ${T})
expect_error("truncated.h5: cannot open as HDF5 (HDF5: truncated file: eof = ${half}" ${ATTNFLOW} analyze ${T})
file(WRITE ${WORK}/text.h5 "not an HDF5 file at all\n")
expect_error("text.h5: not an HDF5 file" ${ATTNFLOW} analyze ${WORK}/text.h5)
expect_error("nothing.hdf5: cannot open (No such file or directory)" ${ATTNFLOW} analyze ${WORK}/nothing.hdf5)

# .npy input is unchanged; negative target rows count from the end.
run_ok(analyze ${DATA}/tiny_attention.npy -t -1 -o ${WORK}/npy.csv -q)

# The progress bar appears on a terminal (a pseudo-terminal from script(1))
# and never in pipes; -q suppresses it.
execute_process(COMMAND ${ATTNFLOW} analyze ${C} --no-store ERROR_VARIABLE piped_err
                OUTPUT_QUIET)
if(piped_err MATCHES "ex/s")
  message(FATAL_ERROR "progress bar drawn although stderr is not a terminal: ${piped_err}")
endif()
find_program(SCRIPT script)
if(SCRIPT)
  execute_process(COMMAND ${SCRIPT} -qec "'${ATTNFLOW}' analyze '${C}' --no-store" /dev/null
                  OUTPUT_VARIABLE tty_out ERROR_VARIABLE tty_err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT tty_out MATCHES "12/12 100%.*ex/s")
    message(FATAL_ERROR "no progress bar on a terminal (${rc}): ${tty_out} ${tty_err}")
  endif()
  execute_process(COMMAND ${SCRIPT} -qec "'${ATTNFLOW}' analyze '${C}' --no-store -q" /dev/null
                  OUTPUT_VARIABLE tty_quiet)
  if(tty_quiet MATCHES "ex/s")
    message(FATAL_ERROR "-q still drew a progress bar: ${tty_quiet}")
  endif()
endif()
