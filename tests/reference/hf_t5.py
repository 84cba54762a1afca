"""Float64 re-implementation of Hugging Face's *eager* T5: T5Model, T5ForConditionalGeneration
and T5EncoderModel, written from the published semantics of transformers 4.x / 5.x
``modeling_t5.py`` (not from its code), with the conventions of hf_models.py: the module tree and
so every ``state_dict`` name is transformers', and ``forward`` returns a dict with the attention
probabilities (``retain_grad()`` when autograd is on), ``attn_delta`` adds tensors to the
probabilities after they were returned (for finite differences), ``inputs_embeds`` replaces the
encoder's word-embedding output (dy/de is the gradient of a leaf the caller made).

The semantics:
  * one embedding matrix ``shared`` [vocab, d_model] for the encoder and decoder inputs (and the
    tied output); no position embeddings, no scaling of the embeddings;
  * blocks are pre-norm: x + Attention(T5LayerNorm(x)), then x + FF(T5LayerNorm(x)); the
    decoder has a cross-attention sublayer between the two (queries from the decoder, keys and
    values from the encoder's final output); each stack ends with a final_layer_norm;
  * T5LayerNorm: weight * x / sqrt(mean(x^2) + eps) - no mean subtraction, no bias (computed in
    float64 here; transformers computes the variance in float32 even for float64 weights);
  * attention: q, k, v, o linear maps without bias (inner dim num_heads * d_kv), scores q k^T
    *not* divided by sqrt(d_kv), plus a position bias [1, H, q, k] that layer 0 of each stack
    computes from its ``relative_attention_bias`` (an embedding of bucket -> H values) and that
    every later layer of that stack reuses; the padding mask (lowest float) is added to the
    bias; the decoder also masks keys after the query; cross-attention has no position bias,
    only the encoder's padding mask;
  * relative buckets of key - query: bidirectional (encoder) -> half of the buckets for keys
    after the query; causal (decoder) -> only keys at or before the query, distance
    query - key; of the buckets left, half are exact distances, the rest logarithmic up to
    max_distance, clamped to the last bucket (the logarithm in float32, as transformers);
  * feed-forward: wo(relu(wi x)) for "relu" (T5 v1.0), wo(act(wi_0 x) * wi_1 x) for "gated-ACT"
    ("gated-gelu": the tanh GELU, as T5Config maps it);
  * T5ForConditionalGeneration: lm_head(decoder output * d_model^-0.5) with lm_head tied to
    ``shared`` when tie_word_embeddings (default), else lm_head(decoder output) with its own
    ``lm_head.weight``.

``relative_position_bucket_loop`` is a second, scalar implementation of the bucketing (plain
Python integers and math.log) that the fixture generator checks the tensor one against.

Run with Debian's interpreter (/usr/bin/python3: torch 1.13, numpy).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

import hf_models as R

T5_DEFAULTS = dict(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8,
                   relative_attention_num_buckets=32, relative_attention_max_distance=128,
                   layer_norm_epsilon=1e-6, feed_forward_proj="relu", tie_word_embeddings=True,
                   pad_token_id=0, eos_token_id=1)


def t5_cfg(config: dict) -> dict:
    c = {**T5_DEFAULTS, **{k: v for k, v in config.items() if v is not None}}
    if c.get("num_decoder_layers") is None:
        c["num_decoder_layers"] = c["num_layers"]
    parts = c["feed_forward_proj"].split("-")
    if len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
        raise ValueError(f"feed_forward_proj {c['feed_forward_proj']!r}")
    c["is_gated_act"] = len(parts) == 2
    c["dense_act_fn"] = "gelu_new" if c["feed_forward_proj"] == "gated-gelu" else parts[-1]
    return c


def relative_position_bucket(relative: Tensor, bidirectional: bool, num_buckets: int, max_distance: int) -> Tensor:
    buckets = torch.zeros_like(relative)
    if bidirectional:
        num_buckets //= 2
        buckets = buckets + (relative > 0).long() * num_buckets
        distance = relative.abs()
    else:
        distance = -torch.clamp(relative, max=0)
    exact = num_buckets // 2
    small = distance < exact
    # float32, as transformers (distance 0 gives -inf here; those entries are `small`)
    log_part = torch.log(distance.float() / exact) / math.log(max_distance / exact) * (num_buckets - exact)
    large = torch.clamp(exact + log_part.long(), max=num_buckets - 1)
    return buckets + torch.where(small, distance, large)


def relative_position_bucket_loop(rel: int, bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    """The same bucket for one relative position, in scalar Python (float32 for the log)."""
    import numpy as np

    base = 0
    if bidirectional:
        num_buckets //= 2
        if rel > 0:
            base = num_buckets
        rel = abs(rel)
    else:
        rel = max(-rel, 0)
    exact = num_buckets // 2
    if rel < exact:
        return base + rel
    v = np.float32(np.log(np.float32(np.float32(rel) / np.float32(exact))))
    v = np.float32(v / np.float32(math.log(max_distance / exact)))
    v = np.float32(v * np.float32(num_buckets - exact))
    return base + min(exact + int(v), num_buckets - 1)


class T5LayerNorm(nn.Module):
    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class T5Attention(nn.Module):
    def __init__(self, c: dict, causal: bool, has_bias: bool):
        super().__init__()
        self.h, self.dk = c["num_heads"], c["d_kv"]
        inner = self.h * self.dk
        self.q = nn.Linear(c["d_model"], inner, bias=False)
        self.k = nn.Linear(c["d_model"], inner, bias=False)
        self.v = nn.Linear(c["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, c["d_model"], bias=False)
        self.causal = causal
        self.buckets = c["relative_attention_num_buckets"]
        self.max_distance = c["relative_attention_max_distance"]
        if has_bias:
            self.relative_attention_bias = nn.Embedding(self.buckets, self.h)

    def position_bias(self, q_len: int, k_len: int) -> Tensor:
        rel = torch.arange(k_len)[None, :] - torch.arange(q_len)[:, None]
        b = relative_position_bucket(rel, not self.causal, self.buckets, self.max_distance)
        return self.relative_attention_bias(b).permute(2, 0, 1)[None]  # [1, H, q, k]

    def forward(self, x, kv, bias, delta, layer):
        src = x if kv is None else kv
        B, Q, _ = x.shape
        K = src.shape[1]

        def split(t, n):
            return t.view(B, n, self.h, self.dk).transpose(1, 2)

        q, k, v = split(self.q(x), Q), split(self.k(src), K), split(self.v(src), K)
        scores = torch.matmul(q, k.transpose(2, 3)) + bias
        probs = torch.softmax(scores, dim=-1)
        used = R._attn_out(probs, delta, layer)
        ctx = torch.matmul(used, v).transpose(1, 2).reshape(B, Q, self.h * self.dk)
        return self.o(ctx), probs


class T5LayerSelfAttention(nn.Module):
    def __init__(self, c, causal, has_bias):
        super().__init__()
        self.SelfAttention = T5Attention(c, causal, has_bias)
        self.layer_norm = T5LayerNorm(c["d_model"], c["layer_norm_epsilon"])


class T5LayerCrossAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.EncDecAttention = T5Attention(c, False, False)
        self.layer_norm = T5LayerNorm(c["d_model"], c["layer_norm_epsilon"])


class T5DenseActDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)
        self.act = R.ACT2FN[c["dense_act_fn"]]

    def forward(self, x):
        return self.wo(self.act(self.wi(x)))


class T5DenseGatedActDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi_0 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wi_1 = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)
        self.act = R.ACT2FN[c["dense_act_fn"]]

    def forward(self, x):
        return self.wo(self.act(self.wi_0(x)) * self.wi_1(x))


class T5LayerFF(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(c) if c["is_gated_act"] else T5DenseActDense(c)
        self.layer_norm = T5LayerNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x):
        return x + self.DenseReluDense(self.layer_norm(x))


class T5Block(nn.Module):
    def __init__(self, c, decoder: bool, has_bias: bool):
        super().__init__()
        parts = [T5LayerSelfAttention(c, decoder, has_bias)]
        if decoder:
            parts.append(T5LayerCrossAttention(c))
        parts.append(T5LayerFF(c))
        self.layer = nn.ModuleList(parts)


def lowest_mask(mask: Tensor) -> Tensor:
    """[B, N] 1/0 -> [B, 1, 1, N]: 0 for tokens, the lowest float64 for padding."""
    return (1.0 - mask[:, None, None, :].double()) * torch.finfo(torch.float64).min


class T5Stack(nn.Module):
    def __init__(self, c, decoder: bool, embed: nn.Embedding):
        super().__init__()
        self.decoder = decoder
        self.embed_tokens = embed
        n = c["num_decoder_layers"] if decoder else c["num_layers"]
        self.block = nn.ModuleList([T5Block(c, decoder, i == 0) for i in range(n)])
        self.final_layer_norm = T5LayerNorm(c["d_model"], c["layer_norm_epsilon"])

    def forward(self, x, mask, enc_out, enc_mask, deltas):
        """x: the input embeddings [B, n, d]; deltas: (self, cross) lists or None."""
        n = x.shape[1]
        sa0 = self.block[0].layer[0].SelfAttention
        bias = sa0.position_bias(n, n) + lowest_mask(mask)
        if self.decoder:
            future = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
            bias = bias.masked_fill(future, torch.finfo(torch.float64).min)
        self_maps, cross_maps = [], []
        for i, blk in enumerate(self.block):
            sa = blk.layer[0]
            out, p = sa.SelfAttention(sa.layer_norm(x), None, bias, deltas[0] if deltas else None, i)
            self_maps.append(p)
            x = x + out
            if self.decoder:
                ca = blk.layer[1]
                out, p = ca.EncDecAttention(ca.layer_norm(x), enc_out, lowest_mask(enc_mask),
                                            deltas[1] if deltas else None, i)
                cross_maps.append(p)
                x = x + out
            x = blk.layer[-1](x)
        return self.final_layer_norm(x), self_maps, cross_maps


class T5Model(nn.Module):
    """T5Model; with lm_head=True T5ForConditionalGeneration; with decoder=False T5EncoderModel."""

    def __init__(self, config: dict, decoder: bool = True, lm_head: bool = False):
        super().__init__()
        self.c = c = t5_cfg(config)
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"])
        self.encoder = T5Stack(c, False, self.shared)
        if decoder:
            self.decoder = T5Stack(c, True, self.shared)
        if lm_head:
            self.lm_head = nn.Linear(c["d_model"], c["vocab_size"], bias=False)
        tied = ["encoder.embed_tokens.weight"] + (["decoder.embed_tokens.weight"] if decoder else [])
        if lm_head and c["tie_word_embeddings"]:
            tied.append("lm_head.weight")
        self.tied_keys = tuple(tied)
        self.tie_weights()

    def tie_weights(self):
        self.encoder.embed_tokens = self.shared
        if hasattr(self, "decoder"):
            self.decoder.embed_tokens = self.shared
        if hasattr(self, "lm_head") and self.c["tie_word_embeddings"]:
            self.lm_head.weight = self.shared.weight

    def forward(self, input_ids, attention_mask=None, decoder_input_ids=None, decoder_attention_mask=None,
                inputs_embeds=None, attn_delta=None):
        """attn_delta: {"encoder": [...], "decoder": [...], "cross": [...]} or None."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        e = self.shared(input_ids) if inputs_embeds is None else inputs_embeds
        d = attn_delta or {}
        enc, enc_maps, _ = self.encoder(e, attention_mask, None, None,
                                        (d.get("encoder"), None) if attn_delta else None)
        out = {"attentions": enc_maps, "encoder_last_hidden_state": enc}
        if not hasattr(self, "decoder"):
            out["last_hidden_state"] = enc
            return out
        if decoder_attention_mask is None:
            decoder_attention_mask = torch.ones_like(decoder_input_ids)
        y, dec_maps, cross_maps = self.decoder(self.shared(decoder_input_ids), decoder_attention_mask, enc,
                                               attention_mask,
                                               (d.get("decoder"), d.get("cross")) if attn_delta else None)
        out.update(decoder_attentions=dec_maps, cross_attentions=cross_maps)
        if hasattr(self, "lm_head"):
            if self.c["tie_word_embeddings"]:
                y = y * self.c["d_model"] ** -0.5
            out["logits"] = self.lm_head(y)
        else:
            out["last_hidden_state"] = y
        return out


ARCHITECTURES = {
    "T5Model": lambda cfg: T5Model(cfg),
    "T5ForConditionalGeneration": lambda cfg: T5Model(cfg, lm_head=True),
    "T5EncoderModel": lambda cfg: T5Model(cfg, decoder=False),
}


def build_model(config: dict) -> nn.Module:
    model = ARCHITECTURES[config["architectures"][0]](config)
    model.eval()
    return model


__all__ = ["ARCHITECTURES", "build_model", "relative_position_bucket", "relative_position_bucket_loop", "T5Model",
           "t5_cfg"]
