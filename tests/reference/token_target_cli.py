#!/usr/bin/python3
"""End to end: `attnflow extract --target token:POS:ID` -> HDF5, checked with h5py against the
float64 reference (tests/hf/make_token_golden.py's models) only.

For a causal LM (gpt2_lm) and a masked LM (bert_mlm) of tests/data/models, a corpus of
examples of different lengths extracted in padded batches (-b 2):
  1. --target token:2:5 and token:-2:7: every example's @target is the token id,
     @target_position the resolved position (negative POS: n + POS of that example), the
     stored gradient equals the float64 reference's dy/dA of logits[p, ID] for the stored
     token ids (< 1e-4) and @prediction is the reference's argmax at p;
  2. gpt2_lm, token:-1:5 gives the store next:5 gives (gradients equal, same @target_position).

  /usr/bin/python3 tests/reference/token_target_cli.py --attnflow build/attnflow --work DIR
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "hf"))
import make_token_golden as T  # noqa: E402

G = T.G
CORPUS = ["the cat sat on the mat", "a small dog", "the quick brown fox jumps over the lazy dog", "hello world"]


def run(cmd: list) -> None:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        print("FAIL:", " ".join(cmd), "\n", p.stdout, p.stderr)
        sys.exit(1)


def check(cond: bool, what: str) -> None:
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def extract(attnflow: str, model_dir: str, corpus: str, h5: str, target: str) -> None:
    run([attnflow, "extract", model_dir, corpus, "-o", h5, "-b", "2", "-q", "--overwrite", "--target", target])


def one_model(attnflow: str, name: str, family: str, work: str) -> float:
    model_dir = os.path.join(ROOT, "tests", "data", "models", name)
    model = T.reference_model(model_dir, family)
    corpus = os.path.join(work, "corpus.txt")
    worst = 0.0
    for pos, token in ((2, 5), (-2, 7)):
        target = f"token:{pos}:{token}"
        h5 = os.path.join(work, f"{name}_{pos}.h5")
        extract(attnflow, model_dir, corpus, h5, target)
        with h5py.File(h5, "r") as f:
            count = int(f.attrs["num_examples"])
            check(count == len(CORPUS), f"{h5}: {count} examples")
            lengths = set()
            for i in range(count):
                g = f["examples"][f"{i:09d}"]
                ids = torch.tensor(g["token_ids"][...], dtype=torch.long)[None]
                n = ids.shape[1]
                lengths.add(n)
                p = pos if pos >= 0 else n + pos
                where = f"{name} {target} example {i} (n={n})"
                check(int(g.attrs["target"]) == token, f"{where}: @target {g.attrs['target']}")
                check(int(g.attrs["target_position"]) == p, f"{where}: @target_position {g.attrs['target_position']}")
                b = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids),
                     "lengths": torch.tensor([n])}
                res = G.reference(model, b, family, {"target_index": torch.tensor([token]),
                                                     "target_position": torch.tensor([p])})
                want = res["attention_grads"][:, 0].numpy()
                got = g["gradient"][...].astype(np.float64)
                diff = float(np.abs(got - want).max())
                worst = max(worst, diff)
                check(diff < 1e-4, f"{where}: stored dy/dA vs the float64 reference: {diff:g}")
                check(float(np.abs(want).max()) > 1e-4, f"{where}: dy/dA is not trivially 0")
                check(int(g.attrs["prediction"]) == int(res["logits"][0, p].argmax()), f"{where}: @prediction")
            check(len(lengths) > 1, f"{name}: examples of different lengths ({sorted(lengths)})")
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for option in ("--attnflow", "--work"):  # the attnflow binary, a scratch directory
        ap.add_argument(option, required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.work, exist_ok=True)
    with open(os.path.join(a.work, "corpus.txt"), "w") as f:
        f.write("\n".join(CORPUS) + "\n")
    worst = max(one_model(a.attnflow, name, family, a.work)
                for name, family in (("gpt2_lm", "gpt2"), ("bert_mlm", "bert")))
    # token:-1:ID is next:ID
    gpt2 = os.path.join(ROOT, "tests", "data", "models", "gpt2_lm")
    corpus = os.path.join(a.work, "corpus.txt")
    token, nxt = os.path.join(a.work, "token_last.h5"), os.path.join(a.work, "next.h5")
    extract(a.attnflow, gpt2, corpus, token, "token:-1:5")
    extract(a.attnflow, gpt2, corpus, nxt, "next:5")
    with h5py.File(token, "r") as f, h5py.File(nxt, "r") as g:
        for i in range(len(CORPUS)):
            x, y = f["examples"][f"{i:09d}"], g["examples"][f"{i:09d}"]
            n = x["tokens"].shape[0]
            for key in ("target", "target_position", "prediction"):
                check(int(x.attrs[key]) == int(y.attrs[key]), f"example {i}: @{key} of token:-1:5 and next:5")
            check(int(x.attrs["target_position"]) == n - 1, f"example {i}: @target_position {n - 1}")
            check(np.array_equal(x["gradient"][...], y["gradient"][...]), f"example {i}: gradients of token:-1:5 and next:5")
    print(f"token:POS:ID end to end: gpt2_lm and bert_mlm, 2 targets each, padded batches; "
          f"max |dy/dA - float64 reference| {worst:.2g}; token:-1:5 == next:5")


if __name__ == "__main__":
    main()
