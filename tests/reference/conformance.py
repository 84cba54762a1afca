#!/usr/bin/python3
"""Conformance test: the attnflow CLI against the independent Python reference.

Run (by CTest, or by hand) with Debian's interpreter, which has numpy and networkx:

    /usr/bin/python3 tests/reference/conformance.py --attnflow build/attnflow \
        --workdir /tmp/attnflow-conformance [--quick]

1. A self-test of reference.py against values worked out by hand (below), plus
   structural cross-checks of the reference on a random stack.
2. Random row-stochastic attention stacks (float32 .npy, shape (L, H, n, n); non-causal
   and causal) and random float32 gradient stacks are written to --workdir; for each
   the CLI runs `analyze --all-rows -m rollout,flow,grad-rollout --gradient ...` and
   every value of its long CSV is compared with the reference (|diff| <= 1e-6), and the
   set of (layer, row, column) keys must be exactly the reference's.
3. One case (L6 n8; L3 n5 with --quick) is also run with each --flow-algorithm
   (bk, push-relabel, edmonds-karp) and with -j 1 and -j 2.

Prints one line per case and finally `N passed, M failed`; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import csv
import math
import multiprocessing
import os
import subprocess
import sys
import time

import numpy as np

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as ref  # noqa: E402

TOL = 1e-6
METHODS = ("rollout", "flow", "grad-rollout")

# networkx max-flow used for the reference.  Edmonds-Karp is what the paper's code
# uses; on the non-causal L12 n16 stack it takes ~95 s (one core), so that case uses
# networkx's shortest_augmenting_path (~10 s; a different, equally exact algorithm: the
# max-flow value is unique).  The causal L12 n16 stack keeps Edmonds-Karp (~6 s).
# --ref-flow-func overrides the choice for every case.
BIG_CASE_FLOW_FUNC = "shortest_augmenting_path"
DEFAULT_FLOW_FUNC = "edmonds_karp"


# =========================================================== hand-worked cases
# Attention matrices whose residual-augmented Â = 0.5*A + 0.5*I has simple entries.
#
# HAND_2x3: L=2, n=3, one head.
#   A1 = [[0,1,0],[1,0,0],[0,0,1]]  ->  Â1 = [[.5,.5,0],[.5,.5,0],[0,0,1]]
#   A2 = [[0,0,1],[0,1,0],[1,0,0]]  ->  Â2 = [[.5,0,.5],[0,1,0],[.5,0,.5]]
#   Flow, layer 1: F1 = Â1 (one edge into each sink).
#   Flow, layer 2: every path (2,i)->(1,m)->(0,j) uses its own middle node, so
#     F2[i,j] = sum_m min(Â2[i,m], Â1[m,j]).
#     i=0: m in {0, 2} (caps .5, .5).  j=0: min(.5,.5)+min(.5,0) = .5;
#          j=1: min(.5,.5)+min(.5,0) = .5;  j=2: min(.5,0)+min(.5,1) = .5
#          -> raw [.5,.5,.5], normalised [1/3,1/3,1/3]
#     i=1: m = 1 (cap 1): [min(1,.5), min(1,.5), min(1,0)] = [.5,.5,0] -> [.5,.5,0]
#     i=2: same edges as i=0 -> [1/3,1/3,1/3]
#   Rollout, layer 2: R2 = Â2 Â1: row 0 = .5*[.5,.5,0] + .5*[0,0,1] = [.25,.25,.5];
#     row 1 = [.5,.5,0]; row 2 = [.25,.25,.5]   (flow != rollout here).
HAND_2x3_ATT = np.array([
    [[[0, 1, 0], [1, 0, 0], [0, 0, 1]]],
    [[[0, 0, 1], [0, 1, 0], [1, 0, 0]]],
], dtype=np.float32)
HAND_2x3_FLOW = np.array([
    [[.5, .5, 0], [.5, .5, 0], [0, 0, 1]],
    [[1 / 3, 1 / 3, 1 / 3], [.5, .5, 0], [1 / 3, 1 / 3, 1 / 3]],
])
HAND_2x3_FLOW_RAW = np.array([
    [[.5, .5, 0], [.5, .5, 0], [0, 0, 1]],
    [[.5, .5, .5], [.5, .5, 0], [.5, .5, .5]],
])
HAND_2x3_ROLLOUT = np.array([
    [[.5, .5, 0], [.5, .5, 0], [0, 0, 1]],
    [[.25, .25, .5], [.5, .5, 0], [.25, .25, .5]],
])

# HAND_3x2: L=3, n=2, one head; layer 3 needs a real max-flow (shared bottleneck).
#   A1 = [[0,1],[.5,.5]] -> Â1 = [[.5,.5],[.25,.75]]
#   A2 = A3 = [[0,1],[1,0]] -> Â2 = Â3 = [[.5,.5],[.5,.5]]
#   Layer 1: F1 = Â1 (rows already sum to 1).
#   Layer 2: F2[i,0] = min(.5,.5) + min(.5,.25) = .75; F2[i,1] = min(.5,.5) + min(.5,.75) = 1
#            -> raw [.75, 1] for both rows, normalised [3/7, 4/7].
#   Layer 3, source (3,0), sink (0,0): the cut of the two edges into the sink,
#     (1,0)->(0,0) = .5 and (1,1)->(0,0) = .25, has capacity .75; the flow
#     (3,0)->(2,0)->(1,0)->(0,0) .5 and (3,0)->(2,1)->(1,1)->(0,0) .25 achieves it: .75.
#     (A naive recursion sum_m min(Â3[i,m], F2[m,0]) would give 1.0: wrong.)
#   Sink (0,1): the source's out-capacity is 1 (.5 + .5); (2,0)->(1,0)->(0,1) .5 and
#     (2,1)->(1,1)->(0,1) .5 achieve it: 1.  Both rows equal (Â3 rows equal):
#     raw [.75, 1], normalised [3/7, 4/7].
#   Rollout: R1 = Â1; R2 = Â2 Â1 = [.375, .625] per row; R3 = Â3 R2 = [.375, .625].
HAND_3x2_ATT = np.array([
    [[[0, 1], [.5, .5]]],
    [[[0, 1], [1, 0]]],
    [[[0, 1], [1, 0]]],
], dtype=np.float32)
HAND_3x2_FLOW_RAW = np.array([
    [[.5, .5], [.25, .75]],
    [[.75, 1], [.75, 1]],
    [[.75, 1], [.75, 1]],
])
HAND_3x2_FLOW = np.array([
    [[.5, .5], [.25, .75]],
    [[3 / 7, 4 / 7], [3 / 7, 4 / 7]],
    [[3 / 7, 4 / 7], [3 / 7, 4 / 7]],
])
HAND_3x2_ROLLOUT = np.array([
    [[.5, .5], [.25, .75]],
    [[.375, .625], [.375, .625]],
    [[.375, .625], [.375, .625]],
])

# HAND_GRAD: L=2 (the same layer twice), H=2, n=2.
#   att  h1 = [[.5,.5],[1,0]]    h2 = [[1,0],[.25,.75]]
#   grad h1 = [[2,-1],[1,3]]     h2 = [[-1,4],[2,2]]
#   grad*att h1 = [[1,-.5],[1,0]] -> clamp [[1,0],[1,0]]
#            h2 = [[-1,0],[.5,1.5]] -> clamp [[0,0],[.5,1.5]]
#   Abar = mean = [[.5,0],[.75,.75]]   (mean-then-clamp would give [[0,0],[.75,.75]])
#   R1 = I + Abar = [[1.5,0],[.75,1.75]]
#   R2 = R1 + Abar R1 = R1 + [[.75,0],[1.6875,1.3125]] = [[2.25,0],[2.4375,3.0625]]
#   Fusion + residual of the same att: mean = [[.75,.25],[.625,.375]],
#   Â = .5*mean + .5*I = [[.875,.125],[.3125,.6875]].
_HG_ATT_LAYER = [[[.5, .5], [1, 0]], [[1, 0], [.25, .75]]]
_HG_GRAD_LAYER = [[[2, -1], [1, 3]], [[-1, 4], [2, 2]]]
HAND_GRAD_ATT = np.array([_HG_ATT_LAYER, _HG_ATT_LAYER], dtype=np.float32)
HAND_GRAD_GRAD = np.array([_HG_GRAD_LAYER, _HG_GRAD_LAYER], dtype=np.float32)
HAND_GRAD_R = np.array([[[1.5, 0], [.75, 1.75]], [[2.25, 0], [2.4375, 3.0625]]])
HAND_GRAD_AHAT = np.array([[.875, .125], [.3125, .6875]])


def _check(failures, what, got, want, tol=1e-12):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        failures.append(f"{what}: shape {got.shape} != {want.shape}")
        return
    d = float(np.max(np.abs(got - want))) if got.size else 0.0
    if not d <= tol:
        failures.append(f"{what}: max |diff| {d:.3g} > {tol:g}\n got  {got.tolist()}\n want "
                        f"{want.tolist()}")


def self_test():
    """Checks reference.py against the hand-worked values and against itself."""
    f = []
    # -- fusion and residual
    _check(f, "fuse(hand-grad)", ref.fuse(HAND_GRAD_ATT)[0], [[.75, .25], [.625, .375]])
    _check(f, "prepare(hand-grad)", ref.prepare(HAND_GRAD_ATT)[0], HAND_GRAD_AHAT)
    # non-stochastic input: .5*[[1,1],[0,2]] + .5*I = [[1,.5],[0,1.5]] -> [[2/3,1/3],[0,1]]
    _check(f, "residual renormalise", ref.residual(np.array([[[1., 1.], [0., 2.]]]))[0],
           [[2 / 3, 1 / 3], [0, 1]])
    # alpha = 0.25 without renormalisation: .75*A + .25*I
    _check(f, "residual alpha", ref.residual(np.array([[[0., 1.], [1., 0.]]]), alpha=0.25,
                                             renormalize=False)[0], [[.25, .75], [.75, .25]])
    # -- rollout and flow on the hand cases
    for name, att, want_roll, want_raw, want_norm in (
            ("hand-2x3", HAND_2x3_ATT, HAND_2x3_ROLLOUT, HAND_2x3_FLOW_RAW, HAND_2x3_FLOW),
            ("hand-3x2", HAND_3x2_ATT, HAND_3x2_ROLLOUT, HAND_3x2_FLOW_RAW, HAND_3x2_FLOW)):
        a_hat = ref.prepare(att)
        _check(f, f"rollout({name})", ref.rollout(a_hat), want_roll)
        for func in ("edmonds_karp", "shortest_augmenting_path", "preflow_push"):
            raw, norm = ref.flow(a_hat, flow_func=func)
            _check(f, f"flow raw({name}, {func})", raw, want_raw)
            _check(f, f"flow normalised({name}, {func})", norm, want_norm)
    # -- gradient rollout
    _check(f, "grad_rollout(hand-grad)", ref.grad_rollout(HAND_GRAD_ATT, HAND_GRAD_GRAD),
           HAND_GRAD_R)
    # -- correlations: x = [1,2,3,4], y = [1,3,2,4]: one swapped pair.
    #    Spearman = 1 - 6*sum d^2 / (n(n^2-1)) = 1 - 12/60 = .8; Pearson: centred
    #    x = [-1.5,-.5,.5,1.5], y = [-1.5,.5,-.5,1.5], sum xy = 4, sum x^2 = sum y^2 = 5 -> .8;
    #    Kendall: 5 concordant, 1 discordant of 6 pairs -> 4/6.
    x, y = [1, 2, 3, 4], [1, 3, 2, 4]
    _check(f, "spearman", ref.spearman(x, y), .8)
    _check(f, "pearson", ref.pearson(x, y), .8)
    _check(f, "kendall", ref.kendall(x, y), 2 / 3)
    _check(f, "numpy spearman", ref._pearson_np(ref._ranks(x), ref._ranks(y)), .8)
    _check(f, "ranks with ties", ref._ranks([3, 1, 3, 2]), [3.5, 1, 3.5, 2])
    # -- structural cross-checks on a random causal and non-causal stack (METHODS.md)
    for causal in (False, True):
        att, _ = make_stack(4, 3, 6, causal, seed=99)
        a_hat = ref.prepare(att)
        raw, norm = ref.flow(a_hat, flow_func="edmonds_karp")
        tag = "causal" if causal else "non-causal"
        for func in ("preflow_push", "boykov_kolmogorov", "shortest_augmenting_path"):
            _check(f, f"flow {func} vs edmonds_karp ({tag})", ref.flow(a_hat, flow_func=func)[0],
                   raw)
        _check(f, f"flow without residual reuse ({tag})",
               ref.flow(a_hat, reuse_residual=False)[0], raw)
        _check(f, f"flow layer 1 = Â1 ({tag})", raw[0], a_hat[0])
        closed = np.minimum(a_hat[1][:, :, None], a_hat[0][None, :, :]).sum(axis=1)
        _check(f, f"flow layer 2 closed form ({tag})", raw[1], closed)
        if raw.max() > 1 + 1e-12:
            f.append(f"flow raw value {raw.max()} > 1 ({tag})")
        roll = ref.rollout(a_hat)
        if np.min(raw - roll) < -1e-12:  # the path-product flow is feasible: F >= R
            f.append(f"flow raw < rollout by {-np.min(raw - roll):.3g} ({tag})")
        _check(f, f"flow rows normalised ({tag})", norm.sum(axis=2), np.ones((4, 6)))
        if causal and np.any(np.triu(norm, 1) != 0):
            f.append("causal flow reaches a later token")
    return f


# ================================================================ random stacks
def make_stack(L, H, n, causal, seed):
    """Random float32 attention (softmax of logits, per-row temperature drawn
    log-uniformly in [0.3, 12] so some rows are nearly one-hot) and gradient."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(L, H, n, n))
    scale = np.exp(rng.uniform(np.log(0.3), np.log(12.0), size=(L, H, n, 1)))
    logits = logits * scale
    if causal:
        logits = np.where(np.tril(np.ones((n, n), dtype=bool)), logits, -np.inf)
    logits = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    att = (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)
    grad = (rng.normal(size=(L, H, n, n)) * rng.uniform(0.1, 3.0)).astype(np.float32)
    return att, grad


def build_cases(quick):
    cases = []

    def add(name, L, H, n, causal, seed, flow_func=DEFAULT_FLOW_FUNC, variants=False):
        cases.append(dict(name=name, L=L, H=H, n=n, causal=causal, seed=seed,
                          flow_func=flow_func, variants=variants, hand=None))

    for name, att, grad in (("hand-2x3", HAND_2x3_ATT, None), ("hand-3x2", HAND_3x2_ATT, None),
                            ("hand-grad-2x2", HAND_GRAD_ATT, HAND_GRAD_GRAD)):
        L, H, n, _ = att.shape
        cases.append(dict(name=name, L=L, H=H, n=n, causal=False, seed=None,
                          flow_func=DEFAULT_FLOW_FUNC, variants=False, hand=(att, grad)))
    seed = 1000
    for L, n in ((2, 3), (3, 5)):
        for causal in (False, True):
            for s in range(2):
                seed += 1
                H = 2 + (seed % 3)
                add(f"L{L}n{n}-{'causal' if causal else 'full'}-s{s}", L, H, n, causal, seed,
                    variants=quick and L == 3 and not causal and s == 0)
    if not quick:
        for causal in (False, True):
            for s in range(2):
                seed += 1
                add(f"L6n8-{'causal' if causal else 'full'}-s{s}", 6, 2 + (seed % 3), 8, causal,
                    seed, variants=not causal and s == 0)
        for causal in (False, True):
            seed += 1
            add(f"L12n16-{'causal' if causal else 'full'}-s0", 12, 4, 16, causal, seed,
                flow_func=DEFAULT_FLOW_FUNC if causal else BIG_CASE_FLOW_FUNC)
    return cases


# ================================================================== reference
def reference_job(job):
    """Pool worker: the reference values for one case (read back from the .npy
    files, i.e. exactly the float32 numbers attnflow reads)."""
    att = np.load(job["att_path"])
    grad = np.load(job["grad_path"])
    t0 = time.perf_counter()
    a_hat = ref.prepare(att)
    roll = ref.rollout(a_hat)
    gr = ref.grad_rollout(att, grad)
    t1 = time.perf_counter()
    _, flow = ref.flow(a_hat, flow_func=job["flow_func"])
    t2 = time.perf_counter()
    return dict(name=job["name"], rollout=roll, flow=flow, **{"grad-rollout": gr},
                seconds=t2 - t0, flow_seconds=t2 - t1)


# =================================================================== attnflow
def run_attnflow(binary, att_path, grad_path, out_path, extra):
    cmd = [binary, "analyze", att_path, "--all-rows", "-m", "rollout,flow,grad-rollout",
           "--gradient", grad_path, "-o", out_path, "-q"] + list(extra)
    if os.path.exists(out_path):
        os.remove(out_path)
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, time.perf_counter() - t0, f"cannot run {' '.join(cmd)}: {e}"
    dt = time.perf_counter() - t0
    if p.returncode != 0:
        return None, dt, (f"exit status {p.returncode}: {' '.join(cmd)}\n"
                          f"{(p.stdout + p.stderr).strip()[-2000:]}")
    try:
        return parse_csv(out_path), dt, None
    except Exception as e:  # malformed output is a failure of the case
        return None, dt, f"{out_path}: cannot parse: {e}"


def parse_csv(path):
    """{method: {(layer, row, column): [values...]}} (a list, to catch duplicates)."""
    data = {}
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != ["method", "layer", "row", "column", "token", "value"]:
            raise ValueError(f"unexpected header {header}")
        for rec in reader:
            if not rec:
                continue
            if len(rec) != 6:
                raise ValueError(f"line {reader.line_num}: {len(rec)} fields")
            method, layer, row, col, _token, value = rec
            key = (int(layer), int(row), int(col))
            data.setdefault(method, {}).setdefault(key, []).append(float(value))
    return data


def compare(got, want, n_layers, n):
    """Returns (per-method max diff, extra stats, list of problems)."""
    problems = []
    maxd = {}
    flow_split = {"l<=2": 0.0, "l>=3": 0.0}
    keys = {(l, i, j) for l in range(1, n_layers + 1) for i in range(n) for j in range(n)}
    for method in METHODS:
        table = got.get(method)
        if table is None:
            problems.append(f"{method}: missing from the CSV")
            maxd[method] = math.inf
            continue
        missing = sorted(keys - table.keys())
        extra = sorted(table.keys() - keys)
        dups = sorted(k for k, v in table.items() if len(v) > 1)
        if missing:
            problems.append(f"{method}: {len(missing)} (layer,row,column) keys missing, e.g. "
                            f"{missing[:5]}")
        if extra:
            problems.append(f"{method}: {len(extra)} unexpected keys, e.g. {extra[:5]}")
        if dups:
            problems.append(f"{method}: {len(dups)} duplicated keys, e.g. {dups[:5]}")
        bad = []
        worst = 0.0
        ref_arr = want[method]
        for key in sorted(keys & table.keys()):
            l, i, j = key
            r = float(ref_arr[l - 1, i, j])
            v = table[key][0]
            d = abs(v - r)
            if math.isnan(d):
                d = math.inf
            worst = max(worst, d)
            if method == "flow":
                part = "l<=2" if l <= 2 else "l>=3"
                flow_split[part] = max(flow_split[part], d)
            if d > TOL:
                bad.append((d, l, i, j, v, r))
        maxd[method] = worst
        if bad:
            bad.sort(reverse=True)
            lines = [f"    layer {l} row {i} column {j}: attnflow {v!r} reference {r!r} "
                     f"(|diff| {d:.3g})" for d, l, i, j, v, r in bad[:8]]
            problems.append(f"{method}: {len(bad)} values differ by more than {TOL:g}:\n"
                            + "\n".join(lines))
    return maxd, flow_split, problems


# ======================================================================= main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--attnflow", required=True, help="path to the attnflow executable")
    ap.add_argument("--workdir", required=True, help="directory for the generated files")
    ap.add_argument("--quick", action="store_true", help="small cases only")
    ap.add_argument("--jobs", type=int, default=2, help="reference worker processes (2)")
    ap.add_argument("--ref-flow-func", choices=sorted(ref.FLOW_FUNCS),
                    help="networkx max-flow for every case (default: edmonds_karp, "
                         f"{BIG_CASE_FLOW_FUNC} for the non-causal L12 n16)")
    ap.add_argument("--only", help="run only the cases whose name contains this string")
    args = ap.parse_args(argv)

    t_start = time.perf_counter()
    passed = failed = 0
    os.makedirs(args.workdir, exist_ok=True)
    binary = os.path.abspath(args.attnflow)

    print(f"attnflow conformance: {binary}; networkx {ref.nx.__version__}, numpy "
          f"{np.__version__}, scipy {'yes' if ref.HAVE_SCIPY else 'no'}; tolerance {TOL:g}")
    sys.stdout.flush()

    # 1. the reference itself
    t0 = time.perf_counter()
    problems = self_test()
    status = "PASS" if not problems else "FAIL"
    print(f"{status} reference-self-test  ({time.perf_counter() - t0:.2f} s)")
    for p in problems:
        print("    " + p.replace("\n", "\n    "))
    passed += not problems
    failed += bool(problems)

    # 2. cases
    cases = build_cases(args.quick)
    if args.only:
        cases = [c for c in cases if args.only in c["name"]]
    jobs = []
    for c in cases:
        if c["hand"] is not None:
            att, grad = c["hand"]
            if grad is None:  # any gradient will do for the hand rollout/flow cases
                grad = make_stack(c["L"], c["H"], c["n"], False, seed=7)[1]
        else:
            att, grad = make_stack(c["L"], c["H"], c["n"], c["causal"], c["seed"])
        c["att_path"] = os.path.join(args.workdir, f"{c['name']}.npy")
        c["grad_path"] = os.path.join(args.workdir, f"{c['name']}-grad.npy")
        np.save(c["att_path"], att)
        np.save(c["grad_path"], grad)
        if args.ref_flow_func:
            c["flow_func"] = args.ref_flow_func
        jobs.append({k: c[k] for k in ("name", "att_path", "grad_path", "flow_func")})

    # attnflow first (fast; timed while nothing else runs) ...
    runs = {}
    if not os.access(binary, os.X_OK):
        print(f"attnflow executable not found: {binary}")
    for c in cases:
        variants = [("", [])]
        if c["variants"]:
            variants += [("[bk]", ["--flow-algorithm", "bk"]),
                         ("[push-relabel]", ["--flow-algorithm", "push-relabel"]),
                         ("[edmonds-karp]", ["--flow-algorithm", "edmonds-karp"]),
                         ("[-j 1]", ["-j", "1"]),
                         ("[-j 2]", ["-j", "2"])]
        for tag, extra in variants:
            out = os.path.join(args.workdir, f"{c['name']}{tag.strip('[]').replace(' ', '')}.csv")
            runs[(c["name"], tag)] = (extra,) + run_attnflow(binary, c["att_path"],
                                                             c["grad_path"], out, extra)

    # ... then the reference, in parallel (largest cases first)
    order = sorted(jobs, key=lambda j: -next(c["L"] * c["n"] ** 3 for c in cases
                                             if c["name"] == j["name"]))
    results = {}
    if order:
        with multiprocessing.Pool(max(1, args.jobs)) as pool:
            for r in pool.imap_unordered(reference_job, order):
                results[r["name"]] = r

    for c in cases:
        want = results[c["name"]]
        for (name, tag), (extra, got, dt, err) in runs.items():
            if name != c["name"]:
                continue
            label = f"{c['name']}{tag}"
            shape = f"L={c['L']} H={c['H']} n={c['n']}"
            timing = (f"reference {want['seconds']:.2f} s (flow: networkx {c['flow_func']}), "
                      f"attnflow {dt:.3f} s")
            if err is not None:
                print(f"FAIL {label}  {shape}  {timing}\n    {err.replace(chr(10), chr(10) + '    ')}")
                failed += 1
                continue
            maxd, split, problems = compare(got, want, c["L"], c["n"])
            diffs = ", ".join(f"{m} {maxd[m]:.2g}" for m in METHODS)
            flow_parts = (f" (flow closed-form layers 1-2 {split['l<=2']:.2g}"
                          + (f", solver layers >=3 {split['l>=3']:.2g})" if c["L"] >= 3 else ")"))
            status = "PASS" if not problems else "FAIL"
            print(f"{status} {label}  {shape}  max|diff|: {diffs}{flow_parts}  {timing}")
            for p in problems:
                print("    " + p)
            passed += not problems
            failed += bool(problems)
        sys.stdout.flush()

    print(f"total {time.perf_counter() - t_start:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
