#!/usr/bin/python3
"""Generates datasets/example/attention.npy: a synthetic, BERT-like attention
stack (6 layers x 8 heads, 12 tokens) for the main job's demo.

Each head mixes one of the patterns seen in trained BERT models (previous
token, next token, self, [CLS], [SEP], broad) with seeded random logits, then
applies a softmax per row. Deterministic: same numpy version, same bytes.
Run: /usr/bin/python3 datasets/example/make_example_attention.py
"""
import pathlib

import numpy as np

TOKENS = ["[CLS]", "the", "keys", "to", "the", "cabinet", "are", "on", "the", "table", ".", "[SEP]"]
LAYERS, HEADS = 6, 8


def pattern(kind, n):
    p = np.zeros((n, n))
    idx = np.arange(n)
    if kind == "prev":
        p[idx[1:], idx[:-1]] = 1
        p[0, 0] = 1
    elif kind == "next":
        p[idx[:-1], idx[1:]] = 1
        p[-1, -1] = 1
    elif kind == "self":
        p[idx, idx] = 1
    elif kind == "cls":
        p[:, 0] = 1
    elif kind == "sep":
        p[:, -1] = 1
    return p


def main():
    rng = np.random.default_rng(2020)
    n = len(TOKENS)
    kinds = ["prev", "next", "self", "cls", "sep", "broad"]
    att = np.zeros((LAYERS, HEADS, n, n), dtype=np.float64)
    for layer in range(LAYERS):
        for head in range(HEADS):
            kind = kinds[rng.integers(len(kinds))]
            # lower layers: sharper local patterns; upper layers: more [SEP]/broad
            strength = 4.0 if layer < 3 else 2.5
            logits = strength * pattern(kind, n) + rng.normal(0.0, 1.0, (n, n))
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            att[layer, head] = e / e.sum(axis=1, keepdims=True)
    out = pathlib.Path(__file__).resolve().parent
    np.save(out / "attention.npy", att.astype(np.float32))
    (out / "tokens.txt").write_text("\n".join(TOKENS) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
