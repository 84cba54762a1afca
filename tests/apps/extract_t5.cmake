# `attnflow extract` of a T5ForConditionalGeneration (tests/data/models/t5_lm): a JSONL corpus
# with decoder_text / text_pair -> a schema-3 store with the encoder, decoder and cross-attention
# (and their gradients, --target last); `attnflow analyze` of the encoder on it; the errors of a
# line without decoder text and of --store fused.
#   cmake -DATTNFLOW=... -DDATA=tests/data -DWORK=... -DPYTHON=/usr/bin/python3 -P extract_t5.cmake
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
set(MODEL ${DATA}/models/t5_lm)
file(WRITE ${WORK}/corpus.jsonl
  "{\"text\": \"translate English to German: the house is small.\", \"decoder_text\": \"das Haus ist klein.\"}\n"
  "{\"text\": \"hello world\", \"text_pair\": \"hallo welt\"}\n")

function(run)
  execute_process(COMMAND ${ATTNFLOW} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "attnflow ${ARGN} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

function(expect_failure expected)
  execute_process(COMMAND ${ATTNFLOW} ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(FIND "${err}" "attnflow: error: ${expected}" pos)
  if(NOT rc EQUAL 1 OR pos EQUAL -1)
    message(FATAL_ERROR "attnflow ${ARGN}: expected exit 1 and 'attnflow: error: ${expected}', "
                        "got ${rc}:\n${err}")
  endif()
endfunction()

run(extract ${MODEL} ${WORK}/corpus.jsonl -o ${WORK}/t5.h5 --target last -b 2)
run(analyze ${WORK}/t5.h5 -m rollout,flow)
file(WRITE ${WORK}/check.py [=[
import sys
import h5py
import numpy as np
f = h5py.File(sys.argv[1], "r")
assert f.attrs["attnflow_schema_version"] == 3
assert f.attrs["decoder_layers"] == 3 and f.attrs["layers"] == 2 and f.attrs["heads"] == 4
assert not f.attrs["causal"]
for name, decoder_text in (("000000000", "das Haus ist klein."), ("000000001", "hallo welt")):
    g = f["examples"][name]
    n, m = len(g["tokens"]), len(g["decoder_tokens"])
    assert g["decoder_tokens"].asstr()[0] == "<pad>" and g["decoder_token_ids"][0] == 0
    assert g["tokens"].asstr()[-1] == "</s>" and "</s>" not in list(g["decoder_tokens"].asstr()[...])
    assert g["attention"].shape == (2, 4, n, n) and g["gradient"].shape == (2, 4, n, n)
    assert g["decoder_attention"].shape == (3, 4, m, m) and g["decoder_gradient"].shape == (3, 4, m, m)
    assert g["cross_attention"].shape == (3, 4, m, n) and g["cross_gradient"].shape == (3, 4, m, n)
    d, c = g["decoder_attention"][...], g["cross_attention"][...]
    assert np.allclose(d.sum(-1), 1, atol=1e-5) and np.allclose(c.sum(-1), 1, atol=1e-5)
    assert (np.triu(d, 1) == 0).all(), "decoder self-attention is causal"
    assert g.attrs["target"] == g["decoder_token_ids"][m - 1], "last: the last decoder token"
    assert np.abs(g["cross_gradient"][...]).max() > 0
# the second line's text_pair is its decoder text, not the encoder's second text
assert list(f["examples/000000001/tokens"].asstr()[...]) == ["\u2581hello", "\u2581world", "</s>"]
assert "analyze" in f["derived"]
print("ok")
]=])
execute_process(COMMAND ${PYTHON} ${WORK}/check.py ${WORK}/t5.h5 RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check.py failed:\n${out}\n${err}")
endif()

# attnflow encdec: Chefer et al.'s encoder-decoder relevance and the fused cross-attention of
# every example, against the numpy reference (tests/reference/encdec_reference.py) on the store
run(encdec ${WORK}/t5.h5 -o ${WORK}/encdec.csv)
file(WRITE ${WORK}/check_encdec.py [=[
import csv, importlib.util, sys
import h5py
import numpy as np
spec = importlib.util.spec_from_file_location("encdec_reference", sys.argv[3])
ref = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ref)
f = h5py.File(sys.argv[1], "r")
got = {}
with open(sys.argv[2], newline="") as fh:
    for r in csv.DictReader(fh):
        got[(int(r["example"]), r["method"], int(r["layer"]), int(r["decoder_position"]),
             int(r["encoder_position"]))] = float(r["value"])
count = 0
for i, name in enumerate(sorted(k for k in f["examples"] if k.isdigit())):
    g = f["examples"][name]
    a = [g[k][...].astype(np.float64) for k in ("attention", "gradient", "decoder_attention",
         "decoder_gradient", "cross_attention", "cross_gradient")]
    _, _, after = ref.relevance(*a)
    fused = a[4].mean(axis=1)
    for method, maps in (("encdec-relevance", after), ("cross-attention", fused)):
        for l in range(maps.shape[0]):
            for p in range(maps.shape[1]):
                for j in range(maps.shape[2]):
                    v = got.pop((i, method, l + 1, p, j))
                    assert abs(v - maps[l, p, j]) <= 1e-6 * max(1.0, abs(maps[l, p, j])), (method, l, p, j, v, maps[l, p, j])
                    count += 1
assert not got and count > 0, (len(got), count)
print("ok", count)
]=])
execute_process(COMMAND ${PYTHON} ${WORK}/check_encdec.py ${WORK}/t5.h5 ${WORK}/encdec.csv
                        ${DATA}/../reference/encdec_reference.py
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_encdec.py failed:\n${out}\n${err}")
endif()
run(extract ${MODEL} ${WORK}/corpus.jsonl -o ${WORK}/nograd.h5)
expect_failure("${WORK}/nograd.h5 example 0: no gradient stored (extract with a --target"
               encdec ${WORK}/nograd.h5 -o ${WORK}/nograd.csv)
if(EXISTS ${WORK}/nograd.csv)
  message(FATAL_ERROR "a failed encdec left its CSV behind")
endif()

file(WRITE ${WORK}/bad.jsonl "{\"text\": \"a\", \"decoder_text\": \"b\"}\n{\"text\": \"no decoder\"}\n")
expect_failure("${WORK}/bad.jsonl:2: no decoder text (\"decoder_text\" or \"text_pair\"), but --target last is a logit of the decoder"
               extract ${MODEL} ${WORK}/bad.jsonl -o ${WORK}/bad.h5 --target last)
expect_failure("--store fused: ${MODEL} is an encoder-decoder T5ForConditionalGeneration"
               extract ${MODEL} ${WORK}/corpus.jsonl -o ${WORK}/fused.h5 --store fused)
expect_failure("--target mask needs a masked language model"
               extract ${MODEL} ${WORK}/corpus.jsonl -o ${WORK}/mask.h5 --target mask)
expect_failure("--layers: ${MODEL} is an encoder-decoder T5ForConditionalGeneration"
               extract ${MODEL} ${WORK}/corpus.jsonl -o ${WORK}/sel.h5 --layers 1)
# the cross-attention heatmap of a stored example (decoder rows x encoder columns)
run(plot ${WORK}/t5.h5 --example 0 -k cross -o ${WORK}/cross.png)
run(plot ${WORK}/t5.h5 --example 1 -k cross-heads --layer 2 -o ${WORK}/cross_heads.png)
foreach(png cross.png cross_heads.png)
  file(SIZE ${WORK}/${png} size)
  if(size LESS 1000)
    message(FATAL_ERROR "${png}: ${size} bytes")
  endif()
endforeach()
if(EXISTS ${WORK}/bad.h5 OR EXISTS ${WORK}/fused.h5 OR EXISTS ${WORK}/mask.h5 OR EXISTS ${WORK}/sel.h5)
  message(FATAL_ERROR "a failed run left its output behind")
endif()
