"""Shared fixtures of the attnflow Python tests (run by ctest: python/CMakeLists.txt).

Environment (set by CTest): PYTHONPATH = the build tree's python/ folder (the module),
ATTNFLOW_EXE = the attnflow executable (CLI comparisons), ATTNFLOW_SOURCE_DIR = the repository.
"""
from __future__ import annotations

import csv
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

sys.dont_write_bytecode = True

import attnflow  # noqa: E402

SOURCE_DIR = pathlib.Path(
    os.environ.get("ATTNFLOW_SOURCE_DIR") or pathlib.Path(__file__).resolve().parents[2]
)


def random_stack(L, H, n, *, seed=0, causal=False, dtype=np.float32):
    """Softmax of random logits with a per-row temperature, (L, H, n, n), rows sum to 1."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(L, H, n, n))
    logits *= np.exp(rng.uniform(np.log(0.3), np.log(8.0), size=(L, H, n, 1)))
    if causal:
        logits = np.where(np.tril(np.ones((n, n), dtype=bool)), logits, -np.inf)
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=-1, keepdims=True)).astype(dtype)


def random_gradient(L, H, n, *, seed=1, dtype=np.float32):
    return np.random.default_rng(seed).normal(size=(L, H, n, n)).astype(dtype)


@pytest.fixture(scope="session")
def cli():
    """Runs the attnflow executable; returns (returncode, stdout, stderr)."""
    exe = os.environ.get("ATTNFLOW_EXE")
    if not exe:
        pytest.skip("ATTNFLOW_EXE not set (the CLI was not built)")

    def run(*args, check=True):
        p = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
        if check and p.returncode != 0:
            raise AssertionError(f"attnflow {' '.join(map(str, args))} failed: {p.stderr}")
        return p.returncode, p.stdout, p.stderr

    return run


def cli_error(run, *args):
    """The message of a failing CLI call, without the 'attnflow: error: ' prefix."""
    code, _, err = run(*args, check=False)
    assert code == 1, err
    line = err.strip().splitlines()[-1]
    prefix = "attnflow: error: "
    assert line.startswith(prefix), err
    return line[len(prefix):]


def read_long_csv(path):
    """{method: {(layer, row, column): value}} of `attnflow analyze X.npy -o out.csv`."""
    out = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["method"], {})[
                (int(r["layer"]), int(r["row"]), int(r["column"]))
            ] = float(r["value"])
    return out


def maps_dict(maps):
    """{(layer, row, column): value} of an attnflow.Maps."""
    out = {}
    for k, layer in enumerate(maps.layers):
        for r, row in enumerate(maps.rows):
            for j in range(maps.tokens):
                out[(layer, row, j)] = float(maps.values[k, r, j])
    return out


def assert_same_maps(a, b, tol=1e-12):
    assert a.keys() == b.keys()
    worst = max(abs(a[k] - b[k]) for k in a)
    assert worst <= tol, f"max difference {worst}"


__all__ = ["attnflow", "random_stack", "random_gradient", "cli_error", "read_long_csv",
           "maps_dict", "assert_same_maps", "SOURCE_DIR"]
