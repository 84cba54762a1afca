"""attnflow.Store: reading, writing from numpy, and round trips Python -> C++ -> Python."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SOURCE_DIR, assert_same_maps, attnflow, maps_dict, random_gradient, random_stack

TOKENS = [["[CLS]", "the", "keys", "to"], ["[CLS]", "a", "café", "ü", "ß"], ["[CLS]", "x"]]


def write_store(path, *, causal=False):
    examples = []
    with attnflow.Store.create(str(path), layers=3, heads=2, model="python-test",
                               tokenizer="hand", causal=causal) as s:
        assert s.writable and len(s) == 0
        for k, tokens in enumerate(TOKENS):
            n = len(tokens)
            a = random_stack(3, 2, n, seed=k, causal=causal)
            g = random_gradient(3, 2, n, seed=10 + k)
            hf = tuple(a[l][None] for l in range(3)) if k == 1 else a  # HF-style input too
            assert s.append(tokens, hf, g, token_ids=list(range(n)), label=k % 2, target=1,
                            prediction=0) == k
            examples.append((tokens, a, g))
    return examples


def test_write_then_read(tmp_path):
    path = tmp_path / "py.h5"
    examples = write_store(path)
    s = attnflow.Store(str(path))
    assert len(s) == 3 and not s.writable
    info = s.info
    assert info["model"] == "python-test" and info["layers"] == 3 and info["heads"] == 2
    assert info["mode"] == "per-head" and info["causal"] is False
    assert s.metadata == info
    for k, ex in enumerate(s):
        tokens, a, g = examples[k]
        assert ex.index == k and ex.tokens == tokens
        np.testing.assert_array_equal(ex.attention, a)
        np.testing.assert_array_equal(ex.gradient, g)
        assert ex.attention.dtype == np.float32 and ex.attention.shape == (3, 2, len(tokens),
                                                                           len(tokens))
        np.testing.assert_array_equal(ex.token_ids, np.arange(len(tokens)))
        assert (ex.label, ex.target, ex.prediction) == (k % 2, 1, 0)
    assert s[-1].tokens == TOKENS[-1]
    with pytest.raises(IndexError, match="example 3 out of range"):
        s[3]
    light = s.read(0, attention=False)
    assert light.attention is None and light.gradient is not None
    s.close()
    assert s.closed
    with pytest.raises(attnflow.Error, match="store: closed"):
        len(s)


def test_python_store_analyzed_by_cli_read_back(cli, tmp_path):
    """Python writes, `attnflow analyze` stores a derived run, Python reads the maps back."""
    path = tmp_path / "roundtrip.h5"
    examples = write_store(path)
    cli("analyze", path, "-m", "raw,rollout,flow,grad-rollout", "-t", "0", "-1", "--run", "cli",
        "--precision", "float64", "-q")
    with attnflow.Store(str(path)) as s:
        assert s.runs == ["cli"]
        info = s.run_info("cli")
        assert info["status"] == "complete" and info["size"] == 3
        assert info["precision"] == "float64"
        for k, (tokens, a, g) in enumerate(examples):
            stored = s.derived("cli", k)
            want = attnflow.analyze(a, g, methods=["raw", "rollout", "flow", "grad-rollout"],
                                    rows=[0, -1])
            assert list(stored) == list(want)
            for method in want:
                assert_same_maps(maps_dict(stored[method]), maps_dict(want[method]))


def test_append_after_reopen_and_causal(tmp_path):
    path = tmp_path / "causal.h5"
    write_store(path, causal=True)
    a = random_stack(3, 2, 3, seed=99, causal=True)
    with attnflow.Store(str(path), "a") as s:
        assert s.info["causal"] is True
        assert s.append(["a", "b", "c"], a) == 3
    with attnflow.Store(str(path)) as s:
        assert len(s) == 4 and s[3].gradient is None
        np.testing.assert_array_equal(s[3].attention, a)


def test_fused_store(tmp_path, cli):
    path = tmp_path / "fused.h5"
    a = random_stack(2, 3, 4, seed=5)
    fused = a.mean(axis=1)
    with attnflow.Store.create(str(path), layers=2, heads=1, mode="fused", fusion="mean") as s:
        s.append(["w", "x", "y", "z"], fused)
    cli("analyze", path, "-m", "rollout", "--run", "r", "--precision", "float64", "-q")
    with attnflow.Store(str(path)) as s:
        assert s.info["mode"] == "fused"
        assert s[0].attention.shape == (2, 1, 4, 4)
        got = s.derived("r", 0)["rollout"]
        want = attnflow.rollout(fused.astype(np.float32)[:, None], rows=0)
        assert_same_maps(maps_dict(got), maps_dict(want))


def test_shipped_store_reads():
    with attnflow.Store(str(SOURCE_DIR / "tests" / "data" / "store_v1.h5")) as s:
        assert len(s) >= 1
        ex = s[0]
        assert all(isinstance(t, str) for t in ex.tokens)
        assert ex.attention.shape[-1] == len(ex.tokens)
        assert s.info["contributions"] == "" and ex.contributions == {}


def test_v2_store_contributions_match_h5py():
    h5py = pytest.importorskip("h5py")
    path = SOURCE_DIR / "tests" / "data" / "store_v2.h5"
    with attnflow.Store(str(path)) as s, h5py.File(path, "r") as f:
        assert s.info["schema_version"] == 2 and s.info["contributions"] == "alti,value-zeroing"
        assert s.info["shard"] is None
        for i, ex in enumerate(s):
            n = len(ex.tokens)
            assert sorted(ex.contributions) == ["alti", "value-zeroing"]
            for name, got in ex.contributions.items():
                want = f["examples"][f"{i:09d}"]["contribution_" + name.replace("-", "_")][()]
                want = want.astype(np.float32)
                assert got.shape == (s.info["layers"], 1, n, n)
                np.testing.assert_array_equal(got.reshape(want.shape), want)


@pytest.mark.parametrize("name", ["per_head", "fused", "derived", "encdec"])
def test_v3_fixtures_match_h5py(name):
    """The schema-3 fixtures (tests/data/README.md) read through attnflow.Store as h5py reads them."""
    h5py = pytest.importorskip("h5py")
    path = SOURCE_DIR / "tests" / "data" / f"store_v3_{name}.h5"
    with attnflow.Store(str(path)) as s, h5py.File(path, "r") as f:
        a, info = f.attrs, s.info
        assert info["schema_version"] == a["attnflow_schema_version"] == 3
        for key, attr in (("mode", "store_mode"), ("attention_precision", "attention_dtype"),
                          ("gradient_precision", "gradient_dtype")):
            assert info[key] == a[attr]
        for key in ("model", "tokenizer", "layers", "heads", "causal", "fusion", "compression",
                    "contributions", "extract_batch_size"):
            assert info[key] == a[key], key
        for key, empty in (("layer_selection", []), ("head_selection", []), ("model_layers", 0),
                           ("model_heads", 0), ("derived_run", ""), ("decoder_layers", 0)):
            want = a.get(key, empty)
            assert info[key] == (list(want) if isinstance(want, np.ndarray) else want), key
        shard = info["shard"]
        assert (shard is None) == ("shard_count" not in a)
        if shard is not None:
            assert {k: shard[k] for k in ("index", "count", "first", "end", "total", "source")} == \
                {k: a["shard_" + k] for k in ("index", "count", "first", "end", "total", "source")}
        assert len(s) == a["num_examples"]
        for i, ex in enumerate(s):
            g = f["examples"][f"{i:09d}"]

            def stored(key, shape=None):
                if key not in g:
                    return None
                v = g[key][()]
                return v.astype(np.float32).reshape(shape or v.shape) if v.dtype.kind == "f" else v

            assert ex.tokens == list(g["tokens"].asstr()[()])
            for key in ("label", "target", "prediction"):
                assert getattr(ex, key) == (int(g.attrs[key]) if key in g.attrs else None), key
            n = len(ex.tokens)
            fused = (info["layers"], 1, n, n) if info["mode"] == "fused" else None
            for key, want in (("token_ids", stored("token_ids")),
                              ("attention", stored("attention", fused)),
                              ("gradient", stored("gradient")),
                              ("decoder_token_ids", stored("decoder_token_ids")),
                              ("decoder_attention", stored("decoder_attention")),
                              ("decoder_gradient", stored("decoder_gradient")),
                              ("cross_attention", stored("cross_attention")),
                              ("cross_gradient", stored("cross_gradient"))):
                got = getattr(ex, key)
                assert (got is None) == (want is None), key
                if want is not None:
                    assert got.dtype == want.dtype, key
                    np.testing.assert_array_equal(got, want, err_msg=key)
            names = [c for c in info["contributions"].split(",") if c]
            assert sorted(ex.contributions) == sorted(names)
            for c in names:
                want = stored("contribution_" + c.replace("-", "_"), (info["layers"], 1, n, n))
                np.testing.assert_array_equal(ex.contributions[c], want)
            decoder = list(g["decoder_tokens"].asstr()[()]) if "decoder_tokens" in g else []
            assert ex.decoder_tokens == decoder
        assert s.runs == sorted(f["derived"]) if "derived" in f else s.runs == []
        for run in s.runs:
            for i in range(len(s)):
                got = s.derived(run, i)
                stored_run = f["derived"][run][f"{i:09d}"]
                assert sorted(got) == sorted(stored_run)
                for method, maps in got.items():
                    d = stored_run[method]
                    assert list(maps.layers) == list(d.attrs["layers"])
                    assert list(maps.rows) == list(d.attrs["rows"])
                    np.testing.assert_array_equal(maps.values, d[()].astype(np.float64))


@pytest.mark.skipif(not attnflow.HAVE_TORCH, reason="built without libtorch (extract)")
def test_shard_info(tmp_path, cli):
    shard = tmp_path / "s.h5"
    cli("extract", SOURCE_DIR / "datasets" / "models" / "sva",
        SOURCE_DIR / "datasets" / "sva" / "demo.jsonl", "-o", shard, "--shard", "1/3", "-b", "1", "-q")
    with attnflow.Store(str(shard)) as s:
        sh = s.info["shard"]
        assert (sh["index"], sh["count"], sh["total"]) == (1, 3, 8)
        assert sh["end"] - sh["first"] == len(s) and sh["first"] > 0


def test_store_errors(tmp_path):
    with pytest.raises(attnflow.Error, match="no-such.h5: cannot open"):
        attnflow.Store(str(tmp_path / "no-such.h5"))
    path = tmp_path / "s.h5"
    with attnflow.Store.create(str(path), layers=3, heads=2) as s:
        with pytest.raises(attnflow.Error) as e:
            s.append(["a", "b"], random_stack(2, 2, 2))
        assert "layers" in str(e.value)
        with pytest.raises(attnflow.Error, match="store mode: unknown"):
            attnflow.Store(str(path), "w")
    with pytest.raises(attnflow.Error, match="already exists"):
        attnflow.Store.create(str(path), layers=3, heads=2)
    with pytest.raises(attnflow.Error, match="store mode: unknown 'x'"):
        attnflow.Store.create(str(tmp_path / "t.h5"), layers=1, heads=1, mode="x")
    with attnflow.Store(str(path)) as s:
        with pytest.raises(attnflow.Error, match="read-only"):
            s.append(["a"], np.ones((3, 2, 1, 1)))
