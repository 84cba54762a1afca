#!/usr/bin/python3
"""Cost per example per method of `attnflow evaluate` (issue 16): runs the benchmark RUNS times per
method, each method alone (so the shared model run computes only what that method reads), on the
first N held-out SVA sentences, and prints the median over runs of the per-example medians
(timing.csv; CPU time of the process by default, steadier than wall time on a busy machine;
--wall for wall time): the shared run, the method's own computation, their sum and its ratio
to raw attention's.

    /usr/bin/python3 bench/evaluate_cost.py [--attnflow build/attnflow] [-n 200] [--runs 3] [-j 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


METHODS = ["raw", "rollout", "flow", "grad-rollout", "blank-out", "input-x-gradient", "random"]


def run_once(a, tmp, tag, methods):
    out = os.path.join(tmp, tag)
    cmd = [a.attnflow, "evaluate", "-n", str(a.examples), "-o", out, "-q", "--no-plots",
           "-j", str(a.threads), "--perturbation", a.perturbation, "-m", ",".join(methods),
           # One bin and the two ends of the curves: the benchmark's own runs are not the
           # method's cost, so they are kept few.
           "--aopc-percents", "50", "--curve-percents", "0,100",
           "--model", os.path.join(ROOT, "datasets/models/sva"),
           "--corpus", os.path.join(ROOT, "datasets/sva/test.jsonl")]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(done.stderr)
    with open(os.path.join(out, "timing.csv")) as f:
        return {row["step"].split(" (")[0]: float(row[a.clock]) for row in csv.DictReader(f)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--attnflow", default=os.path.join(ROOT, "build", "attnflow"))
    ap.add_argument("-n", "--examples", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("-j", "--threads", type=int, default=1)
    ap.add_argument("--perturbation", default="unk")
    ap.add_argument("--wall", action="store_const", dest="clock", const="median_wall_seconds",
                    default="median_cpu_seconds", help="wall time instead of CPU time")
    a = ap.parse_args()
    print(f"attnflow evaluate, first {a.examples} sentences of datasets/sva/test.jsonl, {a.threads} "
          f"thread(s); medians over {a.runs} runs of the per-example medians, {a.clock} (ms per example)")
    print(f"{'method (run alone)':20s} {'shared run':>11s} {'own':>9s} {'total':>9s} {'x raw':>7s} {'perturbed runs':>15s}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for m in METHODS:
            t = [run_once(a, tmp, f"{m}{r}", [m]) for r in range(a.runs)]
            shared = statistics.median(x["shared model run"] for x in t) * 1e3
            own = statistics.median(x[m] for x in t) * 1e3
            pert = statistics.median(x["perturbed inputs"] for x in t) * 1e3
            total = shared + own
            base = base or total
            print(f"{m:20s} {shared:11.3f} {own:9.3f} {total:9.3f} {total / base:7.2f} {pert:15.3f}")
    print("shared run = the one model run per example with what the method reads (logits, and "
          "attention / dy/dA / dy/de as needed); own = the method's scores from it (blank-out: "
          "its n model runs); perturbed runs = the benchmark's deletion/insertion inputs, not "
          "part of the method's cost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
