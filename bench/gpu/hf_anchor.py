#!/usr/bin/env python3
"""The Hugging Face anchor of issue 22: examples/s of transformers' own BERT on the GPU.

    hf_anchor.py MODEL_DIR [--examples 2048] [-b 64] [-n 128] [--json OUT.json] [--profile DIR]

Modes (eager attention, output_attentions=True except 'forward', batch B, n tokens, no grad):
  forward        forward only, nothing copied back
  perhead-fp32   every layer's [B,H,n,n] attention copied to the host as float32
  perhead-fp16   the same cast to float16 on the GPU first
  headmean-fp32  the mean over heads [B,n,n] per layer, copied to the host
The issue measured 1761 / 117 / 393 / 1537 ex/s on the H200 (transformers 5.17).
--profile writes a torch.profiler table of the perhead-fp16 mode (two batches).
"""
import argparse
import json
import os
import sys
import time

try:
    import torch
    import transformers
except ImportError as e:
    sys.exit(f"hf_anchor.py: needs torch and transformers ({e}); run it on the GPU machine")


def run(model, ids, mask, mode, batches):
    host = []
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.inference_mode():
        for i in range(batches):
            out = model(input_ids=ids, attention_mask=mask, output_attentions=(mode != "forward"))
            if mode == "forward":
                continue
            for a in out.attentions:
                if mode == "perhead-fp32":
                    host.append(a.float().cpu())
                elif mode == "perhead-fp16":
                    host.append(a.half().cpu())
                else:
                    host.append(a.mean(dim=1).float().cpu())
            host.clear()
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--examples", type=int, default=2048)
    p.add_argument("-b", "--batch", type=int, default=64)
    p.add_argument("-n", type=int, default=128)
    p.add_argument("--json")
    p.add_argument("--profile")
    a = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("hf_anchor.py: CUDA is not available")
    model = transformers.BertForSequenceClassification.from_pretrained(
        a.model, attn_implementation="eager").cuda().eval()
    vocab = model.config.vocab_size
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(5, vocab, (a.batch, a.n), generator=g)
    ids[:, 0], ids[:, -1] = 2, 3
    ids, mask = ids.cuda(), torch.ones(a.batch, a.n, dtype=torch.long, device="cuda")
    batches = max(1, a.examples // a.batch)
    res = {"transformers": transformers.__version__, "torch": torch.__version__,
           "gpu": torch.cuda.get_device_name(0), "batch": a.batch, "n": a.n,
           "examples": batches * a.batch, "examples_per_s": {}}
    for mode in ("forward", "perhead-fp32", "perhead-fp16", "headmean-fp32"):
        run(model, ids, mask, mode, 2)  # warm-up
        t = run(model, ids, mask, mode, batches)
        res["examples_per_s"][mode] = batches * a.batch / t
        print(f"hf {mode:14s} {batches * a.batch / t:9.1f} examples/s ({t:.2f} s)", flush=True)
    if a.profile:
        from torch.profiler import ProfilerActivity, profile
        os.makedirs(a.profile, exist_ok=True)
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            run(model, ids, mask, "perhead-fp16", 2)
        try:  # torch >= 2.4 names it device_time_total
            table = prof.key_averages().table(sort_by="device_time_total", row_limit=25)
        except Exception:
            table = prof.key_averages().table(sort_by="cuda_time_total", row_limit=25)
        with open(os.path.join(a.profile, "hf_anchor_profile.txt"), "w") as f:
            f.write(table)
        print(table[:3000])
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
