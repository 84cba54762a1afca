#!/usr/bin/python3
"""h5py <-> attnflow interoperability (run by tests/io/h5py_interop.cmake).

  fixture FILE   FILE is (a copy of) the schema-v1 fixture: exact values with h5py
                 alone, through notebooks/read_attnflow_h5.py, and the stored
                 rollout/raw maps against a numpy reimplementation.
  fixture-v3 DIR  DIR holds (copies of) the schema-3 fixtures tests/data/store_v3_*.h5: every
                 root attribute, dataset and example attribute with h5py alone against
                 this file's own numpy re-implementation of their generator
                 (tests/io/store_fixture_v3.hpp), and the stored raw / rollout rows of
                 their derived runs against numpy.
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


def rollout_rows(att, row=0, alpha=0.5, fuse=np.mean):
    """CLS-row rollout prefixes and raw rows with attnflow's defaults (`fuse` over the heads, or
    none for a fused (L, n, n) stack)."""
    fused = (att if att.ndim == 3 else fuse(att, axis=1)).astype(np.float64)
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


# --- schema 3: tests/data/store_v3_*.h5, re-implemented from docs/hdf5-schema.md and the
# generator's description (multiples of 1/64; sequence `salt` of value k: (7 k + 13 salt) % 61)

def v3_values(shape, salt, signed=False, causal=False):
    k = np.arange(int(np.prod(shape)), dtype=np.int64)
    r = (k * 7 + salt * 13) % 61
    v = ((r - 30) if signed else (r + 1)).astype(np.float64) / 64.0
    v = v.reshape(shape)
    if causal:
        v = v * np.tril(np.ones(shape[-2:]))
    return v


V3_COMMON = {"fusion": "mean", "causal": False, "contributions": "", "compression": "none"}
V3 = {
    "per_head": dict(
        V3_COMMON, salt=0, model="attnflow-fixture-v3", tokenizer="whitespace", layers=2, heads=2,
        layer_selection=[1, 3], model_layers=3, head_selection=[2, 4], model_heads=4,
        store_mode="per-head", attention_dtype="float16", gradient_dtype="float16",
        extract_batch_size=2, shard_index=1, shard_count=3, shard_first=3, shard_end=6,
        shard_total=8, shard_source="fixture corpus (token-id digest 5c0ffee)",
        contributions="norm,globenc,alti,value-zeroing", compression="gzip-1",
        tokens=[["<s>", "Grüße", "🙂", "x,y"], ["<s>", "\"q\""], ["<s>", "a", "b"]],
        attrs=[{"label": 1, "target": 0, "prediction": 1}, {"label": -2, "target": 1},
               {"target": 2, "prediction": 0}],
        run="fixture"),
    "fused": dict(
        V3_COMMON, salt=100, model="attnflow-fixture-v3-fused", tokenizer="bpe", layers=3, heads=2,
        head_selection=[1, 3], model_heads=3, causal=True, store_mode="fused",
        attention_dtype="float32", gradient_dtype="float32", fusion="weighted:0.250000,0.750000",
        extract_batch_size=1, contributions="alti",
        tokens=[["The", "ĠcafÃ©", "Ġis", "Ġopen"], ["Hi", "Ġ日本", "!"]],
        attrs=[{"label": 0}, {"prediction": 2}]),
    "derived": dict(
        V3_COMMON, salt=200, model="attnflow-fixture-v3-derived", tokenizer="wordpiece",
        layers=2, heads=4, layer_selection=[2, 3], model_layers=3, store_mode="derived",
        attention_dtype="float16", gradient_dtype="float16", fusion="max", derived_run="extract",
        extract_batch_size=4,
        tokens=[["[CLS]", "über", "[SEP]"], ["[CLS]", "[SEP]"], ["[CLS]", "a", "##b", "c", "[SEP]"]],
        attrs=[{"label": 0}, {"label": 1}, {"label": 0}], run="extract"),
    "encdec": dict(
        V3_COMMON, salt=300, model="attnflow-fixture-v3-t5", tokenizer="unigram", layers=2,
        heads=2, decoder_layers=3, store_mode="per-head", attention_dtype="float16",
        gradient_dtype="float32", extract_batch_size=2,
        tokens=[["▁translate", "▁Haus", "</s>"], ["▁ja", "</s>"]],
        decoder_tokens=[["<pad>", "▁Haus"], ["<pad>", "▁yes", "</s>"]],
        attrs=[{"target": 4, "prediction": 4}, {"label": 3}]),
}
V3_SPEC_KEYS = {"salt", "tokens", "attrs", "run", "decoder_tokens"}
CONTRIBUTION_INDEX = {"norm": 0, "globenc": 1, "alti": 2, "value-zeroing": 3}


def v3_expected_example(spec, i):
    """{dataset: (values, dtype)} of example i."""
    a = spec
    L, H, n = a["layers"], a["heads"], len(a["tokens"][i])
    salt = a["salt"] + 10 * i
    att, grad = np.dtype(a["attention_dtype"]), np.dtype(a["gradient_dtype"])
    ids = (1 << 40 if i == 1 else 0) + 10 * i + np.arange(n)
    out = {}
    if not ((a["store_mode"] == "per-head" and "layer_selection" in a and i == 2)
            or (a["store_mode"] == "fused" and i == 1)):
        out["token_ids"] = (ids, np.int64)
    if a["store_mode"] == "per-head":
        out["attention"] = (v3_values((L, H, n, n), salt + 1), att)
    if a["store_mode"] == "fused":
        out["attention"] = (v3_values((L, n, n), salt + 1, causal=True), att)
    if a["store_mode"] == "per-head" and "decoder_layers" not in a:
        out["gradient"] = (v3_values((L, H, n, n), salt + 2, signed=True), grad)
    for name in filter(None, a["contributions"].split(",")):
        out["contribution_" + name.replace("-", "_")] = (
            v3_values((L, n, n), salt + 3 + CONTRIBUTION_INDEX[name], causal=a["causal"]), att)
    if "decoder_layers" in a:
        D, m = a["decoder_layers"], len(a["decoder_tokens"][i])
        out["decoder_attention"] = (v3_values((D, H, m, m), salt + 4, causal=True), att)
        out["cross_attention"] = (v3_values((D, H, m, n), salt + 5), att)
        if i == 0:
            out["decoder_token_ids"] = (np.array([0, 4]), np.int64)
            out["gradient"] = (v3_values((L, H, n, n), salt + 2, signed=True), grad)
            out["decoder_gradient"] = (v3_values((D, H, m, m), salt + 6, signed=True), grad)
            out["cross_gradient"] = (v3_values((D, H, m, n), salt + 7, signed=True), grad)
    return out


def check_v3_file(path, spec):
    want_root = {k: v for k, v in spec.items() if k not in V3_SPEC_KEYS}
    want_root["attnflow_schema_version"] = 3
    want_root["num_examples"] = len(spec["tokens"])
    with h5py.File(path, "r") as f:
        a = f.attrs
        expect(set(a.keys()) == set(want_root) | {"attnflow_version", "created"},
               f"{path}: root attributes {sorted(a.keys())}, expected {sorted(want_root)}")
        for key, value in want_root.items():
            got = a[key]
            if isinstance(value, list):
                expect(got.dtype == np.int32 and list(got) == value, f"{path}: {key} {got!r}")
            elif isinstance(value, bool):
                expect(isinstance(got, np.bool_) and bool(got) == value, f"{path}: {key} {got!r}")
            elif isinstance(value, int):
                want_type = np.int64 if key in ("num_examples", "extract_batch_size") or \
                    key in ("shard_first", "shard_end", "shard_total") else np.int32
                expect(isinstance(got, want_type) and int(got) == value,
                       f"{path}: {key} {got!r} ({type(got).__name__}), expected {want_type.__name__}")
            else:
                expect(isinstance(got, str) and got == value, f"{path}: {key} {got!r}")
        for i, tokens in enumerate(spec["tokens"]):
            g = f["examples"][f"{i:09d}"]
            where = f"{path}: example {i}"
            want = v3_expected_example(spec, i)
            names = {"tokens"} | set(want) | ({"decoder_tokens"} if "decoder_tokens" in spec else set())
            expect(set(g.keys()) == names, f"{where}: datasets {sorted(g.keys())}, expected {sorted(names)}")
            expect(list(g["tokens"].asstr()[...]) == tokens, f"{where}: tokens")
            if "decoder_tokens" in spec:
                expect(list(g["decoder_tokens"].asstr()[...]) == spec["decoder_tokens"][i],
                       f"{where}: decoder tokens")
            expect({k: int(v) for k, v in g.attrs.items()} == spec["attrs"][i],
                   f"{where}: attributes {dict(g.attrs)}")
            for key, (values, dtype) in want.items():
                d = g[key][...]
                expect(d.dtype == dtype and d.shape == values.shape,
                       f"{where}: {key} {d.dtype} {d.shape}, expected {np.dtype(dtype)} {values.shape}")
                expect(np.array_equal(d.astype(np.float64) if d.dtype.kind == "f" else d, values),
                       f"{where}: {key} values")
        if "run" in spec:
            runs = nb.runs(f)
            expect(list(runs) == [spec["run"]], f"{path}: runs {list(runs)}")
            run = runs[spec["run"]]
            expect(run["status"] == "complete" and run["num_examples"] == len(spec["tokens"])
                   and run["precision"] == "float32" and run["fusion"] == spec["fusion"],
                   f"{path}: run {run}")
            for i, tokens in enumerate(spec["tokens"]):
                n = len(tokens)
                # the derived store's run was computed from per-head maps it never stored
                att = v3_expected_example(spec, i)["attention"][0] if "attention" in \
                    v3_expected_example(spec, i) else v3_values((2, 4, n, n), spec["salt"] + 10 * i + 1)
                fuse = {"mean": np.mean, "max": np.max}[spec["fusion"]]
                raw, prefixes = rollout_rows(att, fuse=fuse)
                d = nb.derived(f, spec["run"], i)
                expect(d["rollout"]["layers"] == [1, 2] and d["rollout"]["rows"][0] == 0,
                       f"{path}: rollout attributes {d['rollout']}")
                expect(np.allclose(d["rollout"]["maps"][:, 0, :], prefixes, atol=1e-6),
                       f"{path}: rollout of example {i}")
                expect(np.allclose(d["raw"]["maps"][:, 0, :], raw, atol=1e-6), f"{path}: raw {i}")
        expect(nb.check(f) == [], f"{path}: check: {nb.check(f)}")
    print("ok:", path)


def check_fixture_v3(folder):
    for name, spec in V3.items():
        check_v3_file(os.path.join(folder, f"store_v3_{name}.h5"), spec)


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
     "fixture-v3": lambda: check_fixture_v3(args[0]),
     "foreign": lambda: write_foreign(args[0]), "foreign-check": lambda: check_foreign(args[0]),
     "same": lambda: check_same(*args)}[command]()
    print("ok:", command, *args)
