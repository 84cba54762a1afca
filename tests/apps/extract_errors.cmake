# `attnflow extract`: every kind of bad input is reported as one message
# "attnflow: error: ..." with exit code 1, before any output file is made.
# Without libtorch (HAVE_TORCH false) the subcommand only says it is not available.
#   cmake -DATTNFLOW=... -DDATA=tests/data -DWORK=... -DHAVE_TORCH=ON|OFF -P extract_errors.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(OUT ${WORK}/out.h5)

function(expect_failure expected)
  execute_process(COMMAND ${ATTNFLOW} extract ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(NOT rc EQUAL 1)
    message(FATAL_ERROR "expected exit code 1, got ${rc} for: extract ${ARGN}\n"
                        "stdout: ${out}\nstderr: ${err}")
  endif()
  string(FIND "${err}" "attnflow: error: ${expected}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "for extract ${ARGN}:\nexpected 'attnflow: error: ${expected}' in "
                        "stderr, got: ${err}")
  endif()
  if(EXISTS ${OUT} OR EXISTS ${OUT}.creating)
    message(FATAL_ERROR "a failed run left ${OUT} behind: extract ${ARGN}")
  endif()
endfunction()

file(WRITE ${WORK}/good.txt "the cat sat on the mat\nthe dog\n")

if(NOT HAVE_TORCH)
  expect_failure("attnflow was built without libtorch: extract is not available"
                 ${DATA}/models/bert_cls ${WORK}/good.txt -o ${OUT})
  return()
endif()

set(MODEL ${DATA}/models/bert_cls)

# Files: model, corpus, output directory.
expect_failure("${WORK}/no_model: no such model directory or file"
               ${WORK}/no_model ${WORK}/good.txt -o ${OUT})
expect_failure("${WORK}/missing.txt: cannot open (No such file or directory)"
               ${MODEL} ${WORK}/missing.txt -o ${OUT})
expect_failure("${WORK}/no_dir/out.h5: cannot create it: directory '${WORK}/no_dir' does not exist"
               ${MODEL} ${WORK}/good.txt -o ${WORK}/no_dir/out.h5)
expect_failure("${WORK}/good.csv: cannot tell the corpus format from the extension '.csv'"
               ${MODEL} ${WORK}/good.csv -o ${OUT})

# Corpus lines: invalid UTF-8 (with the byte offset), empty lines, JSON.
string(ASCII 255 ff)
file(WRITE ${WORK}/bad_utf8.txt "fine\nbad ${ff} byte\n")
expect_failure("${WORK}/bad_utf8.txt:2: line is not valid UTF-8 (byte 0xff at offset 4)"
               ${MODEL} ${WORK}/bad_utf8.txt -o ${OUT})
file(WRITE ${WORK}/empty_line.txt "one\n\nthree\n")
expect_failure("${WORK}/empty_line.txt:2: empty line (every line is one example; empty lines are skipped only on request (--skip-empty))"
               ${MODEL} ${WORK}/empty_line.txt -o ${OUT})
file(WRITE ${WORK}/no_text.jsonl "{\"text\": \"a\"}\n{\"sentence\": \"b\"}\n")
expect_failure("${WORK}/no_text.jsonl:2: no \"text\" in the object (its keys: 'sentence')"
               ${MODEL} ${WORK}/no_text.jsonl -o ${OUT})
file(WRITE ${WORK}/bad_label.tsv "a\t1\nb\tgreat\n")
expect_failure("${WORK}/bad_label.tsv:2: label 'great' is neither an integer class id nor a label name (NEGATIVE, NEUTRAL, POSITIVE)"
               ${MODEL} ${WORK}/bad_label.tsv -o ${OUT})

# Options.
expect_failure("target 'sideways': expected none, class:K, label, predicted, mask, mask:TOKEN_ID, next, next:TOKEN_ID, last, token:POS:TOKEN_ID or prob-diff"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --target sideways)
expect_failure("--store: unknown 'per-layer' (expected per-head, fused or derived)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --store per-layer)
expect_failure("--layers '0,2': '0' is below 1 (layers and heads count from 1) (expected 1-based numbers and ranges, e.g. 1,6-8)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --layers 0,2)
expect_failure("--heads ',': empty selection"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --heads ,)
expect_failure("--heads 5: out of range (${MODEL} has 4 heads, 1..4)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --heads 2-5)
expect_failure("--precision: unknown 'float64' (expected float32 or float16)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --precision float64)
expect_failure("--format: unknown 'csv' (expected auto, text, jsonl or tsv)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --format csv)
expect_failure("--store fused keeps no gradients, but --target predicted asks for them"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --store fused --target predicted)
expect_failure("--batch-size: must be at least 1 (got 0)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --batch-size 0)
expect_failure("--resume and --overwrite exclude each other"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --resume --overwrite)
# (--resume without an output starts it, with a note: extract_resume.cmake)
expect_failure("--device: unknown 'gpu' (expected cpu, cuda or cuda:N)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --device gpu)
# --device cuda: an error saying CUDA is not available, unless this machine has CUDA.
execute_process(COMMAND ${ATTNFLOW} extract ${MODEL} ${WORK}/good.txt -o ${OUT} --device cuda -q
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(STATUS "CUDA is available: --device cuda worked")
  file(REMOVE ${OUT})
else()
  expect_failure("--device cuda: CUDA is not available"
                 ${MODEL} ${WORK}/good.txt -o ${OUT} --device cuda)
endif()

# Model and corpus together: targets, lengths, the tokenizer.
expect_failure("--target mask needs a language-model head; ${MODEL} is a BertForSequenceClassification"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --target mask)
expect_failure("--target class:3: the model has 3 classes (0..2)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --target class:3)
expect_failure("${WORK}/good.txt:1: no label, but --target label needs one"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --target label)
expect_failure("${WORK}/good.txt:1: no mask token ([MASK], id 4), but --target mask needs one"
               ${DATA}/models/bert_mlm ${WORK}/good.txt -o ${OUT} --target mask)
expect_failure("--target next needs a causal language model (GPT-2); ${DATA}/models/bert_mlm is a BertForMaskedLM"
               ${DATA}/models/bert_mlm ${WORK}/good.txt -o ${OUT} --target next)
# token:POS:ID: malformed, an id outside the vocabulary, no LM head, a position the example
# lacks (counted from either end; one that --truncate cut off says so)
expect_failure("target 'token:3': expected token:POS:TOKEN_ID (an output position, negative from the end, and a token id)"
               ${DATA}/models/gpt2_lm ${WORK}/good.txt -o ${OUT} --target token:3)
expect_failure("target 'token:x:5': position 'x' is not an integer"
               ${DATA}/models/gpt2_lm ${WORK}/good.txt -o ${OUT} --target token:x:5)
expect_failure("target 'token:3:-1': token id '-1' is not a non-negative integer"
               ${DATA}/models/gpt2_lm ${WORK}/good.txt -o ${OUT} --target token:3:-1)
expect_failure("--target token:1:509: token id 509 is outside the vocabulary (509 ids)"
               ${DATA}/models/gpt2_lm ${WORK}/good.txt -o ${OUT} --target token:1:509)
expect_failure("--target token:1:5 needs a language-model head; ${MODEL} is a BertForSequenceClassification"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --target token:1:5)
expect_failure("${WORK}/good.txt:2: position 3 is outside its 3 tokens (valid 0..2 or -3..-1), but --target token:3:5 needs it"
               ${DATA}/models/gpt2_lm ${WORK}/good.txt -o ${OUT} --target token:3:5)
expect_failure("${WORK}/good.txt:2: position -5 is outside its 4 tokens (valid 0..3 or -4..-1), but --target token:-5:5 needs it"
               ${DATA}/models/bert_mlm ${WORK}/good.txt -o ${OUT} --target token:-5:5)
expect_failure("${WORK}/good.txt:1: position 5 is outside its 5 tokens (valid 0..4 or -5..-1), but --target token:5:5 needs it (--truncate cut it off)"
               ${DATA}/models/gpt2_lm ${WORK}/good.txt -o ${OUT} --target token:5:5 --max-length 5 --truncate)
string(REPEAT "cat " 70 long)
file(WRITE ${WORK}/long.txt "short\n${long}\n")
expect_failure("${WORK}/long.txt:2: 72 tokens, more than 64 (the model's max_positions); 1 example is too long (line 2): --truncate cuts them"
               ${MODEL} ${WORK}/long.txt -o ${OUT})
expect_failure("${WORK}/good.txt:1: token 1 'he' has id 258, outside the vocabulary of ${MODEL} (207 ids)"
               ${MODEL} ${WORK}/good.txt -o ${OUT} --tokenizer ${DATA}/models/gpt2_lm)

# Every classifier target works on a classifier, prob-diff included (it was once refused with
# "needs a language-model head"): the shipped SVA classifier, a few sentences of its corpus.
get_filename_component(SVA_MODEL ${DATA}/../../datasets/models/sva ABSOLUTE)
file(WRITE ${WORK}/sva.jsonl "{\"text\": \"the key to the cabinets\", \"label\": 0}\n"
                             "{\"text\": \"the keys to the cabinet\", \"label\": 1}\n"
                             "{\"text\": \"the author that the guards like\", \"label\": 0}\n")
foreach(target prob-diff predicted label class:1)
  execute_process(COMMAND ${ATTNFLOW} extract ${SVA_MODEL} ${WORK}/sva.jsonl -o ${OUT}
                          --target ${target}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0 OR NOT out MATCHES "^extracted 3 examples \\([0-9]+ tokens\\) in ")
    message(FATAL_ERROR "--target ${target} on ${SVA_MODEL}: rc ${rc}\nstdout: ${out}\n"
                        "stderr: ${err}")
  endif()
  file(REMOVE ${OUT})
endforeach()

# An existing output: untouched without --resume / --overwrite.
file(WRITE ${OUT} "not a store")
execute_process(COMMAND ${ATTNFLOW} extract ${MODEL} ${WORK}/good.txt -o ${OUT}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 1 OR NOT err MATCHES "already exists \\(--resume continues it, --overwrite replaces it\\)")
  message(FATAL_ERROR "existing output: rc ${rc}: ${err}")
endif()
file(READ ${OUT} content)
if(NOT content STREQUAL "not a store")
  message(FATAL_ERROR "a refused run changed ${OUT}")
endif()
# --overwrite replaces it only once the input is known to be good.
execute_process(COMMAND ${ATTNFLOW} extract ${MODEL} ${WORK}/bad_utf8.txt -o ${OUT} --overwrite
                RESULT_VARIABLE rc ERROR_VARIABLE err)
file(READ ${OUT} content)
if(NOT rc EQUAL 1 OR NOT content STREQUAL "not a store")
  message(FATAL_ERROR "--overwrite with bad input: rc ${rc}, file changed or gone: ${err}")
endif()
execute_process(COMMAND ${ATTNFLOW} extract ${MODEL} ${WORK}/good.txt -o ${OUT} --overwrite
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0 OR NOT out MATCHES "^extracted 2 examples \\([0-9]+ tokens\\) in [0-9.]+ s \\([0-9.]+ examples/s\\) -> ${OUT}\n$")
  message(FATAL_ERROR "--overwrite: rc ${rc}\nstdout: ${out}\nstderr: ${err}")
endif()
file(REMOVE ${OUT})
