"""attnflow.load_model / attnflow.extract on the shipped SVA model (builds with libtorch), or
their 'built without libtorch' error."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SOURCE_DIR, attnflow

MODEL = str(SOURCE_DIR / "datasets" / "models" / "sva")
CORPUS = SOURCE_DIR / "datasets" / "sva" / "demo.jsonl"

needs_torch = pytest.mark.skipif(not attnflow.HAVE_TORCH, reason="built without libtorch")


@pytest.mark.skipif(attnflow.HAVE_TORCH, reason="built with libtorch")
def test_without_torch_raises():
    for call in (lambda: attnflow.load_model(MODEL), lambda: attnflow.extract(MODEL, [], "x.h5")):
        with pytest.raises(attnflow.Error, match="attnflow was built without libtorch"):
            call()


@needs_torch
def test_load_model_and_run():
    m = attnflow.load_model(MODEL)
    assert m.info["layers"] == 6 and m.info["heads"] == 8 and m.info["num_labels"] == 2
    out = m.run("the keys to the cabinet", target="predicted")
    n = len(out["tokens"])
    assert out["tokens"][0] == "[CLS]" and m.tokenize("the keys to the cabinet") == out["tokens"]
    assert out["attention"].shape == (6, 8, n, n) and out["attention"].dtype == np.float32
    assert out["gradient"].shape == (6, 8, n, n)
    np.testing.assert_allclose(out["attention"].sum(axis=-1), 1.0, atol=1e-5)
    assert out["prediction"] == out["target_index"] == int(np.argmax(out["logits"]))
    many = m.run(["the key to the cabinets", "the keys to the cabinet"], batch_size=1)
    assert len(many) == 2 and many[0]["gradient"] is None
    np.testing.assert_allclose(many[1]["attention"], out["attention"], atol=1e-6)
    # The methods take the model's output directly.
    flow = attnflow.flow(out["attention"], rows=0)
    assert flow.values.shape == (6, 1, n)
    gr = attnflow.grad_rollout(out["attention"], out["gradient"], rows=0)
    assert gr.values.shape == (6, 1, n)
    with pytest.raises(attnflow.Error, match="label"):
        m.run("the keys", target="label")
    lab = m.run(["the keys"], target="label", labels=[1])
    assert lab[0]["target_index"] == 1


@needs_torch
def test_extract_texts_and_corpus(tmp_path, cli):
    m = attnflow.load_model(MODEL)
    texts = ["the key to the cabinets", "the keys to the cabinet"]
    report = attnflow.extract(MODEL, texts, str(tmp_path / "t.h5"), target="predicted")
    assert report["examples"] == 2 and report["extracted"] == 2
    runs = m.run(texts, target="predicted")
    with attnflow.Store(str(tmp_path / "t.h5")) as s:
        assert len(s) == 2
        for ex, r in zip(s, runs):
            assert ex.tokens == r["tokens"]
            np.testing.assert_allclose(ex.attention, r["attention"], atol=1e-6)
            np.testing.assert_allclose(ex.gradient, r["gradient"], atol=1e-6)
    calls = []
    report = attnflow.extract(MODEL, CORPUS, str(tmp_path / "c.h5"), target="label",
                              progress=lambda done, total: calls.append((done, total)))
    assert report["examples"] == report["extracted"] == 8
    assert calls[-1] == (8, 8)
    # What Python extracted, the CLI analyses.
    cli("analyze", tmp_path / "c.h5", "-m", "rollout", "--run", "r", "-q")
    with attnflow.Store(str(tmp_path / "c.h5")) as s:
        assert s.run_info("r")["size"] == 8
    with pytest.raises(attnflow.Error, match="already exists"):
        attnflow.extract(MODEL, texts, str(tmp_path / "t.h5"))
    with pytest.raises(attnflow.Error, match="no such model"):
        attnflow.extract(str(tmp_path / "nothing"), texts, str(tmp_path / "u.h5"))


@needs_torch
def test_token_target_run_and_store(tmp_path):
    lm = str(SOURCE_DIR / "tests" / "data" / "models" / "gpt2_lm")
    m = attnflow.load_model(lm)
    texts = ["the cat sat on the mat", "a dog"]
    runs = m.run(texts, target="token:-2:5", batch_size=2)  # padded: each its own n - 2
    for r in runs:
        n = len(r["tokens"])
        assert r["target_position"] == n - 2 and r["target_index"] == 5
        assert r["target_value"] == pytest.approx(float(r["logits"][n - 2, 5]), abs=1e-6)
    nxt = m.run(texts[0], target="next:5")
    np.testing.assert_array_equal(m.run(texts[0], target="token:-1:5")["gradient"], nxt["gradient"])
    out = str(tmp_path / "token.h5")
    attnflow.extract(lm, texts, out, target="token:-2:5", batch_size=2)
    with attnflow.Store(out) as s:
        for ex, r in zip(s, runs):
            assert (ex.target, ex.target_position) == (5, r["target_position"])
            np.testing.assert_allclose(ex.gradient, r["gradient"], atol=1e-6)
    with pytest.raises(attnflow.Error, match="token id '-1' is not a non-negative integer"):
        m.run(texts[0], target="token:1:-1")


@needs_torch
def test_extract_contributions_read_back(tmp_path):
    texts = ["the keys to the cabinet"]
    out = str(tmp_path / "v.h5")
    attnflow.extract(MODEL, texts, out, contributions="alti,norm")
    with attnflow.Store(out) as s:
        assert s.info["contributions"] == "alti,norm"
        ex = s[0]
        n = len(ex.tokens)
        assert sorted(ex.contributions) == ["alti", "norm"]
        alti = ex.contributions["alti"]
        assert alti.shape == (6, 1, n, n) and alti.dtype == np.float32
        np.testing.assert_allclose(alti.sum(axis=-1), 1.0, atol=1e-5)  # ALTI rows sum to 1
        assert (ex.contributions["norm"] >= 0).all()
        assert s.read(0, contributions=False).contributions == {}
    with pytest.raises(attnflow.Error, match="contributions: unknown 'attn'"):
        attnflow.extract(MODEL, texts, str(tmp_path / "w.h5"), contributions="attn")


@needs_torch
def test_t5_store_decoder_side_and_encdec_relevance(tmp_path):
    import importlib.util

    model = str(SOURCE_DIR / "tests" / "data" / "models" / "t5_lm")
    corpus = tmp_path / "c.jsonl"
    corpus.write_text('{"text": "hello world", "decoder_text": "hallo welt"}\n')
    out = str(tmp_path / "t5.h5")
    attnflow.extract(model, corpus, out, target="last")
    spec = importlib.util.spec_from_file_location(
        "encdec_reference", SOURCE_DIR / "tests" / "reference" / "encdec_reference.py")
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    with attnflow.Store(out) as s:
        assert s.info["decoder_layers"] == 3 and s.info["schema_version"] == 3
        ex = s[0]
        n, m = len(ex.tokens), len(ex.decoder_tokens)
        assert ex.decoder_tokens[0] == "<pad>" and ex.decoder_token_ids[0] == 0
        assert ex.decoder_attention.shape == (3, 4, m, m) == ex.decoder_gradient.shape
        assert ex.cross_attention.shape == (3, 4, m, n) == ex.cross_gradient.shape
        np.testing.assert_allclose(ex.cross_attention.sum(-1), 1.0, atol=1e-5)
        arrays = (ex.attention, ex.gradient, ex.decoder_attention, ex.decoder_gradient,
                  ex.cross_attention, ex.cross_gradient)
        got = attnflow.encdec_relevance(*arrays)
        r_ee, r_dd, after = ref.relevance(*(a.astype(np.float64) for a in arrays))
        np.testing.assert_allclose(got["cross"], after[-1], atol=1e-10)
        np.testing.assert_allclose(got["encoder"], r_ee, atol=1e-10)
        assert np.abs(got["cross"]).max() > 0
    with attnflow.Store(str(SOURCE_DIR / "tests" / "data" / "store_v2.h5")) as s:
        assert s.info["decoder_layers"] == 0
        assert s[0].decoder_tokens == [] and s[0].cross_attention is None


LLAMA_BF16 = str(SOURCE_DIR / "tests" / "data" / "models" / "llama_lm_bf16")


@needs_torch
def test_dtype_bfloat16_model_and_store(tmp_path):
    # a WordPiece vocabulary inside the fixture's 64 ids (the fixture itself has no tokenizer)
    tok = tmp_path / "tok"
    tok.mkdir()
    words = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat"]
    (tok / "vocab.txt").write_text("\n".join(words) + "\n")
    assert attnflow.load_model(LLAMA_BF16, tokenizer=str(tok)).info["dtype"] == "float32"
    m = attnflow.load_model(LLAMA_BF16, tokenizer=str(tok), dtype="bfloat16")
    assert m.info["dtype"] == "bfloat16"
    texts = ["the cat sat on the mat"]
    for dtype in ("float32", "bfloat16"):
        attnflow.extract(LLAMA_BF16, texts, str(tmp_path / f"{dtype}.h5"), tokenizer=str(tok),
                         dtype=dtype, target="last")
    with attnflow.Store(str(tmp_path / "float32.h5")) as a, \
            attnflow.Store(str(tmp_path / "bfloat16.h5")) as b:
        assert a.info["compute_dtype"] == "float32" and b.info["compute_dtype"] == "bfloat16"
        x, y = next(iter(a)), next(iter(b))
        d = np.abs(x.attention - y.attention)
        assert 1e-5 < d.max() < 0.08  # bfloat16, close to float32 (docs/extract.md)
        np.testing.assert_allclose(y.attention.sum(axis=-1), 1.0, atol=1e-5)
    with pytest.raises(attnflow.Error, match="needs a CUDA device"):
        attnflow.load_model(LLAMA_BF16, tokenizer=str(tok), dtype="float16")
    with pytest.raises(attnflow.Error, match="dtype: unknown 'half'"):
        attnflow.extract(LLAMA_BF16, texts, str(tmp_path / "x.h5"), tokenizer=str(tok), dtype="half")
