"""Pure-PyTorch re-implementation of Hugging Face's *eager* BERT and GPT-2 modelling code.

Hugging Face ``transformers`` is not installable on the machines this project is built on, so
the golden fixtures of the libtorch layer (tests/data/models, written by
tests/hf/make_model_golden.py) come from this file.  It follows ``modeling_bert.py`` and
``modeling_gpt2.py`` of transformers 4.4x / 5.x with ``attn_implementation="eager"``, written
from their published semantics, not from attnflow's C++ sources:

* the module tree (and therefore every ``state_dict`` name) is Hugging Face's, so a Hugging
  Face ``model.safetensors`` loads with ``load_state_dict(strict=True)`` after the same
  fix-ups ``from_pretrained`` does (legacy ``LayerNorm.gamma``/``.beta`` names, tied output
  embeddings that are absent from the file, see :func:`load_hf_state_dict`);
* the attention probabilities a model returns are the very tensors multiplied with V (dropout
  is the identity in eval mode); when autograd is on, ``retain_grad()`` is called on them, so
  after ``backward()`` their ``.grad`` is dy/dA;
* ``forward(..., inputs_embeds=...)`` takes the word-embedding output (as Hugging Face's
  ``inputs_embeds``), so dy/d(token embeddings) is the ``.grad`` of a leaf the caller made;
* ``forward(..., attn_delta=[...])`` adds a tensor to each layer's probabilities *after* they
  were returned (zeros change nothing): the hook for finite-difference checks of dy/dA.

Architectures: BertModel, BertForMaskedLM, BertForSequenceClassification, GPT2Model,
GPT2LMHeadModel, and attnflow's AttnflowEncoderClassifier (GPT-2 blocks without the causal
mask, a linear classifier on the final hidden state at one position; Abnar & Zuidema's
subject-verb agreement model).  ``ScriptableBertClassifier`` is a second, self-contained BERT
classifier written so that ``torch.jit.script`` accepts it (torch 1.13), with the TorchScript
contract of docs/extract.md: forward(input_ids, attention_mask) -> (logits, attentions).

Run with Debian's interpreter (/usr/bin/python3: torch 1.13, numpy).
"""

from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn
import torch.nn.functional as F

__all__ = [
    "ACT2FN",
    "BertModel",
    "BertForMaskedLM",
    "BertForSequenceClassification",
    "GPT2Model",
    "GPT2LMHeadModel",
    "AttnflowEncoderClassifier",
    "ScriptableBertClassifier",
    "build_model",
    "load_hf_state_dict",
    "hf_state_dict",
]


# --------------------------------------------------------------------------- activations


def gelu_erf(x: Tensor) -> Tensor:
    """transformers' "gelu" (GELUActivation = torch.nn.functional.gelu, erf form)."""
    return F.gelu(x)


def gelu_new(x: Tensor) -> Tensor:
    """transformers' "gelu_new" (NewGELUActivation, the tanh approximation of GPT-2)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gelu_pytorch_tanh(x: Tensor) -> Tensor:
    return F.gelu(x, approximate="tanh")


ACT2FN = {
    "gelu": gelu_erf,
    "gelu_new": gelu_new,
    "gelu_pytorch_tanh": gelu_pytorch_tanh,
    "relu": F.relu,
    "tanh": torch.tanh,
    "silu": F.silu,
    "swish": F.silu,
}


def _attn_out(probs: Tensor, delta: Optional[List[Tensor]], layer: int) -> Tensor:
    """Keep the exact probability tensor (returned, retain_grad) and the one used with V."""
    if probs.requires_grad:
        probs.retain_grad()
    if delta is not None:
        return probs + delta[layer]
    return probs


# --------------------------------------------------------------------------- BERT


def _bert_cfg(config: dict) -> dict:
    c = dict(
        vocab_size=config.get("vocab_size", 30522),
        hidden_size=config.get("hidden_size", 768),
        num_hidden_layers=config.get("num_hidden_layers", 12),
        num_attention_heads=config.get("num_attention_heads", 12),
        intermediate_size=config.get("intermediate_size", 3072),
        hidden_act=config.get("hidden_act", "gelu"),
        max_position_embeddings=config.get("max_position_embeddings", 512),
        type_vocab_size=config.get("type_vocab_size", 2),
        layer_norm_eps=config.get("layer_norm_eps", 1e-12),
        pad_token_id=config.get("pad_token_id", 0),
    )
    pe = config.get("position_embedding_type", "absolute")
    if pe != "absolute":
        raise ValueError(f"position_embedding_type {pe!r} is not implemented")
    return c


class BertEmbeddings(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(0.1)

    def forward(self, input_ids, token_type_ids, inputs_embeds):
        n = input_ids.shape[1]
        position_ids = torch.arange(n, dtype=torch.long, device=input_ids.device)[None, :]
        if inputs_embeds is None:
            inputs_embeds = self.word_embeddings(input_ids)
        # transformers: embeddings = inputs_embeds + token_type_embeddings; += position_embeddings
        embeddings = inputs_embeds + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(position_ids)
        embeddings = self.LayerNorm(embeddings)
        return self.dropout(embeddings)


class BertSelfAttention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.num_attention_heads = c["num_attention_heads"]
        self.attention_head_size = c["hidden_size"] // c["num_attention_heads"]
        self.all_head_size = self.num_attention_heads * self.attention_head_size
        self.query = nn.Linear(c["hidden_size"], self.all_head_size)
        self.key = nn.Linear(c["hidden_size"], self.all_head_size)
        self.value = nn.Linear(c["hidden_size"], self.all_head_size)
        self.dropout = nn.Dropout(0.1)

    def transpose_for_scores(self, x):
        return x.view(x.shape[:-1] + (self.num_attention_heads, self.attention_head_size)).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask, delta, layer):
        query_layer = self.transpose_for_scores(self.query(hidden_states))
        key_layer = self.transpose_for_scores(self.key(hidden_states))
        value_layer = self.transpose_for_scores(self.value(hidden_states))
        scores = torch.matmul(query_layer, key_layer.transpose(-1, -2))
        scores = scores / math.sqrt(self.attention_head_size)
        scores = scores + attention_mask  # extended additive mask [B, 1, 1, n]
        probs = F.softmax(scores, dim=-1)
        probs = self.dropout(probs)  # identity in eval mode
        used = _attn_out(probs, delta, layer)
        context = torch.matmul(used, value_layer).permute(0, 2, 1, 3).contiguous()
        context = context.view(context.shape[:-2] + (self.all_head_size,))
        return context, probs


class BertSelfOutput(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(0.1)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertAttention(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, hidden_states, attention_mask, delta, layer):
        context, probs = self.self(hidden_states, attention_mask, delta, layer)
        return self.output(context, hidden_states), probs


class BertIntermediate(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        self.act = ACT2FN[c["hidden_act"]]

    def forward(self, x):
        return self.act(self.dense(x))


class BertOutput(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.dense = nn.Linear(c["intermediate_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(0.1)

    def forward(self, hidden_states, input_tensor):
        return self.LayerNorm(self.dropout(self.dense(hidden_states)) + input_tensor)


class BertLayer(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, hidden_states, attention_mask, delta, layer):
        attention_output, probs = self.attention(hidden_states, attention_mask, delta, layer)
        layer_output = self.output(self.intermediate(attention_output), attention_output)
        return layer_output, probs


class BertEncoder(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])


class BertPooler(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.activation = nn.Tanh()

    def forward(self, hidden_states):
        return self.activation(self.dense(hidden_states[:, 0]))


def extended_attention_mask(attention_mask: Tensor, dtype: torch.dtype) -> Tensor:
    """transformers' get_extended_attention_mask for an encoder: [B, n] -> [B, 1, 1, n]."""
    ext = attention_mask[:, None, None, :].to(dtype)
    return (1.0 - ext) * torch.finfo(dtype).min


class BertModel(nn.Module):
    def __init__(self, config: dict, add_pooling_layer: bool = True):
        super().__init__()
        c = _bert_cfg(config)
        self.c = c
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c) if add_pooling_layer else None

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        dtype = self.embeddings.word_embeddings.weight.dtype
        mask = extended_attention_mask(attention_mask, dtype)
        h = self.embeddings(input_ids, token_type_ids, inputs_embeds)
        attentions = []
        for i, layer in enumerate(self.encoder.layer):
            h, probs = layer(h, mask, attn_delta, i)
            attentions.append(probs)
        out = {"last_hidden_state": h, "attentions": attentions}
        if self.pooler is not None:
            out["pooler_output"] = self.pooler(h)
        return out


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.transform_act_fn = ACT2FN[c["hidden_act"]]
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, x):
        return self.LayerNorm(self.transform_act_fn(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.transform = BertPredictionHeadTransform(c)
        self.decoder = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))

    def forward(self, x):
        return self.decoder(self.transform(x)) + self.bias


class BertOnlyMLMHead(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.predictions = BertLMPredictionHead(c)


class BertForMaskedLM(nn.Module):
    # saved files hold neither of these (tied to bert.embeddings.word_embeddings.weight /
    # cls.predictions.bias)
    tied_keys = ("cls.predictions.decoder.weight",)

    def __init__(self, config: dict):
        super().__init__()
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(self.bert.c)
        self.tie_weights()

    def tie_weights(self):
        self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.bert(input_ids, attention_mask, token_type_ids, inputs_embeds, attn_delta)
        out["logits"] = self.cls.predictions(out["last_hidden_state"])
        return out


class BertForSequenceClassification(nn.Module):
    tied_keys = ()

    def __init__(self, config: dict):
        super().__init__()
        self.num_labels = _num_labels(config)
        self.bert = BertModel(config)
        self.dropout = nn.Dropout(0.1)
        self.classifier = nn.Linear(self.bert.c["hidden_size"], self.num_labels)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.bert(input_ids, attention_mask, token_type_ids, inputs_embeds, attn_delta)
        out["logits"] = self.classifier(self.dropout(out["pooler_output"]))
        return out


def _num_labels(config: dict) -> int:
    if "num_labels" in config:
        return int(config["num_labels"])
    if "id2label" in config:
        return len(config["id2label"])
    return 2


# --------------------------------------------------------------------------- GPT-2


def _gpt2_cfg(config: dict) -> dict:
    n_embd = config.get("n_embd", 768)
    n_inner = config.get("n_inner")
    return dict(
        vocab_size=config.get("vocab_size", 50257),
        n_positions=config.get("n_positions", 1024),
        n_embd=n_embd,
        n_layer=config.get("n_layer", 12),
        n_head=config.get("n_head", 12),
        n_inner=4 * n_embd if n_inner is None else n_inner,
        activation_function=config.get("activation_function", "gelu_new"),
        layer_norm_epsilon=config.get("layer_norm_epsilon", 1e-5),
        scale_attn_weights=config.get("scale_attn_weights", True),
        scale_attn_by_inverse_layer_idx=config.get("scale_attn_by_inverse_layer_idx", False),
        reorder_and_upcast_attn=config.get("reorder_and_upcast_attn", False),
    )


class Conv1D(nn.Module):
    """transformers.pytorch_utils.Conv1D: weight [nx, nf] (in, out); y = x @ W + b."""

    def __init__(self, nf: int, nx: int):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.nf,)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


class GPT2Attention(nn.Module):
    def __init__(self, c: dict, layer_idx: int, causal: bool = True):
        super().__init__()
        self.embed_dim = c["n_embd"]
        self.num_heads = c["n_head"]
        self.head_dim = self.embed_dim // self.num_heads
        self.scale_attn_weights = c["scale_attn_weights"]
        self.scale_attn_by_inverse_layer_idx = c["scale_attn_by_inverse_layer_idx"]
        self.layer_idx = layer_idx
        self.causal = causal
        self.c_attn = Conv1D(3 * self.embed_dim, self.embed_dim)
        self.c_proj = Conv1D(self.embed_dim, self.embed_dim)
        self.attn_dropout = nn.Dropout(0.1)
        self.resid_dropout = nn.Dropout(0.1)
        # transformers registers the causal "bias" buffer with persistent=False (not in files)
        n = c["n_positions"]
        self.register_buffer("bias", torch.tril(torch.ones((n, n), dtype=torch.bool)).view(1, 1, n, n), persistent=False)

    def _split_heads(self, x):
        return x.view(x.size()[:-1] + (self.num_heads, self.head_dim)).permute(0, 2, 1, 3)

    def forward(self, hidden_states, attention_mask, delta, layer):
        query, key, value = self.c_attn(hidden_states).split(self.embed_dim, dim=2)
        query, key, value = self._split_heads(query), self._split_heads(key), self._split_heads(value)
        attn_weights = torch.matmul(query, key.transpose(-1, -2))
        if self.scale_attn_weights:
            attn_weights = attn_weights / torch.full([], value.size(-1) ** 0.5, dtype=attn_weights.dtype)
        if self.scale_attn_by_inverse_layer_idx:
            attn_weights = attn_weights / float(self.layer_idx + 1)
        if self.causal:
            q_len, k_len = query.size(-2), key.size(-2)
            causal_mask = self.bias[:, :, k_len - q_len : k_len, :k_len]
            mask_value = torch.full([], torch.finfo(attn_weights.dtype).min, dtype=attn_weights.dtype)
            attn_weights = torch.where(causal_mask, attn_weights, mask_value)
        if attention_mask is not None:
            attn_weights = attn_weights + attention_mask
        probs = F.softmax(attn_weights, dim=-1)
        probs = probs.type(value.dtype)
        probs = self.attn_dropout(probs)  # identity in eval mode
        used = _attn_out(probs, delta, layer)
        attn_output = torch.matmul(used, value).permute(0, 2, 1, 3).contiguous()
        attn_output = attn_output.view(attn_output.size()[:-2] + (self.embed_dim,))
        attn_output = self.resid_dropout(self.c_proj(attn_output))
        return attn_output, probs


class GPT2MLP(nn.Module):
    def __init__(self, c: dict):
        super().__init__()
        self.c_fc = Conv1D(c["n_inner"], c["n_embd"])
        self.c_proj = Conv1D(c["n_embd"], c["n_inner"])
        self.act = ACT2FN[c["activation_function"]]
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        return self.dropout(self.c_proj(self.act(self.c_fc(x))))


class GPT2Block(nn.Module):
    def __init__(self, c: dict, layer_idx: int, causal: bool):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.attn = GPT2Attention(c, layer_idx, causal)
        self.ln_2 = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])
        self.mlp = GPT2MLP(c)

    def forward(self, hidden_states, attention_mask, delta, layer):
        residual = hidden_states
        attn_output, probs = self.attn(self.ln_1(hidden_states), attention_mask, delta, layer)
        hidden_states = attn_output + residual
        residual = hidden_states
        hidden_states = residual + self.mlp(self.ln_2(hidden_states))
        return hidden_states, probs


class GPT2Model(nn.Module):
    def __init__(self, config: dict, causal: bool = True):
        super().__init__()
        c = _gpt2_cfg(config)
        if c["reorder_and_upcast_attn"]:
            raise ValueError("reorder_and_upcast_attn is not implemented")
        self.c = c
        self.wte = nn.Embedding(c["vocab_size"], c["n_embd"])
        self.wpe = nn.Embedding(c["n_positions"], c["n_embd"])
        self.drop = nn.Dropout(0.1)
        self.h = nn.ModuleList([GPT2Block(c, i, causal) for i in range(c["n_layer"])])
        self.ln_f = nn.LayerNorm(c["n_embd"], eps=c["layer_norm_epsilon"])

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        n = input_ids.shape[1]
        # position ids = arange(n) (no past): right padding keeps real positions at 0..n_b-1
        position_ids = torch.arange(n, dtype=torch.long, device=input_ids.device)[None, :]
        if inputs_embeds is None:
            inputs_embeds = self.wte(input_ids)
        hidden_states = inputs_embeds + self.wpe(position_ids)
        if token_type_ids is not None:
            hidden_states = hidden_states + self.wte(token_type_ids)
        mask = None
        if attention_mask is not None:
            mask = extended_attention_mask(attention_mask, self.wte.weight.dtype)
        hidden_states = self.drop(hidden_states)
        attentions = []
        for i, block in enumerate(self.h):
            hidden_states, probs = block(hidden_states, mask, attn_delta, i)
            attentions.append(probs)
        hidden_states = self.ln_f(hidden_states)
        return {"last_hidden_state": hidden_states, "attentions": attentions}


class GPT2LMHeadModel(nn.Module):
    def __init__(self, config: dict):
        super().__init__()
        self.transformer = GPT2Model(config)
        self.lm_head = nn.Linear(self.transformer.c["n_embd"], self.transformer.c["vocab_size"], bias=False)
        self.tied = bool(config.get("tie_word_embeddings", True))
        self.tied_keys = ("lm_head.weight",) if self.tied else ()
        self.tie_weights()

    def tie_weights(self):
        if self.tied:
            self.lm_head.weight = self.transformer.wte.weight

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.transformer(input_ids, attention_mask, token_type_ids, inputs_embeds, attn_delta)
        out["logits"] = self.lm_head(out["last_hidden_state"])
        return out


class AttnflowEncoderClassifier(nn.Module):
    """GPT-2 blocks, no causal mask (config "attnflow_causal": false), logits =
    classifier(ln_f output at position "attnflow_classifier_position")."""

    tied_keys = ()

    def __init__(self, config: dict):
        super().__init__()
        self.causal = bool(config.get("attnflow_causal", False))
        self.position = int(config.get("attnflow_classifier_position", 0))
        self.num_labels = _num_labels(config)
        self.transformer = GPT2Model(config, causal=self.causal)
        self.classifier = nn.Linear(self.transformer.c["n_embd"], self.num_labels)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, inputs_embeds=None, attn_delta=None):
        out = self.transformer(input_ids, attention_mask, token_type_ids, inputs_embeds, attn_delta)
        out["logits"] = self.classifier(out["last_hidden_state"][:, self.position])
        return out


# --------------------------------------------------------------------------- loading


ARCHITECTURES = {
    "BertModel": lambda cfg: BertModel(cfg),
    "BertForMaskedLM": BertForMaskedLM,
    "BertForSequenceClassification": BertForSequenceClassification,
    "GPT2Model": lambda cfg: GPT2Model(cfg),
    "GPT2LMHeadModel": GPT2LMHeadModel,
    "AttnflowEncoderClassifier": AttnflowEncoderClassifier,
}


def build_model(config: dict) -> nn.Module:
    arch = config["architectures"][0]
    model = ARCHITECTURES[arch](config)
    model.eval()
    return model


def _tied(model: nn.Module) -> Tuple[str, ...]:
    return getattr(model, "tied_keys", ())


def hf_state_dict(model: nn.Module) -> Dict[str, Tensor]:
    """What save_pretrained writes: the state dict without the tied output embeddings."""
    sd = model.state_dict()
    return {k: v for k, v in sd.items() if k not in _tied(model)}


def load_hf_state_dict(model: nn.Module, sd: Dict[str, Tensor]) -> None:
    """from_pretrained's fix-ups, then a strict load: legacy TF names ``*.gamma`` / ``*.beta``
    become ``.weight`` / ``.bias``; tied output embeddings may be absent (and, when present,
    are overwritten by the tie, as transformers' tie_weights does)."""
    fixed = {}
    for k, v in sd.items():
        if k.endswith(".gamma"):
            k = k[: -len(".gamma")] + ".weight"
        elif k.endswith(".beta"):
            k = k[: -len(".beta")] + ".bias"
        fixed[k] = v
    expected = set(model.state_dict().keys())
    for t in _tied(model):
        if t not in fixed and t in expected:
            fixed[t] = None  # filled by the tie below
    missing = expected - set(fixed)
    unexpected = set(fixed) - expected
    if missing or unexpected:
        raise KeyError(f"state dict mismatch: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    params = model.state_dict(keep_vars=True)
    with torch.no_grad():
        for k, v in fixed.items():
            if v is None or k in _tied(model):
                continue
            target = params[k]
            if tuple(target.shape) != tuple(v.shape):
                raise ValueError(f"{k}: shape {tuple(v.shape)} != {tuple(target.shape)}")
            target.copy_(v.to(target.dtype))
    if hasattr(model, "tie_weights"):
        model.tie_weights()


# --------------------------------------------------------------------------- TorchScript


class _ScriptLayer(nn.Module):
    def __init__(self, d: int, heads: int, inner: int, eps: float):
        super().__init__()
        self.heads = heads
        self.head_dim = d // heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.attn_out = nn.Linear(d, d)
        self.ln_attn = nn.LayerNorm(d, eps=eps)
        self.inter = nn.Linear(d, inner)
        self.out = nn.Linear(inner, d)
        self.ln_out = nn.LayerNorm(d, eps=eps)

    def forward(self, x: Tensor, mask: Tensor) -> Tuple[Tensor, Tensor]:
        b, n, d = x.shape[0], x.shape[1], x.shape[2]
        q = self.query(x).view(b, n, self.heads, self.head_dim).permute(0, 2, 1, 3)
        k = self.key(x).view(b, n, self.heads, self.head_dim).permute(0, 2, 1, 3)
        v = self.value(x).view(b, n, self.heads, self.head_dim).permute(0, 2, 1, 3)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + mask
        probs = torch.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous().view(b, n, d)
        h = self.ln_attn(self.attn_out(ctx) + x)
        h = self.ln_out(self.out(F.gelu(self.inter(h))) + h)
        return h, probs


class ScriptableBertClassifier(nn.Module):
    """A BERT sequence classifier (token types all 0, absolute positions, erf GELU, pooler
    tanh on token 0) written for torch.jit.script.  forward(input_ids long [B, n],
    attention_mask long [B, n]) -> (logits [B, C], attentions: L tensors [B, H, n, n]); the
    returned attention tensors are the ones multiplied with V, so a caller's retain_grad()
    on them gives dy/dA.  ``copy_from_bert`` loads the weights of a BertForSequenceClassification."""

    def __init__(self, vocab: int, d: int, layers: int, heads: int, inner: int, positions: int,
                 labels: int, eps: float = 1e-12):
        super().__init__()
        self.word = nn.Embedding(vocab, d)
        self.position = nn.Embedding(positions, d)
        self.token_type = nn.Embedding(2, d)
        self.ln_emb = nn.LayerNorm(d, eps=eps)
        self.layers = nn.ModuleList([_ScriptLayer(d, heads, inner, eps) for _ in range(layers)])
        self.pooler = nn.Linear(d, d)
        self.classifier = nn.Linear(d, labels)

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tuple[Tensor, List[Tensor]]:
        n = input_ids.shape[1]
        positions = torch.arange(n, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        x = self.word(input_ids) + self.token_type(torch.zeros_like(input_ids))
        x = self.ln_emb(x + self.position(positions))
        # finfo(float32).min as a literal (torch.finfo is not scriptable in 1.13)
        mask = (1.0 - attention_mask.to(x.dtype))[:, None, None, :] * -3.4028234663852886e38
        attentions: List[Tensor] = []
        for layer in self.layers:
            x, probs = layer(x, mask)
            attentions.append(probs)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return self.classifier(pooled), attentions

    def copy_from_bert(self, bert_cls: BertForSequenceClassification) -> None:
        b = bert_cls.bert
        pairs = [
            (self.word.weight, b.embeddings.word_embeddings.weight),
            (self.position.weight, b.embeddings.position_embeddings.weight),
            (self.token_type.weight, b.embeddings.token_type_embeddings.weight),
            (self.ln_emb.weight, b.embeddings.LayerNorm.weight),
            (self.ln_emb.bias, b.embeddings.LayerNorm.bias),
            (self.pooler.weight, b.pooler.dense.weight),
            (self.pooler.bias, b.pooler.dense.bias),
            (self.classifier.weight, bert_cls.classifier.weight),
            (self.classifier.bias, bert_cls.classifier.bias),
        ]
        for mine, theirs in zip(self.layers, b.encoder.layer):
            a = theirs.attention
            for dst, src in [
                (mine.query, a.self.query), (mine.key, a.self.key), (mine.value, a.self.value),
                (mine.attn_out, a.output.dense), (mine.ln_attn, a.output.LayerNorm),
                (mine.inter, theirs.intermediate.dense), (mine.out, theirs.output.dense),
                (mine.ln_out, theirs.output.LayerNorm),
            ]:
                pairs += [(dst.weight, src.weight), (dst.bias, src.bias)]
        with torch.no_grad():
            for dst, src in pairs:
                dst.copy_(src)
