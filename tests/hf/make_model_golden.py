#!/usr/bin/python3
"""Writes the model fixtures of the libtorch layer: tests/data/models/<name>/.

    /usr/bin/python3 tests/hf/make_model_golden.py --out tests/data/models

Deterministic: running it again rewrites every file byte for byte (same torch version, one
thread).  Each fixture directory holds a tiny randomly initialised model (config.json +
model.safetensors as Hugging Face's save_pretrained writes them, or a TorchScript model.pt),
the tokenizer files of tests/data/tokenizers, and two golden files:

  golden_b1.safetensors   one example without padding
  golden_b3.safetensors   three examples of different lengths, right-padded with id 0

Golden tensors (F32 / I64; all computed in float64 and stored as float32):
  input_ids I64 [B,N], attention_mask I64 [B,N], lengths I64 [B], token_type_ids I64 [B,N]
  (BERT and RoBERTa only); logits F32 ([B,C] classifier, [B,N,V] LM) or, for base models,
  last_hidden_state F32 [B,N,d]; attentions F32 [L,B,H,N,N]; with a target (all but the base
  models): target_index I64 [B], target_position I64 [B] (LMs only), attention_grads F32
  [L,B,H,N,N] = d(sum_b y_b)/dA, input_grads F32 [B,N,d] = d(sum_b y_b)/d(word-embedding
  output) and input_embeds F32 [B,N,d] (that output), except for the TorchScript fixture,
  whose contract gives no embeddings.  y_b = logits[b, target_index[b]] (classifier) or
  logits[b, target_position[b], target_index[b]] (LM).  Entries at padded positions (rows or
  columns >= lengths[b]) are what the reference computes there and carry no meaning: compare
  [:n_b] / [:n_b, :n_b] only.

Reference: if Hugging Face ``transformers`` is importable, its own eager BERT / GPT-2 /
RoBERTa / XLM-RoBERTa / DistilBERT classes compute the goldens of the Hugging Face
architectures (and the result is cross-checked against our references below, < 1e-9);
otherwise (the case on this project's machines) the reference is tests/reference/hf_models.py
(BERT, GPT-2) and tests/reference/hf_encoders.py (RoBERTa, XLM-RoBERTa, DistilBERT), our
re-implementations of their eager code.  The AttnflowEncoderClassifier and the TorchScript
module always come from hf_models.py.  The Llama / Mistral / Qwen2 fixtures (ids of a 64-id
vocabulary, no tokenizer files; llama_lm's weights in two shards with
model.safetensors.index.json) come from tests/reference/hf_decoders.py, the T5 fixtures
(tests/hf/t5_fixtures.py) from tests/reference/hf_t5.py (or transformers' T5 classes), or from transformers'
LlamaModel / LlamaForCausalLM / Mistral* / Qwen2* when it is importable (compared at 1e-5:
its eager softmax runs in float32), and are checked against a plain-numpy forward too.  Token types are stored for BERT and RoBERTa (not
DistilBERT); RoBERTa batches are padded with its pad id 1.

The script checks itself before writing anything: attention rows sum to 1, causal and padded
entries are exactly 0, gradients agree with central finite differences (float64), padded runs
equal unpadded ones on their real part, safetensors files read back, and the TorchScript file
reloads and reproduces the goldens in float32 (gradients through the returned attentions).
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import math
import os
import shutil
import struct
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in tests/reference
sys.path.insert(0, os.path.join(REPO, "tests", "reference"))
import hf_models as R  # noqa: E402
import hf_encoders as E  # noqa: E402
import hf_decoders as D  # noqa: E402

torch.set_num_threads(1)

try:  # pragma: no cover - not installable on this project's machines
    import transformers  # type: ignore

    HAVE_TRANSFORMERS = True
except Exception:  # ImportError, or a broken install
    transformers = None
    HAVE_TRANSFORMERS = False

TOKENIZERS = os.path.join(REPO, "tests", "data", "tokenizers")

# Tiny dimensions.  Hidden 16 (not 32) keeps tests/data/models near 600 KB: the GPT-2
# vocabulary has 509 ids, so every embedding matrix and LM logit tensor is 509 wide.
LAYERS = 2
HEADS = 4
HIDDEN = 16
INTERMEDIATE = 64  # BERT intermediate_size; GPT-2 n_inner null -> 4 * HIDDEN = 64
MAX_POSITIONS = 64
WEIGHT_STD = 0.3
LN_STD = 0.1
BIAS_STD = 0.05

# --------------------------------------------------------------------------- safetensors

ST_DTYPES = {
    torch.float32: ("F32", 4),
    torch.float16: ("F16", 2),
    torch.bfloat16: ("BF16", 2),
    torch.int64: ("I64", 8),
}
ST_TORCH = {v[0]: k for k, v in ST_DTYPES.items()}


def tensor_bytes(t: torch.Tensor) -> bytes:
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().astype("<i2").tobytes()
    if t.dtype == torch.float16:
        return t.numpy().astype("<f2").tobytes()
    if t.dtype == torch.float32:
        return t.numpy().astype("<f4").tobytes()
    if t.dtype == torch.int64:
        return t.numpy().astype("<i8").tobytes()
    raise TypeError(t.dtype)


def write_safetensors(path: str, tensors: dict) -> None:
    """The safetensors format: u64 LE header length, JSON header (padded with spaces to a
    multiple of 8), then the tensors' bytes back to back in header order (names sorted)."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        dtype, size = ST_DTYPES[t.dtype]
        data = tensor_bytes(t)
        assert len(data) == t.numel() * size
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path: str) -> dict:
    with open(path, "rb") as f:
        raw = f.read()
    (hlen,) = struct.unpack("<Q", raw[:8])
    assert hlen % 8 == 0
    header = json.loads(raw[8 : 8 + hlen].decode("utf-8"))
    data = raw[8 + hlen :]
    out = {}
    end = 0
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        assert a == end, "tensors must tile the data region"
        end = b
        dt = ST_TORCH[e["dtype"]]
        buf = bytearray(data[a:b])
        if dt == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(buf, dtype=dt)
        out[name] = t.reshape(e["shape"]).clone()
    assert end == len(data)
    return out


# --------------------------------------------------------------------------- vocabularies


def bert_vocab() -> dict:
    with open(os.path.join(TOKENIZERS, "bert_uncased", "vocab.txt"), encoding="utf-8") as f:
        return {w.rstrip("\n"): i for i, w in enumerate(f)}


def gpt2_vocab() -> dict:
    with open(os.path.join(TOKENIZERS, "gpt2_bpe", "vocab.json"), encoding="utf-8") as f:
        v = json.load(f)
    with open(os.path.join(TOKENIZERS, "gpt2_bpe", "tokenizer.json"), encoding="utf-8") as f:
        for t in json.load(f)["added_tokens"]:
            v[t["content"]] = t["id"]
    return v


def gpt2_vocab_size() -> int:
    return max(gpt2_vocab().values()) + 1  # 509: covers <|endoftext|>, <mask>, [NEW]


def bert_ids(text: str) -> list:
    v = bert_vocab()
    return [v[w] for w in text.split()]


def gpt2_ids(tokens: list) -> list:
    v = gpt2_vocab()
    return [v[t] for t in tokens]


# --------------------------------------------------------------------------- configs


def bert_config(arch: str, style: str, dtype: str = "float32", extra: dict | None = None) -> dict:
    c = {
        "architectures": [arch],
        "attention_probs_dropout_prob": 0.1,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": MAX_POSITIONS,
        "model_type": "bert",
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "type_vocab_size": 2,
        "use_cache": True,
        "vocab_size": len(bert_vocab()),
    }
    if style == "4":
        c.update({"torch_dtype": dtype, "transformers_version": "4.44.2"})
    else:
        c.update({
            "add_cross_attention": False, "bos_token_id": None, "dtype": dtype, "eos_token_id": None,
            "is_decoder": False, "tie_word_embeddings": True, "transformers_version": "5.0.0",
        })
        del c["position_embedding_type"]  # default; 5.x configs leave it out
    c.update(extra or {})
    return c


def gpt2_config(arch: str, style: str, dtype: str = "float32", extra: dict | None = None) -> dict:
    eot = gpt2_vocab()["<|endoftext|>"]
    c = {
        "activation_function": "gelu_new",
        "architectures": [arch],
        "attn_pdrop": 0.1,
        "bos_token_id": eot,
        "embd_pdrop": 0.1,
        "eos_token_id": eot,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_embd": HIDDEN,
        "n_head": HEADS,
        "n_inner": None,
        "n_layer": LAYERS,
        "n_positions": MAX_POSITIONS,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "use_cache": True,
        "vocab_size": gpt2_vocab_size(),
    }
    if style == "4":
        c.update({"torch_dtype": dtype, "transformers_version": "4.44.2"})
    else:
        c.update({
            "add_cross_attention": False, "dtype": dtype, "pad_token_id": None,
            "tie_word_embeddings": True, "transformers_version": "5.0.0",
        })
    c.update(extra or {})
    return c


# RoBERTa / XLM-RoBERTa fixtures: synthetic vocabularies (ids only, no tokenizer files), laid
# out like the real ones: <s> 0, <pad> 1, </s> 2, <unk> 3, ..., <mask> last.
ROBERTA_VOCAB = 120
XLMR_VOCAB = 150
ROBERTA_PAD = 1


def roberta_config(arch: str, style: str, model_type: str, vocab: int, extra: dict | None = None) -> dict:
    c = {
        "architectures": [arch],
        "attention_probs_dropout_prob": 0.1,
        "bos_token_id": 0,
        "classifier_dropout": None,
        "eos_token_id": 2,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": HIDDEN,
        "initializer_range": 0.02,
        "intermediate_size": INTERMEDIATE,
        "layer_norm_eps": 1e-05,
        "max_position_embeddings": MAX_POSITIONS + ROBERTA_PAD + 1,  # 64 tokens, as 514 for 512
        "model_type": model_type,
        "num_attention_heads": HEADS,
        "num_hidden_layers": LAYERS,
        "pad_token_id": ROBERTA_PAD,
        "position_embedding_type": "absolute",
        "type_vocab_size": 1,
        "use_cache": True,
        "vocab_size": vocab,
    }
    if style == "4":
        c.update({"torch_dtype": "float32", "transformers_version": "4.44.2"})
    else:
        c.update({"add_cross_attention": False, "dtype": "float32", "is_decoder": False,
                  "tie_word_embeddings": True, "transformers_version": "5.0.0"})
        del c["position_embedding_type"]
    c.update(extra or {})
    return c


def distilbert_config(arch: str, style: str, extra: dict | None = None) -> dict:
    c = {
        "activation": "gelu",
        "architectures": [arch],
        "attention_dropout": 0.1,
        "dim": HIDDEN,
        "dropout": 0.1,
        "hidden_dim": 48,
        "initializer_range": 0.02,
        "max_position_embeddings": MAX_POSITIONS,
        "model_type": "distilbert",
        "n_heads": HEADS,
        "n_layers": LAYERS,
        "pad_token_id": 0,
        "qa_dropout": 0.1,
        "seq_classif_dropout": 0.2,
        "sinusoidal_pos_embds": False,
        "tie_weights_": True,
        "vocab_size": len(bert_vocab()),
    }
    if style == "4":
        c.update({"torch_dtype": "float32", "transformers_version": "4.44.2"})
    else:
        c.update({"dtype": "float32", "tie_word_embeddings": True, "transformers_version": "5.0.0"})
    c.update(extra or {})
    return c


def labels(names: list) -> dict:
    return {
        "id2label": {str(i): n for i, n in enumerate(names)},
        "label2id": {n: i for i, n in enumerate(names)},
    }


def config_json(config: dict) -> str:
    # what PretrainedConfig.to_json_string writes
    return json.dumps(config, indent=2, sort_keys=True) + "\n"


# --------------------------------------------------------------------------- inputs

BERT_B1 = "[CLS] the cat sat on mat [SEP]"
BERT_B3 = ["[CLS] the dog ran and the cat sat [SEP]", "[CLS] hello world ! [SEP]", "[CLS] we see the mat . [SEP]"]
BERT_MLM_B1 = "[CLS] the [MASK] sat on mat [SEP]"
BERT_MLM_B3 = ["[CLS] the dog [MASK] and the cat sat [SEP]", "[CLS] hello [MASK] ! [SEP]", "[CLS] we [MASK] the mat . [SEP]"]
# b3 example 2 is a pair: [CLS] A [SEP] B [SEP] with token types 0 / 1
BERT_CLS_B3 = ["[CLS] the dog ran and the cat sat [SEP]", "[CLS] hello world ! [SEP]", "[CLS] the cat [SEP] yes it [SEP]"]
BERT_CLS_B3_TYPES = [None, None, [0, 0, 0, 0, 1, 1, 1]]

GPT2_B1 = ["The", "Ġcat", "Ġsat", "Ġon", "Ġthe", "Ġdog", "."]
GPT2_B3 = [
    ["Hello", "Ġworld", ",", "Ġyou", "Ġlooked", "Ġat", "Ġthe", "Ġcat", "."],
    ["The", "Ġdog", "Ġread", "<mask>", "."],  # <mask> = 507, an added token past vocab.json
    ["Ġwe", "Ġread", "Ġand", "[NEW]", "Ġlooked", "Ġat", "Ġyou"],  # [NEW] = 508
]
SVA_B1 = ["<|endoftext|>", "The", "Ġcat", "Ġsat", "Ġon", "Ġthe", "Ġdog"]
SVA_B3 = [
    ["<|endoftext|>", "Hello", "Ġworld", ",", "Ġyou", "Ġlooked", "Ġat", "Ġthe", "Ġcat"],
    ["<|endoftext|>", "The", "Ġdog", "Ġread", "."],
    ["<|endoftext|>", "Ġwe", "Ġread", "Ġand", "Ġlooked", "Ġat", "Ġyou"],
]


# RoBERTa inputs (ids of the synthetic vocabularies); b3 example 2 holds the pad id 1 as a real
# token (attention_mask 1): its position is padding_idx and it does not count (fairseq).
RB_B1 = [0, 31, 47, 12, 88, 54, 2]
RB_B3 = [[0, 10, 20, 30, 40, 50, 60, 70, 2], [0, 77, 66, 55, 2], [0, 15, 25, 1, 35, 45, 2]]
RB_MLM_B1 = [0, 31, -1, 12, 88, 54, 2]  # -1: the mask token
RB_MLM_B3 = [[0, 10, 20, -1, 40, 50, 60, 70, 2], [0, -1, 66, 55, 2], [0, 15, 25, 1, -1, 45, 2]]


def with_mask(ids: list, mask_id: int) -> list:
    return [mask_id if i == -1 else i for i in ids]


def batch(id_lists: list, type_lists: list | None = None, pad: int = 0) -> dict:
    lengths = [len(x) for x in id_lists]
    n = max(lengths)
    b = len(id_lists)
    ids = torch.full((b, n), pad, dtype=torch.long)  # pad id 0 (RoBERTa: 1)
    mask = torch.zeros(b, n, dtype=torch.long)
    types = torch.zeros(b, n, dtype=torch.long)
    for i, x in enumerate(id_lists):
        ids[i, : len(x)] = torch.tensor(x)
        mask[i, : len(x)] = 1
        if type_lists and type_lists[i] is not None:
            types[i, : len(x)] = torch.tensor(type_lists[i])
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "lengths": torch.tensor(lengths)}


# --------------------------------------------------------------------------- weights


def init_weights(model: torch.nn.Module, seed: int) -> None:
    """Deterministic random weights (names sorted): embeddings / matrices N(0, WEIGHT_STD),
    LayerNorm weights 1 + N(0, LN_STD), biases N(0, BIAS_STD)."""
    g = torch.Generator().manual_seed(seed)
    sd = R.hf_state_dict(model)
    params = model.state_dict(keep_vars=True)
    with torch.no_grad():
        for name in sorted(sd):
            p = params[name]
            r = torch.randn(p.shape, generator=g, dtype=torch.float32)
            parent = name.split(".")[-2] if "." in name else ""
            is_ln = ".LayerNorm." in name or parent in ("ln_1", "ln_2", "ln_f") or parent.endswith("layer_norm")
            if is_ln and name.endswith(".weight"):
                p.copy_(1.0 + LN_STD * r)
            elif name.endswith("bias"):
                p.copy_(BIAS_STD * r)
            else:
                p.copy_(WEIGHT_STD * r)
    for m in model.modules():  # DistilBERT with sinusoidal_pos_embds: files store the sinusoids
        c = getattr(m, "c", None)
        if isinstance(c, dict) and c.get("sinusoidal_pos_embds"):
            with torch.no_grad():
                pe = m.embeddings.position_embeddings.weight
                pe.copy_(E.sinusoidal_positions(pe.shape[0], pe.shape[1]))
    if hasattr(model, "tie_weights"):
        model.tie_weights()


def round_weights(model: torch.nn.Module, dtype: torch.dtype) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(p.dtype))


def word_embeddings(model: torch.nn.Module) -> torch.nn.Embedding:
    for name, m in model.named_modules():
        if name.endswith("word_embeddings") or name.endswith("wte") or name.endswith("embed_tokens"):
            return m
    raise KeyError("no word embeddings")


# --------------------------------------------------------------------------- reference runs


def forward(model, b: dict, family: str, emb=None, attn_delta=None) -> dict:
    """One forward pass of an hf_models model (float64 inputs where needed)."""
    kw = {"attention_mask": b["attention_mask"], "inputs_embeds": emb, "attn_delta": attn_delta}
    if family in TYPED_FAMILIES:
        kw["token_type_ids"] = b["token_type_ids"]
    return model(b["input_ids"], **kw)


TYPED_FAMILIES = ("bert", "roberta")  # the families with token type embeddings


def scalar_target(logits: torch.Tensor, spec: dict) -> torch.Tensor:
    idx = spec["target_index"]
    if "target_position" in spec:
        pos = spec["target_position"]
        return sum(logits[i, pos[i], idx[i]] for i in range(len(idx)))
    return sum(logits[i, idx[i]] for i in range(len(idx)))


def reference(model, b: dict, family: str, targets: dict | None, attn_delta=None) -> dict:
    """Golden tensors from an hf_models model already in float64."""
    emb = word_embeddings(model).weight.detach()[b["input_ids"]].clone().requires_grad_(True)
    out = forward(model, b, family, emb, attn_delta)
    res = {"attentions": torch.stack(out["attentions"])}
    if "logits" in out:
        res["logits"] = out["logits"]
    else:
        res["last_hidden_state"] = out["last_hidden_state"]
    if targets is not None:
        y = scalar_target(out["logits"], targets)
        y.backward()
        res["y"] = y.detach()
        res["attention_grads"] = torch.stack([a.grad for a in out["attentions"]])
        res["input_grads"] = emb.grad
        res["input_embeds"] = emb.detach()
    return {k: v.detach() for k, v in res.items()}


# the architectures transformers computes the goldens of, when it is installed
HF_ARCHITECTURES = tuple(E.ARCHITECTURES) + ("BertModel", "BertForMaskedLM", "BertForSequenceClassification",
                                             "GPT2Model", "GPT2LMHeadModel")


def reference_transformers(arch: str, config: dict, model_sd: dict, b: dict, family: str,
                           targets: dict | None) -> dict:  # pragma: no cover - needs transformers
    """The same golden tensors computed by Hugging Face's own eager classes."""
    cfg = {k: v for k, v in config.items() if k not in ("transformers_version", "dtype", "torch_dtype")}
    hf_config = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg)
    hf_config._attn_implementation = "eager"
    model = getattr(transformers, arch)(hf_config).double()
    missing, unexpected = model.load_state_dict(model_sd, strict=False)
    assert not unexpected, unexpected
    tied = ("decoder", "lm_head", "vocab_projector", "position_ids", "token_type_ids")
    assert all(any(t in k for t in tied) for k in missing), missing
    model.tie_weights()
    model.eval()
    with tempfile.TemporaryDirectory() as tmp:  # the names save_pretrained writes = ours
        model.save_pretrained(tmp, safe_serialization=True)
        names = set(read_safetensors(os.path.join(tmp, "model.safetensors")))
        assert names == set(model_sd), (sorted(names ^ set(model_sd)))
    # e = the word-embedding output, a leaf: a forward hook puts it in place of the lookup, so
    # that every model computes its own positions from input_ids (RoBERTa's depend on them;
    # DistilBERT's inputs_embeds would skip its whole embedding module)
    emb = model.get_input_embeddings().weight.detach()[b["input_ids"]].clone().requires_grad_(True)
    hook = model.get_input_embeddings().register_forward_hook(lambda module, args, output: emb)
    kw = dict(input_ids=b["input_ids"], attention_mask=b["attention_mask"], output_attentions=True, return_dict=True)
    if family in TYPED_FAMILIES:
        kw["token_type_ids"] = b["token_type_ids"]
    out = model(**kw)
    hook.remove()
    attentions = list(out.attentions)
    res = {"attentions": torch.stack(attentions)}
    if targets is not None:
        for a in attentions:
            a.retain_grad()
    if getattr(out, "logits", None) is not None:
        res["logits"] = out.logits
    else:
        res["last_hidden_state"] = out.last_hidden_state
    if targets is not None:
        y = scalar_target(out.logits, targets)
        y.backward()
        res["y"] = y.detach()
        res["attention_grads"] = torch.stack([a.grad for a in attentions])
        res["input_grads"] = emb.grad
        res["input_embeds"] = emb.detach()
    return {k: v.detach() for k, v in res.items()}


# --------------------------------------------------------------------------- self-checks

CHECKS = []


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)
    CHECKS.append(what)


def maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    return float((a.double() - b.double()).abs().max()) if a.numel() else 0.0


def check_attention(name: str, res: dict, b: dict, causal: bool) -> None:
    att = res["attentions"]  # [L, B, H, N, N]
    lengths = b["lengths"].tolist()
    for i, n in enumerate(lengths):
        a = att[:, i, :, :n, :]
        check(maxdiff(a.sum(-1), torch.ones_like(a.sum(-1))) < 1e-12, f"{name}: rows sum to 1 (example {i})")
        check(bool((att[:, i, :, :n, n:] == 0).all()), f"{name}: padded keys exactly 0 (example {i})")
        if causal:
            upper = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
            check(bool((att[:, i, :, :n, :n][..., upper] == 0).all()), f"{name}: causal entries exactly 0 (example {i})")
        else:
            check(bool((att[:, i, :, :n, :n] > 0).all()), f"{name}: no zero in the real block (example {i})")
    # not uniform: the fixtures are meant to tell heads apart
    sd = float(att[:, 0, :, : lengths[0], : lengths[0]].std())
    check(sd > 0.05, f"{name}: attention is far from uniform (std {sd:.3f})")


def check_finite_differences(name: str, model, b: dict, family: str, targets: dict, res: dict) -> None:
    """Central differences in float64 for one attention entry per layer and one embedding
    entry: perturb A (after it was returned) and the word-embedding output."""
    eps = 1e-6
    lengths = b["lengths"].tolist()
    bi = len(lengths) - 1
    n = lengths[bi]
    L, B, H, N, _ = res["attentions"].shape
    # the position whose logits give y: the LM target, else the classifier's token (0)
    out_pos = int(targets["target_position"][bi]) if "target_position" in targets else 0
    causal = family == "llama" or (family == "gpt2" and model.transformer.h[0].attn.causal)
    for layer in range(L):
        # a query row that y depends on: in the last layer only the output position counts
        h, i, j = (layer + 1) % H, (out_pos if layer == L - 1 or causal else n - 1), 1
        vals = []
        for s in (eps, -eps):
            delta = [torch.zeros(B, H, N, N, dtype=torch.float64) for _ in range(L)]
            delta[layer][bi, h, i, j] = s
            with torch.no_grad():
                out = forward(model, b, family, None, delta)
            vals.append(float(scalar_target(out["logits"], targets)))
        fd = (vals[0] - vals[1]) / (2 * eps)
        g = float(res["attention_grads"][layer, bi, h, i, j])
        check(abs(g) > 1e-6, f"{name}: dy/dA[{layer},{bi},{h},{i},{j}] is not trivially 0")
        check(abs(fd - g) <= 1e-6 * max(1.0, abs(g)), f"{name}: dy/dA[{layer},{bi},{h},{i},{j}] = {g:.6g} matches finite differences {fd:.6g}")
    if "input_grads" in res:
        pos, k = 1, 3
        vals = []
        for s in (eps, -eps):
            emb = word_embeddings(model).weight.detach()[b["input_ids"]].clone()
            emb[bi, pos, k] += s
            with torch.no_grad():
                out = forward(model, b, family, emb, None)
            vals.append(float(scalar_target(out["logits"], targets)))
        fd = (vals[0] - vals[1]) / (2 * eps)
        g = float(res["input_grads"][bi, pos, k])
        check(abs(g) > 1e-6, f"{name}: dy/de[{bi},{pos},{k}] is not trivially 0")
        check(abs(fd - g) <= 1e-6 * max(1.0, abs(g)), f"{name}: dy/de[{bi},{pos},{k}] = {g:.6g} matches finite differences {fd:.6g}")


def check_naive_numpy(name: str, file_sd: dict, config: dict, b: dict, res: dict, e: int = 0) -> None:
    """Example e recomputed with plain numpy straight from the file's tensors (HF names, any
    prefix, legacy gamma/beta, tied heads resolved by hand): every layer's attention and the
    model's output - independent of the module code in hf_models.py."""
    def get(key):
        for k, v in file_sd.items():
            k2 = k.replace(".gamma", ".weight").replace(".beta", ".bias")
            if k2 == key or k2.endswith("." + key):
                return v.double().numpy()
        raise KeyError(key)

    def ln(x, pre, eps):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * get(pre + ".weight") + get(pre + ".bias")

    def lin(x, pre):  # nn.Linear: weight [out, in]
        return x @ get(pre + ".weight").T + get(pre + ".bias")

    def conv(x, pre):  # Conv1D: weight [in, out]
        return x @ get(pre + ".weight") + get(pre + ".bias")

    def attention(q, k, v, heads, causal, divide):
        n, d = q.shape
        hd = d // heads
        att = np.zeros((heads, n, n))
        ctx = np.zeros((n, d))
        for h in range(heads):
            sl = slice(h * hd, (h + 1) * hd)
            s = q[:, sl] @ k[:, sl].T / math.sqrt(hd) / divide
            if causal:
                s = np.where(np.tril(np.ones((n, n))) > 0, s, -np.inf)
            e = np.exp(s - s.max(-1, keepdims=True))
            att[h] = e / e.sum(-1, keepdims=True)
            ctx[:, sl] = att[h] @ v[:, sl]
        return att, ctx

    gelu = lambda x: 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))  # noqa: E731
    gelu_new = lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))  # noqa: E731
    act = {"gelu": gelu, "gelu_new": gelu_new, "relu": lambda x: np.maximum(x, 0.0)}

    def post_ln_layer(x, p, names, heads, f, eps):
        """One BERT-style block; names: query key value out attn_norm lin1 lin2 out_norm."""
        q, k, v, o, n1, l1, l2, n2 = (p + name for name in names.split())
        a, ctx = attention(lin(x, q), lin(x, k), lin(x, v), heads, False, 1.0)
        x = ln(lin(ctx, o) + x, n1, eps)
        return ln(lin(f(lin(x, l1)), l2) + x, n2, eps), a
    n = int(b["lengths"][e])
    ids = b["input_ids"][e, :n].numpy()
    arch = config["architectures"][0]
    atts = []
    if config["model_type"] in ("bert", "roberta", "xlm-roberta"):
        word = get("embeddings.word_embeddings.weight")
        heads, eps = config["num_attention_heads"], config["layer_norm_eps"]
        f = act[config.get("hidden_act", "gelu")]
        types = b["token_type_ids"][e, :n].numpy()
        positions = np.arange(n)
        if config["model_type"] != "bert":  # pad + rank among the non-pad tokens, pads: pad
            pad = config["pad_token_id"]
            positions = np.where(ids != pad, np.cumsum(ids != pad), 0) + pad
        x = word[ids] + get("embeddings.token_type_embeddings.weight")[types]
        x = ln(x + get("embeddings.position_embeddings.weight")[positions], "embeddings.LayerNorm", eps)
        names = ("attention.self.query attention.self.key attention.self.value attention.output.dense "
                 "attention.output.LayerNorm intermediate.dense output.dense output.LayerNorm")
        for i in range(config["num_hidden_layers"]):
            x, a = post_ln_layer(x, f"encoder.layer.{i}.", names, heads, f, eps)
            atts.append(a)
        if arch.endswith("Model"):
            out, key = x, "last_hidden_state"
        elif arch == "BertForMaskedLM":
            t = ln(f(lin(x, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm", eps)
            out, key = t @ word.T + get("cls.predictions.bias"), "logits"
        elif arch.endswith("ForMaskedLM"):  # RoBERTa: always the erf GELU
            t = ln(gelu(lin(x, "lm_head.dense")), "lm_head.layer_norm", eps)
            out, key = t @ word.T + get("lm_head.bias"), "logits"
        elif arch == "BertForSequenceClassification":
            pooled = np.tanh(lin(x[0], "pooler.dense"))
            out, key = lin(pooled, "classifier"), "logits"
        else:
            out, key = lin(np.tanh(lin(x[0], "classifier.dense")), "classifier.out_proj"), "logits"
    elif config["model_type"] == "distilbert":
        word = get("embeddings.word_embeddings.weight")
        heads, eps, f = config["n_heads"], 1e-12, act[config["activation"]]
        x = ln(word[ids] + get("embeddings.position_embeddings.weight")[:n], "embeddings.LayerNorm", eps)
        names = ("attention.q_lin attention.k_lin attention.v_lin attention.out_lin sa_layer_norm "
                 "ffn.lin1 ffn.lin2 output_layer_norm")
        for i in range(config["n_layers"]):
            x, a = post_ln_layer(x, f"transformer.layer.{i}.", names, heads, f, eps)
            atts.append(a)
        if arch == "DistilBertModel":
            out, key = x, "last_hidden_state"
        elif arch == "DistilBertForMaskedLM":
            t = ln(f(lin(x, "vocab_transform")), "vocab_layer_norm", eps)
            out, key = t @ word.T + get("vocab_projector.bias"), "logits"
        else:
            out, key = lin(np.maximum(lin(x[0], "pre_classifier"), 0.0), "classifier"), "logits"
    else:
        heads, eps, d = config["n_head"], config["layer_norm_epsilon"], config["n_embd"]
        causal = arch != "AttnflowEncoderClassifier"
        x = get("wte.weight")[ids] + get("wpe.weight")[:n]
        for i in range(config["n_layer"]):
            p = f"h.{i}."
            qkv = conv(ln(x, p + "ln_1", eps), p + "attn.c_attn")
            divide = float(i + 1) if config.get("scale_attn_by_inverse_layer_idx") else 1.0
            a, ctx = attention(qkv[:, :d], qkv[:, d : 2 * d], qkv[:, 2 * d :], heads, causal, divide)
            atts.append(a)
            x = x + conv(ctx, p + "attn.c_proj")
            x = x + conv(gelu_new(conv(ln(x, p + "ln_2", eps), p + "mlp.c_fc")), p + "mlp.c_proj")
        x = ln(x, "ln_f", eps)
        if arch == "GPT2Model":
            out, key = x, "last_hidden_state"
        elif arch == "GPT2LMHeadModel":
            out, key = x @ get("wte.weight").T, "logits"
        else:
            out, key = lin(x[config["attnflow_classifier_position"]], "classifier"), "logits"
    da = float(np.abs(np.stack(atts) - res["attentions"][:, e, :, :n, :n].numpy()).max())
    ref = res[key][e, :n] if res[key].dim() == 3 else res[key][e]
    do = float(np.abs(out - ref.numpy()).max())
    check(da < 1e-12 and do < 1e-11, f"{name}: attentions and {key} equal a plain numpy forward from the file (max diff {da:.1e}, {do:.1e})")


def sub_batch(b: dict, i: int) -> dict:
    n = int(b["lengths"][i])
    return {
        "input_ids": b["input_ids"][i : i + 1, :n],
        "attention_mask": b["attention_mask"][i : i + 1, :n],
        "token_type_ids": b["token_type_ids"][i : i + 1, :n],
        "lengths": b["lengths"][i : i + 1],
    }


def sub_targets(t: dict | None, i: int) -> dict | None:
    if t is None:
        return None
    return {k: v[i : i + 1] for k, v in t.items()}


def check_padding(name: str, run, b: dict, targets: dict | None, res: dict) -> None:
    """Each padded example's real part equals the same example run alone."""
    for i, n in enumerate(b["lengths"].tolist()):
        one = run(sub_batch(b, i), sub_targets(targets, i))
        d = maxdiff(res["attentions"][:, i, :, :n, :n], one["attentions"][:, 0])
        for key in ("attention_grads",):
            if key in res:
                d = max(d, maxdiff(res[key][:, i, :, :n, :n], one[key][:, 0]))
        for key in ("input_grads", "input_embeds", "last_hidden_state"):
            if key in res:
                d = max(d, maxdiff(res[key][i, :n], one[key][0]))
        if "logits" in res:
            lg = res["logits"][i]
            d = max(d, maxdiff(lg[:n] if lg.dim() == 2 else lg, one["logits"][0]))
        check(d < 1e-11, f"{name}: padded example {i} equals its unpadded run (max diff {d:.1e})")


# --------------------------------------------------------------------------- fixtures


def lm_targets_last(b: dict) -> dict:
    lengths = b["lengths"]
    pos = lengths - 2
    idx = torch.stack([b["input_ids"][i, int(lengths[i]) - 1] for i in range(len(lengths))])
    return {"target_index": idx, "target_position": pos}


def mlm_targets(b: dict, token: int, mask_id: int | None = None) -> dict:
    mask_id = MASK_ID if mask_id is None else mask_id
    pos = torch.tensor([int((row == mask_id).nonzero()[0]) for row in b["input_ids"]])
    return {"target_index": torch.full((len(pos),), token, dtype=torch.long), "target_position": pos}


MASK_ID = bert_vocab()["[MASK]"]


def fixtures() -> list:
    bv = bert_vocab()
    g_b1, g_b3 = gpt2_ids(GPT2_B1), [gpt2_ids(x) for x in GPT2_B3]
    sva_b1, sva_b3 = gpt2_ids(SVA_B1), [gpt2_ids(x) for x in SVA_B3]
    return [
        dict(name="bert_base", family="bert", seed=101, tokenizer="bert_uncased",
             config=bert_config("BertModel", "4"),
             b1=batch([bert_ids(BERT_B1)]), b3=batch([bert_ids(t) for t in BERT_B3]),
             targets=None,
             covers="BertModel, no name prefix, pooler present, erf GELU, 4.x config"),
        dict(name="bert_mlm", family="bert", seed=102, tokenizer="bert_uncased",
             config=bert_config("BertForMaskedLM", "5"),
             b1=batch([bert_ids(BERT_MLM_B1)]), b3=batch([bert_ids(t) for t in BERT_MLM_B3]),
             targets=lambda b: mlm_targets(b, bv["cat"]),
             covers="BertForMaskedLM, `bert.` prefix, no pooler, decoder tied to word embeddings (absent) + `cls.predictions.bias`, [MASK] target, 5.x config"),
        dict(name="bert_cls", family="bert", seed=103, tokenizer="bert_uncased",
             config=bert_config("BertForSequenceClassification", "4",
                                extra={**labels(["NEGATIVE", "NEUTRAL", "POSITIVE"]), "problem_type": "single_label_classification"}),
             b1=batch([bert_ids(BERT_B1)]),
             b3=batch([bert_ids(t) for t in BERT_CLS_B3], BERT_CLS_B3_TYPES),
             targets=lambda b: {"target_index": torch.tensor([1, 0, 2][: len(b["lengths"])])},
             covers="BertForSequenceClassification (3 labels), `bert.` prefix, pooler + classifier, token types 1 in a pair example, 4.x config"),
        dict(name="bert_mlm_bf16", family="bert", seed=104, tokenizer="bert_uncased", store=torch.bfloat16,
             config=bert_config("BertForMaskedLM", "5", dtype="bfloat16"), legacy_ln=True,
             b1=batch([bert_ids(BERT_MLM_B1)]), b3=batch([bert_ids(t) for t in BERT_MLM_B3]),
             targets=lambda b: mlm_targets(b, bv["dog"]),
             covers="BertForMaskedLM stored as BF16 (reference uses the bf16-rounded weights), legacy `LayerNorm.gamma`/`.beta` names, 5.x config `dtype: bfloat16`"),
        dict(name="gpt2_base", family="gpt2", seed=105, tokenizer="gpt2_bpe",
             config=gpt2_config("GPT2Model", "5", extra={"scale_attn_by_inverse_layer_idx": True}),
             b1=batch([g_b1]), b3=batch(g_b3), targets=None,
             covers="GPT2Model, no prefix, causal mask, `scale_attn_by_inverse_layer_idx`, added tokens 507/508, 5.x config"),
        dict(name="gpt2_lm", family="gpt2", seed=106, tokenizer="gpt2_bpe",
             config=gpt2_config("GPT2LMHeadModel", "4"),
             b1=batch([g_b1]), b3=batch(g_b3), targets=lm_targets_last,
             covers="GPT2LMHeadModel, `transformer.` prefix, lm_head tied to wte (absent), Conv1D [in, out] weights, target = last token at n-2, 4.x config"),
        dict(name="gpt2_lm_fp16", family="gpt2", seed=107, tokenizer="gpt2_bpe", store=torch.float16,
             config=gpt2_config("GPT2LMHeadModel", "4", dtype="float16"), explicit_lm_head=True,
             b1=batch([g_b1]), b3=batch(g_b3), targets=lm_targets_last,
             covers="GPT2LMHeadModel stored as F16 (reference uses the fp16-rounded weights), explicit `lm_head.weight` (= wte), 4.x config `torch_dtype: float16`"),
        dict(name="sva_encoder", family="gpt2", seed=108, tokenizer="gpt2_bpe",
             config=gpt2_config("AttnflowEncoderClassifier", "5",
                                extra={**labels(["SINGULAR", "PLURAL"]), "attnflow_causal": False,
                                       "attnflow_classifier_position": 0, "n_inner": 32}),
             b1=batch([sva_b1]), b3=batch(sva_b3),
             targets=lambda b: {"target_index": torch.tensor([0, 1, 1][: len(b["lengths"])])},
             covers="AttnflowEncoderClassifier: GPT-2 blocks without causal mask, classifier on ln_f output at position 0 (<|endoftext|> as CLS), explicit n_inner 32, 5.x config"),
    ] + encoder_fixtures()


def encoder_fixtures() -> list:
    """RoBERTa, XLM-RoBERTa and DistilBERT: base model, sequence classifier, masked LM each."""
    bv = bert_vocab()
    rb = dict(family="roberta")
    rb_b1, rb_b3 = batch([RB_B1], pad=ROBERTA_PAD), batch(RB_B3, pad=ROBERTA_PAD)

    def rb_mlm(mask_id):
        return (batch([with_mask(RB_MLM_B1, mask_id)], pad=ROBERTA_PAD),
                batch([with_mask(x, mask_id) for x in RB_MLM_B3], pad=ROBERTA_PAD))

    r_mask, x_mask = ROBERTA_VOCAB - 1, XLMR_VOCAB - 1
    r_mlm, x_mlm = rb_mlm(r_mask), rb_mlm(x_mask)
    three = lambda b: {"target_index": torch.tensor([1, 0, 2][: len(b["lengths"])])}  # noqa: E731
    two = lambda b: {"target_index": torch.tensor([0, 1, 1][: len(b["lengths"])])}  # noqa: E731
    distil = dict(family="distilbert", tokenizer="bert_uncased")
    return [
        dict(name="roberta_base", seed=110, **rb, config=roberta_config("RobertaModel", "4", "roberta", ROBERTA_VOCAB),
             b1=rb_b1, b3=rb_b3, targets=None,
             covers="RobertaModel (no prefix, pooler present), positions from pad_token_id + 1 (max_position_embeddings 66 for 64 tokens), type_vocab_size 1, pad id 1 as a real token in b3 example 2, 4.x config"),
        dict(name="roberta_cls", seed=111, **rb,
             config=roberta_config("RobertaForSequenceClassification", "5", "roberta", ROBERTA_VOCAB,
                                   extra=labels(["NEGATIVE", "NEUTRAL", "POSITIVE"])),
             b1=rb_b1, b3=rb_b3, targets=three,
             covers="RobertaForSequenceClassification (`roberta.` prefix, no pooler): classifier.dense + tanh + classifier.out_proj on <s>, 3 labels, 5.x config"),
        dict(name="roberta_mlm", seed=112, **rb,
             config=roberta_config("RobertaForMaskedLM", "4", "roberta", ROBERTA_VOCAB, extra={"hidden_act": "gelu_new"}),
             b1=r_mlm[0], b3=r_mlm[1], targets=lambda b: mlm_targets(b, 44, r_mask),
             covers="RobertaForMaskedLM: lm_head.dense + erf GELU (although hidden_act is gelu_new, used by the blocks) + lm_head.layer_norm, decoder tied to the word embeddings (absent) + lm_head.bias, <mask> 119, target token 44, 4.x config"),
        dict(name="xlmr_base", seed=113, **rb, config=roberta_config("XLMRobertaModel", "5", "xlm-roberta", XLMR_VOCAB),
             b1=rb_b1, b3=rb_b3, targets=None,
             covers="XLMRobertaModel (model_type xlm-roberta, no prefix, pooler present), 5.x config"),
        dict(name="xlmr_cls", seed=114, **rb,
             config=roberta_config("XLMRobertaForSequenceClassification", "4", "xlm-roberta", XLMR_VOCAB,
                                   extra={**labels(["NO", "YES"]), "problem_type": "single_label_classification"}),
             b1=rb_b1, b3=rb_b3, targets=two,
             covers="XLMRobertaForSequenceClassification, 2 labels, 4.x config"),
        dict(name="xlmr_mlm", seed=115, **rb, config=roberta_config("XLMRobertaForMaskedLM", "5", "xlm-roberta", XLMR_VOCAB),
             b1=x_mlm[0], b3=x_mlm[1], targets=lambda b: mlm_targets(b, 99, x_mask),
             covers="XLMRobertaForMaskedLM, <mask> 149, target token 99, 5.x config"),
        dict(name="distilbert_base", seed=116, **distil,
             config=distilbert_config("DistilBertModel", "4", extra={"sinusoidal_pos_embds": True}),
             b1=batch([bert_ids(BERT_B1)]), b3=batch([bert_ids(t) for t in BERT_B3]), targets=None,
             covers="DistilBertModel (no prefix; dim / n_layers / n_heads / hidden_dim 48), sinusoidal_pos_embds (the sinusoids stored in the file), no token types, 4.x config"),
        dict(name="distilbert_cls", seed=117, **distil,
             config=distilbert_config("DistilBertForSequenceClassification", "5",
                                      extra={**labels(["NEGATIVE", "POSITIVE"]), "activation": "relu"}),
             b1=batch([bert_ids(BERT_B1)]), b3=batch([bert_ids(t) for t in BERT_B3]), targets=two,
             covers="DistilBertForSequenceClassification (`distilbert.` prefix): pre_classifier + ReLU + classifier on [CLS], ReLU feed-forward (activation relu), 5.x config"),
        dict(name="distilbert_mlm", seed=118, **distil, config=distilbert_config("DistilBertForMaskedLM", "4"),
             b1=batch([bert_ids(BERT_MLM_B1)]), b3=batch([bert_ids(t) for t in BERT_MLM_B3]),
             targets=lambda b: mlm_targets(b, bv["cat"]),
             covers="DistilBertForMaskedLM: vocab_transform + GELU + vocab_layer_norm, vocab_projector tied to the word embeddings (absent) + vocab_projector.bias, [MASK] target `cat`, 4.x config"),
    ]


def fixture_batches(fx: dict):
    yield "b1", fx["b1"]
    yield "b3", fx["b3"]


def golden_tensors(b: dict, family: str, targets: dict | None, res: dict, with_embeds: bool = True) -> dict:
    g = {"input_ids": b["input_ids"], "attention_mask": b["attention_mask"], "lengths": b["lengths"]}
    if family in TYPED_FAMILIES:
        g["token_type_ids"] = b["token_type_ids"]
    for k in ("logits", "last_hidden_state", "attentions", "attention_grads"):
        if k in res:
            g[k] = res[k].float()
    if with_embeds and "input_grads" in res:
        g["input_grads"] = res["input_grads"].float()
        g["input_embeds"] = res["input_embeds"].float()
    if targets is not None:
        g.update({k: v.long() for k, v in targets.items()})
    return g


def copy_tokenizer(name: str, out: str) -> None:
    src = os.path.join(TOKENIZERS, name)
    for f in sorted(os.listdir(src)):
        shutil.copyfile(os.path.join(src, f), os.path.join(out, f))


def make_hf_fixture(fx: dict, out_root: str) -> None:
    name, family, config = fx["name"], fx["family"], fx["config"]
    arch = config["architectures"][0]
    store = fx.get("store", torch.float32)
    model = E.build_model(config)
    init_weights(model, fx["seed"])
    if store != torch.float32:
        round_weights(model, store)
    sd = R.hf_state_dict(model)  # float32, the names save_pretrained writes
    file_sd = {}
    for k, v in sd.items():
        if fx.get("legacy_ln"):
            k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        file_sd[k] = v.detach().to(store).contiguous()
    if fx.get("explicit_lm_head"):
        file_sd["lm_head.weight"] = sd["transformer.wte.weight"].detach().to(store).contiguous()

    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
        f.write(config_json(config))
    write_safetensors(os.path.join(d, "model.safetensors"), file_sd)
    if fx.get("tokenizer"):  # RoBERTa fixtures: ids only
        copy_tokenizer(fx["tokenizer"], d)

    # the reference loads what was written, like from_pretrained
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        loaded_config = json.load(f)
    file_back = read_safetensors(os.path.join(d, "model.safetensors"))
    for k, v in file_sd.items():
        check(torch.equal(file_back[k], v), f"{name}: {k} reads back")
    ref = E.build_model(loaded_config)
    R.load_hf_state_dict(ref, {k: v.float() for k, v in file_back.items()})
    ref = ref.double()
    causal = family == "gpt2" and arch != "AttnflowEncoderClassifier"

    use_hf = HAVE_TRANSFORMERS and arch in HF_ARCHITECTURES
    hf_sd = {k: v.double() for k, v in R.hf_state_dict(ref).items()}

    def run(b, t):
        return reference(ref, b, family, t)

    for tag, b in fixture_batches(fx):
        targets = fx["targets"](b) if fx["targets"] else None
        res = run(b, targets)
        if use_hf:  # pragma: no cover
            hf = reference_transformers(arch, loaded_config, hf_sd, b, family, targets)
            for k in res:
                check(maxdiff(res[k], hf[k]) < 1e-9, f"{name}/{tag}: hf_models {k} equals transformers'")
            res = hf
        check_attention(f"{name}/{tag}", res, b, causal)
        for e in range(len(b["lengths"])):  # every example, from the file's tensors
            check_naive_numpy(f"{name}/{tag}[{e}]", file_back, loaded_config, b, res, e)
        if targets is not None:
            check_finite_differences(f"{name}/{tag}", ref, b, family, targets, res)
        if tag == "b3":
            check_padding(f"{name}/{tag}", run, b, targets, res)
        write_safetensors(os.path.join(d, f"golden_{tag}.safetensors"), golden_tensors(b, family, targets, res))


# --------------------------------------------------------------------------- TorchScript

TS_LABELS = 3


def make_torchscript_fixture(out_root: str) -> None:
    name = "torchscript_bert"
    d = os.path.join(out_root, name)
    os.makedirs(d, exist_ok=True)
    config = bert_config("BertForSequenceClassification", "4", extra=labels(["A", "B", "C"]))
    bert = E.build_model(config)
    init_weights(bert, 109)
    module = R.ScriptableBertClassifier(vocab=config["vocab_size"], d=HIDDEN, layers=LAYERS, heads=HEADS,
                                        inner=INTERMEDIATE, positions=MAX_POSITIONS, labels=TS_LABELS)
    module.copy_from_bert(bert)
    module.eval()
    scripted = torch.jit.script(module)
    buf = io.BytesIO()
    torch.jit.save(scripted, buf)
    with open(os.path.join(d, "model.pt"), "wb") as f:
        f.write(buf.getvalue())
    copy_tokenizer("bert_uncased", d)

    eager = copy.deepcopy(module).double()
    bert = bert.double()
    # torch 1.13's optimising graph executor turns the scripted forward into a
    # DifferentiableGraph from the second call on; retain_grad() on the returned attention
    # tensors then sees only the gradient from *outside* that graph: backward() fails
    # ("Expected a proper Tensor but got None") or dy/dA is wrong.  With optimisation off
    # before the module's first call (C++: torch::jit::setGraphExecutorOptimize(false), or a
    # torch::jit::GraphOptimizerEnabledGuard(false) around every forward) it is exact.
    torch._C._set_graph_executor_optimize(False)
    loaded = torch.jit.load(os.path.join(d, "model.pt"))
    check(all(p.requires_grad for p in loaded.parameters()), f"{name}: reloaded parameters require grad")

    def run_ts(m, b, targets):
        logits, attentions = m(b["input_ids"], b["attention_mask"])
        for a in attentions:
            a.retain_grad()  # what the C++ side does with the returned list
        res = {"logits": logits, "attentions": torch.stack(attentions)}
        if targets is not None:
            y = scalar_target(logits, targets)
            y.backward()
            res["attention_grads"] = torch.stack([a.grad for a in attentions])
        return {k: v.detach() for k, v in res.items()}

    b1 = batch([bert_ids(BERT_B1)])
    b3 = batch([bert_ids(t) for t in BERT_B3])
    for tag, b, cls in (("b1", b1, [0]), ("b3", b3, [2, 0, 1])):
        targets = {"target_index": torch.tensor(cls)}
        res = run_ts(eager, b, targets)
        # a second, independent implementation: the hf_models BERT classifier, same weights
        other = reference(bert, b, "bert", targets)
        for k in ("logits", "attentions", "attention_grads"):
            check(maxdiff(res[k], other[k]) < 1e-11, f"{name}/{tag}: {k} equals hf_models BertForSequenceClassification")
        check_attention(f"{name}/{tag}", res, b, False)
        check_finite_differences(f"{name}/{tag}", bert, b, "bert", targets, other)
        if tag == "b3":
            check_padding(f"{name}/{tag}", lambda bb, tt: run_ts(eager, bb, tt), b, targets, res)
        # the saved file itself, in float32, three calls in a row (see above)
        for call in range(3):
            got = run_ts(loaded, b, targets)
            for k, tol in (("logits", 1e-4), ("attentions", 1e-5), ("attention_grads", 1e-4)):
                dd = maxdiff(got[k], res[k])
                check(dd < tol, f"{name}/{tag}: model.pt (float32, reloaded, call {call + 1}) {k} within {tol:g} (max diff {dd:.1e})")
        g = golden_tensors(b, "torchscript", targets, res, with_embeds=False)
        write_safetensors(os.path.join(d, f"golden_{tag}.safetensors"), g)


# --------------------------------------------------------------------------- Llama family

# Tiny decoders: 2 layers, 4 query heads, vocabulary 64, ids only (no tokenizer files).
DEC_VOCAB = 64
DEC_B1 = [5, 17, 33, 2, 48, 9, 61]
DEC_B3 = [[5, 17, 33, 2, 48, 9, 61, 12, 40], [7, 3, 55, 21, 30], [1, 44, 26, 8, 19, 63, 11]]


def decoder_config(model_type: str, arch: str, **extra) -> dict:
    c = {
        "architectures": [arch],
        "model_type": model_type,
        "vocab_size": DEC_VOCAB,
        "hidden_size": HIDDEN,
        "intermediate_size": 32,
        "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS,
        "num_key_value_heads": 2,
        "max_position_embeddings": MAX_POSITIONS,
        "rms_norm_eps": 1e-6,
        "rope_theta": 10000.0,
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "transformers_version": "4.46.0",
        "torch_dtype": "float32",
    }
    c.update(extra)
    return c


def decoder_fixtures() -> list:
    lm = lm_targets_last
    return [
        # LlamaModel: GQA 4 query / 2 KV heads, plain RoPE, no target
        dict(name="llama_base", seed=201, config=decoder_config("llama", "LlamaModel"), targets=None),
        # LlamaForCausalLM: head_dim 8 given explicitly (q_proj 32 x 16), rope_scaling llama3
        # (frequencies 1, 0.1, 0.01, 0.001: one kept, one interpolated, two divided), untied
        # lm_head, weights in a 2-shard checkpoint with model.safetensors.index.json
        dict(name="llama_lm", seed=202, shards=2, targets=lm,
             config=decoder_config("llama", "LlamaForCausalLM", head_dim=8, rope_scaling={
                 "rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                 "original_max_position_embeddings": 64})),
        # bfloat16 weights, tied embeddings, rope_scaling linear under the old key "type",
        # attention_bias and mlp_bias (q/k/v/o and MLP biases)
        dict(name="llama_lm_bf16", seed=203, store=torch.bfloat16, targets=lm,
             config=decoder_config("llama", "LlamaForCausalLM", tie_word_embeddings=True, attention_bias=True,
                                   mlp_bias=True, rope_theta=500000.0, torch_dtype="bfloat16",
                                   rope_scaling={"type": "linear", "factor": 2.0})),
        # MistralForCausalLM: sliding window 3, smaller than every sequence
        dict(name="mistral_lm", seed=204, targets=lm,
             config=decoder_config("mistral", "MistralForCausalLM", sliding_window=3)),
        # Qwen2ForCausalLM: q/k/v biases, one KV head for 4 query heads, tied embeddings,
        # 5.x config (dtype, rope_parameters)
        dict(name="qwen2_lm", seed=205, targets=lm,
             config={k: v for k, v in decoder_config(
                 "qwen2", "Qwen2ForCausalLM", num_key_value_heads=1, tie_word_embeddings=True,
                 use_sliding_window=False, dtype="float32", transformers_version="5.0.0",
                 rope_parameters={"rope_type": "default", "rope_theta": 1000.0}).items()
                 if k not in ("torch_dtype", "rope_theta")}),
    ]


def init_decoder_weights(model: torch.nn.Module, seed: int) -> None:
    """Deterministic random weights (names sorted): matrices / embeddings N(0, WEIGHT_STD),
    RMSNorm weights 1 + N(0, LN_STD), biases N(0, BIAS_STD)."""
    g = torch.Generator().manual_seed(seed)
    params = model.state_dict(keep_vars=True)
    with torch.no_grad():
        for name in sorted(R.hf_state_dict(model)):
            r = torch.randn(params[name].shape, generator=g, dtype=torch.float32)
            if name.endswith("norm.weight"):
                params[name].copy_(1.0 + LN_STD * r)
            elif name.endswith("bias"):
                params[name].copy_(BIAS_STD * r)
            else:
                params[name].copy_(WEIGHT_STD * r)


def check_decoder_masks(name: str, res: dict, b: dict, window: int | None) -> None:
    """Entries outside the causal band (and the window) are exactly 0, those inside > 0."""
    att = res["attentions"]
    for e, n in enumerate(b["lengths"].tolist()):
        i = torch.arange(n)[:, None]
        j = torch.arange(n)[None, :]
        band = (j <= i) & ((j > i - window) if window else torch.ones(n, n, dtype=torch.bool))
        block = att[:, e, :, :n, :n]
        check(bool((block[..., ~band] == 0).all()), f"{name}: entries outside the causal window exactly 0 (example {e})")
        check(bool((block[..., band] > 0).all()), f"{name}: entries inside the causal window > 0 (example {e})")
        if window:
            check(bool((~band & (j < i)).any()), f"{name}: the window {window} masks keys (example {e})")


def check_decoder_gqa(name: str, res: dict) -> None:
    """Query heads that share a KV head differ (their q_proj rows do), and every map is one of
    the H query heads (not H / rep)."""
    H = res["attentions"].shape[2]
    check(H == HEADS, f"{name}: {H} attention maps per layer, one per query head")
    a = res["attentions"][:, 0]
    check(maxdiff(a[:, 0], a[:, 1]) > 1e-3, f"{name}: query heads 0 and 1 (one KV head) differ")


def check_decoder_numpy(name: str, file_sd: dict, config: dict, b: dict, res: dict, e: int) -> None:
    """Example e recomputed with plain numpy from the file's tensors, written separately from
    hf_decoders.py: RoPE as a rotation of the complex numbers x_i + i x_(i + dh/2) by pos * f_i,
    the inverse frequencies from the config keys by hand, query head h reading KV head
    h // (H / KV), the causal window by explicit loops; every layer's attention and the output."""
    n = int(b["lengths"][e])
    ids = b["input_ids"][e, :n].numpy()
    mt = config["model_type"]

    def get(key):
        for k in (key, "model." + key):
            if k in file_sd:
                return file_sd[k].double().numpy()
        return None

    H, KV = config["num_attention_heads"], config["num_key_value_heads"]
    dh = config.get("head_dim") or config["hidden_size"] // H
    rope = config.get("rope_scaling") or config.get("rope_parameters") or {}
    theta = rope.get("rope_theta", config.get("rope_theta", 10000.0))
    f = np.array([theta ** (-2.0 * i / dh) for i in range(dh // 2)])
    kind = rope.get("rope_type", rope.get("type", "default"))
    if kind == "linear":
        f = f / rope["factor"]
    elif kind == "llama3":
        old = rope["original_max_position_embeddings"]
        out = []
        for fi in f:
            w = 2 * math.pi / fi
            if w < old / rope["high_freq_factor"]:
                out.append(fi)
            elif w > old / rope["low_freq_factor"]:
                out.append(fi / rope["factor"])
            else:
                sm = (old / w - rope["low_freq_factor"]) / (rope["high_freq_factor"] - rope["low_freq_factor"])
                out.append((1 - sm) * fi / rope["factor"] + sm * fi)
        f = np.array(out)
    rot = np.exp(1j * np.outer(np.arange(n), f))  # [n, dh/2]

    def rope_apply(x):  # [n, heads, dh]
        z = (x[..., : dh // 2] + 1j * x[..., dh // 2 :]) * rot[:, None, :]
        return np.concatenate([z.real, z.imag], axis=-1)

    def rms(x, w):
        return w * x / np.sqrt((x * x).mean(-1, keepdims=True) + config["rms_norm_eps"])

    def lin(x, pre):
        y = x @ get(pre + ".weight").T
        bias = get(pre + ".bias")
        return y if bias is None else y + bias

    window = config.get("sliding_window") if mt == "mistral" else None
    x = get("embed_tokens.weight")[ids]
    worst = 0.0
    for layer in range(config["num_hidden_layers"]):
        p = f"layers.{layer}."
        h = rms(x, get(p + "input_layernorm.weight"))
        q = rope_apply(lin(h, p + "self_attn.q_proj").reshape(n, H, dh))
        k = rope_apply(lin(h, p + "self_attn.k_proj").reshape(n, KV, dh))
        v = lin(h, p + "self_attn.v_proj").reshape(n, KV, dh)
        ctx = np.zeros((n, H, dh))
        for hh in range(H):
            g_ = hh // (H // KV)
            a = np.zeros((n, n))
            for i in range(n):
                keys = [j for j in range(i + 1) if not window or i - j < window]
                sc = np.array([q[i, hh] @ k[j, g_] for j in keys]) / math.sqrt(dh)
                pr = np.exp(sc - sc.max())
                a[i, keys] = pr / pr.sum()
            ctx[:, hh] = a @ v[:, g_]
            worst = max(worst, float(np.abs(a - res["attentions"][layer, e, hh, :n, :n].numpy()).max()))
        x = x + lin(ctx.reshape(n, H * dh), p + "self_attn.o_proj")
        m = rms(x, get(p + "post_attention_layernorm.weight"))
        gate = lin(m, p + "mlp.gate_proj")
        x = x + lin(gate / (1 + np.exp(-gate)) * lin(m, p + "mlp.up_proj"), p + "mlp.down_proj")
    x = rms(x, get("norm.weight"))
    if "logits" in res:
        head = file_sd.get("lm_head.weight")
        head = get("embed_tokens.weight") if head is None else head.double().numpy()
        worst = max(worst, float(np.abs(x @ head.T - res["logits"][e, :n].numpy()).max()))
    else:
        worst = max(worst, float(np.abs(x - res["last_hidden_state"][e, :n].numpy()).max()))
    check(worst < 1e-11, f"{name}: plain-numpy forward from the file equals the reference (max diff {worst:.1e})")


def write_sharded(d: str, file_sd: dict, shards: int) -> None:
    """save_pretrained's sharded layout: model-0000k-of-0000n.safetensors + the index."""
    names = sorted(file_sd)
    per = math.ceil(len(names) / shards)
    weight_map, total = {}, 0
    for s_ in range(shards):
        shard = f"model-{s_ + 1:05d}-of-{shards:05d}.safetensors"
        part = {k: file_sd[k] for k in names[s_ * per : (s_ + 1) * per]}
        write_safetensors(os.path.join(d, shard), part)
        for k, v in part.items():
            weight_map[k] = shard
            total += v.numel() * v.element_size()
    index = {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}
    with open(os.path.join(d, "model.safetensors.index.json"), "w", encoding="utf-8") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")


def read_weights(d: str) -> dict:
    index = os.path.join(d, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(d, "model.safetensors"))
    with open(index, encoding="utf-8") as f:
        weight_map = json.load(f)["weight_map"]
    out = {}
    for shard in sorted(set(weight_map.values())):
        out.update(read_safetensors(os.path.join(d, shard)))
    check(set(out) == set(weight_map), f"{d}: the shards hold exactly the weight map's tensors")
    return out


def make_decoder_fixture(fx: dict, out_root: str) -> None:
    name, config = fx["name"], fx["config"]
    arch = config["architectures"][0]
    store = fx.get("store", torch.float32)
    model = D.build_model(config)
    init_decoder_weights(model, fx["seed"])
    if store != torch.float32:
        round_weights(model, store)
    file_sd = {k: v.detach().to(store).contiguous() for k, v in R.hf_state_dict(model).items()}
    d = os.path.join(out_root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
        f.write(config_json(config))
    if fx.get("shards"):
        write_sharded(d, file_sd, fx["shards"])
    else:
        write_safetensors(os.path.join(d, "model.safetensors"), file_sd)

    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        loaded_config = json.load(f)
    file_back = read_weights(d)
    for k, v in file_sd.items():
        check(torch.equal(file_back[k], v), f"{name}: {k} reads back")
    ref = D.build_model(loaded_config)
    R.load_hf_state_dict(ref, {k: v.float() for k, v in file_back.items()})
    ref = ref.double()
    use_hf = HAVE_TRANSFORMERS
    hf_sd = {k: v.double() for k, v in R.hf_state_dict(ref).items()}
    window = loaded_config.get("sliding_window") if loaded_config["model_type"] == "mistral" else None
    for tag, b in (("b1", batch([DEC_B1])), ("b3", batch(DEC_B3))):
        targets = fx["targets"](b) if fx["targets"] else None
        res = reference(ref, b, "llama", targets)
        if use_hf:  # pragma: no cover - needs transformers
            hf = reference_transformers(arch, loaded_config, hf_sd, b, "llama", targets)
            # transformers' eager softmax runs in float32 even for a float64 model
            for k in res:
                check(maxdiff(res[k], hf[k]) < 1e-5, f"{name}/{tag}: hf_decoders {k} equals transformers'")
            res = hf
        check_attention(f"{name}/{tag}", res, b, True)
        check_decoder_masks(f"{name}/{tag}", res, b, window)
        check_decoder_gqa(f"{name}/{tag}", res)
        for e in range(len(b["lengths"])):
            check_decoder_numpy(f"{name}/{tag}[{e}]", file_back, loaded_config, b, res, e)
        if targets is not None:
            check_finite_differences(f"{name}/{tag}", ref, b, "llama", targets, res)
        if tag == "b3":
            check_padding(f"{name}/{tag}", lambda bb, t: reference(ref, bb, "llama", t), b, targets, res)
        write_safetensors(os.path.join(d, f"golden_{tag}.safetensors"), golden_tensors(b, "llama", targets, res))


# --------------------------------------------------------------------------- main


def main() -> None:
    # torch.jit.script writes a module's constants in Python's set order, which depends on
    # string hashing: fix the hash seed so model.pt is byte-identical from run to run
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "models"))
    ap.add_argument("--only", help="one fixture name")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every self-check")
    args = ap.parse_args()
    torch.manual_seed(0)
    os.makedirs(args.out, exist_ok=True)
    print(f"reference: {'transformers ' + transformers.__version__ if HAVE_TRANSFORMERS else 'tests/reference (hf_models.py, hf_encoders.py, hf_decoders.py)'}; torch {torch.__version__}")
    for fx in fixtures():
        if args.only and fx["name"] != args.only:
            continue
        make_hf_fixture(fx, args.out)
    if not args.only or args.only == "torchscript_bert":
        make_torchscript_fixture(args.out)
    for fx in decoder_fixtures():
        if args.only and fx["name"] != args.only:
            continue
        make_decoder_fixture(fx, args.out)
    # T5 (tests/hf/t5_fixtures.py, reference tests/reference/hf_t5.py); this module's helpers
    sys.path.insert(0, HERE)
    import t5_fixtures  # noqa: E402

    t5_fixtures.make_all(sys.modules[__name__], args.out, args.only)
    if args.verbose:
        for c in CHECKS:
            print("ok:", c)
    print(f"{len(CHECKS)} self-checks passed")
    total = 0
    for root, _, files in sorted(os.walk(args.out)):
        for f in sorted(files):
            p = os.path.join(root, f)
            total += os.path.getsize(p)
    print(f"{args.out}: {total} bytes")


if __name__ == "__main__":
    main()
