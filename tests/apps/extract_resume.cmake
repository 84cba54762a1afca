# `attnflow extract` end to end with the model fixtures (tests/data/models): a run, --resume
# on a longer corpus appends only the new examples, labels/targets/predictions are stored, and
# a writer killed with SIGKILL mid-run followed by --resume loses nothing and repeats nothing.
# "Equal" is checked through `attnflow analyze --no-store -o summary.csv` of both stores.
#   cmake -DATTNFLOW=... -DDATA=tests/data -DWORK=... -P extract_resume.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(MODEL ${DATA}/models/bert_cls)

include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)

function(expect_out regex)
  if(NOT LAST_OUT MATCHES "${regex}")
    message(FATAL_ERROR "expected output matching '${regex}', got: ${LAST_OUT}")
  endif()
endfunction()

# The summary table of a store (one row per example x method x layer): equal tables, equal
# attention, tokens, labels, targets and predictions.
function(summary store csv)
  run_ok(analyze ${store} --no-store -o ${csv} -q)
endfunction()

function(expect_same_summary a b)
  summary(${a} ${WORK}/a.csv)
  summary(${b} ${WORK}/b.csv)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/a.csv ${WORK}/b.csv
                  RESULT_VARIABLE differ)
  if(differ)
    message(FATAL_ERROR "${a} and ${b} differ (summaries in ${WORK}/a.csv, ${WORK}/b.csv)")
  endif()
endfunction()

function(expect_examples store count)
  summary(${store} ${WORK}/count.csv)
  file(STRINGS ${WORK}/count.csv rows)
  list(LENGTH rows n)
  math(EXPR want "${count} * 3 * 2 + 1")  # raw, rollout, flow x 2 layers, row 0; + header
  if(NOT n EQUAL want)
    math(EXPR got "(${n} - 1) / 6")
    message(FATAL_ERROR "${store}: ${got} examples, expected ${count}")
  endif()
endfunction()

# ---- 5 lines, then --resume on the 8-line corpus: only lines 6-8 are added ----
set(lines "the cat sat on the mat" "the dog is good" "Привет, мир" "a bad film" "the end"
          "it was good" "the mat is on the cat" "and a dog")
list(SUBLIST lines 0 5 first5)
string(REPLACE ";" "\n" text5 "${first5}")
string(REPLACE ";" "\n" text8 "${lines}")
file(WRITE ${WORK}/c5.txt "${text5}\n")
file(WRITE ${WORK}/c8.txt "${text8}\n")

run_ok(extract ${MODEL} ${WORK}/c5.txt -o ${WORK}/r.h5 -b 1)
expect_out("^extracted 5 examples \\(")
expect_examples(${WORK}/r.h5 5)
run_ok(extract ${MODEL} ${WORK}/c8.txt -o ${WORK}/r.h5 -b 1 --resume)
expect_out("^extracted 3 examples \\([0-9]+ tokens\\) .* \\(resumed: 5 examples were already there\\)")
run_ok(extract ${MODEL} ${WORK}/c8.txt -o ${WORK}/r.h5 -b 1 --resume)
expect_out("^nothing to do: ${WORK}/r.h5 already holds all 8 examples")
run_ok(extract ${MODEL} ${WORK}/c8.txt -o ${WORK}/full.h5 -b 1 -q)
if(NOT LAST_OUT STREQUAL "")
  message(FATAL_ERROR "-q printed: ${LAST_OUT}")
endif()
expect_same_summary(${WORK}/r.h5 ${WORK}/full.h5)
# Batches of 3 (padded): all 8 examples. (Not compared digit for digit with -b 1: padding
# changes the shapes of the products, so the last float digits may differ.)
run_ok(extract ${MODEL} ${WORK}/c8.txt -o ${WORK}/batched.h5 -b 3 -q)
expect_examples(${WORK}/batched.h5 8)

# --resume of a run that never created its file starts it (with a note); so does analyze's.
run_ok(extract ${MODEL} ${WORK}/c5.txt -o ${WORK}/fresh.h5 -b 1 --resume)
expect_out("^extracted 5 examples .*\nnote: nothing to resume: starting ${WORK}/fresh.h5\n")
run_ok(analyze ${WORK}/fresh.h5 --output-h5 ${WORK}/fresh_derived.h5 --resume)
expect_out("\nnote: nothing to resume: starting ${WORK}/fresh_derived.h5\n")
run_ok(analyze ${WORK}/fresh.h5 --resume --run never)
expect_out("\nnote: nothing to resume: starting run 'never' in ${WORK}/fresh.h5\n")
# The store records the batch size; --resume with another one is refused (other padding,
# other float sums).
expect_error("${WORK}/r.h5: --resume needs the options of the first run, but the file has --batch-size 1 and this run 3 (examples are padded to the longest of their batch, so another batch size gives other float sums): use -b 1, or --overwrite to start over" ${ATTNFLOW}
               extract ${MODEL} ${WORK}/c8.txt -o ${WORK}/r.h5 -b 3 --resume)

# --resume needs the same corpus (or a longer one) and the same options.
expect_error("${WORK}/r.h5 holds 8 examples, but ${WORK}/c5.txt has only 5" ${ATTNFLOW}
               extract ${MODEL} ${WORK}/c5.txt -o ${WORK}/r.h5 --resume)
file(WRITE ${WORK}/other.txt "${text5}\nsomething else\nx\ny\nz\n")
expect_error("${WORK}/r.h5: example 7 holds other tokens than ${WORK}/other.txt:8 gives now" ${ATTNFLOW}
               extract ${MODEL} ${WORK}/other.txt -o ${WORK}/r.h5 --resume)
expect_error("${WORK}/r.h5: --resume needs the options of the first run, but the file has --store per-head and this run fused" ${ATTNFLOW}
               extract ${MODEL} ${WORK}/c8.txt -o ${WORK}/r.h5 --resume --store fused)
expect_error("${WORK}/r.h5: --resume needs the options of the first run, but the file has no gradients (--target none) and this run --target predicted" ${ATTNFLOW}
               extract ${MODEL} ${WORK}/c8.txt -o ${WORK}/r.h5 --resume --target predicted)
expect_error("${WORK}/r.h5: --resume needs the options of the first run, but the file has model '${MODEL}' and this run '${DATA}/models/bert_base'" ${ATTNFLOW}
               extract ${DATA}/models/bert_base ${WORK}/c8.txt -o ${WORK}/r.h5 --resume)

# ---- labels (names from the model's id2label), targets, predictions, truncation ----
file(WRITE ${WORK}/l.jsonl
     "{\"text\": \"the cat sat\", \"label\": \"POSITIVE\"}\n"
     "{\"text\": \"a dog\", \"text_pair\": \"the cat\", \"label\": 0}\n"
     "{\"text\": \"the end\", \"label\": 1}\n")
run_ok(extract ${MODEL} ${WORK}/l.jsonl -o ${WORK}/l.h5 --target label --precision float16)
summary(${WORK}/l.h5 ${WORK}/l.csv)
file(STRINGS ${WORK}/l.csv rows)
foreach(want "0,2,2," "1,0,0," "2,1,1,")  # example,label,target,
  string(FIND "${rows}" ";${want}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "no row starting ${want} in ${WORK}/l.csv")
  endif()
endforeach()
run_ok(analyze ${WORK}/l.h5 -m grad-rollout --no-store -q)
string(REPEAT "cat " 70 long)
file(WRITE ${WORK}/long.txt "short\n${long}\n")
run_ok(extract ${MODEL} ${WORK}/long.txt -o ${WORK}/t.h5 --truncate --max-length 16)
expect_out("\ntruncated 1 example to 16 tokens: ${WORK}/long.txt line 2\n")
run_ok(extract ${DATA}/models/gpt2_lm ${WORK}/c8.txt -o ${WORK}/g.h5 --target last --store per-head)
run_ok(extract ${DATA}/models/torchscript_bert/model.pt ${WORK}/c8.txt -o ${WORK}/ts.h5
       --store fused -q)
expect_examples(${WORK}/ts.h5 8)

# ---- SIGKILL mid-run, then --resume: nothing lost, nothing twice ----
# One example per run (-b 1), so both stores hold bit-identical maps.
set(words the a cat dog sat on mat is good bad film end and of to in it was)
set(big "")
foreach(i RANGE 1 300)
  math(EXPR count "3 + ${i} % 14")
  set(line "")
  foreach(k RANGE 1 ${count})
    math(EXPR w "(${i} * 7 + ${k} * 13) % 18")
    list(GET words ${w} word)
    string(APPEND line "${word} ")
  endforeach()
  string(APPEND big "${line}\n")
endforeach()
file(WRITE ${WORK}/big.txt "${big}")
set(K ${WORK}/killed.h5)
execute_process(COMMAND sh -c "'${ATTNFLOW}' extract '${MODEL}' '${WORK}/big.txt' -o '${K}' -b 1 -j 1 >'${WORK}/killed.log' 2>&1 & echo $!"
                OUTPUT_VARIABLE pid OUTPUT_STRIP_TRAILING_WHITESPACE)
set(size 0)
foreach(i RANGE 1 600)  # up to 60 s for the first ~20 examples
  if(EXISTS ${K})
    file(SIZE ${K} size)
    if(size GREATER 400000)
      break()
    endif()
  endif()
  execute_process(COMMAND sleep 0.1)
endforeach()
execute_process(COMMAND kill -9 ${pid} RESULT_VARIABLE killed)
foreach(i RANGE 1 100)
  execute_process(COMMAND kill -0 ${pid} RESULT_VARIABLE alive ERROR_QUIET)
  if(NOT alive EQUAL 0)
    break()
  endif()
  execute_process(COMMAND sleep 0.1)
endforeach()
file(READ ${WORK}/killed.log log)
if(NOT killed EQUAL 0 OR log MATCHES "extracted")
  message(FATAL_ERROR "the writer was not killed mid-run (size ${size}); log: ${log}")
endif()
run_ok(extract ${MODEL} ${WORK}/big.txt -o ${K} -b 1 -j 1 --resume)
if(NOT LAST_OUT MATCHES "^extracted ([0-9]+) examples .* \\(resumed: ([0-9]+) examples were already there\\)")
  message(FATAL_ERROR "resume after the kill: ${LAST_OUT}")
endif()
math(EXPR total "${CMAKE_MATCH_1} + ${CMAKE_MATCH_2}")
if(NOT total EQUAL 300 OR CMAKE_MATCH_2 LESS 1)
  message(FATAL_ERROR "resume after the kill: ${LAST_OUT}")
endif()
message(STATUS "killed after ${CMAKE_MATCH_2} committed examples; --resume added ${CMAKE_MATCH_1}")
run_ok(extract ${MODEL} ${WORK}/big.txt -o ${WORK}/unkilled.h5 -b 1 -j 1 -q)
expect_same_summary(${K} ${WORK}/unkilled.h5)
