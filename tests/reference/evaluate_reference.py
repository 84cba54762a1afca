"""Independent check of `attnflow evaluate` from its own outputs.

Reads the folder `attnflow evaluate --save-scores` wrote (scores.jsonl: every example's ids,
special flags, explained class and each method's token scores; table.csv; curves.csv) and
recomputes, in float64 with the pure-PyTorch reference model of tests/reference/hf_models.py
(each input run alone, no batching or padding):

* the explained class (the reference model's argmax on the whole example, for --target
  predicted);
* the blank-out scores |p(x) - p(x with token k = replacement)|, the raw attention of row 0 at
  the last layer (head mean), and input x gradient |sum_d dy/de * e| of the class logit;
* ERASER's metrics from the dumped scores, written from DeYoung et al. (2020): the top k% of
  the m non-special tokens (ties: earlier position first), k% -> ceil(k m / 100) clamped to
  [1, m] in exact rational arithmetic; comprehensiveness p(x) - p(x without top k),
  sufficiency p(x) - p(top k only); AOPC = mean over the bins; deletion / insertion curves and
  their trapezoid areas; Spearman with blank-out over the non-special tokens (scipy, NaN -> 0);

and compares them with table.csv and curves.csv. Exit 0 when every number agrees to --tol.

    /usr/bin/python3 tests/reference/evaluate_reference.py OUT_DIR --model datasets/models/sva
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from fractions import Fraction

import numpy as np
import torch
from scipy.stats import spearmanr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "hf"))
import hf_models  # noqa: E402
from make_model_golden import read_safetensors  # noqa: E402


def load_model(model_dir: str):
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    model = hf_models.build_model(config)
    sd = {k: torch.as_tensor(np.asarray(v)) for k, v in read_safetensors(os.path.join(model_dir, "model.safetensors")).items()}
    hf_models.load_hf_state_dict(model, sd)
    return model.double().eval()


def probabilities(model, ids):
    with torch.no_grad():
        out = model(torch.tensor([ids]), torch.ones(1, len(ids), dtype=torch.long))
    return torch.softmax(out["logits"][0], -1).numpy()


def top_count(percent: float, m: int) -> int:
    if percent <= 0:
        return 0
    c = math.ceil(Fraction(percent).limit_denominator(10**6) * m / 100)
    return min(max(c, 1), m)


def perturb(ids, drop, mode, replacement):
    if mode == "remove":
        return [t for i, t in enumerate(ids) if i not in drop]
    return [replacement if i in drop else t for i, t in enumerate(ids)]


def example_metrics(model, ex, method, aopc, curve, mode, replacement, cache):
    ids, special, target = ex["ids"], ex["special"], ex["target"]
    scores = ex["scores"][method]
    eligible = [i for i in range(len(ids)) if not special[i]]
    order = sorted(eligible, key=lambda i: (-scores[i], i))

    def p(v):
        key = (target, tuple(v))
        if key not in cache:
            cache[key] = probabilities(model, list(v))[target]
        return cache[key]

    full = p(ids)

    def without(k):
        return p(perturb(ids, set(order[: top_count(k, len(eligible))]), mode, replacement))

    def only(k):
        top = set(order[: top_count(k, len(eligible))])
        return p(perturb(ids, {i for i in eligible if i not in top}, mode, replacement))

    comp = [full - without(k) for k in aopc]
    suff = [full - only(k) for k in aopc]
    return comp, suff, [without(k) for k in curve], [only(k) for k in curve]


def check_method_scores(model, ex, replacement, tol, report):
    """blank-out, raw and input-x-gradient scores against the reference model."""
    ids, special, target, scores = ex["ids"], ex["special"], ex["target"], ex["scores"]
    if "blank-out" in scores:
        base = probabilities(model, ids)[target]
        for k in range(len(ids)):
            want = 0.0 if special[k] else abs(base - probabilities(model, perturb(ids, {k}, "unk", replacement))[target])
            report("blank-out score", ex["line"], scores["blank-out"][k], want, tol)
    ids_t = torch.tensor([ids])
    if "raw" in scores:
        with torch.no_grad():
            out = model(ids_t, torch.ones_like(ids_t))
        last = out["attentions"][-1][0].mean(0)[0].numpy()
        for k in range(len(ids)):
            report("raw score", ex["line"], scores["raw"][k], last[k], 1e-5)
    if "input-x-gradient" in scores:
        emb = model.transformer.wte(ids_t).detach().requires_grad_(True)
        out = model(ids_t, torch.ones_like(ids_t), inputs_embeds=emb)
        out["logits"][0, target].backward()
        gxe = (emb.grad[0] * emb[0]).sum(-1).abs().detach().numpy()
        for k in range(len(ids)):
            report("input-x-gradient score", ex["line"], scores["input-x-gradient"][k], gxe[k], 1e-4 * max(1.0, abs(gxe[k])))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="the folder attnflow evaluate --save-scores wrote")
    ap.add_argument("--model", required=True)
    ap.add_argument("--perturbation", default="unk", choices=["unk", "mask", "remove"])
    ap.add_argument("--aopc", default="1,5,10,20,50")
    ap.add_argument("--curve", default="0,10,20,30,40,50,60,70,80,90,100")
    ap.add_argument("--tol", type=float, default=2e-5, help="probabilities: float32 vs float64")
    ap.add_argument("--score-checks", type=int, default=10, help="examples whose scores are re-derived")
    a = ap.parse_args()
    aopc = [float(x) for x in a.aopc.split(",")]
    curve = [float(x) for x in a.curve.split(",")]
    vocab = open(os.path.join(a.model, "vocab.txt"), encoding="utf-8").read().split("\n")
    # The curves' replacement; blank-out uses the same token ([UNK] when tokens are removed).
    replacement = vocab.index("[MASK]" if a.perturbation == "mask" else "[UNK]")
    model = load_model(a.model)
    examples = [json.loads(line) for line in open(os.path.join(a.out, "scores.jsonl"))]
    methods = list(examples[0]["scores"].keys())
    worst = {"diff": 0.0}
    failures = []

    def report(what, where, got, want, tol):
        d = abs(float(got) - float(want))
        worst["diff"] = max(worst["diff"], d)
        if not d <= tol:
            failures.append(f"{what} (line {where}): attnflow {got}, reference {want}")

    for i, ex in enumerate(examples):
        pred = int(np.argmax(probabilities(model, ex["ids"])))
        if pred != ex["target"]:
            failures.append(f"line {ex['line']}: explained class {ex['target']}, reference prediction {pred}")
        if i < a.score_checks:
            check_method_scores(model, ex, replacement, 1e-5, report)

    table = {r["method"]: r for r in csv.DictReader(open(os.path.join(a.out, "table.csv")))}
    curves = {}
    for r in csv.DictReader(open(os.path.join(a.out, "curves.csv"))):
        curves[(r["method"], r["curve"], float(r["percent"]))] = float(r["probability"])
    for method in methods:
        cache = {}
        comp, suff, dele, ins, rho = [], [], [], [], []
        for ex in examples:
            c, s, d, n = example_metrics(model, ex, method, aopc, curve, a.perturbation, replacement, cache)
            comp.append(c), suff.append(s), dele.append(d), ins.append(n)
            if "blank-out" in ex["scores"]:
                el = [k for k in range(len(ex["ids"])) if not ex["special"][k]]
                r = spearmanr([ex["scores"][method][k] for k in el], [ex["scores"]["blank-out"][k] for k in el]).correlation if len(el) > 1 else float("nan")
                rho.append(0.0 if math.isnan(r) else r)
        row = table[method]
        aopc_comp = np.mean(np.asarray(comp), axis=1)
        aopc_suff = np.mean(np.asarray(suff), axis=1)
        report(f"{method} comprehensiveness", "all", row["comprehensiveness"], aopc_comp.mean(), a.tol)
        report(f"{method} comprehensiveness std", "all", row["comprehensiveness_std"], aopc_comp.std(), a.tol)
        report(f"{method} sufficiency", "all", row["sufficiency"], aopc_suff.mean(), a.tol)
        for j, k in enumerate(aopc):
            report(f"{method} comprehensiveness {k}%", "all", row[f"comprehensiveness_{k:g}"], np.mean(np.asarray(comp)[:, j]), a.tol)
            report(f"{method} sufficiency {k}%", "all", row[f"sufficiency_{k:g}"], np.mean(np.asarray(suff)[:, j]), a.tol)
        for name, values in (("deletion", dele), ("insertion", ins)):
            mean = np.mean(np.asarray(values), axis=0)
            for j, k in enumerate(curve):
                report(f"{method} {name} {k}%", "all", curves[(method, name, k)], mean[j], a.tol)
            area = float(np.sum(np.diff(np.asarray(curve) / 100) * (mean[1:] + mean[:-1]) / 2))
            report(f"{method} {name} area", "all", row[f"{name}_area"], area, a.tol)
        if rho:
            report(f"{method} Spearman with blank-out", "all", row["spearman_blank_out"], np.mean(rho), 1e-9)
    print(f"evaluate reference: {len(examples)} examples, {len(methods)} methods, largest difference {worst['diff']:.3g}")
    for f in failures[:20]:
        print("MISMATCH", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
