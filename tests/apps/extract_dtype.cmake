# `attnflow extract --dtype bfloat16` of a Llama fixture (tests/data/models/llama_lm_bf16, bf16
# weights, with a 64-token WordPiece vocabulary written here): the store records compute_dtype
# (schema 3) and its maps and dy/dA are close to the float32 run's but not equal to it; --resume
# in float32 is refused naming both dtypes, float16 on the CPU and an unknown dtype are refused.
#   cmake -DATTNFLOW=... -DDATA=tests/data -DWORK=... -DPYTHON=/usr/bin/python3 -P extract_dtype.cmake
include(${CMAKE_CURRENT_LIST_DIR}/expect_failure.cmake)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/model)
set(MODEL ${WORK}/model)
file(COPY ${DATA}/models/llama_lm_bf16/ DESTINATION ${MODEL})
set(words [PAD] [UNK] [CLS] [SEP] [MASK] the cat sat on mat dog ran far away hello world a big
          small red blue house tree sun moon star , .)
string(REPLACE ";" "\n" vocab "${words}")
file(WRITE ${MODEL}/vocab.txt "${vocab}\n")
file(WRITE ${WORK}/corpus.txt "the cat sat on the mat .\nhello world , a big red house\nthe sun\n")

set(common ${WORK}/corpus.txt --target last -b 2 -q)
run_ok(extract ${MODEL} ${common} -o ${WORK}/f32.h5)
run_ok(extract ${MODEL} ${common} -o ${WORK}/bf16.h5 --dtype bfloat16)
run_ok(extract ${MODEL} ${common} -o ${WORK}/auto.h5 --dtype auto)  # auto on the CPU: float32
run_ok(analyze ${WORK}/bf16.h5 -m rollout)
file(WRITE ${WORK}/check.py [=[
import sys
import h5py
import numpy as np
f32, bf, auto = (h5py.File(p, "r") for p in sys.argv[1:4])
assert bf.attrs["compute_dtype"] == "bfloat16" and bf.attrs["attnflow_schema_version"] == 3
assert "compute_dtype" not in f32.attrs and "compute_dtype" not in auto.attrs
largest = 0.0
for name in ("000000000", "000000001", "000000002"):
    a, b = f32["examples"][name], bf["examples"][name]
    assert (auto["examples"][name]["attention"][...] == a["attention"][...]).all()
    d = np.abs(a["attention"][...] - b["attention"][...])
    assert d.max() < 0.08 and d.mean() < 2e-3, (name, d.max(), d.mean())
    assert np.allclose(b["attention"][...].sum(-1), 1, atol=1e-5)
    largest = max(largest, d.max())
    g, h = a["gradient"][...].ravel(), b["gradient"][...].ravel()
    assert np.isfinite(h).all()
    cos = g @ h / np.linalg.norm(g) / np.linalg.norm(h)
    assert cos > 0.99, (name, cos)
assert largest > 1e-5, "the bfloat16 run equals the float32 one"
print("ok", largest)
]=])
execute_process(COMMAND ${PYTHON} ${WORK}/check.py ${WORK}/f32.h5 ${WORK}/bf16.h5 ${WORK}/auto.h5
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check.py failed:\n${out}\n${err}")
endif()
message(STATUS "${out}")

expect_error("${WORK}/bf16.h5: --resume needs the options of the first run, but the file has --dtype bfloat16 and this run float32"
             ${ATTNFLOW} extract ${MODEL} ${common} -o ${WORK}/bf16.h5 --resume)
expect_error("dtype 'float16': needs a CUDA device"
             ${ATTNFLOW} extract ${MODEL} ${common} -o ${WORK}/f16.h5 --dtype float16)
expect_error("--dtype: unknown 'half' (expected auto, float32, bfloat16 or float16)"
             ${ATTNFLOW} extract ${MODEL} ${common} -o ${WORK}/f16.h5 --dtype half)
if(EXISTS ${WORK}/f16.h5)
  message(FATAL_ERROR "a refused run left ${WORK}/f16.h5")
endif()
