"""The T5 fixtures of tests/data/models (t5_lm, t5_v11_lm, t5_base, t5_encoder), written by
make_model_golden.py (``--only t5_lm`` etc. for one) with its helpers.

Reference: tests/reference/hf_t5.py (our float64 re-implementation of transformers' eager
modeling_t5.py), or transformers' own T5Model / T5ForConditionalGeneration / T5EncoderModel when
it is importable (then compared with hf_t5.py: < 1e-5, its softmax and T5LayerNorm variance run
in float32).

Golden files (golden_b1 / golden_b3.safetensors), besides make_model_golden's input_ids /
attention_mask / lengths:
  decoder_input_ids I64 [B,M], decoder_attention_mask I64 [B,M], decoder_lengths I64 [B]
    (teacher forced: decoder_start_token_id 0, then the target ids; right-padded with 0);
  attentions F32 [L,B,H,N,N] (encoder self-attention), decoder_attentions F32 [Ld,B,H,M,M],
  cross_attentions F32 [Ld,B,H,M,N];
  logits F32 [B,M,V] (T5ForConditionalGeneration) or last_hidden_state F32 [B,M,d] (T5Model: the
  decoder's; T5EncoderModel: [B,N,d], the encoder's);
  with the target ("last": the logit, at decoder position m-2, of decoder token m-1):
  target_index / target_position I64 [B], attention_grads, decoder_attention_grads,
  cross_attention_grads (same shapes as the maps) = d(sum_b y_b)/dA, input_grads / input_embeds
  F32 [B,N,d] (the encoder's word-embedding output).
Entries at padded positions carry no meaning: compare the real block only.

Self-checks: the tensor bucketing equals a scalar one (relative positions -40..40, both
directions); rows sum to 1; padded keys, and decoder keys after the query, exactly 0; dy/dA of
one entry per layer of each of the three stacks and one dy/de entry equal central finite
differences (float64); each padded example equals its run alone; the files read back.
"""

from __future__ import annotations

import json
import os
import shutil

import torch

import hf_t5 as T

T5_VOCAB = 64  # ids-only fixtures; t5_lm uses tokenizers/unigram_t5 (603 pieces)
ENC_B1 = [13, 40, 7, 22, 51, 9, 1]
DEC_B1 = [0, 31, 5, 17, 1]
ENC_B3 = [[13, 40, 7, 22, 51, 9, 33, 60, 1], [3, 58, 26, 11, 1], [44, 6, 19, 2, 37, 48, 1]]
DEC_B3 = [[0, 8, 41, 1], [0, 12, 55, 30, 3, 1], [0, 25, 1]]


def t5_config(arch: str, **extra) -> dict:
    c = {
        "architectures": [arch],
        "model_type": "t5",
        "vocab_size": T5_VOCAB,
        "d_model": 16,
        "d_kv": 4,
        "d_ff": 32,
        "num_layers": 2,
        "num_decoder_layers": 2,
        "num_heads": 4,
        "relative_attention_num_buckets": 8,
        "relative_attention_max_distance": 20,
        "layer_norm_epsilon": 1e-6,
        "feed_forward_proj": "relu",
        "tie_word_embeddings": True,
        "is_encoder_decoder": True,
        "pad_token_id": 0,
        "eos_token_id": 1,
        "decoder_start_token_id": 0,
        "dropout_rate": 0.1,
        "transformers_version": "4.46.0",
        "torch_dtype": "float32",
    }
    c.update(extra)
    return c


def fixtures() -> list:
    return [
        # T5 v1.0: ReLU, tied lm_head (decoder output * d_model^-0.5), 3 decoder layers over 2
        # encoder layers, 8 buckets up to distance 20 (bidirectional: 2 exact, 2 logarithmic per
        # side), the unigram_t5 tokenizer; 4.x config
        dict(name="t5_lm", seed=301, tokenizer="unigram_t5", targets=True,
             config=t5_config("T5ForConditionalGeneration", vocab_size=603, num_decoder_layers=3)),
        # T5 v1.1 / flan-t5: gated-gelu (tanh GELU), untied lm_head, d_kv 8 (inner 32 != d_model
        # 16), 10 buckets up to 12; 5.x config
        dict(name="t5_v11_lm", seed=302, targets=True,
             config={k: v for k, v in t5_config(
                 "T5ForConditionalGeneration", feed_forward_proj="gated-gelu", tie_word_embeddings=False, d_kv=8,
                 relative_attention_num_buckets=10, relative_attention_max_distance=12, dtype="float32",
                 transformers_version="5.0.0").items() if k != "torch_dtype"}),
        # T5Model: the decoder's last hidden state, no target
        dict(name="t5_base", seed=303, targets=False, config=t5_config("T5Model")),
        # T5EncoderModel: the encoder alone (gated-silu feed-forward)
        dict(name="t5_encoder", seed=304, targets=False,
             config=t5_config("T5EncoderModel", feed_forward_proj="gated-silu")),
    ]


def t5_batch(M, enc: list, dec: list) -> dict:
    b = M.batch(enc)
    d = M.batch(dec)
    b.update(decoder_input_ids=d["input_ids"], decoder_attention_mask=d["attention_mask"],
             decoder_lengths=d["lengths"])
    return b


def last_targets(b: dict) -> dict:
    m = b["decoder_lengths"]
    ids = b["decoder_input_ids"]
    return {"target_position": m - 2, "target_index": torch.stack([ids[i, m[i] - 1] for i in range(len(m))])}


def run(model, b: dict, emb=None, delta=None) -> dict:
    kw = {}
    if hasattr(model, "decoder"):
        kw = dict(decoder_input_ids=b["decoder_input_ids"], decoder_attention_mask=b["decoder_attention_mask"])
    return model(b["input_ids"], b["attention_mask"], inputs_embeds=emb, attn_delta=delta, **kw)


STACKS = (("attentions", "attention_grads", "encoder"), ("decoder_attentions", "decoder_attention_grads", "decoder"),
          ("cross_attentions", "cross_attention_grads", "cross"))


def reference(M, model, b: dict, targets: dict | None) -> dict:
    emb = model.shared.weight.detach()[b["input_ids"]].clone().requires_grad_(True)
    out = run(model, b, emb)
    res = {}
    for key, _, _ in STACKS:
        if key in out:
            res[key] = torch.stack(out[key])
    for key in ("logits", "last_hidden_state"):
        if key in out:
            res[key] = out[key]
    if targets is not None:
        y = M.scalar_target(out["logits"], targets)
        y.backward()
        for key, grad, _ in STACKS:
            res[grad] = torch.stack([a.grad for a in out[key]])
        res["input_grads"] = emb.grad
        res["input_embeds"] = emb.detach()
    return {k: v.detach() for k, v in res.items()}


def reference_transformers(M, arch: str, config: dict, sd: dict, b: dict, targets) -> dict:  # pragma: no cover
    """The same tensors from transformers' own eager T5 classes."""
    tr = M.transformers
    cfg = {k: v for k, v in config.items() if k not in ("transformers_version", "dtype", "torch_dtype", "model_type")}
    hf_config = tr.T5Config(**cfg)
    hf_config._attn_implementation = "eager"
    model = getattr(tr, arch)(hf_config).double()
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not unexpected, unexpected
    assert all("embed_tokens" in k or k == "lm_head.weight" for k in missing), missing
    model.tie_weights()
    model.eval()
    emb = model.get_input_embeddings().weight.detach()[b["input_ids"]].clone().requires_grad_(True)
    kw = dict(attention_mask=b["attention_mask"], output_attentions=True, return_dict=True)
    if arch != "T5EncoderModel":
        kw.update(decoder_input_ids=b["decoder_input_ids"], decoder_attention_mask=b["decoder_attention_mask"])
    out = model(inputs_embeds=emb, **kw)
    names = {"attentions": "encoder_attentions", "decoder_attentions": "decoder_attentions",
             "cross_attentions": "cross_attentions"}
    if arch == "T5EncoderModel":
        names = {"attentions": "attentions"}
    res, maps = {}, {}
    for key, attr in names.items():
        maps[key] = list(getattr(out, attr))
        if targets is not None:
            for a in maps[key]:
                a.retain_grad()
        res[key] = torch.stack(maps[key])
    if getattr(out, "logits", None) is not None:
        res["logits"] = out.logits
    else:
        res["last_hidden_state"] = out.last_hidden_state
    if targets is not None:
        M.scalar_target(out.logits, targets).backward()
        for key, grad, _ in STACKS:
            res[grad] = torch.stack([a.grad for a in maps[key]])
        res["input_grads"] = emb.grad
        res["input_embeds"] = emb.detach()
    return {k: v.detach() for k, v in res.items()}


def check_buckets(M, config: dict) -> None:
    c = T.t5_cfg(config)
    nb, md = c["relative_attention_num_buckets"], c["relative_attention_max_distance"]
    rel = torch.arange(-40, 41)
    for bidirectional in (True, False):
        tensor = T.relative_position_bucket(rel, bidirectional, nb, md).tolist()
        loop = [T.relative_position_bucket_loop(int(r), bidirectional, nb, md) for r in rel]
        M.check(tensor == loop, f"{config['architectures'][0]}: buckets (bidirectional {bidirectional}) equal the scalar loop")
        M.check(len(set(tensor)) == (nb - 1 if bidirectional else nb),  # bucket nb/2: key after, distance 0
                f"buckets {nb} / {md}: every reachable bucket used over -40..40 (bidirectional {bidirectional})")


def check_maps(M, name: str, res: dict, b: dict) -> None:
    n_ = b["lengths"].tolist()
    m_ = b["decoder_lengths"].tolist()
    for key, _, _ in STACKS:
        if key not in res:
            continue
        att = res[key]
        for i in range(len(n_)):
            rows = n_[i] if key == "attentions" else m_[i]
            cols = m_[i] if key == "decoder_attentions" else n_[i]
            a = att[:, i, :, :rows, :]
            M.check(M.maxdiff(a.sum(-1), torch.ones_like(a.sum(-1))) < 1e-12, f"{name}: {key} rows sum to 1 ({i})")
            M.check(bool((att[:, i, :, :rows, cols:] == 0).all()), f"{name}: {key} padded keys exactly 0 ({i})")
            block = att[:, i, :, :rows, :cols]
            if key == "decoder_attentions":
                upper = torch.triu(torch.ones(rows, cols, dtype=torch.bool), 1)
                M.check(bool((block[..., upper] == 0).all()), f"{name}: later decoder keys exactly 0 ({i})")
                M.check(bool((block[..., ~upper] > 0).all()), f"{name}: earlier decoder keys > 0 ({i})")
            else:
                M.check(bool((block > 0).all()), f"{name}: {key} real block > 0 ({i})")
        sd = float(att[:, 0].std())
        M.check(sd > 0.05, f"{name}: {key} far from uniform (std {sd:.3f})")


def check_finite_differences(M, name: str, model, b: dict, targets: dict, res: dict) -> None:
    eps = 1e-6
    bi = len(b["lengths"]) - 1
    pos = int(targets["target_position"][bi])
    for key, grad, stack in STACKS:
        L, B, H, Q, K = res[key].shape
        for layer in range(L):
            h = (layer + 1) % H
            # a row that y depends on: the target row in the decoder's last layer, else any
            # earlier decoder row / any encoder row
            i = pos if stack != "encoder" else 1
            j = 0 if stack == "decoder" else 1
            vals = []
            for s in (eps, -eps):
                delta = {st: [torch.zeros(res[k].shape[1:], dtype=torch.float64) for _ in range(res[k].shape[0])]
                         for k, _, st in STACKS}
                delta[stack][layer][bi, h, i, j] = s
                with torch.no_grad():
                    out = run(model, b, None, delta)
                vals.append(float(M.scalar_target(out["logits"], targets)))
            fd = (vals[0] - vals[1]) / (2 * eps)
            g = float(res[grad][layer, bi, h, i, j])
            M.check(abs(g) > 1e-6, f"{name}: d y / d {key}[{layer},{bi},{h},{i},{j}] is not trivially 0")
            M.check(abs(fd - g) <= 1e-6 * max(1.0, abs(g)),
                    f"{name}: d y / d {key}[{layer},{bi},{h},{i},{j}] = {g:.6g} matches finite differences {fd:.6g}")
    vals = []
    for s in (eps, -eps):
        emb = model.shared.weight.detach()[b["input_ids"]].clone()
        emb[bi, 1, 3] += s
        with torch.no_grad():
            out = run(model, b, emb)
        vals.append(float(M.scalar_target(out["logits"], targets)))
    fd = (vals[0] - vals[1]) / (2 * eps)
    g = float(res["input_grads"][bi, 1, 3])
    M.check(abs(g) > 1e-6 and abs(fd - g) <= 1e-6 * max(1.0, abs(g)), f"{name}: dy/de = {g:.6g} matches {fd:.6g}")


def check_padding(M, name: str, model, b: dict, targets, res: dict, targets_of=last_targets) -> None:
    """Each padded example equals its run alone, with the targets targets_of(its batch of 1)."""
    for i, (n, m) in enumerate(zip(b["lengths"].tolist(), b["decoder_lengths"].tolist())):
        one_b = t5_batch(M, [b["input_ids"][i, :n].tolist()], [b["decoder_input_ids"][i, :m].tolist()])
        one = reference(M, model, one_b, targets_of(one_b) if targets is not None else None)
        size = {"attentions": (n, n), "decoder_attentions": (m, m), "cross_attentions": (m, n)}
        d = 0.0
        for key, grad, _ in STACKS:
            if key in res:
                r, c = size[key]
                d = max(d, M.maxdiff(res[key][:, i, :, :r, :c], one[key][:, 0]))
                if grad in res:
                    d = max(d, M.maxdiff(res[grad][:, i, :, :r, :c], one[grad][:, 0]))
        for key in ("logits", "last_hidden_state"):
            if key in res:
                rows = n if "decoder_attentions" not in res else m
                d = max(d, M.maxdiff(res[key][i, :rows], one[key][0]))
        for key in ("input_grads", "input_embeds"):
            if key in res:
                d = max(d, M.maxdiff(res[key][i, :n], one[key][0]))
        M.check(d < 1e-12, f"{name}: example {i} padded equals alone (max diff {d:.1e})")


def init_weights(M, model, seed: int) -> None:
    """N(0, WEIGHT_STD) matrices and embeddings (relative biases N(0, 1): they should matter),
    T5LayerNorm weights 1 + N(0, LN_STD); names sorted."""
    g = torch.Generator().manual_seed(seed)
    params = model.state_dict(keep_vars=True)
    with torch.no_grad():
        for name in sorted(M.R.hf_state_dict(model)):
            r = torch.randn(params[name].shape, generator=g, dtype=torch.float32)
            if name.endswith("layer_norm.weight"):
                params[name].copy_(1.0 + M.LN_STD * r)
            elif "relative_attention_bias" in name:
                params[name].copy_(r)
            elif name == "shared.weight":
                params[name].copy_(r)  # T5 embeddings are O(1) (no scaling, RMS-normed)
            else:
                params[name].copy_(M.WEIGHT_STD * r)
    model.tie_weights()


def golden(b: dict, targets, res: dict) -> dict:
    g = {k: b[k] for k in ("input_ids", "attention_mask", "lengths")}
    if "decoder_attentions" in res:
        g.update({k: b[k] for k in ("decoder_input_ids", "decoder_attention_mask", "decoder_lengths")})
    for k, v in res.items():
        g[k] = v.float()
    if targets is not None:
        g.update({k: v.long() for k, v in targets.items()})
    return g


def make_fixture(M, fx: dict, out_root: str) -> None:
    name, config = fx["name"], fx["config"]
    arch = config["architectures"][0]
    model = T.build_model(config)
    init_weights(M, model, fx["seed"])
    file_sd = {k: v.detach().float().contiguous() for k, v in M.R.hf_state_dict(model).items()}
    d = os.path.join(out_root, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
        f.write(M.config_json(config))
    M.write_safetensors(os.path.join(d, "model.safetensors"), file_sd)
    if fx.get("tokenizer"):
        M.copy_tokenizer(fx["tokenizer"], d)
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        loaded = json.load(f)
    back = M.read_safetensors(os.path.join(d, "model.safetensors"))
    for k, v in file_sd.items():
        M.check(torch.equal(back[k], v), f"{name}: {k} reads back")
    ref = T.build_model(loaded)
    M.R.load_hf_state_dict(ref, back)
    ref = ref.double()
    check_buckets(M, loaded)
    for tag, b in (("b1", t5_batch(M, [ENC_B1], [DEC_B1])), ("b3", t5_batch(M, ENC_B3, DEC_B3))):
        targets = last_targets(b) if fx["targets"] else None
        res = reference(M, ref, b, targets)
        if M.HAVE_TRANSFORMERS:  # pragma: no cover - needs transformers
            hf_sd = {k: v.double() for k, v in M.R.hf_state_dict(ref).items()}
            hf = reference_transformers(M, arch, loaded, hf_sd, b, targets)
            for k in res:
                M.check(M.maxdiff(res[k], hf[k]) < 1e-5, f"{name}/{tag}: hf_t5 {k} equals transformers'")
            res = hf
        check_maps(M, f"{name}/{tag}", res, b)
        if targets is not None:
            check_finite_differences(M, f"{name}/{tag}", ref, b, targets, res)
        if tag == "b3":
            check_padding(M, f"{name}/{tag}", ref, b, targets, res)
        M.write_safetensors(os.path.join(d, f"golden_{tag}.safetensors"), golden(b, targets, res))


def make_all(M, out_root: str, only: str | None = None) -> None:
    for fx in fixtures():
        if only and fx["name"] != only:
            continue
        make_fixture(M, fx, out_root)
