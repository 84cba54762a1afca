#!/usr/bin/python3
"""Attention flow: attnflow CLI against scipy's maximum_flow (Dinic), side by side.

The fastest per-pair solver a Python user has: scipy.sparse.csgraph.maximum_flow with
method="dinic" on int64 capacities (A_hat x 1e7, rounded), one call per (node, input)
pair on the full layered graph, one thread -- what GlobEnc's attention_max_flow.py does.
On the same random stack (bench/flow_vs_reference.py's generator) this script times

  * scipy: every pair of the chosen layers, rows normalised as the reference does;
  * `attnflow analyze STACK.npy --all-rows -m flow -q -o out.csv -j T [--layers L]`
    (whole process, median of --repeat runs) for each T of --threads;

checks that every value agrees to scipy's rounding (|diff| <= n * 1e-7: each capacity
is rounded by <= 0.5e-7, a minimum cut next to the source or sink has n edges, and the
row normalisation keeps that scale), and prints medians and ratios:

    /usr/bin/python3 bench/flow_vs_scipy.py --L 6 --n 32                 # all layers
    /usr/bin/python3 bench/flow_vs_scipy.py --L 12 --n 64 --layers top
    /usr/bin/python3 bench/flow_vs_scipy.py --attnflow build-h9/attnflow --threads 1 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy
import scipy.sparse as sp
from scipy.sparse.csgraph import maximum_flow

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
import reference as ref  # noqa: E402
from flow_vs_reference import make_stack, read_flow_csv  # noqa: E402

SCALE = 1e7  # GlobEnc's integer scaling of the capacities


def scipy_graph(a_hat):
    """CSR graph of every layer: node (l, i) = l*n + i, edge (l,i)->(l-1,j) = A^(l)[i,j]."""
    L, n, _ = a_hat.shape
    rows, cols, caps = [], [], []
    for l in range(1, L + 1):
        c = np.rint(a_hat[l - 1] * SCALE).astype(np.int64)
        i, j = np.nonzero(c)
        rows.append(l * n + i)
        cols.append((l - 1) * n + j)
        caps.append(c[i, j])
    size = (L + 1) * n
    return sp.csr_matrix((np.concatenate(caps), (np.concatenate(rows), np.concatenate(cols))),
                         shape=(size, size), dtype=np.int64)


def scipy_flow(a_hat, layers):
    """{(layer, row, column): row-normalised flow}, one maximum_flow call per pair."""
    L, n, _ = a_hat.shape
    g = scipy_graph(a_hat)
    out = {}
    for l in layers:
        for i in range(n):
            raw = np.array([maximum_flow(g, l * n + i, j, method="dinic").flow_value
                            for j in range(n)], dtype=np.float64) / SCALE
            s = raw.sum()
            for j in range(n):
                out[(l, i, j)] = raw[j] / s if s != 0 else 0.0
    return out


def time_attnflow(exe, stack, out, top, threads, repeat):
    cmd = [exe, "analyze", stack, "--all-rows", "-m", "flow", "-q", "-o", out, "-j", str(threads)]
    if top is not None:
        cmd += ["--layers", str(top)]
    times = []
    for _ in range(max(1, repeat)):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        times.append(time.perf_counter() - t0)
        if p.returncode != 0:
            raise RuntimeError(f"attnflow failed (exit {p.returncode}): {' '.join(cmd)}\n"
                               f"{p.stderr.strip()}")
    return statistics.median(times), cmd


def main(argv=None):
    ap = argparse.ArgumentParser(description="attnflow flow vs scipy maximum_flow (Dinic)")
    ap.add_argument("--L", type=int, default=6, help="layers (6)")
    ap.add_argument("--n", type=int, default=32, help="tokens (32)")
    ap.add_argument("--heads", type=int, default=4, help="heads (4)")
    ap.add_argument("--layers", choices=("all", "top"), default="all")
    ap.add_argument("--causal", action="store_true", help="lower-triangular attention")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="attnflow -j values to time (1 2)")
    ap.add_argument("--attnflow", default=os.path.join(REPO, "build", "attnflow"))
    ap.add_argument("--repeat", type=int, default=5, help="attnflow runs; median (5)")
    ap.add_argument("--scipy-repeat", type=int, default=1, help="scipy runs; median (1)")
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args(argv)

    L, n = args.L, args.n
    layers = list(range(1, L + 1)) if args.layers == "all" else [L]
    work = args.workdir or tempfile.mkdtemp(prefix="attnflow-scipy-")
    os.makedirs(work, exist_ok=True)
    att = make_stack(L, args.heads, n, args.causal, args.seed)
    stack = os.path.join(work, f"stack-L{L}-n{n}-s{args.seed}.npy")
    np.save(stack, att)
    print(f"L={L} H={args.heads} n={n} {'causal' if args.causal else 'non-causal'} "
          f"seed={args.seed}, layers {args.layers}: {len(layers) * n * n} pairs; "
          f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cpus")

    a_hat = ref.prepare(att)
    t_scipy = []
    for _ in range(max(1, args.scipy_repeat)):
        t0 = time.perf_counter()
        want = scipy_flow(a_hat, layers)
        t_scipy.append(time.perf_counter() - t0)
    t_ref = statistics.median(t_scipy)
    print(f"scipy    : {t_ref:9.3f} s  (scipy {scipy.__version__} maximum_flow dinic, int64 x 1e7,"
          f" one call per pair, one thread, in-process)")

    tol = n * 1e-7
    ok_all = True
    for t in args.threads:
        out = os.path.join(work, f"out-j{t}.csv")
        median, cmd = time_attnflow(args.attnflow, stack, out, L if args.layers == "top" else None,
                                    t, args.repeat)
        got, dups = read_flow_csv(out)
        missing = set(want) - set(got)
        worst = max((abs(got[k] - want[k]) for k in want if k in got), default=0.0)
        ok = not missing and not dups and worst <= tol
        ok_all &= ok
        print(f"attnflow : {median:9.3f} s  -j {t} (median of {args.repeat}, whole process)  "
              f"{t_ref / median:7.1f}x scipy ({t_ref / median / t:.1f}x per core)  "
              f"agree {'yes' if ok else 'NO'}: max |diff| {worst:.2g} (tol {tol:.1g})"
              + (f", {len(missing)} pairs missing" if missing else ""))
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
