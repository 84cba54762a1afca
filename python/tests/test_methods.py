"""attnflow's methods on hand cases, on Hugging Face-style input and in every dtype."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SOURCE_DIR, attnflow, random_gradient, random_stack


def hand_stack():
    """2 layers, 2 heads, 2 tokens; row = query."""
    a = np.zeros((2, 2, 2, 2))
    a[0, 0] = [[1.0, 0.0], [0.5, 0.5]]
    a[0, 1] = [[0.6, 0.4], [0.1, 0.9]]
    a[1, 0] = [[0.2, 0.8], [0.7, 0.3]]
    a[1, 1] = [[0.4, 0.6], [0.3, 0.7]]
    return a


def hand_a_hat():
    fused = hand_stack().mean(axis=1)
    return 0.5 * fused + 0.5 * np.eye(2)


def test_fuse_heads_by_hand():
    a = hand_stack()
    np.testing.assert_allclose(attnflow.fuse_heads(a), a.mean(axis=1), rtol=0, atol=1e-7)
    np.testing.assert_allclose(attnflow.fuse_heads(a, fusion="max"), a.max(axis=1), atol=1e-7)
    np.testing.assert_allclose(attnflow.fuse_heads(a, fusion="min"), a.min(axis=1), atol=1e-7)
    w = attnflow.fuse_heads(a, fusion="weighted", head_weights=[3.0, 1.0])
    np.testing.assert_allclose(w, (3 * a[:, 0] + a[:, 1]) / 4, atol=1e-7)
    assert attnflow.fuse_heads(a).dtype == np.float64


def test_residual_by_hand():
    np.testing.assert_allclose(attnflow.residual(hand_stack()), hand_a_hat(), atol=1e-7)
    fused = hand_stack().mean(axis=1)
    r = attnflow.residual(fused, fused=True, alpha=0.25, renormalize=False)
    np.testing.assert_allclose(r, 0.75 * fused + 0.25 * np.eye(2), rtol=0, atol=1e-15)
    # After max fusion rows no longer sum to 1: renormalisation divides them.
    m = hand_stack().max(axis=1)
    r = attnflow.residual(m, fused=True)
    want = m + np.eye(2)
    np.testing.assert_allclose(r, want / want.sum(axis=-1, keepdims=True), atol=1e-15)


def test_rollout_by_hand():
    a_hat = hand_a_hat()
    r = attnflow.rollout(hand_stack())
    assert r.method == "rollout" and r.layers == [1, 2] and r.rows == [0, 1]
    assert r.values.shape == (2, 2, 2)
    np.testing.assert_allclose(r.values[0], a_hat[0], atol=1e-7)
    np.testing.assert_allclose(r.values[1], a_hat[1] @ a_hat[0], atol=1e-7)
    last = attnflow.rollout(hand_stack(), rows=-1, all_prefixes=False)
    assert last.layers == [2] and last.rows == [1]
    np.testing.assert_allclose(last.values[0, 0], (a_hat[1] @ a_hat[0])[1], atol=1e-7)
    s2 = attnflow.rollout(hand_stack(), start_layer=2)
    assert s2.layers == [2]
    np.testing.assert_allclose(s2.values[0], a_hat[1], atol=1e-7)


def test_flow_by_hand():
    a_hat = hand_a_hat()
    f = attnflow.flow(hand_stack(), normalize=False)
    assert f.method == "flow" and f.layers == [1, 2]
    np.testing.assert_allclose(f.values[0], a_hat[0], atol=1e-7)
    # Layer 2: sum_m min(A2[i, m], A1[m, j]).
    want = np.array([[sum(min(a_hat[1][i, m], a_hat[0][m, j]) for m in range(2))
                      for j in range(2)] for i in range(2)])
    np.testing.assert_allclose(f.values[1], want, atol=1e-7)
    solver = attnflow.flow(hand_stack(), normalize=False, closed_form=False, algorithm="bk")
    np.testing.assert_allclose(solver.values, f.values, atol=1e-12)
    norm = attnflow.flow(hand_stack(), layers=2, rows=[1])
    np.testing.assert_allclose(norm.values[0, 0], want[1] / want[1].sum(), atol=1e-7)


def test_raw_readout_by_hand():
    raw = attnflow.raw_readout(hand_stack(), layers=[2], rows=0)
    assert raw.method == "raw" and raw.layers == [2] and raw.rows == [0]
    np.testing.assert_allclose(raw.values[0, 0], hand_stack()[1].mean(axis=0)[0], atol=1e-7)
    res = attnflow.raw_readout(hand_stack(), residual=True)
    assert res.method == "residual"
    np.testing.assert_allclose(res.values, hand_a_hat(), atol=1e-7)


def test_grad_rollout_by_hand():
    a = hand_stack()
    g = np.array([[[[1.0, -1.0], [2.0, 0.5]], [[-1.0, 1.0], [0.5, 0.5]]],
                  [[[0.5, 0.5], [1.0, -2.0]], [[1.0, 1.0], [-1.0, 1.0]]]])
    bars = [np.clip(g[l] * a[l], 0, None).mean(axis=0) for l in range(2)]
    r = np.eye(2)
    prefixes = []
    for bar in bars:
        r = r + bar @ r
        prefixes.append(r.copy())
    got = attnflow.grad_rollout(a, g)
    assert got.method == "grad-rollout" and got.layers == [1, 2]
    np.testing.assert_allclose(got.values, np.stack(prefixes), atol=1e-6)
    signed = attnflow.grad_rollout(a, g, signed=True, rows=0, all_prefixes=False)
    bars = [(g[l] * a[l]).mean(axis=0) for l in range(2)]
    r = np.eye(2)
    for bar in bars:
        r = r + bar @ r
    np.testing.assert_allclose(signed.values[0, 0], r[0], atol=1e-6)
    # Zero gradient: the identity.
    z = attnflow.grad_rollout(a, np.zeros_like(a))
    np.testing.assert_allclose(z.values[-1], np.eye(2), atol=0)


def test_correlations_by_hand():
    assert attnflow.spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5, abs=1e-15)
    assert attnflow.pearson([1, 2, 3], [2, 4, 6.5]) == pytest.approx(
        np.corrcoef([1, 2, 3], [2, 4, 6.5])[0, 1], abs=1e-14)
    assert attnflow.kendall([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3, abs=1e-15)
    assert attnflow.spearman(np.arange(5.0), np.arange(5.0)[::-1]) == pytest.approx(-1.0)
    assert np.isnan(attnflow.pearson([1, 1, 1], [1, 2, 3]))
    # Ties: average ranks.
    assert attnflow.spearman([1, 1, 2], [1, 2, 3]) == pytest.approx(np.sqrt(3) / 2, abs=1e-14)


def test_maps_object():
    m = attnflow.rollout(random_stack(3, 2, 4), rows=[0, 2])
    assert m.tokens == 4
    np.testing.assert_array_equal(m.row(2), m.values[:, 1, :])
    np.testing.assert_array_equal(m.layer(3), m.values[2])
    np.testing.assert_array_equal(np.asarray(m), m.values)
    assert np.asarray(m, dtype=np.float32).dtype == np.float32
    assert "rollout" in repr(m)
    with pytest.raises(attnflow.Error, match="maps: no row 1"):
        m.row(1)
    with pytest.raises(attnflow.Error, match="maps: no layer 4"):
        m.layer(4)


def test_hf_tuple_input_equals_stacked():
    a = random_stack(4, 3, 6, seed=3)
    per_layer = tuple(a[l][None] for l in range(4))  # (1, H, n, n) each, as outputs.attentions
    want = attnflow.flow(a)
    for form in (per_layer, list(per_layer), [a[l] for l in range(4)], np.stack(per_layer)):
        got = attnflow.flow(form)
        np.testing.assert_array_equal(got.values, want.values)
    np.testing.assert_array_equal(attnflow.rollout(per_layer).values, attnflow.rollout(a).values)
    g = random_gradient(4, 3, 6)
    np.testing.assert_array_equal(
        attnflow.grad_rollout(per_layer, tuple(g[l][None] for l in range(4))).values,
        attnflow.grad_rollout(a, g).values)
    res = attnflow.analyze(per_layer, tuple(g[l][None] for l in range(4)),
                           methods=["raw", "flow", "grad-rollout"])
    np.testing.assert_array_equal(res["flow"].values, attnflow.flow(a, rows=0).values)


class TensorLike:
    """Stands in for a CPU torch tensor: only __array__."""

    def __init__(self, a):
        self._a = a

    def __array__(self, dtype=None):
        return self._a if dtype is None else self._a.astype(dtype)


def test_array_protocol_input():
    a = random_stack(3, 2, 5, seed=4)
    want = attnflow.rollout(a).values
    np.testing.assert_array_equal(attnflow.rollout(TensorLike(a)).values, want)
    np.testing.assert_array_equal(
        attnflow.rollout(tuple(TensorLike(a[l][None]) for l in range(3))).values, want)


@pytest.mark.parametrize("causal", [False, True])
def test_float32_and_float64_agree(causal):
    a32 = random_stack(4, 2, 7, seed=5, causal=causal)
    a64 = a32.astype(np.float64)  # exactly the float32 values
    for f in (attnflow.rollout, attnflow.flow, attnflow.raw_readout):
        np.testing.assert_array_equal(f(a32).values, f(a64).values)
    # Non-contiguous and other dtypes are converted.
    np.testing.assert_array_equal(attnflow.flow(np.asfortranarray(a64)).values,
                                  attnflow.flow(a32).values)
    np.testing.assert_allclose(attnflow.rollout(a32.astype(np.float16)).values,
                               attnflow.rollout(a32).values, atol=2e-3)


def test_causal_stack():
    a = random_stack(4, 2, 6, seed=6, causal=True)
    f = attnflow.flow(a, normalize=False)
    r = attnflow.rollout(a)
    for m in (f.values, r.values):
        assert np.all(np.triu(m, k=1) == 0)  # no flow from a token to a later one
    # The first token only reaches itself.
    np.testing.assert_allclose(f.values[:, 0, 0], 1.0, atol=1e-12)


def test_prepared_matrices():
    a = random_stack(4, 3, 6, seed=7)
    a_hat = attnflow.residual(a)
    np.testing.assert_array_equal(attnflow.rollout(a_hat, prepared=True).values,
                                  attnflow.rollout(a).values)
    np.testing.assert_array_equal(attnflow.flow(a_hat, prepared=True).values,
                                  attnflow.flow(a).values)
    np.testing.assert_array_equal(attnflow.raw_readout(a_hat, prepared=True).values,
                                  attnflow.raw_readout(a, residual=True).values)


def test_threads_do_not_change_results():
    a = random_stack(5, 2, 12, seed=8)
    one = attnflow.flow(a, threads=1).values
    for t in (2, 3, 0):
        np.testing.assert_array_equal(attnflow.flow(a, threads=t).values, one)


@pytest.mark.parametrize("algorithm", ["push-relabel", "bk", "edmonds-karp"])
def test_flow_algorithms_agree(algorithm):
    a = random_stack(4, 2, 8, seed=9)
    np.testing.assert_allclose(attnflow.flow(a, algorithm=algorithm).values,
                               attnflow.flow(a, algorithm="bk").values, rtol=0, atol=1e-9)


def test_analyze_matches_single_functions():
    a = random_stack(4, 2, 6, seed=10)
    g = random_gradient(4, 2, 6)
    res = attnflow.analyze(a, g, methods="raw,residual,rollout,flow,grad-rollout", rows=None)
    assert list(res) == ["raw", "residual", "rollout", "flow", "grad-rollout"]
    np.testing.assert_array_equal(res["raw"].values, attnflow.raw_readout(a).values)
    np.testing.assert_array_equal(res["residual"].values,
                                  attnflow.raw_readout(a, residual=True).values)
    # Given rows take rollout's vector-matrix path (as the CLI's --all-rows does); rows=None
    # takes full matrix products, equal up to rounding.
    every = list(range(6))
    np.testing.assert_array_equal(res["rollout"].values, attnflow.rollout(a, rows=every).values)
    np.testing.assert_allclose(res["rollout"].values, attnflow.rollout(a).values, atol=1e-15)
    np.testing.assert_array_equal(res["flow"].values, attnflow.flow(a).values)
    np.testing.assert_array_equal(res["grad-rollout"].values,
                                  attnflow.grad_rollout(a, g, rows=every).values)
    default = attnflow.analyze(a)
    assert list(default) == ["raw", "rollout", "flow"]
    assert all(m.rows == [0] for m in default.values())


def test_numpy_reference_rollout():
    """rollout of a random stack against numpy's matrix products."""
    a = random_stack(6, 4, 9, seed=11).astype(np.float64)
    fused = a.mean(axis=1)
    a_hat = 0.5 * fused + 0.5 * np.eye(9)
    a_hat /= a_hat.sum(axis=-1, keepdims=True)
    r = a_hat[0]
    for l in range(1, 6):
        r = a_hat[l] @ r
    got = attnflow.rollout(a, all_prefixes=False)
    np.testing.assert_allclose(got.values[0], r, rtol=0, atol=1e-6)  # float32 input


def test_every_public_name_is_documented_and_in_the_stub():
    import ast
    import pathlib

    stub_path = pathlib.Path(attnflow.__file__).with_name("__init__.pyi")
    tree = ast.parse(stub_path.read_text(encoding="utf-8"))
    stub_names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    stub_names |= {t.id for n in tree.body if isinstance(n, ast.AnnAssign)
                   for t in [n.target] if isinstance(t, ast.Name)}
    for name in attnflow.__all__:
        assert name in stub_names, name
        obj = getattr(attnflow, name)
        if callable(obj):
            assert obj.__doc__ and len(obj.__doc__.strip()) > 30, name
    assert issubclass(attnflow.Error, ValueError)


def _encdec_reference():
    import importlib.util

    path = SOURCE_DIR / "tests" / "reference" / "encdec_reference.py"
    spec = importlib.util.spec_from_file_location("encdec_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _softmax_rows(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_encdec_relevance_matches_numpy_reference():
    ref = _encdec_reference()
    rng = np.random.default_rng(17)
    le, ld, h, n, m = 2, 3, 4, 5, 4
    enc = _softmax_rows(rng.normal(size=(le, h, n, n))).astype(np.float32)
    dec = np.tril(_softmax_rows(rng.normal(size=(ld, h, m, m)))).astype(np.float32)
    dec /= dec.sum(axis=-1, keepdims=True)
    cross = _softmax_rows(rng.normal(size=(ld, h, m, n))).astype(np.float32)
    grads = [rng.normal(size=a.shape).astype(np.float32) for a in (enc, dec, cross)]
    for normalize, self_in_cross in ((True, True), (False, True), (True, False)):
        got = attnflow.encdec_relevance(enc, grads[0], dec, grads[1], cross, grads[2],
                                        normalize_self_relevance=normalize,
                                        self_in_cross=self_in_cross)
        r_ee, r_dd, after = ref.relevance(*(a.astype(np.float64) for a in
                                            (enc, grads[0], dec, grads[1], cross, grads[2])),
                                          normalize=normalize, self_in_cross=self_in_cross)
        np.testing.assert_allclose(got["encoder"], r_ee, atol=1e-12)
        np.testing.assert_allclose(got["decoder"], r_dd, atol=1e-12)
        np.testing.assert_allclose(got["cross_by_layer"], after, atol=1e-12)
        np.testing.assert_allclose(got["cross"], after[-1], atol=1e-12)
    with pytest.raises(attnflow.Error, match="cross"):
        attnflow.encdec_relevance(enc, grads[0], dec, grads[1], cross[:, :, :, :3],
                                  grads[2][:, :, :, :3])
