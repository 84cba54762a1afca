#!/usr/bin/python3
"""Goldens of the `token:POS:ID` gradient target: tests/data/models/<name>/golden_token.safetensors.

    /usr/bin/python3 tests/hf/make_token_golden.py            # (re)write the files
    /usr/bin/python3 tests/hf/make_token_golden.py --check    # recompute, compare with them

For each LM fixture of TOKEN_FIXTURES (its weights and config as committed, its golden_b3 batch:
three examples of lengths 9, 5, 7, right-padded; t5_lm: decoder lengths 4, 6, 3) and each case
of CASES, the float64 reference of tests/hf/make_model_golden.py (tests/reference/hf_models.py,
hf_encoders.py, hf_decoders.py; hf_t5.py through tests/hf/t5_fixtures.py) computes y = sum_b logits[b, p_b, ID] with p_b = POS (POS >= 0) or n_b + POS (POS < 0: counted
from the end of example b's own tokens, not of the padded batch) and dy/dA for every layer and
head. Stored (prefix "<case>_"): pos I64 [1] (POS as written), index I64 [1] (ID),
target_position I64 [B] (p_b), values F32 [B] (logits[b, p_b, ID]), attention_grads F32
[L,B,H,N,N]; plus input_ids, attention_mask, lengths (and token_type_ids for BERT) of the batch.
T5 (p_b a decoder position, n_b the decoder length): also decoder_attention_grads F32
[Ld,B,H,M,M], cross_attention_grads F32 [Ld,B,H,M,N] and the decoder_* inputs.
tests/torch/model_golden_test.cpp and t5_test.cpp compare attnflow's dy/dA with them (< 1e-4).
Before writing, the script checks the reference: dy/dA agrees with central finite differences
(float64) and each padded example equals the same example run alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_model_golden as G  # noqa: E402
import t5_fixtures as F  # noqa: E402  (after make_model_golden, which puts tests/reference on the path)

MODELS = os.path.join(G.REPO, "tests", "data", "models")
# name -> family (make_model_golden's): causal GPT-2 and Llama-family decoders, a masked LM
# and T5's decoder (family "t5": positions are decoder positions)
TOKEN_FIXTURES = {"gpt2_lm": "gpt2", "llama_lm": "llama", "mistral_lm": "llama", "qwen2_lm": "llama",
                  "bert_mlm": "bert", "t5_lm": "t5"}
DECODER_KEYS = ("decoder_input_ids", "decoder_attention_mask", "decoder_lengths")
# (case, POS, ID): an interior position from the start, one counted from the end
CASES = (("a", 1, 5), ("b", -3, 7))


def reference_model(d: str, family: str):
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    weights = G.read_weights(d)
    model = {"llama": G.D, "t5": F.T}.get(family, G.E).build_model(config)
    G.R.load_hf_state_dict(model, {k: v.float() for k, v in weights.items()})
    return model.double()


def token_targets(b: dict, pos: int, token: int) -> dict:
    lengths = b["decoder_lengths"] if "decoder_lengths" in b else b["lengths"]
    p = torch.tensor([pos if pos >= 0 else int(n) + pos for n in lengths])
    return {"target_index": torch.full((len(lengths),), token, dtype=torch.long), "target_position": p}


def golden(name: str, family: str) -> dict:
    d = os.path.join(MODELS, name)
    model = reference_model(d, family)
    g3 = G.read_safetensors(os.path.join(d, "golden_b3.safetensors"))
    b = {k: g3[k] for k in ("input_ids", "attention_mask", "lengths")}
    b["token_type_ids"] = g3.get("token_type_ids", torch.zeros_like(b["input_ids"]))
    if family == "t5":
        b.update({k: g3[k] for k in DECODER_KEYS})
    out = {k: v for k, v in b.items() if k != "token_type_ids" or family in G.TYPED_FAMILIES}
    for case, pos, token in CASES:
        t = token_targets(b, pos, token)
        what = f"{name}/token:{pos}:{token}"
        if family == "t5":  # encoder, decoder and cross-attention gradients
            res = F.reference(G, model, b, t)
            F.check_finite_differences(G, what, model, b, t, res)
            F.check_padding(G, what, model, b, t, res, lambda bb: token_targets(bb, pos, token))
            for _, grad, _ in F.STACKS[1:]:
                out[f"{case}_{grad}"] = res[grad].float()
        else:
            res = G.reference(model, b, family, t)
            G.check_finite_differences(what, model, b, family, t, res)
            G.check_padding(what, lambda bb, tt: G.reference(model, bb, family, tt), b, t, res)
        rows = torch.arange(len(b["lengths"]))
        values = res["logits"][rows, t["target_position"], t["target_index"]]
        if "y" in res:
            G.check(G.maxdiff(values.sum(), res["y"]) < 1e-12, f"{what}: y is the sum of the values")
        out[f"{case}_pos"] = torch.tensor([pos])
        out[f"{case}_index"] = torch.tensor([token])
        out[f"{case}_target_position"] = t["target_position"]
        out[f"{case}_values"] = values.float()
        out[f"{case}_attention_grads"] = res["attention_grads"].float()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed files, write nothing")
    args = ap.parse_args()
    torch.set_num_threads(1)
    worst = 0.0
    for name, family in TOKEN_FIXTURES.items():
        g = golden(name, family)
        path = os.path.join(MODELS, name, "golden_token.safetensors")
        if args.check:
            have = G.read_safetensors(path)
            G.check(sorted(have) == sorted(g), f"{path}: the tensors {sorted(g)} (has {sorted(have)})")
            for k, v in g.items():
                G.check(have[k].dtype == v.dtype and have[k].shape == v.shape, f"{path}: {k} dtype and shape")
                diff = G.maxdiff(have[k], v)
                worst = max(worst, diff)
                G.check(diff < 1e-6, f"{path}: {k} equals the recomputed reference ({diff:.2g})")
        else:
            G.write_safetensors(path, g)
            print(f"{path}: {os.path.getsize(path)} bytes")
    print(f"token:POS:ID goldens: {len(TOKEN_FIXTURES)} fixtures x {len(CASES)} targets, "
          f"{len(G.CHECKS)} self-checks passed" + (f", max diff to the files {worst:.2g}" if args.check else ""))


if __name__ == "__main__":
    main()
