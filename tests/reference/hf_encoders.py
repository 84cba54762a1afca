"""Pure-PyTorch re-implementation of Hugging Face's *eager* RoBERTa, XLM-RoBERTa and DistilBERT.

Companion of hf_models.py (BERT, GPT-2), with the same conventions: the module tree and so every
``state_dict`` name is transformers', ``forward(input_ids, attention_mask, token_type_ids,
inputs_embeds, attn_delta)`` returns a dict with ``attentions`` (the tensors multiplied with V,
``retain_grad()`` when autograd is on), ``last_hidden_state`` and, with a head, ``logits``;
``inputs_embeds`` is the word-embedding output (dy/de is the gradient of a leaf the caller
made) and ``attn_delta`` adds a tensor to each layer's probabilities after they were returned.
Written from the published semantics of transformers 4.4x / 5.x ``modeling_roberta.py``,
``modeling_xlm_roberta.py`` and ``modeling_distilbert.py`` (attn_implementation="eager"):

RoBERTa / XLM-RoBERTa (one code; XLM-R only changes the defaults of its config)
  * BERT's blocks exactly (transformers builds RobertaLayer from BertLayer), so they come from
    hf_models.BertEncoder;
  * position ids from the input ids, as fairseq's make_positions: every token that is not
    ``pad_token_id`` gets pad_token_id + its 1-based rank among such tokens, a pad token gets
    pad_token_id (so positions start at padding_idx + 1 and max_position_embeddings - pad - 1
    tokens fit).  Unlike transformers, the ids are used even when ``inputs_embeds`` is given
    (transformers then numbers 0..n-1 + padding_idx + 1 blindly; callers pass position_ids);
  * RobertaClassificationHead: dense, tanh, out_proj on the <s> token (no pooler);
  * RobertaLMHead: dense, the erf GELU (whatever hidden_act says), layer_norm, decoder tied to
    the word embeddings whose bias is ``lm_head.bias`` (saved files hold neither
    ``lm_head.decoder.weight`` nor ``lm_head.decoder.bias``).

DistilBERT
  * embeddings: words + positions 0..n-1 (no token types), LayerNorm eps 1e-12; with
    ``sinusoidal_pos_embds`` the position matrix is :func:`sinusoidal_positions` (files store it);
  * blocks: q_lin/k_lin/v_lin/out_lin, q divided by sqrt(d_head) *before* q k^T, padded keys
    ``masked_fill``-ed with the lowest float, sa_layer_norm(attention + x), then
    output_layer_norm(lin2(act(lin1(h))) + h), every LayerNorm eps 1e-12;
  * DistilBertForSequenceClassification: pre_classifier, ReLU, classifier on [CLS];
  * DistilBertForMaskedLM: vocab_transform, activation, vocab_layer_norm, vocab_projector (its
    weight tied to the word embeddings, absent from saved files).

Run with Debian's interpreter (/usr/bin/python3: torch 1.13, numpy).
"""

from __future__ import annotations

import math
import numpy as np
import torch
from torch import Tensor, nn
import torch.nn.functional as F

import hf_models as R

# --------------------------------------------------------------------------- RoBERTa

ROBERTA_DEFAULTS = {"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "vocab_size": 50265}
XLM_ROBERTA_DEFAULTS = {"pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2, "vocab_size": 30522}


def roberta_position_ids(input_ids: Tensor, padding_idx: int) -> Tensor:
    """fairseq's make_positions: padding_idx + rank among the non-pad tokens; pads get padding_idx."""
    real = (input_ids != padding_idx).long()
    return torch.cumsum(real, dim=1) * real + padding_idx


def _roberta_cfg(config: dict) -> dict:
    defaults = XLM_ROBERTA_DEFAULTS if config.get("model_type") == "xlm-roberta" else ROBERTA_DEFAULTS
    full = {**defaults, **config}
    if full.get("pad_token_id") is None:
        raise ValueError("RoBERTa needs pad_token_id (position ids start at pad_token_id + 1)")
    return full


class RobertaEmbeddings(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.padding_idx = c["pad_token_id"]
        d = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], d, padding_idx=self.padding_idx)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], d, padding_idx=self.padding_idx)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], d)
        self.LayerNorm = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(0.1)

    def forward(self, input_ids, token_type_ids, inputs_embeds):
        position_ids = roberta_position_ids(input_ids, self.padding_idx)
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        x = inputs_embeds + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(position_ids)
        return self.dropout(self.LayerNorm(x))


class RobertaModel(R.BertModel):
    """BertModel with RoBERTa's embeddings (same blocks, same pooler)."""

    def __init__(self, config: dict, add_pooling_layer: bool = True):
        super().__init__(_roberta_cfg(config), add_pooling_layer)
        self.embeddings = RobertaEmbeddings(self.c)


class RobertaLMHead(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.layer_norm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"])
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.decoder.bias = self.bias

    def forward(self, x):
        return self.decoder(self.layer_norm(R.gelu_erf(self.dense(x))))


class RobertaClassificationHead(nn.Module):
    def __init__(self, c: dict, num_labels: int):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.dropout = nn.Dropout(0.1)
        self.out_proj = nn.Linear(c["hidden_size"], num_labels)

    def forward(self, features):
        x = self.dropout(features[:, 0, :])  # <s>
        x = self.dropout(torch.tanh(self.dense(x)))
        return self.out_proj(x)


class RobertaForMaskedLM(nn.Module):
    tied_keys = ("lm_head.decoder.weight", "lm_head.decoder.bias")

    def __init__(self, config: dict):
        super().__init__()
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lm_head = RobertaLMHead(self.roberta.c)
        self.tie_weights()

    def tie_weights(self):
        self.lm_head.decoder.weight = self.roberta.embeddings.word_embeddings.weight
        self.lm_head.decoder.bias = self.lm_head.bias

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.roberta(input_ids, attention_mask, token_type_ids, inputs_embeds, attn_delta)
        out["logits"] = self.lm_head(out["last_hidden_state"])
        return out


class RobertaForSequenceClassification(nn.Module):
    tied_keys = ()

    def __init__(self, config: dict):
        super().__init__()
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = RobertaClassificationHead(self.roberta.c, R._num_labels(config))

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.roberta(input_ids, attention_mask, token_type_ids, inputs_embeds, attn_delta)
        out["logits"] = self.classifier(out["last_hidden_state"])
        return out


# --------------------------------------------------------------------------- DistilBERT

DISTILBERT_EPS = 1e-12


def _distilbert_cfg(config: dict) -> dict:
    def first(*keys, default):
        for k in keys:
            if config.get(k) is not None:
                return config[k]
        return default

    return dict(
        vocab_size=config.get("vocab_size", 30522),
        dim=first("dim", "hidden_size", default=768),
        n_layers=first("n_layers", "num_hidden_layers", default=6),
        n_heads=first("n_heads", "num_attention_heads", default=12),
        hidden_dim=config.get("hidden_dim", 3072),
        max_position_embeddings=config.get("max_position_embeddings", 512),
        activation=config.get("activation", "gelu"),
        sinusoidal_pos_embds=config.get("sinusoidal_pos_embds", False),
        pad_token_id=config.get("pad_token_id", 0),
    )


def sinusoidal_positions(n_pos: int, dim: int) -> Tensor:
    """[pos, j] = sin (j even) / cos (j odd) of pos / 10000^(2 floor(j/2) / dim), float64."""
    pos = np.arange(n_pos, dtype=np.float64)[:, None]
    j = np.arange(dim)
    angle = pos / np.power(10000.0, 2 * (j // 2) / dim)
    return torch.from_numpy(np.where(j % 2 == 0, np.sin(angle), np.cos(angle)))


class DistilEmbeddings(nn.Module):  # transformers: modeling_distilbert.Embeddings
    def __init__(self, c: dict):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["dim"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["dim"])
        if c["sinusoidal_pos_embds"]:
            with torch.no_grad():
                self.position_embeddings.weight.copy_(sinusoidal_positions(c["max_position_embeddings"], c["dim"]))
        self.LayerNorm = nn.LayerNorm(c["dim"], eps=DISTILBERT_EPS)
        self.dropout = nn.Dropout(0.1)

    def forward(self, input_ids, inputs_embeds):
        n = input_ids.shape[1]
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        x = inputs_embeds + self.position_embeddings(torch.arange(n, device=input_ids.device))[None]
        return self.dropout(self.LayerNorm(x))


class MultiHeadSelfAttention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.n_heads = c["n_heads"]
        self.dim = c["dim"]
        self.q_lin = nn.Linear(self.dim, self.dim)
        self.k_lin = nn.Linear(self.dim, self.dim)
        self.v_lin = nn.Linear(self.dim, self.dim)
        self.out_lin = nn.Linear(self.dim, self.dim)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, mask, delta, layer):
        bs, n, _ = x.shape
        dh = self.dim // self.n_heads

        def split(t):
            return t.view(bs, n, self.n_heads, dh).transpose(1, 2)

        q = split(self.q_lin(x)) / math.sqrt(dh)
        k, v = split(self.k_lin(x)), split(self.v_lin(x))
        scores = torch.matmul(q, k.transpose(2, 3))
        padded = (mask == 0).view(bs, 1, 1, n).expand_as(scores)
        scores = scores.masked_fill(padded, torch.finfo(scores.dtype).min)
        weights = self.dropout(F.softmax(scores, dim=-1))
        used = R._attn_out(weights, delta, layer)
        context = torch.matmul(used, v).transpose(1, 2).contiguous().view(bs, n, self.dim)
        return self.out_lin(context), weights


class FFN(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.lin1 = nn.Linear(c["dim"], c["hidden_dim"])
        self.lin2 = nn.Linear(c["hidden_dim"], c["dim"])
        self.activation = R.ACT2FN[c["activation"]]
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        return self.dropout(self.lin2(self.activation(self.lin1(x))))


class TransformerBlock(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.attention = MultiHeadSelfAttention(c)
        self.sa_layer_norm = nn.LayerNorm(c["dim"], eps=DISTILBERT_EPS)
        self.ffn = FFN(c)
        self.output_layer_norm = nn.LayerNorm(c["dim"], eps=DISTILBERT_EPS)

    def forward(self, x, mask, delta, layer):
        sa, weights = self.attention(x, mask, delta, layer)
        h = self.sa_layer_norm(sa + x)
        return self.output_layer_norm(self.ffn(h) + h), weights


class Transformer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.layer = nn.ModuleList([TransformerBlock(c) for _ in range(c["n_layers"])])


class DistilBertModel(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.c = _distilbert_cfg(config)
        self.embeddings = DistilEmbeddings(self.c)
        self.transformer = Transformer(self.c)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        h = self.embeddings(input_ids, inputs_embeds)
        attentions = []
        for i, block in enumerate(self.transformer.layer):
            h, w = block(h, attention_mask, attn_delta, i)
            attentions.append(w)
        return {"last_hidden_state": h, "attentions": attentions}


class DistilBertForMaskedLM(nn.Module):
    tied_keys = ("vocab_projector.weight",)

    def __init__(self, config: dict):
        super().__init__()
        self.distilbert = DistilBertModel(config)
        c = self.distilbert.c
        self.activation = R.ACT2FN[c["activation"]]
        self.vocab_transform = nn.Linear(c["dim"], c["dim"])
        self.vocab_layer_norm = nn.LayerNorm(c["dim"], eps=DISTILBERT_EPS)
        self.vocab_projector = nn.Linear(c["dim"], c["vocab_size"])
        self.tie_weights()

    def tie_weights(self):
        self.vocab_projector.weight = self.distilbert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.distilbert(input_ids, attention_mask, None, inputs_embeds, attn_delta)
        x = self.vocab_layer_norm(self.activation(self.vocab_transform(out["last_hidden_state"])))
        out["logits"] = self.vocab_projector(x)
        return out


class DistilBertForSequenceClassification(nn.Module):
    tied_keys = ()

    def __init__(self, config: dict):
        super().__init__()
        self.distilbert = DistilBertModel(config)
        d = self.distilbert.c["dim"]
        self.pre_classifier = nn.Linear(d, d)
        self.classifier = nn.Linear(d, R._num_labels(config))
        self.dropout = nn.Dropout(0.2)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.distilbert(input_ids, attention_mask, None, inputs_embeds, attn_delta)
        pooled = self.dropout(F.relu(self.pre_classifier(out["last_hidden_state"][:, 0])))
        out["logits"] = self.classifier(pooled)
        return out


# --------------------------------------------------------------------------- registry

ARCHITECTURES = {
    "RobertaModel": lambda cfg: RobertaModel(cfg),
    "RobertaForMaskedLM": RobertaForMaskedLM,
    "RobertaForSequenceClassification": RobertaForSequenceClassification,
    # XLM-RoBERTa: the same modules (transformers copies modeling_roberta.py)
    "XLMRobertaModel": lambda cfg: RobertaModel(cfg),
    "XLMRobertaForMaskedLM": RobertaForMaskedLM,
    "XLMRobertaForSequenceClassification": RobertaForSequenceClassification,
    "DistilBertModel": DistilBertModel,
    "DistilBertForMaskedLM": DistilBertForMaskedLM,
    "DistilBertForSequenceClassification": DistilBertForSequenceClassification,
}


def build_model(config: dict) -> nn.Module:
    """hf_models' and these architectures, in eval mode."""
    arch = config["architectures"][0]
    model = ARCHITECTURES[arch](config) if arch in ARCHITECTURES else R.ARCHITECTURES[arch](config)
    model.eval()
    return model


__all__ = [
    "ARCHITECTURES", "build_model", "roberta_position_ids", "sinusoidal_positions",
    "RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification",
    "DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification",
]
