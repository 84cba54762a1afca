#!/usr/bin/python3
"""attnflow.flow against the paper's networkx code and scipy's maximum_flow, in one process.

For random row-stochastic attention stacks (float32, (L, H, n, n)), all layers, every
(node, input) pair, rows normalised:

  * attnflow.flow (the C++ core through `import attnflow`, threads as given);
  * the paper's networkx code (tests/reference/reference.py: the full layered graph, one
    nx.maximum_flow_value with Edmonds-Karp per pair, the graph rebuilt for every call as the
    paper's notebook does; --reuse-residual passes networkx a prebuilt residual network);
  * scipy.sparse.csgraph.maximum_flow with method="dinic" on int64 capacities round(c * 1e7)
    (GlobEnc's approach), one call per pair.

Prints the times, the ratios and the largest differences (networkx must agree to 1e-9, scipy
to its rounding: n edges of a minimum cut x 0.5e-7 before normalisation), and the peak RSS of
the attnflow.flow call against the size of its input. Needs Debian's python3-numpy,
python3-networkx and python3-scipy, and the module on PYTHONPATH:

    PYTHONPATH=build/python /usr/bin/python3 bench/python_flow_bench.py            # n16, n32
    PYTHONPATH=build/python /usr/bin/python3 bench/python_flow_bench.py --sizes 16 --threads 1

The networkx reference takes minutes at n32 (L6 n32 all layers: ~3-7 min on one core).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
import flow_vs_scipy  # noqa: E402
import reference as ref  # noqa: E402
from flow_vs_reference import make_stack  # noqa: E402
from flow_vs_scipy import SCALE  # noqa: E402

import attnflow  # noqa: E402

def peak_rss_kib():
    """Peak resident set size of this process (VmHWM), KiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def reset_peak_rss():
    """Resets VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def current_rss_kib():
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def scipy_flow(a_hat):
    """All-layers flow with scipy's Dinic (bench/flow_vs_scipy.py), as an (L, n, n) array."""
    L, n, _ = a_hat.shape
    out = np.zeros((L, n, n))
    for (l, i, j), v in flow_vs_scipy.scipy_flow(a_hat, range(1, L + 1)).items():
        out[l - 1, i, j] = v
    return out


def bench(L, H, n, args):
    a = make_stack(L, H, n, False, args.seed + n)
    a_hat = attnflow.residual(a)  # float64 A_hat, the matrices all three solve on
    print(f"\n== L{L} H{H} n{n}, all layers: {L * n * n} max-flow pairs ==")

    # attnflow first, on a fresh peak: its memory is measured alone.
    attnflow.flow(a[:1], threads=args.threads, algorithm=args.algorithm)  # warm-up (threads, page faults)
    can_reset = reset_peak_rss()
    rss_before = current_rss_kib()
    t = time.perf_counter()
    got = attnflow.flow(a, threads=args.threads, algorithm=args.algorithm)
    t_af = time.perf_counter() - t
    peak = peak_rss_kib()
    reps = max(4, int(0.5 / max(t_af, 1e-6)))
    times = [t_af]
    for _ in range(reps):
        t = time.perf_counter()
        attnflow.flow(a, threads=args.threads, algorithm=args.algorithm)
        times.append(time.perf_counter() - t)
    t_af = statistics.median(times)
    values = got.values  # (L, n, n): all rows
    print(f"attnflow.flow      {t_af * 1e3:10.2f} ms  ({args.algorithm}, "
          f"threads={args.threads or 'all'}, "
          f"median of {len(times)})")
    extra = (peak - rss_before) if can_reset else float("nan")
    print(f"  memory: input {a.nbytes / 1024:.0f} KiB (float32), result "
          f"{values.nbytes / 1024:.0f} KiB; peak RSS during the call "
          f"+{extra:.0f} KiB over the RSS before it"
          + ("" if can_reset else " (peak reset unavailable)"))

    results = {}
    if not args.skip_scipy:
        t = time.perf_counter()
        sc = scipy_flow(a_hat)
        t_sc = time.perf_counter() - t
        d_sc = float(np.max(np.abs(sc - values)))
        tol_sc = n * 0.5 / SCALE * 4  # rounding of each capacity, then normalisation
        print(f"scipy dinic (int)  {t_sc * 1e3:10.2f} ms  ratio {t_sc / t_af:8.0f}x  "
              f"max |diff| {d_sc:.2e} (rounding bound {tol_sc:.1e})")
        results["scipy"] = (t_sc, d_sc, d_sc <= tol_sc)
    if not (args.skip_networkx or (args.networkx_max_n and n > args.networkx_max_n)):
        t = time.perf_counter()
        _, nx_norm = ref.flow(a_hat, "edmonds_karp", normalize=True,
                              reuse_residual=args.reuse_residual)
        t_nx = time.perf_counter() - t
        d_nx = float(np.max(np.abs(nx_norm - values)))
        print(f"networkx (paper)   {t_nx * 1e3:10.2f} ms  ratio {t_nx / t_af:8.0f}x  "
              f"max |diff| {d_nx:.2e} (tolerance 1e-9)")
        results["networkx"] = (t_nx, d_nx, d_nx <= 1e-9)
    return results


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--L", type=int, default=6)
    p.add_argument("--H", type=int, default=8)
    p.add_argument("--sizes", default="16,32", help="token counts n, comma-separated")
    p.add_argument("--threads", type=int, default=0, help="attnflow threads (0 = all cores)")
    p.add_argument("--algorithm", default=attnflow.DEFAULT_FLOW_ALGORITHM,
                   help="attnflow's max-flow algorithm (default: the CLI's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-networkx", action="store_true")
    p.add_argument("--networkx-max-n", type=int, default=0,
                   help="run networkx only for n <= this (0 = always)")
    p.add_argument("--reuse-residual", action="store_true",
                   help="give networkx a prebuilt residual network (faster than the paper)")
    p.add_argument("--skip-scipy", action="store_true")
    args = p.parse_args(argv)
    print(f"attnflow {attnflow.__version__}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs")
    ok = True
    for n in (int(s) for s in args.sizes.split(",")):
        for name, (_, _, agrees) in bench(args.L, args.H, n, args).items():
            if not agrees:
                print(f"  DISAGREEMENT with {name}", file=sys.stderr)
                ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
