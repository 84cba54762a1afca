"""attnflow.analyze and the single functions give the CLI's numbers (`attnflow analyze X.npy
-o out.csv`, 17 significant digits) to 1e-12 for the same inputs and options."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import (assert_same_maps, attnflow, maps_dict, random_gradient, random_stack,
                      read_long_csv)

ALL = "raw,residual,rollout,flow,grad-rollout"

# (CLI flags, the same options as Python keywords)
CASES = [
    ([], {}),
    (["--fusion", "max", "--alpha", "0.3"], {"fusion": "max", "alpha": 0.3}),
    (["--no-renormalize", "--discard", "0.2"], {"renormalize": False, "discard": 0.2}),
    (["--discard", "0.3", "--discard-scope", "row", "--flow-algorithm", "bk"],
     {"discard": 0.3, "discard_scope": "row", "algorithm": "bk"}),
    (["--no-residual", "--no-flow-normalize", "--grad-rule", "vit-explain"],
     {"residual": False, "flow_normalize": False, "grad_rule": "vit-explain"}),
    (["--grad-signed", "--start-layer", "2", "--layers", "2", "4", "-t", "0", "-1"],
     {"grad_signed": True, "start_layer": 2, "layers": [2, 4], "rows": [0, -1]}),
    (["--fusion", "weighted", "--head-weights", "1,2,0.5", "-j", "1"],
     {"fusion": "weighted", "head_weights": [1, 2, 0.5], "threads": 1}),
]


@pytest.mark.parametrize("causal", [False, True], ids=["encoder", "causal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("case", range(len(CASES)))
def test_analyze_equals_cli(cli, tmp_path, case, dtype, causal):
    flags, kwargs = CASES[case]
    a = random_stack(4, 3, 7, seed=20 + case, causal=causal, dtype=dtype)
    if dtype == np.float64:  # values that are not float32: both sides convert the same way
        a = a + np.float64(1e-9)
    g = random_gradient(4, 3, 7, seed=40 + case, dtype=dtype)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "g.npy", g)
    rows_given = "rows" in kwargs
    cli("analyze", tmp_path / "a.npy", "--gradient", tmp_path / "g.npy", "-m", ALL,
        *([] if rows_given else ["--all-rows"]), *flags, "-q", "-o", tmp_path / "out.csv")
    want = read_long_csv(tmp_path / "out.csv")
    if not rows_given:
        kwargs = dict(kwargs, rows=None)
    got = attnflow.analyze(a, g, methods=ALL.split(","), **kwargs)
    assert sorted(got) == sorted(want)
    for method, maps in got.items():
        assert_same_maps(maps_dict(maps), want[method])


def test_single_functions_equal_cli(cli, tmp_path):
    a = random_stack(5, 4, 8, seed=3)
    g = random_gradient(5, 4, 8, seed=4)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "g.npy", g)
    cli("analyze", tmp_path / "a.npy", "--gradient", tmp_path / "g.npy", "-m", ALL,
        "--all-rows", "-q", "-o", tmp_path / "out.csv")
    want = read_long_csv(tmp_path / "out.csv")
    every = list(range(8))
    assert_same_maps(maps_dict(attnflow.raw_readout(a)), want["raw"])
    assert_same_maps(maps_dict(attnflow.raw_readout(a, residual=True)), want["residual"])
    assert_same_maps(maps_dict(attnflow.rollout(a, rows=every)), want["rollout"])
    assert_same_maps(maps_dict(attnflow.rollout(a)), want["rollout"])
    assert_same_maps(maps_dict(attnflow.flow(a)), want["flow"])
    assert_same_maps(maps_dict(attnflow.flow(attnflow.residual(a), prepared=True)), want["flow"])
    assert_same_maps(maps_dict(attnflow.grad_rollout(a, g)), want["grad-rollout"])
    # HF-style tuple input gives the same numbers.
    hf = tuple(a[l][None] for l in range(5))
    assert_same_maps(maps_dict(attnflow.flow(hf)), want["flow"])


def test_cli_on_3d_stack(cli, tmp_path):
    a = random_stack(3, 1, 6, seed=5)[:, 0]  # (L, n, n)
    np.save(tmp_path / "a.npy", a)
    cli("analyze", tmp_path / "a.npy", "-m", "rollout,flow", "-t", "2", "-q",
        "-o", tmp_path / "out.csv")
    want = read_long_csv(tmp_path / "out.csv")
    got = attnflow.analyze(a, methods=["rollout", "flow"], rows=2)
    for method in ("rollout", "flow"):
        assert_same_maps(maps_dict(got[method]), want[method])


def test_defaults_are_the_cli_defaults(cli):
    _, help_text, _ = cli("analyze", "--help")
    assert f"--flow-algorithm TEXT={attnflow.DEFAULT_FLOW_ALGORITHM}" in help_text
    assert "--alpha FLOAT=0.5" in help_text and "--fusion TEXT=mean" in help_text
    assert "--start-layer INT=1" in help_text and "--grad-rule TEXT=chefer" in help_text
