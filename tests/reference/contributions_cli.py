#!/usr/bin/python3
"""End to end: `attnflow extract --contributions` -> HDF5 (schema 2) -> `attnflow analyze` with
the value-aware methods, checked with h5py and the independent references only.

For a post-LN model (bert_cls), a causal pre-LN model (gpt2_lm) and a pre-RMSNorm decoder with
grouped-query attention and a sliding window (mistral_lm, fed through a WordPiece vocab.txt of
under 64 ids written here, since the Llama-family fixtures have no tokenizer) of
tests/data/models:
  1. extract a small corpus with --contributions norm,globenc,alti,value-zeroing;
  2. notebooks/read_attnflow_h5.py --check accepts the file (schema version 2);
  3. every stored contribution matrix equals tests/reference/contributions.py's float64 numpy
     computation for the stored token ids (< 1e-4: the extraction runs in float32);
  4. `attnflow analyze` in place with norm-rollout, globenc, globenc-flow, alti, alti-rollout,
     alti-flow, value-zeroing-rollout: every map equals numpy rollout (tests/reference/
     reference.py) / networkx max-flow over the stored matrices, rows normalised (norm:
     residual-augmented, alpha 0.5) (< 1e-6);
  5. analyze of a method whose matrices are not stored fails with a clear message.

  /usr/bin/python3 tests/reference/contributions_cli.py --attnflow build/attnflow --work DIR
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, HERE)
import contributions as cref  # noqa: E402
import reference as ref  # noqa: E402

METHODS = ["norm", "globenc", "alti", "value-zeroing"]
ANALYZED = ["norm-rollout", "globenc", "globenc-flow", "alti", "alti-rollout", "alti-flow",
            "value-zeroing-rollout"]
CORPUS = ["the cat sat on the mat", "a dog", "the quick brown fox jumps over the lazy dog",
          "hello world"]


def run(cmd: list, expect_ok: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if (p.returncode == 0) != expect_ok:
        print("FAIL:", " ".join(cmd), "\n", p.stdout, p.stderr)
        sys.exit(1)
    return p


def check(cond: bool, what: str) -> None:
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def prepared(m: np.ndarray, name: str) -> np.ndarray:
    a = ref._rownorm(np.asarray(m, dtype=np.float64))
    return ref.residual(a, alpha=0.5) if name == "norm" else a


def small_vocab(work: str) -> str:
    """A WordPiece vocab.txt of the corpus's words (ids < 64, the Llama fixtures' vocab_size)."""
    words = sorted({w for line in CORPUS for w in line.split()})
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words
    check(len(tokens) <= 64, "the corpus's words fit a 64-id vocabulary")
    d = os.path.join(work, "vocab64")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("\n".join(tokens) + "\n")
    return d


def one_model(attnflow: str, model_name: str, work: str, tokenizer: str | None = None) -> float:
    model_dir = os.path.join(ROOT, "tests", "data", "models", model_name)
    corpus = os.path.join(work, "corpus.txt")
    with open(corpus, "w") as f:
        f.write("\n".join(CORPUS) + "\n")
    h5 = os.path.join(work, model_name + ".h5")
    run([attnflow, "extract", model_dir, corpus, "-o", h5, "-b", "3", "-q", "--overwrite",
         "--contributions", ",".join(METHODS)] + (["--tokenizer", tokenizer] if tokenizer else []))
    run([sys.executable, os.path.join(ROOT, "notebooks", "read_attnflow_h5.py"), h5, "--check"])
    model = cref.Model(model_dir)
    worst = 0.0
    with h5py.File(h5, "r") as f:
        check(int(f.attrs["attnflow_schema_version"]) == 2, "schema version 2")
        check(f.attrs["contributions"] == ",".join(METHODS), "root attribute contributions")
        for i in range(int(f.attrs["num_examples"])):
            g = f["examples"][f"{i:09d}"]
            ids = g["token_ids"][...]
            want = model.contributions(ids, np.zeros_like(ids))
            for m in METHODS:
                got = g["contribution_" + m.replace("-", "_")][...].astype(np.float64)
                w = want[m.replace("-", "_")]
                diff = float((np.abs(got - w) / np.maximum(1.0, np.abs(w))).max())
                worst = max(worst, diff)
                check(diff < 1e-4, f"{model_name} example {i} {m}: stored vs numpy reference {diff:g}")
    run([attnflow, "analyze", h5, "-m", ",".join(ANALYZED), "-t", "0,-1", "-q"])
    p = run([attnflow, "analyze", h5, "-m", "alti-rollout", "--no-store", "-o",
             os.path.join(work, "x.csv"), "-q"])
    with h5py.File(h5, "r") as f:
        for i in range(int(f.attrs["num_examples"])):
            g = f["examples"][f"{i:09d}"]
            d = f["derived"]["analyze"][f"{i:09d}"]
            n = g["tokens"].shape[0]
            for method in ANALYZED:
                source = method.replace("-rollout", "").replace("-flow", "")
                c = prepared(g["contribution_" + source.replace("-", "_")][...], source)
                ds = d[method]
                rows = [int(r) for r in ds.attrs["rows"]]
                layers = [int(l) for l in ds.attrs["layers"]]
                check(rows == [0, n - 1], f"{method}: rows {rows}")
                if method.endswith("-flow"):
                    full = ref.flow(c)[1]
                elif method == "alti":
                    full = ref._rownorm(g["contribution_alti"][...].astype(np.float64))
                else:  # a rollout (globenc is GlobEnc's rollout)
                    full = ref.rollout(c)
                for k, l in enumerate(layers):
                    diff = float(np.abs(ds[k] - full[l - 1][rows]).max())
                    check(diff < 1e-6, f"{model_name} example {i} {method} layer {l}: {diff:g}")
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--attnflow", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    worst = max([one_model(a.attnflow, m, a.work) for m in ("bert_cls", "gpt2_lm")] +
                [one_model(a.attnflow, "mistral_lm", a.work, small_vocab(a.work))])
    # A method whose matrices the store lacks: one clear error.
    plain = os.path.join(a.work, "plain.h5")
    run([a.attnflow, "extract", os.path.join(ROOT, "tests", "data", "models", "bert_cls"),
         os.path.join(a.work, "corpus.txt"), "-o", plain, "-q", "--overwrite"])
    p = run([a.attnflow, "analyze", plain, "-m", "alti-rollout", "-q"], expect_ok=False)
    want = f"{plain}: the alti contributions are not in this store (extract with --contributions alti)"
    check(want in p.stderr, f"error message: {p.stderr!r}")
    print(f"contributions end to end: bert_cls, gpt2_lm and mistral_lm, {len(METHODS)} methods stored "
          f"(max diff to numpy {worst:.2g}), {len(ANALYZED)} analyses match numpy/networkx")


if __name__ == "__main__":
    main()
