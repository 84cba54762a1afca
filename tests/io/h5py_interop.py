#!/usr/bin/python3
"""h5py <-> attnflow interoperability (run by tests/io/h5py_interop.cmake).

  fixture FILE   FILE is (a copy of) the schema-v1 fixture: exact values with h5py
                 alone, through notebooks/read_attnflow_h5.py, and the stored
                 rollout/raw maps against a numpy reimplementation.
  check FILE...  notebooks/read_attnflow_h5.py --check semantics on each FILE.
  foreign FILE   write a store with plain h5py following docs/hdf5-schema.md
                 (h5py defaults: contiguous float32, dense attributes).
  foreign-check FILE   after `attnflow analyze FILE`: its run matches numpy.
  same CODEC REF FILE   h5py reads FILE (written with CODEC) bit for bit as REF (the same
                 examples uncompressed), through the filter plugin that HDF5_PLUGIN_PATH names.
"""

import importlib.util
import os
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "read_attnflow_h5", os.path.join(HERE, "..", "..", "notebooks", "read_attnflow_h5.py"))
nb = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nb)


def fixture_attention(index, n):
    a = np.zeros((2, 2, n, n), np.float32)
    for l in range(2):
        for h in range(2):
            for i in range(n):
                for j in range(n):
                    a[l, h, i, j] = ((l * 31 + h * 17 + i * 7 + j * 3 + index * 5) % 16) / 64.0
    return a


def rollout_rows(att, row=0, alpha=0.5):
    """CLS-row rollout prefixes and raw rows with attnflow's defaults."""
    fused = att.mean(axis=1).astype(np.float64)
    n = fused.shape[-1]
    raw, prefixes, r = [], [], None
    for layer in fused:
        raw.append(layer[row])
        hat = (1 - alpha) * layer + alpha * np.eye(n)
        hat = hat / hat.sum(axis=1, keepdims=True)
        r = hat if r is None else hat @ r
        prefixes.append(r[row])
    return np.array(raw), np.array(prefixes)


def expect(condition, message):
    if not condition:
        print("FAIL:", message, file=sys.stderr)
        sys.exit(1)


def check_fixture(path):
    tokens = [["[CLS]", "naïve", "日本語"], ["[CLS]", "a", "b", "c"], ["[CLS]", "ß"]]
    with nb.open_store(path) as f:
        expect(nb.check(f) == [], f"check: {nb.check(f)}")
        info = nb.store_info(f)
        expect(info["model"] == "attnflow-fixture" and info["layers"] == 2 and info["heads"] == 2,
               f"info {info}")
        expect(info["causal"] is False and info["store_mode"] == "per-head", f"info {info}")
        expect(f["examples/000000000/attention"].dtype == np.float16, "float16 on disk")
        expect(nb.num_examples(f) == 3, "3 examples")
        for i in range(3):
            e = nb.example(f, i)
            n = len(tokens[i])
            expect(e["tokens"] == tokens[i], f"tokens {e['tokens']}")
            expect(list(e["token_ids"]) == [100 * i + k for k in range(n)], "token ids")
            expect(np.array_equal(e["attention"], fixture_attention(i, n)), f"attention {i}")
            expect((e["gradient"] is not None) == (i == 0), "gradient only on example 0")
        e0 = nb.example(f, 0)
        expect(e0["label"] == 1 and e0["target"] == 0 and e0["prediction"] is None, "labels 0")
        run = nb.runs(f)["fixture"]
        expect(run["status"] == "complete" and list(run["methods"]) == ["raw", "rollout", "flow"],
               f"run {run}")
        expect(run["residual_alpha"] == 0.5 and run["fusion"] == "mean", f"run options {run}")
        for i in range(3):
            d = nb.derived(f, "fixture", i)
            raw, prefixes = rollout_rows(fixture_attention(i, len(tokens[i])))
            expect(d["rollout"]["layers"] == [1, 2] and d["rollout"]["rows"] == [0], "rollout attrs")
            expect(np.allclose(d["rollout"]["maps"][:, 0, :], prefixes, atol=1e-12), f"rollout {i}")
            expect(np.allclose(d["raw"]["maps"][:, 0, :], raw, atol=1e-12), f"raw {i}")
            flow_rows = d["flow"]["maps"][:, 0, :]
            expect(np.allclose(flow_rows.sum(axis=1), 1.0), f"flow rows of {i} are normalised")


def check_files(paths):
    for path in paths:
        with nb.open_store(path) as f:
            problems = nb.check(f)
            expect(problems == [], f"{path}: {problems}")
            nb.summary(f)


def write_foreign(path):
    rng = np.random.default_rng(4)
    with h5py.File(path, "w") as f:
        f.attrs["attnflow_schema_version"] = 1
        for key, value in {"attnflow_version": "h5py", "created": "2024-01-01T00:00:00Z",
                           "model": "written by h5py", "tokenizer": "none",
                           "store_mode": "per-head", "attention_dtype": "float32",
                           "gradient_dtype": "float32", "fusion": "mean"}.items():
            f.attrs[key] = value
        f.attrs["layers"] = 3
        f.attrs["heads"] = 2
        f.attrs["causal"] = False
        f.attrs["num_examples"] = 2
        for i, n in enumerate((5, 7)):
            g = f.create_group(f"examples/{i:09d}")
            g["tokens"] = np.array([f"tök{k}" for k in range(n)], dtype=h5py.string_dtype())
            g["token_ids"] = np.arange(n, dtype=np.int64)
            logits = rng.normal(size=(3, 2, n, n)) * 2
            att = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
            g["attention"] = att.astype(np.float32)
            g.attrs["label"] = i
    print("wrote", path)


def check_foreign(path):
    with nb.open_store(path) as f:
        expect("analyze" in nb.runs(f), "attnflow wrote its run into the h5py file")
        for i in range(2):
            att = nb.example(f, i)["attention"]
            raw, prefixes = rollout_rows(att)
            d = nb.derived(f, "analyze", i)
            expect(np.allclose(d["rollout"]["maps"][:, 0, :], prefixes, atol=1e-6), f"rollout {i}")
            expect(np.allclose(d["raw"]["maps"][:, 0, :], raw, atol=1e-6), f"raw {i}")


FILTER_IDS = {"lz4": 32004, "bitshuffle": 32008}


def check_same(codec, ref, path):
    expect(h5py.h5z.filter_avail(FILTER_IDS[codec]),
           f"h5py cannot load the {codec} filter (HDF5_PLUGIN_PATH="
           f"{os.environ.get('HDF5_PLUGIN_PATH')})")
    with h5py.File(ref, "r") as a, h5py.File(path, "r") as b:
        expect(b.attrs["compression"] == codec, f"root attribute compression: {b.attrs['compression']}")
        expect(a.attrs["compression"] == "none", "the reference is uncompressed")
        names = sorted(k for k in a["examples"] if k != "index")
        expect(names == sorted(k for k in b["examples"] if k != "index") and names, "same examples")
        for name in names:
            for ds in ("attention", "gradient"):
                if ds not in a["examples"][name]:
                    continue
                x, y = a["examples"][name][ds], b["examples"][name][ds]
                expect(y.id.get_create_plist().get_filter(0)[0] == FILTER_IDS[codec],
                       f"{name}/{ds} is stored with {codec}")
                x, y = x[...], y[...]
                expect(x.dtype == y.dtype and x.shape == y.shape, f"{name}/{ds}: dtype and shape")
                expect(x.tobytes() == y.tobytes(), f"{name}/{ds}: bit-identical")


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    {"fixture": lambda: check_fixture(args[0]), "check": lambda: check_files(args),
     "foreign": lambda: write_foreign(args[0]), "foreign-check": lambda: check_foreign(args[0]),
     "same": lambda: check_same(*args)}[command]()
    print("ok:", command, *args)
