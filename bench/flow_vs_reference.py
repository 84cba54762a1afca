#!/usr/bin/python3
"""Attention flow: attnflow CLI against the networkx reference, side by side.

Generates one random row-stochastic attention stack (float32, (L, H, n, n)), times

  * the reference with the paper's semantics: the full layered graph, one
    nx.maximum_flow_value (Edmonds-Karp by default) per (node, input) pair, rows
    normalised (tests/reference/reference.py), and
  * `attnflow analyze STACK.npy --all-rows -m flow -q -o out.csv [-j T] [--layers L]`,

checks that every value agrees to 1e-6 (and that the key sets match), and prints both
times and their ratio.  Use Debian's interpreter (it has numpy and networkx):

    /usr/bin/python3 bench/flow_vs_reference.py                     # L=6 n=32, all layers
    /usr/bin/python3 bench/flow_vs_reference.py --layers top        # top layer only
    /usr/bin/python3 bench/flow_vs_reference.py --L 12 --n 128 --skip-reference -j 2

The reference takes minutes (L6 n32 all layers: ~3 min on one core) to hours (L12 n128).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
import reference as ref  # noqa: E402

TOL = 1e-6


def make_stack(L, H, n, causal, seed):
    """Softmax of random logits with a per-row temperature (some rows peaked)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(L, H, n, n))
    logits *= np.exp(rng.uniform(np.log(0.3), np.log(12.0), size=(L, H, n, 1)))
    if causal:
        logits = np.where(np.tril(np.ones((n, n), dtype=bool)), logits, -np.inf)
    logits -= logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def read_flow_csv(path):
    values = {}
    dups = 0
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != ["method", "layer", "row", "column", "token", "value"]:
            raise ValueError(f"{path}: unexpected header {header}")
        for rec in reader:
            if not rec or rec[0] != "flow":
                continue
            key = (int(rec[1]), int(rec[2]), int(rec[3]))
            dups += key in values
            values[key] = float(rec[5])
    return values, dups


def main(argv=None):
    ap = argparse.ArgumentParser(description="attnflow flow vs the networkx reference")
    ap.add_argument("--L", type=int, default=6, help="layers (6)")
    ap.add_argument("--n", type=int, default=32, help="tokens (32)")
    ap.add_argument("--heads", type=int, default=4, help="heads (4)")
    ap.add_argument("--layers", choices=("all", "top"), default="all",
                    help="flow for every layer (reference semantics) or the top layer only")
    ap.add_argument("--causal", action="store_true", help="lower-triangular attention")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-j", "--threads", type=int, default=None,
                    help="passed to attnflow as -j (default: attnflow's own default)")
    ap.add_argument("--flow-algorithm", default=None,
                    help="passed to attnflow as --flow-algorithm (default: attnflow's)")
    ap.add_argument("--attnflow", default=os.path.join(REPO, "build", "attnflow"))
    ap.add_argument("--repeat", type=int, default=5, help="attnflow runs; median time (5)")
    ap.add_argument("--flow-func", default="edmonds_karp", choices=sorted(ref.FLOW_FUNCS),
                    help="networkx max-flow of the reference (edmonds_karp, as the paper)")
    ap.add_argument("--skip-reference", action="store_true",
                    help="time attnflow only (for sizes where the reference takes hours)")
    ap.add_argument("--workdir", default=None, help="where to write the files (temp dir)")
    args = ap.parse_args(argv)

    L, n = args.L, args.n
    layers = list(range(1, L + 1)) if args.layers == "all" else [L]
    work = args.workdir or tempfile.mkdtemp(prefix="attnflow-bench-")
    os.makedirs(work, exist_ok=True)
    att = make_stack(L, args.heads, n, args.causal, args.seed)
    stack = os.path.join(work, f"stack-L{L}-n{n}-s{args.seed}.npy")
    out = os.path.join(work, "out.csv")
    np.save(stack, att)
    pairs = len(layers) * n * n
    print(f"L={L} H={args.heads} n={n} {'causal' if args.causal else 'non-causal'} "
          f"seed={args.seed}, layers {args.layers}: {pairs} (node, input) max-flow pairs")

    cmd = [args.attnflow, "analyze", stack, "--all-rows", "-m", "flow", "-q", "-o", out]
    if args.layers == "top":
        cmd += ["--layers", str(L)]
    if args.threads is not None:
        cmd += ["-j", str(args.threads)]
    if args.flow_algorithm:
        cmd += ["--flow-algorithm", args.flow_algorithm]
    times = []
    for _ in range(max(1, args.repeat)):
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        dt = time.perf_counter() - t0
        if p.returncode != 0:
            print(f"attnflow failed (exit {p.returncode}): {' '.join(cmd)}\n{p.stderr.strip()}")
            return 2
        times.append(dt)
    median = statistics.median(times)
    print(f"attnflow : {median:10.3f} s  (median of {len(times)}, whole process: "
          f"{' '.join(cmd[1:])})")
    if args.skip_reference:
        return 0

    a_hat = ref.prepare(att)
    t0 = time.perf_counter()
    _, norm = ref.flow(a_hat, flow_func=args.flow_func, layers=layers)
    t_ref = time.perf_counter() - t0
    print(f"reference: {t_ref:10.3f} s  (networkx {ref.nx.__version__} {args.flow_func}, "
          f"one process)")

    got, dups = read_flow_csv(out)
    want_keys = {(l, i, j) for l in layers for i in range(n) for j in range(n)}
    missing = want_keys - got.keys()
    extra = got.keys() - want_keys
    worst, where = 0.0, None
    for key in want_keys & got.keys():
        l, i, j = key
        d = abs(got[key] - float(norm[l - 1, i, j]))
        d = math.inf if math.isnan(d) else d
        if d > worst:
            worst, where = d, key
    ok = not missing and not extra and not dups and worst <= TOL
    print(f"agree    : {'yes' if ok else 'NO'}  max |diff| {worst:.3g}"
          + (f" at (layer,row,column) {where}: attnflow {got[where]!r} reference "
             f"{float(norm[where[0] - 1, where[1], where[2]])!r}" if worst > TOL else "")
          + (f"; {len(missing)} pairs missing, e.g. {sorted(missing)[:3]}" if missing else "")
          + (f"; {len(extra)} unexpected pairs" if extra else "")
          + (f"; {dups} duplicated pairs" if dups else ""))
    print(f"speed-up : {t_ref / median:10.1f} x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
