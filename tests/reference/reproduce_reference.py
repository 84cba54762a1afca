"""Independent check of `attnflow reproduce abnar2020` under both evaluation conventions.

Runs `attnflow reproduce abnar2020 -n K` on the first K held-out sentences and recomputes
every raw / rollout / flow cell of its Tables 1, 2 and 2b (tables.csv) in float64, with the
pure-PyTorch reference model of tests/reference/hf_models.py (each input run alone), following
the evaluation of the paper's own code (samiraabnar/attention_flow, run_bert_sv.py and
attention_graph_util.py, read, not copied):

* input = [CLS] words [SEP] (every word of the SVA vocabulary is one token);
* raw relevance at layer l = the head-summed attention row of [CLS], divided by its sum;
* rollout ("joint attention"): per layer the head mean plus the identity, rows renormalised,
  multiplied up from layer 1; the [CLS] row keeps the residual's weight on [CLS] itself;
* flow: networkx Edmonds-Karp max-flow from node (l, [CLS]) to every input node of the layered
  graph with those capacities, the row divided by its sum;
* blank-out: every position in turn ([CLS] and [SEP] included) replaced by [UNK],
  |p_label(x) - p_label(x_k)|; input x gradient |sum_d g e| of
  g = d(p_singular - p_plural)/d(token embedding). Table 2's |sum_d g| is zero in exact
  arithmetic (a LayerNorm on every path is blind to a constant added to all components), so its
  correlations rank rounding noise: checked only to be zero up to rounding (|sum g| / |g|);
* Spearman (scipy) per example, NaN -> 0, mean and population std over the examples:
  the "paper" convention over all n positions, the "attnflow" convention over 1..n-2.

Exit 0 when every cell agrees to --tol.

    /usr/bin/python3 tests/reference/reproduce_reference.py --attnflow build/attnflow \
        --model datasets/models/sva --test datasets/sva/test.jsonl --work /tmp/rep --examples 6
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys

import networkx as nx
import numpy as np
import torch
from scipy.stats import spearmanr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from evaluate_reference import load_model  # noqa: E402


def paper_raw(att, layer):
    row = att[layer].sum(axis=0)[0]
    return row / row.sum()


def paper_rollout(att):
    aug = att.mean(axis=1) + np.eye(att.shape[-1])[None]
    aug = aug / aug.sum(axis=-1, keepdims=True)
    joint = [aug[0]]
    for l in range(1, aug.shape[0]):
        joint.append(aug[l] @ joint[-1])
    return aug, [j[0] for j in joint]


def paper_flow(aug, layer):
    """Max-flow from (layer+1, 0) to every input node (0, j), normalised."""
    L, n, _ = aug.shape
    g = nx.DiGraph()
    for l in range(1, layer + 2):
        for i in range(n):
            for j in range(n):
                if aug[l - 1, i, j] > 0:
                    g.add_edge((l, i), (l - 1, j), capacity=float(aug[l - 1, i, j]))
    values = np.array([nx.maximum_flow_value(g, (layer + 1, 0), (0, j),
                                             flow_func=nx.algorithms.flow.edmonds_karp)
                       for j in range(n)])
    # Flow rows tie where one bottleneck caps several inputs (exactly, in exact arithmetic);
    # rounding away float64 noise below 1e-12 keeps those ties for the ranks.
    return np.round(values / values.sum(), 12)


def probabilities(model, ids):
    with torch.no_grad():
        out = model(torch.tensor(ids), torch.ones(len(ids), len(ids[0]), dtype=torch.long))
    return torch.softmax(out["logits"], -1).numpy()


def example_scores(model, ids, label, unk):
    """Per-method per-layer [CLS] rows and the three baselines, all n positions."""
    ids_t = torch.tensor([ids])
    emb = model.transformer.wte(ids_t).detach().requires_grad_(True)
    out = model(ids_t, torch.ones_like(ids_t), inputs_embeds=emb)
    p = torch.softmax(out["logits"][0], -1)
    (p[0] - p[1]).backward()
    g = emb.grad[0]
    # Every path from a token embedding to the logits passes a LayerNorm, which is blind to
    # adding a constant to all d components: sum_d g is 0 in exact arithmetic, so Table 2's
    # |sum_d g| is rounding noise (float32 in attnflow, float64 here) and only checked as such.
    noise = float(g.sum(-1).abs().max() / g.norm(dim=-1).max())
    base = {"input-x-gradient": (g * emb[0]).sum(-1).abs().detach().numpy()}
    n = len(ids)
    variants = [list(ids)]
    for k in range(n):
        v = list(ids)
        v[k] = unk
        variants.append(v)
    probs = probabilities(model, variants)[:, label]
    base["blank-out"] = np.abs(probs[0] - probs[1:])
    att = np.stack([a[0].detach().numpy() for a in out["attentions"]])  # (L, H, n, n)
    aug, rollout_rows = paper_rollout(att)
    L = att.shape[0]
    rows = {
        "raw": [paper_raw(att, l) for l in range(L)],
        "rollout": rollout_rows,
        "flow": [paper_flow(aug, l) for l in range(L)],
    }
    return rows, base, noise


def rho(x, y):
    r = spearmanr(x, y).correlation
    return 0.0 if math.isnan(r) else float(r)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--attnflow", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--test", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--examples", type=int, default=6)
    ap.add_argument("--tol", type=float, default=1e-6)
    a = ap.parse_args()
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    out = os.path.join(a.work, "out")
    subprocess.run([a.attnflow, "reproduce", "abnar2020", "--ci", "-n", str(a.examples), "-q",
                    "-j", "1", "--model", a.model, "--test", a.test, "-o", out], check=True,
                   stdout=subprocess.DEVNULL)

    vocab = open(os.path.join(a.model, "vocab.txt"), encoding="utf-8").read().split("\n")
    index = {w: i for i, w in enumerate(vocab)}
    model = load_model(a.model)
    lines = [json.loads(l) for l in open(a.test, encoding="utf-8")][: a.examples]
    kept = {"paper": lambda v: v, "attnflow": lambda v: v[1:-1]}
    worst_noise = 0.0
    values = {}  # (convention, baseline, method, layer) -> per-example correlations
    for ex in lines:
        ids = [index["[CLS]"]] + [index[w] for w in ex["text"].split()] + [index["[SEP]"]]
        rows, base, noise = example_scores(model, ids, ex["label"], index["[UNK]"])
        worst_noise = max(worst_noise, noise)
        for conv, cut in kept.items():
            for b, scores in base.items():
                for m, per_layer in rows.items():
                    for l, row in enumerate(per_layer):
                        values.setdefault((conv, b, m, l + 1), []).append(rho(cut(row), cut(scores)))

    failures, worst, checked = [], 0.0, 0
    with open(os.path.join(out, "tables.csv")) as f:
        for r in csv.DictReader(f):
            key = (r["convention"], r["baseline"], r["method"], int(r["layer"]))
            if key not in values:
                continue  # grad-rollout and the input-gradient noise: not re-derived here
            want = np.asarray(values[key])
            for what, got, ref in (("mean", float(r["mean"]), want.mean()), ("std", float(r["std"]), want.std())):
                d = abs(got - ref)
                worst = max(worst, d)
                checked += 1
                if not d <= a.tol:
                    failures.append(f"{key} {what}: attnflow {got}, reference {ref}")
    if checked != 2 * 2 * 2 * 3 * 6:
        failures.append(f"checked {checked} numbers, expected 144 (2 conventions x Tables 1, 2b x 3 methods x 6 layers x mean/std)")
    if not worst_noise < 1e-9:
        failures.append(f"|sum_d g| / |g| reached {worst_noise}: not the LayerNorm's zero")
    paper = np.mean([values[("paper", "blank-out", "rollout", 1)]])
    ours = np.mean([values[("attnflow", "blank-out", "rollout", 1)]])
    print(f"reproduce reference: {len(lines)} examples, {checked} numbers, largest difference {worst:.3g}; "
          f"rollout L1 vs blank-out: paper convention {paper:.4f}, attnflow convention {ours:.4f}; "
          f"Table 2's |sum_d g| / |g| at most {worst_noise:.2g} (zero up to rounding)")
    for f in failures[:80]:
        print("MISMATCH", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
