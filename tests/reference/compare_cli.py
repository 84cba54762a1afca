#!/usr/bin/python3
"""End to end: `attnflow extract` of the same sentences under the shipped topic models
(datasets/models/topics: the masked-LM backbone, the classifier fine-tuned on it with the
backbone frozen, and the one fine-tuned unfrozen) -> `attnflow compare` -> checked with h5py
and numpy only:

  1. compare.csv (per layer and head: mean / max Jensen-Shannon divergence of the attention
     rows, mean row entropy before / after) and readout.csv (per layer: L1 / JS of the [CLS]
     rollout row and of the mean rollout row) equal the numpy computation on the stored
     attention to 1e-6;
  2. the frozen-backbone classifier's attention is unchanged by fine-tuning: compare reports
     exactly 0 for every head and every readout against the backbone; the unfrozen one changed
     (some head's mean JS > 1e-4);
  3. the figures exist; stores of different sentences give a clear error.

  /usr/bin/python3 tests/reference/compare_cli.py --attnflow build/attnflow --work DIR
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "notebooks"))
import read_attnflow_h5 as store  # noqa: E402
import reference as ref  # noqa: E402

MODELS = os.path.join(ROOT, "datasets", "models", "topics")
CORPUS = os.path.join(ROOT, "datasets", "topics", "test.jsonl")


def run(cmd, expect_ok=True):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        sys.exit(f"FAILED ({p.returncode}): {' '.join(cmd)}\n{p.stderr}")
    return p


def examples(path):
    with store.open_store(path) as f:
        return [(e["tokens"], e["attention"].astype(np.float64))
                for e in (store.example(f, i) for i in range(store.num_examples(f)))]


def entropy(p):
    q = np.where(p > 0, p, 1.0)
    return -(p * np.log(q)).sum(axis=-1)


def js(p, q):
    m = 0.5 * (p + q)
    safe = np.where(m > 0, m, 1.0)
    kp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / safe), 0.0).sum(axis=-1)
    kq = np.where(q > 0, q * np.log(np.where(q > 0, q, 1.0) / safe), 0.0).sum(axis=-1)
    return np.maximum(0.0, 0.5 * kp + 0.5 * kq)


def reference(before, after):
    """Per-head table {(l, h): (js_mean, js_max, h_before, h_after)} and per-layer readout."""
    L, H = before[0][1].shape[:2]
    heads = {(l, h): np.zeros(4) for l in range(L) for h in range(H)}
    readout = np.zeros((L, 4))
    for (ta, a), (tb, b) in zip(before, after):
        assert ta == tb
        d = js(a, b)  # (L, H, n)
        ha, hb = entropy(a), entropy(b)
        for l in range(L):
            for h in range(H):
                v = heads[(l, h)]
                v[0] += d[l, h].mean()
                v[1] = max(v[1], d[l, h].max())
                v[2] += ha[l, h].mean()
                v[3] += hb[l, h].mean()
        ra, rb = ref.rollout(ref.prepare(a)), ref.rollout(ref.prepare(b))
        for l in range(L):
            readout[l, 0] += np.abs(ra[l, 0] - rb[l, 0]).sum()
            readout[l, 1] += js(ra[l, 0], rb[l, 0])
            ma, mb = ra[l].mean(axis=0), rb[l].mean(axis=0)
            readout[l, 2] += np.abs(ma - mb).sum()
            readout[l, 3] += js(ma, mb)
    n = len(before)
    for v in heads.values():
        v[0] /= n
        v[2] /= n
        v[3] /= n
    return heads, readout / n


def check_csv(out, heads, readout):
    worst = 0.0
    with open(os.path.join(out, "compare.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(heads), (len(rows), len(heads))
    for r in rows:
        want = heads[(int(r["layer"]) - 1, int(r["head"]) - 1)]
        got = [float(r[k]) for k in ("js_mean", "js_max", "entropy_before", "entropy_after")]
        got_change = float(r["entropy_change"])
        worst = max(worst, *np.abs(np.array(got) - want), abs(got_change - (want[3] - want[2])))
    with open(os.path.join(out, "readout.csv")) as f:
        rows = list(csv.DictReader(f))
    for r in rows:
        l = int(r["layer"]) - 1
        got = [float(r[k]) for k in ("cls_rollout_l1", "cls_rollout_js", "mean_rollout_l1",
                                     "mean_rollout_js")]
        worst = max(worst, *np.abs(np.array(got) - readout[l]))
    if worst > 1e-6:
        sys.exit(f"{out}: compare CSV differs from numpy by {worst:.3g} (> 1e-6)")
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--attnflow", required=True)
    p.add_argument("--work", required=True)
    a = p.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    corpus = os.path.join(a.work, "corpus.jsonl")
    with open(CORPUS) as f, open(corpus, "w") as g:
        for _, line in zip(range(24), f):
            g.write(line)
    stores = {}
    for name in ("backbone", "frozen", "unfrozen"):
        stores[name] = os.path.join(a.work, name + ".h5")
        run([a.attnflow, "extract", os.path.join(MODELS, name), corpus, "-o", stores[name],
             "-b", "8", "-j", "1", "-q"])
    before = examples(stores["backbone"])
    for name in ("frozen", "unfrozen"):
        out = os.path.join(a.work, "compare_" + name)
        run([a.attnflow, "compare", stores["backbone"], stores[name], "-o", out, "--layer", "1",
             "-q"])
        heads, readout = reference(before, examples(stores[name]))
        check_csv(out, heads, readout)
        for fig in ("heads_before_layer1.png", "heads_after_layer1.png", "js_heatmap.png"):
            path = os.path.join(out, fig)
            if not os.path.isfile(path) or os.path.getsize(path) < 1000:
                sys.exit(f"{path}: missing or too small")
        with open(os.path.join(out, "compare.csv")) as f:
            rows = list(csv.DictReader(f))
        with open(os.path.join(out, "readout.csv")) as f:
            readout_rows = list(csv.DictReader(f))
        js_values = [float(r["js_mean"]) for r in rows]
        if name == "frozen":
            nonzero = [r for r in rows if any(float(r[k]) != 0.0 for k in
                                              ("js_mean", "js_max", "entropy_change"))]
            nonzero += [r for r in readout_rows if any(float(v) != 0.0 for k, v in r.items()
                                                        if k != "layer")]
            if nonzero:
                sys.exit(f"frozen backbone: attention changed: {nonzero[:3]}")
        elif max(js_values) <= 1e-4:
            sys.exit(f"unfrozen backbone: attention did not change (max mean JS {max(js_values)})")
        print(f"{name}: {len(rows)} heads, max mean JS {max(js_values):.3g}")

    other = os.path.join(a.work, "other.jsonl")
    with open(other, "w") as g:
        for i in range(24):
            g.write(json.dumps({"text": "the market and the bank " * (1 + i % 2)}) + "\n")
    run([a.attnflow, "extract", os.path.join(MODELS, "frozen"), other, "-o",
         os.path.join(a.work, "other.h5"), "-q"])
    bad = run([a.attnflow, "compare", stores["backbone"], os.path.join(a.work, "other.h5"), "-o",
               os.path.join(a.work, "bad")], expect_ok=False)
    if bad.returncode == 0 or "compare needs the same examples" not in bad.stderr:
        sys.exit(f"different sentences: no clear error: {bad.stderr}")
    print("compare_cli: OK")


if __name__ == "__main__":
    main()
