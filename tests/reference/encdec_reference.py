#!/usr/bin/python3
"""Independent float64 numpy reference of the encoder-decoder relevance rules of Chefer, Gur &
Wolf (ICCV 2021, "Generic Attention-model Explainability for Interpreting Bi-Modal and
Encoder-Decoder Transformers"), written from the paper's equations (docs/methods.md,
"Encoder-decoder relevance"), not from attnflow's C++ sources:

  A_bar = E_h[(grad A_h * A_h)^+]                                     (eq. 5)
  self-attention of stream s over itself, with R^sq its relevance to the other stream q:
    R^ss += A_bar R^ss,  R^sq += A_bar R^sq                           (eqs. 6, 7)
  R_bar = rownorm(R - I) + I     (eqs. 8, 9; a row of R - I summing to 0 stays 0)
  cross-attention of decoder d over encoder e:
    R^de += R_bar^dd^T A_bar^de R_bar^ee                              (eq. 10)

Order (the paper's encoder-decoder case, DETR): every encoder layer first; then per decoder
block its self-attention (eqs. 6, 7 from the values before the block), then its
cross-attention (eq. 10 with R^dd after this block's self-attention). The encoder never
attends to the decoder, so eq. 11 adds nothing.

  encdec_reference.py DIR [--no-normalize] [--no-self-in-cross]

DIR holds encoder.npy / encoder_grad.npy [Le,H,n,n], decoder.npy / decoder_grad.npy
[Ld,H,m,m], cross.npy / cross_grad.npy [Ld,H,m,n] (float32, as attnflow writes them). Writes
DIR/R_ee.txt (n x n), R_dd.txt (m x m), R_de.txt ([Ld, m, n]: R^de after each decoder block),
cross_fused.txt ([Ld, m, n]: mean-over-heads cross-attention) and cross_mean.txt (m x n: their
mean over layers): first line the shape, then one value per line with 17 significant digits.
"""

from __future__ import annotations

import argparse
import os

import numpy as np


def a_bar(attention: np.ndarray, gradient: np.ndarray) -> np.ndarray:
    """eq. 5: clamp each head's grad * A at zero, then average over heads."""
    return np.clip(gradient * attention, 0.0, None).mean(axis=0)


def r_bar(relevance: np.ndarray) -> np.ndarray:
    """eqs. 8-9: R_hat = R - I, rows divided by their sums (zero rows kept), plus I."""
    eye = np.eye(relevance.shape[0])
    hat = relevance - eye
    sums = hat.sum(axis=1, keepdims=True)
    safe = np.where(sums == 0.0, 1.0, sums)
    return hat / safe + eye


def relevance(enc, enc_g, dec, dec_g, cross, cross_g, normalize=True, self_in_cross=True):
    n = enc.shape[-1]
    m = dec.shape[-1]
    r_ee = np.eye(n)
    for layer in range(enc.shape[0]):
        r_ee = r_ee + a_bar(enc[layer], enc_g[layer]) @ r_ee
    r_dd = np.eye(m)
    r_de = np.zeros((m, n))
    after = []
    for layer in range(dec.shape[0]):
        s = a_bar(dec[layer], dec_g[layer])
        r_dd, r_de = r_dd + s @ r_dd, r_de + s @ r_de
        c = a_bar(cross[layer], cross_g[layer])
        if self_in_cross:
            left = r_bar(r_dd) if normalize else r_dd
            right = r_bar(r_ee) if normalize else r_ee
            r_de = r_de + left.T @ c @ right
        else:
            r_de = r_de + c
        after.append(r_de.copy())
    return r_ee, r_dd, np.stack(after)


def write(path: str, array: np.ndarray) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(" ".join(str(d) for d in array.shape) + "\n")
        for v in array.reshape(-1):
            f.write(f"{v:.17g}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--no-normalize", action="store_true")
    parser.add_argument("--no-self-in-cross", action="store_true")
    args = parser.parse_args()
    load = lambda name: np.load(os.path.join(args.dir, name + ".npy")).astype(np.float64)
    enc, enc_g = load("encoder"), load("encoder_grad")
    dec, dec_g = load("decoder"), load("decoder_grad")
    cross, cross_g = load("cross"), load("cross_grad")
    assert cross.shape[0] == dec.shape[0] and cross.shape[2] == dec.shape[2]
    assert cross.shape[3] == enc.shape[2]
    r_ee, r_dd, r_de = relevance(enc, enc_g, dec, dec_g, cross, cross_g,
                                 normalize=not args.no_normalize,
                                 self_in_cross=not args.no_self_in_cross)
    write(os.path.join(args.dir, "R_ee.txt"), r_ee)
    write(os.path.join(args.dir, "R_dd.txt"), r_dd)
    write(os.path.join(args.dir, "R_de.txt"), r_de)
    fused = cross.mean(axis=1)
    write(os.path.join(args.dir, "cross_fused.txt"), fused)
    write(os.path.join(args.dir, "cross_mean.txt"), fused.mean(axis=0))


if __name__ == "__main__":
    main()
