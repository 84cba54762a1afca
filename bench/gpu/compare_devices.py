#!/usr/bin/env python3
"""GPU checks of issue 22: compare two attention stores to a tolerance, write a small corpus
for a golden model, compare two golden directories.

    compare_devices.py corpus MODEL_DIR OUT.txt [--lines 12]
    compare_devices.py stores A.h5 B.h5 [--tol 1e-5]           exit 1 when a dataset differs
    compare_devices.py goldens OLD_DIR NEW_DIR [--tol 1e-5]    golden_b*.safetensors of each model

Needs numpy and h5py (stores); goldens reads safetensors by hand (numpy only).
"""
import argparse
import json
import os
import struct
import sys

import numpy as np


def words_of(model_dir):
    """Whole words of the model's vocabulary (BERT vocab.txt or GPT-2 vocab.json)."""
    vt = os.path.join(model_dir, "vocab.txt")
    vj = os.path.join(model_dir, "vocab.json")
    if os.path.exists(vt):
        with open(vt, encoding="utf-8") as f:
            w = [x.rstrip("\n") for x in f]
        return [x for x in w if x.isascii() and x.isalpha() and x.islower() and len(x) > 1]
    with open(vj, encoding="utf-8") as f:
        v = json.load(f)
    return [t[1:] for t in v if t.startswith("\u0120") and t[1:].isascii() and t[1:].isalpha() and t[1:].islower()]


def cmd_corpus(a):
    words = words_of(a.model)
    if len(words) < 5:
        sys.exit(f"{a.model}: only {len(words)} whole words in the vocabulary")
    rng = np.random.default_rng(22)
    lines = []
    for i in range(a.lines):
        n = 3 + (i * 5) % 9  # 3..11 words: batches mix lengths (padding on both devices)
        lines.append(" ".join(words[j] for j in rng.integers(0, len(words), n)))
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


SKIP = {"/examples/index"}


def walk(h5, prefix="/"):
    out = {}
    def visit(name, obj):
        if hasattr(obj, "shape"):
            out["/" + name] = obj
    h5.visititems(visit)
    return out


def cmd_stores(a):
    import h5py
    worst = 0.0
    bad = []
    with h5py.File(a.a, "r") as fa, h5py.File(a.b, "r") as fb:
        da, db = walk(fa), walk(fb)
        only = sorted(set(da) ^ set(db))
        for k in only:
            bad.append(f"{k}: only in {'A' if k in da else 'B'}")
        n = 0
        for k in sorted(set(da) & set(db)):
            if k in SKIP or k.endswith("/index"):  # bookkeeping (file offsets of committed examples), not results
                continue
            x, y = da[k][()], db[k][()]
            n += 1
            if np.shape(x) != np.shape(y):
                bad.append(f"{k}: shape {np.shape(x)} vs {np.shape(y)}")
                continue
            x, y = np.asarray(x), np.asarray(y)
            if x.dtype.kind in "fc":
                if x.size:
                    d = float(np.max(np.abs(x.astype(np.float64) - y.astype(np.float64))))
                    worst = max(worst, d)
                    if not d <= a.tol:
                        bad.append(f"{k}: max |diff| {d:.3e} > {a.tol:g}")
            elif not np.array_equal(x, y):
                bad.append(f"{k}: differs (dtype {x.dtype})")
        attr_diff = [k for k in set(fa.attrs) | set(fb.attrs)
                     if k not in fa.attrs or k not in fb.attrs
                     or str(fa.attrs[k]) != str(fb.attrs[k])]
    print(f"{a.a} vs {a.b}: {n} datasets, max |diff| {worst:.3e} (tol {a.tol:g}), "
          f"{len(bad)} problems; root attributes that differ: {sorted(attr_diff) or 'none'}")
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


def read_st(path):
    with open(path, "rb") as f:
        raw = f.read()
    (hl,) = struct.unpack("<Q", raw[:8])
    h = json.loads(raw[8:8 + hl])
    data = raw[8 + hl:]
    dt = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "F64": "<f8"}
    out = {}
    for k, e in h.items():
        if k == "__metadata__":
            continue
        s, t = e["data_offsets"]
        if e["dtype"] == "BF16":  # the high half of a float32
            u = np.frombuffer(data[s:t], dtype="<u2").astype(np.uint32) << 16
            out[k] = u.view(np.float32).reshape(e["shape"])
        else:
            out[k] = np.frombuffer(data[s:t], dtype=dt[e["dtype"]]).reshape(e["shape"])
    return out


def real_part(name, x, lengths):
    """Masks what the goldens call meaningless: padded rows/columns (README of tests/data/models)."""
    x = x.astype(np.float64).copy()
    if lengths is None or x.ndim < 2:
        return x
    B = len(lengths)
    if name in ("attentions", "attention_grads"):  # [L, B, H, N, N]
        for b, n in enumerate(lengths):
            x[:, b, :, n:, :] = 0
            x[:, b, :, :, n:] = 0
    elif x.shape[0] == B and x.ndim >= 2 and name != "logits" or (name == "logits" and x.ndim == 3):
        for b, n in enumerate(lengths):
            x[b, n:] = 0
    return x


def cmd_goldens(a):
    """Every fixture directory of NEW against OLD: safetensors files tensor by tensor (goldens on
    their real part only), other files byte for byte."""
    worst_all = 0.0
    problems = 0
    for m in sorted(os.listdir(a.new)):
        dn, do = os.path.join(a.new, m), os.path.join(a.old, m)
        if not os.path.isdir(dn):
            continue
        same, differ = [], []
        for g in sorted(os.listdir(dn)):
            po, pn = os.path.join(do, g), os.path.join(dn, g)
            if not os.path.exists(po):
                differ.append(f"{g} (new file)")
                continue
            with open(po, "rb") as f1, open(pn, "rb") as f2:
                if f1.read() == f2.read():
                    same.append(g)
                    continue
            if not g.endswith(".safetensors"):
                differ.append(f"{g} (bytes)")
                continue
            o, n = read_st(po), read_st(pn)
            lengths = o.get("lengths")
            parts = []
            for k in sorted(set(o) | set(n)):
                if k not in o or k not in n:
                    parts.append(f"{k}: only in {'old' if k in o else 'new'}")
                    problems += 1
                elif o[k].shape != n[k].shape:
                    parts.append(f"{k}: shape {o[k].shape} vs {n[k].shape}")
                    problems += 1
                elif o[k].size:
                    d = float(np.max(np.abs(real_part(k, o[k], lengths) - real_part(k, n[k], lengths))))
                    worst_all = max(worst_all, d)
                    if d > a.tol:
                        problems += 1
                        parts.append(f"{k} {d:.2e} > tol")
                    elif d > 0:
                        parts.append(f"{k} {d:.1e}")
            differ.append(f"{g}: " + (", ".join(parts) or "same tensors, other bytes"))
        print(f"{m}: {len(same)} files identical ({' '.join(same)})")
        for d in differ:
            print(f"  {d}")
    print(f"goldens {a.old} vs {a.new}: max |diff| on real parts {worst_all:.3e}, "
          f"{problems} tensors over tol {a.tol:g}")
    return 1 if problems else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    s = p.add_subparsers(dest="cmd", required=True)
    c = s.add_parser("corpus"); c.add_argument("model"); c.add_argument("out"); c.add_argument("--lines", type=int, default=12)
    c = s.add_parser("stores"); c.add_argument("a"); c.add_argument("b"); c.add_argument("--tol", type=float, default=1e-5)
    c = s.add_parser("goldens"); c.add_argument("old"); c.add_argument("new"); c.add_argument("--tol", type=float, default=1e-5)
    a = p.parse_args()
    return {"corpus": cmd_corpus, "stores": cmd_stores, "goldens": cmd_goldens}[a.cmd](a) or 0


if __name__ == "__main__":
    sys.exit(main())
