"""Every bad input raises attnflow.Error (a ValueError) with the C++ library's message: the
CLI's message for the same .npy, with the file name replaced by 'attention' / 'gradient'."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import attnflow, cli_error, random_stack

OK = np.full((2, 2, 3, 3), 1 / 3)


def with_value(index, value):
    a = OK.copy()
    a[index] = value
    return a


BAD_ATTENTION = {
    "wrong rank": np.ones((3, 3)),
    "rank 5": np.ones((2, 2, 2, 3, 3)),
    "non-square": np.ones((2, 2, 3, 4)),
    "NaN": with_value((1, 0, 2, 1), np.nan),
    "infinite": with_value((0, 1, 1, 1), np.inf),
    "negative": with_value((1, 1, 0, 2), -0.5),
}


@pytest.mark.parametrize("name", sorted(BAD_ATTENTION))
def test_bad_attention_has_the_cli_message(cli, tmp_path, name):
    a = BAD_ATTENTION[name]
    path = tmp_path / "bad.npy"
    np.save(path, a)
    want = cli_error(cli, "analyze", path, "-q").replace(str(path), "attention")
    if not want.startswith("attention:"):  # values: the CLI names the file, core 'attention'
        want = "attention: " + want
    for call in (lambda x: attnflow.analyze(x), lambda x: attnflow.flow(x),
                 lambda x: attnflow.rollout(x), lambda x: attnflow.residual(x),
                 lambda x: attnflow.fuse_heads(x), lambda x: attnflow.raw_readout(x)):
        with pytest.raises(attnflow.Error) as e:
            call(a)
        assert str(e.value) == want
        assert isinstance(e.value, ValueError)


def test_mismatched_gradient(cli, tmp_path):
    g = np.ones((2, 2, 4, 4))
    np.save(tmp_path / "a.npy", OK)
    np.save(tmp_path / "g.npy", g)
    want = cli_error(cli, "analyze", tmp_path / "a.npy", "--gradient", tmp_path / "g.npy",
                     "-m", "grad-rollout", "-q")
    want = want.replace(str(tmp_path / "g.npy"), "gradient").replace(
        str(tmp_path / "a.npy"), "attention")
    for call in (lambda: attnflow.grad_rollout(OK, g),
                 lambda: attnflow.analyze(OK, g, methods=["grad-rollout"])):
        with pytest.raises(attnflow.Error) as e:
            call()
        assert str(e.value) == want
    with pytest.raises(attnflow.Error, match="gradient: layer 1 head 1 row 0 column 0 is NaN"):
        attnflow.grad_rollout(OK, with_value((0, 0, 0, 0), np.nan))


@pytest.mark.parametrize("flags,kwargs", [
    (["-t", "5"], {"rows": 5}),
    (["-t", "-4"], {"rows": [-4]}),
    (["--layers", "3"], {"layers": 3}),
    (["--fusion", "foo"], {"fusion": "foo"}),
    (["--flow-algorithm", "simplex"], {"algorithm": "simplex"}),
    (["--grad-rule", "x", "-m", "grad-rollout"], {"grad_rule": "x", "methods": "grad-rollout"}),
    (["--alpha", "1.5"], {"alpha": 1.5}),
    (["--discard", "1"], {"discard": 1.0}),
    (["-m", "grad-rollout"], {"methods": ["grad-rollout"]}),
    (["-m", "magic"], {"methods": ["magic"]}),
    (["--start-layer", "3", "-m", "rollout"], {"start_layer": 3, "methods": ["rollout"]}),
    (["--fusion", "weighted", "--head-weights", "1,2,3"],
     {"fusion": "weighted", "head_weights": [1, 2, 3]}),
])
def test_bad_options_have_the_cli_message(cli, tmp_path, flags, kwargs):
    np.save(tmp_path / "a.npy", OK)
    want = cli_error(cli, "analyze", tmp_path / "a.npy", *flags, "-q")
    with pytest.raises(attnflow.Error) as e:
        attnflow.analyze(OK, **kwargs)
    assert str(e.value) == want


def test_row_and_layer_out_of_range_in_every_function():
    a = random_stack(2, 2, 3)
    msg = "target rows: token 3 out of range (sequence has 3 tokens, valid 0..2 or -3..-1)"
    for call in (lambda: attnflow.flow(a, rows=3), lambda: attnflow.rollout(a, rows=[0, 3]),
                 lambda: attnflow.raw_readout(a, rows=3),
                 lambda: attnflow.grad_rollout(a, a, rows=3),
                 lambda: attnflow.analyze(a, rows=3)):
        with pytest.raises(attnflow.Error) as e:
            call()
        assert str(e.value) == msg
    with pytest.raises(attnflow.Error,
                       match=r"^layers: layer 0 out of range \(model has 2 layers, valid 1..2\)$"):
        attnflow.flow(a, layers=0)


def test_hf_tuple_errors():
    a = random_stack(3, 2, 4)
    with pytest.raises(attnflow.Error, match=r"^attention: layer 2 has shape \(1, 2, 5, 5\), "
                                             r"layer 1 has \(1, 2, 4, 4\)$"):
        attnflow.flow([a[0][None], np.ones((1, 2, 5, 5)) / 5, a[2][None]])
    with pytest.raises(attnflow.Error, match="attention: layer 1 holds a batch of 2 examples"):
        attnflow.flow([np.stack([a[0], a[0]]), np.stack([a[1], a[1]])])
    with pytest.raises(attnflow.Error, match="^attention: layer 1: attention maps are 4 x 3, "
                                             "not square$"):
        attnflow.flow([a[0][:, :, :3]])
    with pytest.raises(attnflow.Error, match=r"^attention: empty attention stack \(no layers\)$"):
        attnflow.flow([])
    with pytest.raises(attnflow.Error, match="^attention: empty attention stack$"):
        attnflow.flow(np.ones((0, 2, 3, 3)))


def test_correlation_errors():
    with pytest.raises(attnflow.Error, match=r"inputs differ in length \(3 vs 2\)|differ"):
        attnflow.spearman([1, 2, 3], [1, 2])
    with pytest.raises(attnflow.Error, match="need at least 2 values"):
        attnflow.pearson([1], [1])
    with pytest.raises(attnflow.Error, match="not finite"):
        attnflow.kendall([1, np.nan, 2], [1, 2, 3])
    with pytest.raises(attnflow.Error, match="x: expected a 1-D array"):
        attnflow.spearman(np.ones((2, 2)), [1, 2])
