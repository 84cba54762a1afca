"""Float64 references for seed 004's character GPT (attnflow's AttnflowCharGPT).

Two independent forwards of the post-LN model described in issue 20 / seed 004:

  * ``Gpt``: the seed's PyTorch modules (Head with bias-free key/query/value, MultiHeadAttention
    = concatenated heads + proj, FeedForward = Linear(d, 4d), ReLU, Linear(4d, d), Block with
    ``x = ln1(x + sa(x)); x = ln2(x + ffwd(x))``, token + learned position embeddings, lm_head);
    its ``state_dict`` names are the tensor names attnflow saves;
  * ``numpy_forward``: the same equations in plain numpy from the safetensors tensors.

``--make DIR`` writes a tiny fixture (random weights, LayerNorm parameters and biases included,
rounded to float32) as config.json + model.safetensors with the float64 logits and attention
maps of two sequences in golden.json; ``--check DIR`` recomputes both references from the saved
tensors and compares them with golden.json and each other (< 1e-10).  Run with /usr/bin/python3
(torch 1.13 + numpy).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "hf"))
import make_model_golden as G  # noqa: E402  (safetensors reader / writer)

VOCAB, N_CTX, N_EMBD, N_HEAD, N_LAYER = 11, 8, 16, 4, 2
CASES = [[3, 1, 4, 1, 5, 9, 2, 6], [10, 0, 7, 7, 2]]


class Head(nn.Module):
    def __init__(self, n_embd: int, head_size: int):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)

    def forward(self, x):
        T = x.shape[1]
        k, q = self.key(x), self.query(x)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5
        tril = torch.tril(torch.ones(T, T, dtype=torch.bool))
        wei = F.softmax(wei.masked_fill(~tril, float("-inf")), dim=-1)
        return wei @ self.value(x), wei


class MultiHeadAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.heads = nn.ModuleList([Head(n_embd, n_embd // n_head) for _ in range(n_head)])
        self.proj = nn.Linear(n_embd, n_embd)

    def forward(self, x):
        outs = [h(x) for h in self.heads]
        return self.proj(torch.cat([o for o, _ in outs], dim=-1)), torch.stack([w for _, w in outs], 1)


class FeedForward(nn.Module):
    def __init__(self, n_embd: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.ReLU(), nn.Linear(4 * n_embd, n_embd))

    def forward(self, x):
        return self.net(x)


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.sa = MultiHeadAttention(n_embd, n_head)
        self.ffwd = FeedForward(n_embd)
        self.ln1 = nn.LayerNorm(n_embd)
        self.ln2 = nn.LayerNorm(n_embd)

    def forward(self, x):
        a, w = self.sa(x)
        x = self.ln1(x + a)
        return self.ln2(x + self.ffwd(x)), w


class Gpt(nn.Module):
    def __init__(self, vocab: int, n_ctx: int, n_embd: int, n_head: int, n_layer: int):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab, n_embd)
        self.position_embedding_table = nn.Embedding(n_ctx, n_embd)
        self.blocks = nn.ModuleList([Block(n_embd, n_head) for _ in range(n_layer)])
        self.lm_head = nn.Linear(n_embd, vocab)

    def forward(self, idx):
        T = idx.shape[1]
        x = self.token_embedding_table(idx) + self.position_embedding_table(torch.arange(T))
        maps = []
        for b in self.blocks:
            x, w = b(x)
            maps.append(w)
        return self.lm_head(x), torch.stack(maps, 1)  # [B, T, V], [B, L, H, T, T]


def numpy_forward(sd: dict, ids: list, n_head: int, n_layer: int):
    """The same model in plain numpy (float64)."""
    t = {k: v.double().numpy() for k, v in sd.items()}
    n = len(ids)

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-5) * t[p + ".weight"] + t[p + ".bias"]

    x = t["token_embedding_table.weight"][ids] + t["position_embedding_table.weight"][:n]
    maps = []
    for l in range(n_layer):
        p = f"blocks.{l}."
        outs, ws = [], []
        for h in range(n_head):
            q = x @ t[f"{p}sa.heads.{h}.query.weight"].T
            k = x @ t[f"{p}sa.heads.{h}.key.weight"].T
            v = x @ t[f"{p}sa.heads.{h}.value.weight"].T
            s = q @ k.T / np.sqrt(k.shape[1])
            s[np.triu_indices(n, 1)] = -np.inf
            e = np.exp(s - s.max(-1, keepdims=True))
            w = e / e.sum(-1, keepdims=True)
            ws.append(w)
            outs.append(w @ v)
        a = np.concatenate(outs, -1) @ t[p + "sa.proj.weight"].T + t[p + "sa.proj.bias"]
        x = ln(x + a, p + "ln1")
        hdn = np.maximum(x @ t[p + "ffwd.net.0.weight"].T + t[p + "ffwd.net.0.bias"], 0)
        x = ln(x + hdn @ t[p + "ffwd.net.2.weight"].T + t[p + "ffwd.net.2.bias"], p + "ln2")
        maps.append(np.stack(ws))
    return x @ t["lm_head.weight"].T + t["lm_head.bias"], np.stack(maps)


def references(d: str):
    config = json.load(open(os.path.join(d, "config.json")))
    sd = G.read_safetensors(os.path.join(d, "model.safetensors"))
    model = Gpt(config["vocab_size"], config["n_positions"], config["n_embd"], config["n_head"],
                config["n_layer"]).double()
    model.load_state_dict({k: v.double() for k, v in sd.items()}, strict=True)  # the names match
    model.eval()
    out = []
    for ids in CASES:
        with torch.no_grad():
            logits, maps = model(torch.tensor([ids]))
        nl, nm = numpy_forward(sd, ids, config["n_head"], config["n_layer"])
        diff = max(np.abs(logits[0].numpy() - nl).max(), np.abs(maps[0].numpy() - nm).max())
        if diff > 1e-10:
            sys.exit(f"char_gpt.py: torch and numpy references differ by {diff:.3g} on {ids}")
        out.append({"ids": ids, "logits": nl.ravel().tolist(), "attention": nm.ravel().tolist()})
    return out


def make(d: str) -> None:
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(4)
    model = Gpt(VOCAB, N_CTX, N_EMBD, N_HEAD, N_LAYER)
    with torch.no_grad():
        for name, p in model.named_parameters():  # non-trivial LayerNorms and biases as well
            if name.endswith("ln1.weight") or name.endswith("ln2.weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(0.4 * torch.randn_like(p))
    G.write_safetensors(os.path.join(d, "model.safetensors"),
                        {k: v.float() for k, v in model.state_dict().items()})
    config = {"model_type": "gpt2", "architectures": ["AttnflowCharGPT"], "attnflow_causal": True,
              "n_embd": N_EMBD, "n_layer": N_LAYER, "n_head": N_HEAD, "n_inner": 4 * N_EMBD,
              "n_positions": N_CTX, "n_ctx": N_CTX, "vocab_size": VOCAB, "layer_norm_epsilon": 1e-5,
              "activation_function": "relu", "dropout": 0.0, "tie_word_embeddings": False,
              "torch_dtype": "float32"}
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "golden.json"), "w") as f:
        json.dump({"cases": references(d)}, f)
        f.write("\n")


def check(d: str) -> None:
    golden = json.load(open(os.path.join(d, "golden.json")))["cases"]
    for g, r in zip(golden, references(d)):
        for key in ("logits", "attention"):
            diff = np.abs(np.array(g[key]) - np.array(r[key])).max()
            if diff > 1e-10:
                sys.exit(f"char_gpt.py: {key} of {g['ids']} differ from golden.json by {diff:.3g}")
    print(f"char_gpt.py: {len(golden)} cases of {d} reproduced (torch and numpy agree < 1e-10)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--make", metavar="DIR")
    g.add_argument("--check", metavar="DIR")
    a = ap.parse_args()
    torch.set_num_threads(1)
    make(a.make) if a.make else check(a.check)
