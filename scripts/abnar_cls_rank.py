"""Where [CLS] ranks in the rollout row of [CLS] and in blank-out, per layer (docs/reproduce.md,
"What changed, and why"): the measurement behind the account of the paper's evaluation
convention. Float64, with the reference model and the paper-convention helpers of
tests/reference/reproduce_reference.py.

    /usr/bin/python3 scripts/abnar_cls_rank.py datasets/models/sva datasets/sva/test.jsonl 200
"""
import json
import os
import sys

import numpy as np
import torch
from scipy.stats import rankdata

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import reproduce_reference as rr  # noqa: E402
from evaluate_reference import load_model  # noqa: E402


def main():
    model_dir, test, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    model = load_model(model_dir)
    vocab = open(os.path.join(model_dir, "vocab.txt"), encoding="utf-8").read().split("\n")
    index = {w: i for i, w in enumerate(vocab)}
    examples = [json.loads(line) for line in open(test, encoding="utf-8")][:count]
    weight, rank_rollout, rank_blank = np.zeros(6), np.zeros(6), 0.0
    for ex in examples:
        ids = [index["[CLS]"]] + [index[w] for w in ex["text"].split()] + [index["[SEP]"]]
        n = len(ids)
        ids_t = torch.tensor([ids])
        with torch.no_grad():
            out = model(ids_t, torch.ones_like(ids_t))
        att = np.stack([a[0].numpy() for a in out["attentions"]])
        _, rows = rr.paper_rollout(att)
        variants = [list(ids)] + [[index["[UNK]"] if j == k else t for j, t in enumerate(ids)] for k in range(n)]
        p = rr.probabilities(model, variants)[:, ex["label"]]
        rank_blank += rankdata(-np.abs(p[0] - p[1:]))[0] / n
        for l in range(6):
            weight[l] += rows[l][0]
            rank_rollout[l] += rankdata(-rows[l])[0] / n
    k = len(examples)
    print(f"{model_dir}: {k} examples")
    print("rollout weight on [CLS], L1..L6:", np.round(weight / k, 3))
    print("normalised rank of [CLS] (1/n = first) in the rollout row:", np.round(rank_rollout / k, 3),
          "in blank-out:", round(rank_blank / k, 3))


if __name__ == "__main__":
    main()
