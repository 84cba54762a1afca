#!/usr/bin/python3
"""Checks the float64 RoBERTa / DistilBERT reference (hf_encoders.py) against the committed BERT
goldens (tests/data/models/bert_base, bert_mlm, bert_cls), which an independent code path wrote
(hf_models.py's BERT, itself checked against a plain-numpy forward and finite differences).

Each family computes exactly BERT's function once BERT's weights are renamed and, where the
families differ, set so that the difference vanishes:
  * RoBERTa with pad_token_id -1 numbers positions 0..n-1 (pad + rank among non-pad tokens),
    its blocks are BERT's, RobertaLMHead is BertLMPredictionHead when hidden_act is the erf
    GELU, and RobertaClassificationHead (dense, tanh, out_proj on <s>) is pooler + classifier;
  * DistilBERT has no token types: the type-0 row of BERT's token_type_embeddings is folded
    into its position matrix (only examples whose token types are all 0); its blocks (q scaled
    first, masked_fill) and its MLM head are BERT's; its classifier (ReLU) is not, so bert_cls
    only checks its attentions.
Compared: attentions, logits and dy/dA on the real part of every example of golden_b1 and
golden_b3 (stored as float32: tolerance 1e-6 relative to each tensor's scale).

    /usr/bin/python3 tests/reference/encoders_vs_bert_golden.py   # exit 0 when all agree
Exit 77 (skipped) when torch cannot be imported.
"""

from __future__ import annotations

import json
import os
import sys

sys.dont_write_bytecode = True
try:
    import torch
except ImportError:  # pragma: no cover
    print("skipped: no torch")
    sys.exit(77)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "hf"))
import hf_encoders as E  # noqa: E402
import hf_models as R  # noqa: E402
from make_model_golden import read_safetensors, scalar_target  # noqa: E402

MODELS = os.path.join(REPO, "tests", "data", "models")
CHECKED = []


def bert_fixture(name: str):
    with open(os.path.join(MODELS, name, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    sd = read_safetensors(os.path.join(MODELS, name, "model.safetensors"))
    return config, {k[len("bert."):] if k.startswith("bert.") else k: v.double() for k, v in sd.items()}


def mlm_head_name(k: str, transform: str, norm: str, bias: str) -> str | None:
    """BertLMPredictionHead's tensor `k` under another family's names (None: not a head tensor)."""
    if k.startswith("cls.predictions.transform.dense."):
        return transform + "." + k.split(".")[-1]
    if k.startswith("cls.predictions.transform.LayerNorm."):
        return norm + "." + k.split(".")[-1]
    return bias if k == "cls.predictions.bias" else None


def roberta_weights(sd: dict, arch: str) -> dict:
    out = {}
    for k, v in sd.items():
        head = mlm_head_name(k, "lm_head.dense", "lm_head.layer_norm", "lm_head.bias")
        if head:
            out[head] = v
        elif k.startswith("pooler.dense.") and arch.endswith("Classification"):
            out["classifier.dense." + k.split(".")[-1]] = v
        elif k.startswith("classifier."):
            out["classifier.out_proj." + k.split(".")[-1]] = v
        elif k.startswith("pooler.") and not arch.endswith("Model"):
            continue
        else:
            out[k if arch.endswith("Model") else "roberta." + k] = v
    return out


def distilbert_weights(sd: dict, arch: str) -> dict:
    names = {"attention.self.query": "attention.q_lin", "attention.self.key": "attention.k_lin",
             "attention.self.value": "attention.v_lin", "attention.output.dense": "attention.out_lin",
             "attention.output.LayerNorm": "sa_layer_norm", "intermediate.dense": "ffn.lin1",
             "output.dense": "ffn.lin2", "output.LayerNorm": "output_layer_norm"}
    base = "" if arch.endswith("Model") else "distilbert."
    out = {}
    for k, v in sd.items():
        head = mlm_head_name(k, "vocab_transform", "vocab_layer_norm", "vocab_projector.bias")
        if head:
            out[head] = v
        elif k.startswith("encoder.layer."):
            _, _, i, rest = k.split(".", 3)
            stem, leaf = rest.rsplit(".", 1)
            out[f"{base}transformer.layer.{i}.{names[stem]}.{leaf}"] = v
        elif k == "embeddings.position_embeddings.weight":
            out[base + k] = v + sd["embeddings.token_type_embeddings.weight"][0]
        elif k == "embeddings.token_type_embeddings.weight" or k.startswith("pooler."):
            continue
        elif k.startswith("embeddings."):
            out[base + k] = v
        elif k.startswith("classifier."):
            out[k] = v
    return out


def build(arch: str, config: dict, sd: dict):
    model = E.build_model(config).double()
    for k, v in R.hf_state_dict(model).items():
        if k not in sd:  # DistilBERT's pre_classifier: no BERT counterpart (its logits are not compared)
            assert k.startswith("pre_classifier."), k
            sd[k] = torch.zeros_like(v)
    R.load_hf_state_dict(model, sd)
    return model


def close(name: str, ours: torch.Tensor, golden: torch.Tensor) -> None:
    scale = max(1.0, float(golden.abs().max()))
    d = float((ours - golden.double()).abs().max())
    if d > 1e-6 * scale:
        raise AssertionError(f"{name}: max diff {d:.2e} (scale {scale:.2e})")
    CHECKED.append(f"{name}: max diff {d:.1e}")


def check(fixture: str, family: str) -> None:
    config, sd = bert_fixture(fixture)
    bert_arch = config["architectures"][0]
    suffix = bert_arch[len("Bert"):]
    if family == "roberta":
        arch = "Roberta" + suffix
        cfg = {**config, "architectures": [arch], "model_type": "roberta", "pad_token_id": -1}
        model = build(arch, cfg, roberta_weights(sd, arch))
    else:
        arch = "DistilBert" + suffix
        cfg = {"architectures": [arch], "model_type": "distilbert", "dim": config["hidden_size"],
               "n_layers": config["num_hidden_layers"], "n_heads": config["num_attention_heads"],
               "hidden_dim": config["intermediate_size"], "vocab_size": config["vocab_size"],
               "max_position_embeddings": config["max_position_embeddings"], "activation": config["hidden_act"],
               **({k: config[k] for k in ("id2label", "num_labels") if k in config})}
        model = build(arch, cfg, distilbert_weights(sd, arch))
    for tag in ("b1", "b3"):
        g = read_safetensors(os.path.join(MODELS, fixture, f"golden_{tag}.safetensors"))
        ids, mask, types = g["input_ids"], g["attention_mask"], g["token_type_ids"]
        keep = [b for b in range(ids.shape[0]) if family == "roberta" or not types[b].any()]
        emb = model.get_submodule("embeddings" if arch.endswith("Model") else
                                  ("roberta" if family == "roberta" else "distilbert") + ".embeddings")
        e = emb.word_embeddings.weight.detach()[ids].clone().requires_grad_(True)
        out = model(ids, mask, types, e)
        heads_match = family == "roberta" or not bert_arch.endswith("Classification")
        grads = None
        if "target_index" in g and heads_match:
            spec = {k: g[k] for k in ("target_index", "target_position") if k in g}
            scalar_target(out["logits"], spec).backward()
            grads = torch.stack([a.grad for a in out["attentions"]])
        att = torch.stack(out["attentions"]).detach()
        for b in keep:
            n = int(g["lengths"][b])
            where = f"{arch} on {fixture}/{tag}[{b}]"
            close(where + " attentions", att[:, b, :, :n, :n], g["attentions"][:, b, :, :n, :n])
            if grads is not None:
                close(where + " dy/dA", grads[:, b, :, :n, :n], g["attention_grads"][:, b, :, :n, :n])
            if "logits" in g and heads_match:
                lg = out["logits"][b].detach()
                close(where + " logits", lg[:n] if lg.dim() == 2 else lg,
                      g["logits"][b][:n] if lg.dim() == 2 else g["logits"][b])


def main() -> None:
    torch.set_num_threads(1)
    for fixture in ("bert_base", "bert_mlm", "bert_cls"):
        for family in ("roberta", "distilbert"):
            check(fixture, family)
    if "-v" in sys.argv:
        print("\n".join(CHECKED))
    print(f"{len(CHECKED)} comparisons with the BERT goldens passed")


if __name__ == "__main__":
    main()
