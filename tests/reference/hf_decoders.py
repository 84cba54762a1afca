"""Pure-PyTorch float64 re-implementation of Hugging Face's *eager* Llama, Mistral and Qwen2.

Companion of hf_models.py / hf_encoders.py, with the same conventions: the module tree and so
every ``state_dict`` name is transformers', ``forward(input_ids, attention_mask,
token_type_ids=None, inputs_embeds=None, attn_delta=None)`` returns a dict with ``attentions``
(the tensors multiplied with V, one per *query* head, ``retain_grad()`` when autograd is on),
``last_hidden_state`` and, for the causal LMs, ``logits``; ``inputs_embeds`` is the
embed_tokens output and ``attn_delta`` adds a tensor to each layer's probabilities after they
were returned.  Written from the published semantics of transformers 4.4x / 5.x
``modeling_llama.py``, ``modeling_mistral.py``, ``modeling_qwen2.py`` and
``modeling_rope_utils.py`` / ``masking_utils.py`` (attn_implementation="eager"):

  * LlamaRMSNorm: weight * x / sqrt(mean(x^2) + rms_norm_eps);
  * block: h = x + o_proj(attn(input_layernorm(x))); out = h + down_proj(act(gate_proj(m)) *
    up_proj(m)) with m = post_attention_layernorm(h); final ``norm``; ``lm_head`` tied to
    embed_tokens when tie_word_embeddings (the default of these configs is untied);
  * rotary embeddings at positions 0..n-1: inv_freq_i = rope_theta^(-2i/head_dim); "linear"
    divides it by factor; "llama3" divides the frequencies with wavelength above
    original_max_position_embeddings / low_freq_factor by factor, keeps those below
    original / high_freq_factor and interpolates between with s = (original / wavelength -
    low) / (high - low): (1 - s) f / factor + s f.  q, k -> x cos + rotate_half(x) sin with
    rotate_half(x) = [-x2, x1] (halves) and cos / sin of [freqs, freqs];
  * grouped-query attention: key/value head g serves query heads g * rep .. g * rep + rep - 1
    (repeat_kv), scores q k^T / sqrt(head_dim), masked entries set to the lowest value before
    the softmax: key after the query, padding key, and for Mistral with a sliding_window W
    every key with query - key >= W (masking_utils: kv_idx > q_idx - W);
  * biases: Llama attention_bias (q/k/v/o), mlp_bias; Qwen2 q/k/v only; Mistral none.

Run with Debian's interpreter (/usr/bin/python3: torch 1.13).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
import torch.nn.functional as F

DEFAULTS = {
    "llama": {"rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False, "hidden_act": "silu"},
    "mistral": {"rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False, "hidden_act": "silu",
                "sliding_window": 4096},
    "qwen2": {"rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": False, "hidden_act": "silu"},
}

ACTIVATIONS = {"silu": F.silu, "gelu": F.gelu, "relu": F.relu}


def _cfg(config: dict) -> dict:
    c = dict(DEFAULTS[config["model_type"]])
    c.update({k: v for k, v in config.items() if v is not None or k == "sliding_window"})
    if c.get("num_key_value_heads") is None:
        c["num_key_value_heads"] = c["num_attention_heads"]
    if c.get("head_dim") is None:
        c["head_dim"] = c["hidden_size"] // c["num_attention_heads"]
    return c


def inverse_frequencies(c: dict) -> Tensor:
    """float64 [head_dim / 2], with rope_scaling (4.x) or rope_parameters (5.x)."""
    dim = c["head_dim"]
    scaling = c.get("rope_scaling") or c.get("rope_parameters") or {}
    theta = scaling.get("rope_theta", c["rope_theta"])
    inv = theta ** (-torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    if kind == "default":
        return inv
    if kind == "linear":
        return inv / scaling["factor"]
    if kind == "llama3":
        factor, low, high = scaling["factor"], scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        wavelen = 2 * math.pi / inv
        out = inv.clone()
        long_ = wavelen > old / low
        short = wavelen < old / high
        s = (old / wavelen - low) / (high - low)
        mid = ~long_ & ~short
        out[long_] = inv[long_] / factor
        out[mid] = (1 - s[mid]) * inv[mid] / factor + s[mid] * inv[mid]
        return out
    raise ValueError(f"rope type {kind}")


def rotate_half(x: Tensor) -> Tensor:
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class RMSNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return self.weight * (x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Attention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, H, KV, dh = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        qkv_bias = c["model_type"] == "qwen2" or bool(c.get("attention_bias", False))
        o_bias = c["model_type"] == "llama" and bool(c.get("attention_bias", False))
        self.q_proj = nn.Linear(d, H * dh, bias=qkv_bias)
        self.k_proj = nn.Linear(d, KV * dh, bias=qkv_bias)
        self.v_proj = nn.Linear(d, KV * dh, bias=qkv_bias)
        self.o_proj = nn.Linear(H * dh, d, bias=o_bias)
        self.H, self.KV, self.dh = H, KV, dh

    def forward(self, x, cos, sin, allowed, delta):
        B, N, _ = x.shape
        q = self.q_proj(x).view(B, N, self.H, self.dh).transpose(1, 2)
        k = self.k_proj(x).view(B, N, self.KV, self.dh).transpose(1, 2)
        v = self.v_proj(x).view(B, N, self.KV, self.dh).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.H // self.KV
        # repeat_kv: [B, KV, N, dh] -> [B, KV, rep, N, dh] -> [B, H, N, dh]
        k = k[:, :, None].expand(B, self.KV, rep, N, self.dh).reshape(B, self.H, N, self.dh)
        v = v[:, :, None].expand(B, self.KV, rep, N, self.dh).reshape(B, self.H, N, self.dh)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dh)
        scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        probs = torch.softmax(scores, dim=-1)
        if probs.requires_grad:
            probs.retain_grad()
        used = probs if delta is None else probs + delta
        ctx = (used @ v).transpose(1, 2).reshape(B, N, self.H * self.dh)
        return self.o_proj(ctx), probs


class MLP(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        d, inner = c["hidden_size"], c["intermediate_size"]
        bias = c["model_type"] == "llama" and bool(c.get("mlp_bias", False))
        self.gate_proj = nn.Linear(d, inner, bias=bias)
        self.up_proj = nn.Linear(d, inner, bias=bias)
        self.down_proj = nn.Linear(inner, d, bias=bias)
        self.act = ACTIVATIONS[c["hidden_act"]]

    def forward(self, x):
        return self.down_proj(self.act(self.gate_proj(x)) * self.up_proj(x))


class DecoderLayer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.self_attn = Attention(c)
        self.mlp = MLP(c)
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, x, cos, sin, allowed, delta):
        a, probs = self.self_attn(self.input_layernorm(x), cos, sin, allowed, delta)
        h = x + a
        return h + self.mlp(self.post_attention_layernorm(h)), probs


class LlamaModel(nn.Module):
    """LlamaModel / MistralModel / Qwen2Model."""

    tied_keys = ()

    def __init__(self, config: dict):
        super().__init__()
        c = _cfg(config)
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        B, N = input_ids.shape
        x = self.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        if attention_mask is None:
            attention_mask = torch.ones(B, N, dtype=torch.long)
        pos = torch.arange(N, dtype=torch.float64)
        freqs = pos[:, None] * inverse_frequencies(self.c)[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        cos, sin = emb.cos().to(x.dtype), emb.sin().to(x.dtype)
        i = torch.arange(N)[:, None]
        j = torch.arange(N)[None, :]
        allowed = j <= i
        window = self.c.get("sliding_window") if self.c["model_type"] == "mistral" else None
        if window:
            allowed = allowed & (j > i - window)
        allowed = allowed[None, None] & attention_mask.bool()[:, None, None, :]
        attentions = []
        for layer, block in enumerate(self.layers):
            delta = None if attn_delta is None else attn_delta[layer]
            x, probs = block(x, cos, sin, allowed, delta)
            attentions.append(probs)
        return {"last_hidden_state": self.norm(x), "attentions": attentions}


class LlamaForCausalLM(nn.Module):
    """LlamaForCausalLM / MistralForCausalLM / Qwen2ForCausalLM (base model under ``model.``)."""

    def __init__(self, config: dict):
        super().__init__()
        self.model = LlamaModel(config)
        c = self.model.c
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.tied_keys = ("lm_head.weight",) if c["tie_word_embeddings"] else ()
        self.tie_weights()

    def tie_weights(self):
        if self.model.c["tie_word_embeddings"]:
            self.lm_head.weight = self.model.embed_tokens.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.model(input_ids, attention_mask, None, inputs_embeds, attn_delta)
        out["logits"] = self.lm_head(out["last_hidden_state"])
        return out


ARCHITECTURES = {
    "LlamaModel": LlamaModel,
    "LlamaForCausalLM": LlamaForCausalLM,
    "MistralModel": LlamaModel,
    "MistralForCausalLM": LlamaForCausalLM,
    "Qwen2Model": LlamaModel,
    "Qwen2ForCausalLM": LlamaForCausalLM,
}


def build_model(config: dict) -> nn.Module:
    model = ARCHITECTURES[config["architectures"][0]](config)
    model.eval()
    return model


__all__ = ["ARCHITECTURES", "build_model", "inverse_frequencies", "LlamaModel", "LlamaForCausalLM"]
