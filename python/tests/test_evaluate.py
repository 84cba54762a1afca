"""attnflow.evaluate on a few held-out SVA sentences: the same numbers as `attnflow evaluate`'s
table.csv and curves.csv, the report's shape, and the CLI's errors (or, without libtorch, the
'built without libtorch' error)."""
from __future__ import annotations

import csv

import pytest

from conftest import SOURCE_DIR, attnflow, cli_error

MODEL = str(SOURCE_DIR / "datasets" / "models" / "sva")
CORPUS = str(SOURCE_DIR / "datasets" / "sva" / "test.jsonl")
METHODS = ["rollout", "blank-out", "random"]

needs_torch = pytest.mark.skipif(not attnflow.HAVE_TORCH, reason="built without libtorch")


@pytest.mark.skipif(attnflow.HAVE_TORCH, reason="built with libtorch")
def test_without_torch_raises(tmp_path):
    with pytest.raises(attnflow.Error, match="attnflow was built without libtorch"):
        attnflow.evaluate(str(tmp_path / "out"))


@needs_torch
def test_evaluate_matches_cli(tmp_path, cli):
    r = attnflow.evaluate(str(tmp_path / "py"), model=MODEL, corpus=CORPUS, methods=METHODS,
                          examples=6, threads=1)
    assert r["examples"] == 6 and list(r["methods"]) == METHODS
    assert r["methods"]["blank-out"]["spearman_blank_out"] == pytest.approx(1.0)
    assert len(r["methods"]["rollout"]["deletion"]) == len(r["curve_percents"]) == 11
    assert r["files"] == ["table.txt", "table.csv", "curves.csv", "timing.csv"]
    cli("evaluate", "--model", MODEL, "--corpus", CORPUS, "-m", ",".join(METHODS), "-n", 6,
        "-j", 1, "--no-plots", "-q", "-o", tmp_path / "cli")
    with open(tmp_path / "cli" / "table.csv", newline="") as f:
        rows = {row["method"]: row for row in csv.DictReader(f)}
    for name, m in r["methods"].items():
        assert float(rows[name]["comprehensiveness"]) == pytest.approx(m["comprehensiveness"], abs=1e-9)
        assert float(rows[name]["sufficiency"]) == pytest.approx(m["sufficiency"], abs=1e-9)
        assert float(rows[name]["deletion_area"]) == pytest.approx(m["deletion_area"], abs=1e-9)
    assert (tmp_path / "py" / "curves.csv").read_text() == (tmp_path / "cli" / "curves.csv").read_text()


@needs_torch
def test_evaluate_errors(tmp_path, cli):
    with pytest.raises(attnflow.Error) as e:
        attnflow.evaluate(str(tmp_path / "a"), model=MODEL, corpus=CORPUS, methods=["lrp"])
    assert str(e.value) == cli_error(cli, "evaluate", "-m", "lrp", "-o", tmp_path / "b", "-q")
    with pytest.raises(attnflow.Error, match=r"--aopc-percents: 0 is outside \(0, 100\]"):
        attnflow.evaluate(str(tmp_path / "a"), model=MODEL, corpus=CORPUS, aopc_percents=[0])
    with pytest.raises(attnflow.Error, match="perturbation: unknown 'zero'"):
        attnflow.evaluate(str(tmp_path / "a"), perturbation="zero")
    assert not (tmp_path / "a").exists()
