#!/usr/bin/python3
"""Independent float64 numpy reference of the value-aware contribution methods.

Written from the papers' equations (docs/methods.md, "Value-aware contributions"), not from
attnflow's C++ sources: a plain numpy forward of BERT (post-LN), GPT-2 blocks (pre-LN; causal,
or the non-causal SVA encoder) and Llama / Mistral / Qwen2 decoder blocks (pre-RMSNorm, RoPE,
grouped-query attention, SwiGLU, Mistral's sliding window, Qwen2's q/k/v biases) read straight
from the safetensors files, then per layer l, with x_j the layer's input vectors, alpha^h the
attention of query head h and f^h(x) = (x W_V^g + b_V^g) W_O^h (g = h's key/value head; g = h
without grouped-query attention):

  norm           (Kobayashi et al. 2020)  c_ij = || sum_h alpha^h_ij f^h(x'_j) ||_2
  globenc        (Kobayashi et al. 2021; Modarressi et al. 2022)  || N_i(x_j) ||_2 where N_i(x_j)
                 is the part of the residual (+ LayerNorm) output that comes from x_j
  alti           (Ferrando et al. 2022)  c_ij = max(0, ||y_i||_1 - ||y_i - T_i(x_j)||_1),
                 y_i = sum_j T_i(x_j) + the output bias b_O's part (not LN1's beta), rows
                 normalised
  value-zeroing  (Mohebbi et al. 2023)  c_ij = 1 - cos(y_i, y_i with v^h_j = 0 for every h),
                 rows normalised

x'_j = x_j for post-LN blocks, LN1(x_j) for pre-LN blocks and RMSNorm(x_j) (input_layernorm) for
the Llama family; value zeroing zeroes token j's vector in every key/value head. Post-LN: the LayerNorm after the
residual is linear once its input's mean is removed and its deviation s_i (of the full input,
biases included) is fixed: LN(u) = gamma (u - mean u) / s_i + beta; token j's part is
gamma (g_ij - mean g_ij) / s_i with g_ij = sum_h alpha^h_ij f^h(x_j) + [i = j] x_j; the biases
(b_O, beta) belong to no token. GlobEnc also passes that part through the second LayerNorm
(statistics of LN2's full input; the feed-forward output enters only those statistics).
Pre-LN and pre-RMSNorm blocks have no norm on the residual path: T_i(x_j) = g_ij (the Llama
family has no b_O: y_i = sum_j T_i(x_j)). The rotary embeddings' inverse frequencies (rope
scaling) and the config defaults come from hf_decoders.py (the Llama-family reference).

  /usr/bin/python3 tests/reference/contributions.py --write tests/data/models   # the goldens
      [--models llama_base,llama_lm,...]                                          # (a subset)
  /usr/bin/python3 tests/reference/contributions.py --check tests/data/models   # ctest

The goldens (contributions_b3.safetensors in each model directory) hold F64 [L, B, N, N] per
method for the inputs of golden_b3.safetensors (only [:n_b, :n_b] of example b is meaningful).
--check recomputes them and fails on any difference above 1e-12, and checks the properties
(non-negative; ALTI and value-zeroing rows sum to 1; a causal model's upper triangle is 0; with
a sliding window W every method is 0 where i - j >= W, since those keys get no attention).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import struct
import sys

import numpy as np

MODELS = ["bert_base", "bert_cls", "gpt2_base", "gpt2_lm", "sva_encoder", "llama_base", "llama_lm",
          "llama_lm_bf16", "mistral_lm", "qwen2_lm"]
LLAMA_TYPES = ("llama", "mistral", "qwen2")
METHODS = ["norm", "globenc", "globenc_resln", "alti", "value_zeroing"]
DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64}


def read_safetensors(path: str) -> dict:
    with open(path, "rb") as f:
        data = f.read()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + size])
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        raw = data[8 + size + a:8 + size + b]
        if t["dtype"] == "BF16":  # the upper 16 bits of a float32
            bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            out[name] = bits.view(np.float32).reshape(t["shape"])
            continue
        out[name] = np.frombuffer(raw, dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
    return out


def read_weights(directory: str) -> dict:
    """model.safetensors, or every shard named by model.safetensors.index.json."""
    index = os.path.join(directory, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(directory, "model.safetensors"))
    with open(index) as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    out = {}
    for shard in shards:
        out.update(read_safetensors(os.path.join(directory, shard)))
    return out


def rms_norm(x, w, eps):
    return w * x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps)


def silu(x):
    return x / (1.0 + np.exp(-x))


def rotate(t, cos, sin):
    """RoPE on t [n, dh]: t cos + rotate_half(t) sin, rotate_half(t) = [-t2, t1] (halves)."""
    h = t.shape[-1] // 2
    return t * cos + np.concatenate([-t[:, h:], t[:, :h]], -1) * sin


def write_safetensors(path: str, tensors: dict) -> None:
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype=np.float64)
        header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_erf(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def softmax(s):
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


class Model:
    """One model's layers as plain float64 arrays: W_V, b_V, W_O, b_O in x W form ([in, out])."""

    def __init__(self, directory: str):
        with open(os.path.join(directory, "config.json")) as f:
            c = json.load(f)
        w = {k: v.astype(np.float64) for k, v in read_weights(directory).items()}
        self.bert = c["model_type"] == "bert"
        self.llama = c["model_type"] in LLAMA_TYPES
        for prefix in ("bert.", "transformer.", "model."):
            w = {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in w.items()}
        self.w, self.c = w, c
        self.window = None
        if self.llama:
            import hf_decoders  # the config defaults and RoPE frequencies (needs torch)

            c = self.c = hf_decoders._cfg(c)
            self.L, self.H, self.eps = c["num_hidden_layers"], c["num_attention_heads"], c["rms_norm_eps"]
            self.KV, self.dh, self.causal = c["num_key_value_heads"], c["head_dim"], True
            self.window = c.get("sliding_window") if c["model_type"] == "mistral" else None
            self.inv_freq = hf_decoders.inverse_frequencies(c).numpy()
            self.d = c["hidden_size"]
            return
        self.KV = None
        if self.bert:
            self.L, self.H, self.eps = c["num_hidden_layers"], c["num_attention_heads"], c["layer_norm_eps"]
            self.causal = bool(c.get("is_decoder", False))
        else:
            self.L, self.H, self.eps = c["n_layer"], c["n_head"], c["layer_norm_epsilon"]
            self.causal = c.get("attnflow_causal", True) if "AttnflowEncoderClassifier" in c["architectures"] else True
        self.d = w["embeddings.word_embeddings.weight" if self.bert else "wte.weight"].shape[1]

    # ---------------------------------------------------------------- parameters of layer l
    def params(self, l: int) -> dict:
        w, d = self.w, self.d
        if self.llama:  # nn.Linear [out, in] -> x W; absent biases are 0
            p = f"layers.{l}."

            def lin(name):
                W = w[p + name + ".weight"].T
                return W, w.get(p + name + ".bias", np.zeros(W.shape[1]))
            (Wq, bq), (Wk, bk), (Wv, bv), (Wo, bo) = (lin("self_attn." + k + "_proj") for k in "qkvo")
            (Wg, cg), (Wu, cu), (Wd, cd) = (lin("mlp." + k + "_proj") for k in ("gate", "up", "down"))
            return dict(Wq=Wq, bq=bq, Wk=Wk, bk=bk, Wv=Wv, bv=bv, Wo=Wo, bo=bo, Wg=Wg, cg=cg, Wu=Wu, cu=cu,
                        Wd=Wd, cd=cd, g1=w[p + "input_layernorm.weight"], g2=w[p + "post_attention_layernorm.weight"])
        if self.bert:
            p = f"encoder.layer.{l}."
            return dict(
                Wq=w[p + "attention.self.query.weight"].T, bq=w[p + "attention.self.query.bias"],
                Wk=w[p + "attention.self.key.weight"].T, bk=w[p + "attention.self.key.bias"],
                Wv=w[p + "attention.self.value.weight"].T, bv=w[p + "attention.self.value.bias"],
                Wo=w[p + "attention.output.dense.weight"].T, bo=w[p + "attention.output.dense.bias"],
                g1=w[p + "attention.output.LayerNorm.weight"], b1=w[p + "attention.output.LayerNorm.bias"],
                W1=w[p + "intermediate.dense.weight"].T, c1=w[p + "intermediate.dense.bias"],
                W2=w[p + "output.dense.weight"].T, c2=w[p + "output.dense.bias"],
                g2=w[p + "output.LayerNorm.weight"], b2=w[p + "output.LayerNorm.bias"])
        p = f"h.{l}."
        Wa, ba = w[p + "attn.c_attn.weight"], w[p + "attn.c_attn.bias"]
        return dict(
            Wq=Wa[:, :d], bq=ba[:d], Wk=Wa[:, d:2 * d], bk=ba[d:2 * d], Wv=Wa[:, 2 * d:], bv=ba[2 * d:],
            Wo=w[p + "attn.c_proj.weight"], bo=w[p + "attn.c_proj.bias"],
            g1=w[p + "ln_1.weight"], b1=w[p + "ln_1.bias"],
            W1=w[p + "mlp.c_fc.weight"], c1=w[p + "mlp.c_fc.bias"],
            W2=w[p + "mlp.c_proj.weight"], c2=w[p + "mlp.c_proj.bias"],
            g2=w[p + "ln_2.weight"], b2=w[p + "ln_2.bias"])

    def embed(self, ids, types):
        w, n = self.w, len(ids)
        if self.llama:
            return w["embed_tokens.weight"][ids]
        if self.bert:
            x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
            if "embeddings.token_type_embeddings.weight" in w:
                x = x + w["embeddings.token_type_embeddings.weight"][types]
            return layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        return w["wte.weight"][ids] + w["wpe.weight"][:n]

    # ---------------------------------------------------------------- one layer, unpadded
    def layer(self, l: int, x, zero_value: int | None = None) -> dict:
        """Layer l on x [n, d]; zero_value = j sets every head's value vector of token j to 0."""
        if self.llama:
            return self.llama_layer(l, x, zero_value)
        P, H, n, d = self.params(l), self.H, x.shape[0], self.d
        dh = d // H
        xin = x if self.bert else layer_norm(x, P["g1"], P["b1"], self.eps)
        q, k, v = xin @ P["Wq"] + P["bq"], xin @ P["Wk"] + P["bk"], xin @ P["Wv"] + P["bv"]
        if zero_value is not None:
            v = v.copy()
            v[zero_value] = 0.0
        scale = 1.0 / math.sqrt(dh)
        if not self.bert:
            if not self.c.get("scale_attn_weights", True):
                scale = 1.0
            if self.c.get("scale_attn_by_inverse_layer_idx", False):
                scale /= l + 1
        probs = np.zeros((H, n, n))
        context = np.zeros((n, d))
        for h in range(H):
            sl = slice(h * dh, (h + 1) * dh)
            s = q[:, sl] @ k[:, sl].T * scale
            if self.causal:
                s = np.where(np.tril(np.ones((n, n))) > 0, s, -np.inf)
            probs[h] = softmax(s)
            context[:, sl] = probs[h] @ v[:, sl]
        u = x + context @ P["Wo"] + P["bo"]  # the attention residual sum
        if self.bert:
            act = gelu_erf if self.c.get("hidden_act", "gelu") == "gelu" else gelu_tanh
            a = layer_norm(u, P["g1"], P["b1"], self.eps)
            w2 = a + act(a @ P["W1"] + P["c1"]) @ P["W2"] + P["c2"]  # the input of LN2
            y = layer_norm(w2, P["g2"], P["b2"], self.eps)
        else:
            w2 = u + gelu_tanh(layer_norm(u, P["g2"], P["b2"], self.eps) @ P["W1"] + P["c1"]) @ P["W2"] + P["c2"]
            y = w2
        return dict(x=x, xin=xin, probs=probs, u=u, w2=w2, y=y, P=P)

    def llama_layer(self, l: int, x, zero_value: int | None) -> dict:
        """A pre-RMSNorm decoder block: RoPE on q and k only, query head h reads key/value head
        h // (H / KV), keys after the query (and, with a window W, i - j >= W) get no attention."""
        P, H, KV, dh, n = self.params(l), self.H, self.KV, self.dh, x.shape[0]
        xin = rms_norm(x, P["g1"], self.eps)
        q, k, v = xin @ P["Wq"] + P["bq"], xin @ P["Wk"] + P["bk"], xin @ P["Wv"] + P["bv"]
        if zero_value is not None:  # every key/value head's vector of token j, b_V included
            v = v.copy()
            v[zero_value] = 0.0
        angles = np.arange(n, dtype=np.float64)[:, None] * self.inv_freq[None, :]
        cos, sin = np.cos(np.concatenate([angles, angles], -1)), np.sin(np.concatenate([angles, angles], -1))
        i, j = np.arange(n)[:, None], np.arange(n)[None, :]
        allowed = j <= i
        if self.window:
            allowed = allowed & (i - j < self.window)
        probs = np.zeros((H, n, n))
        context = np.zeros((n, H * dh))
        for h in range(H):
            g = h // (H // KV)
            qh = rotate(q[:, h * dh:(h + 1) * dh], cos, sin)
            kg = rotate(k[:, g * dh:(g + 1) * dh], cos, sin)
            probs[h] = softmax(np.where(allowed, qh @ kg.T / math.sqrt(dh), -np.inf))
            context[:, h * dh:(h + 1) * dh] = probs[h] @ v[:, g * dh:(g + 1) * dh]
        u = x + context @ P["Wo"] + P["bo"]
        m = rms_norm(u, P["g2"], self.eps)
        y = u + (silu(m @ P["Wg"] + P["cg"]) * (m @ P["Wu"] + P["cu"])) @ P["Wd"] + P["cd"]
        return dict(x=x, xin=xin, probs=probs, u=u, w2=y, y=y, P=P)

    def value_path(self, r: dict) -> np.ndarray:
        """f^h(x'_j) for every query head and token: [H, n, d]."""
        P, H = r["P"], self.H
        dh = P["Wo"].shape[0] // H
        rep = H // (self.KV or H)
        v = r["xin"] @ P["Wv"] + P["bv"]
        return np.stack([v[:, (h // rep) * dh:(h // rep + 1) * dh] @ P["Wo"][h * dh:(h + 1) * dh]
                         for h in range(H)])

    # ---------------------------------------------------------------- the methods
    def contributions(self, ids, types, attentions=None) -> dict:
        """attentions [L, H, n, n]: the golden maps this forward must reproduce (checked)."""
        x = self.embed(ids, types)
        n, H, d = len(ids), self.H, self.d
        out = {m: np.zeros((self.L, n, n)) for m in METHODS}
        for l in range(self.L):
            r = self.layer(l, x)
            P, probs = r["P"], r["probs"]
            if attentions is not None:
                diff = float(np.abs(probs - attentions[l]).max())
                check(diff < 1e-6, f"layer {l + 1}: the numpy forward's attention differs from the golden by {diff:g}")
            f = self.value_path(r)
            s1 = np.sqrt(r["u"].var(-1) + self.eps)
            s2 = np.sqrt(r["w2"].var(-1) + self.eps)
            for i in range(n):
                T, N_enc, N_res = np.zeros((n, d)), np.zeros((n, d)), np.zeros((n, d))
                for j in range(n):
                    mixed = sum(probs[h, i, j] * f[h, j] for h in range(H))
                    out["norm"][l, i, j] = np.linalg.norm(mixed)
                    g = mixed + (x[j] if i == j else 0.0)
                    if self.bert:  # post-LN: the linear part of LN1 with token i's statistics
                        T[j] = P["g1"] * (g - g.mean()) / s1[i]
                        N_res[j] = T[j]
                        N_enc[j] = P["g2"] * (T[j] - T[j].mean()) / s2[i]
                    else:  # pre-LN / pre-RMSNorm: no norm on the residual path
                        T[j] = N_res[j] = N_enc[j] = g
                    out["globenc"][l, i, j] = np.linalg.norm(N_enc[j])
                    out["globenc_resln"][l, i, j] = np.linalg.norm(N_res[j])
                # y_i: the attention block's output without LN1's beta (ALTI's "resultant")
                y = T.sum(0) + (P["g1"] * (P["bo"] - P["bo"].mean()) / s1[i] if self.bert else P["bo"])
                c = np.array([max(0.0, np.abs(y).sum() - np.abs(y - T[j]).sum()) for j in range(n)])
                out["alti"][l, i] = c / c.sum() if c.sum() > 0 else c  # a zero row stays 0
            for j in range(n):  # value zeroing: the layer again with token j's values zeroed
                yz = self.layer(l, x, zero_value=j)["y"]
                for i in range(n):
                    cos = yz[i] @ r["y"][i] / (np.linalg.norm(yz[i]) * np.linalg.norm(r["y"][i]))
                    out["value_zeroing"][l, i, j] = max(0.0, 1.0 - cos)
            row = out["value_zeroing"][l].sum(-1, keepdims=True)
            out["value_zeroing"][l] = np.where(row > 0, out["value_zeroing"][l] / np.where(row > 0, row, 1), 0)
            x = r["y"]
        return out


def goldens(directory: str) -> dict:
    model = Model(directory)
    g = read_safetensors(os.path.join(directory, "golden_b3.safetensors"))
    ids, lengths = g["input_ids"], g["lengths"]
    types = g.get("token_type_ids", np.zeros_like(ids))
    B, N = ids.shape
    res = {m: np.zeros((model.L, B, N, N)) for m in METHODS}
    for b in range(B):
        n = int(lengths[b])
        c = model.contributions(ids[b, :n], types[b, :n], g["attentions"][:, b, :, :n, :n])
        for m in METHODS:
            res[m][:, b, :n, :n] = c[m]
            check(bool((c[m] >= 0).all()), f"{directory} {m}: negative entries")
            if m in ("alti", "value_zeroing"):
                sums = c[m].sum(-1)
                check(bool(np.all(np.isclose(sums, 1.0, atol=1e-12) | (sums == 0))),
                      f"{directory} {m}: rows do not sum to 1 (or 0)")
            if model.causal:
                check(np.abs(np.triu(c[m], 1)).max() < 1e-12, f"{directory} {m}: causal upper triangle not 0")
            if model.window:  # keys i - j >= W get no attention: no norm, no value-zeroing change
                check(np.abs(np.tril(c[m], -model.window)).max() < 1e-12,
                      f"{directory} {m}: not 0 outside the sliding window")
    return res


def check(cond: bool, what: str) -> None:
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", metavar="MODELS_DIR")
    mode.add_argument("--check", metavar="MODELS_DIR")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated subset of " + ",".join(MODELS))
    args = ap.parse_args()
    root = args.write or args.check
    models = args.models.split(",")
    check(set(models) <= set(MODELS), f"--models: unknown {sorted(set(models) - set(MODELS))}")
    worst = 0.0
    for name in models:
        d = os.path.join(root, name)
        res = goldens(d)
        path = os.path.join(d, "contributions_b3.safetensors")
        if args.write:
            write_safetensors(path, res)
            print(f"wrote {path}")
        else:
            stored = read_safetensors(path)
            for m in METHODS:
                diff = float(np.abs(stored[m] - res[m]).max())
                worst = max(worst, diff)
                check(diff <= 1e-12, f"{path} {m}: differs from the reference by {diff:g}")
    if args.check:
        print(f"contributions reference: {len(models)} models x {len(METHODS)} methods match "
              f"the stored goldens (max diff {worst:g})")


if __name__ == "__main__":
    main()
