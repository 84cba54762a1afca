#!/usr/bin/python3
"""Peak memory of `attnflow extract` in per-head, fused and derived mode (docs/extract.md,
"Bounded memory").

Writes a randomly initialised LlamaForCausalLM of LLaMA shape at small width (default 8 layers x
16 heads, hidden 256, 4 KV heads; weights written by this script's own safetensors writer, with
numpy) with the byte-fallback BPE tokenizer of tests/data, one corpus line cut to exactly n
tokens, and runs `attnflow extract` on it under /usr/bin/time -v for every mode, n and layer
count asked. Prints peak RSS, the RSS of the same run at n = 8 (the fixed cost: libtorch, the
weights, the process), and the difference against the formula of docs/extract.md:

  per-head  4 k H n^2                  (each layer goes into the store as it comes)
  fused     4 k H n^2 + 16 n^2          (the float64 fusion of one layer and its float32 copy)
  derived   max(8 L' n^2 + 4 k H n^2, 16 L' n^2)
  (k = 4: one layer's scores, masked scores, probabilities and its streamed copy; L' the layers
  kept; H the model's heads)

With --target T (per-head and derived; derived adds grad-rollout to -m) the backward pass adds,
on the device (here: the CPU, so in the RSS), the kept attention and dy/dA of every layer,
2 * 4 L H n^2 (plus ~3 * 8 n^2 for derived's float64 head mean being made); per-head mode writes
dy/dA into the store a layer at a time, derived mode keeps the gradient-weighted head means
(8 L' n^2) next to the fused layers, analysed with 24 L' n^2.

Usage: bench/extract_memory.py --attnflow build/attnflow [--n 512,1024] [--layers 4,8]
       [--modes per-head,fused,derived] [--target next] [--work DIR] [--threads 1]
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "..", "tests", "data", "tokenizers", "bpe_fallback", "tokenizer.json")


def write_safetensors(path, tensors):
    """tensors: list of (name, float32 array) -> a safetensors file (F32, little-endian)."""
    header, offset, blobs = {}, 0, []
    for name, a in tensors:
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def make_model(folder, layers, heads, hidden, kv_heads, vocab, seed=0):
    os.makedirs(folder, exist_ok=True)
    dh = hidden // heads
    inner = int(hidden * 8 / 3) // 8 * 8
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": hidden,
        "intermediate_size": inner, "num_hidden_layers": layers, "num_attention_heads": heads,
        "num_key_value_heads": kv_heads, "head_dim": dh, "hidden_act": "silu",
        "max_position_embeddings": 4096, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
        "tie_word_embeddings": True, "vocab_size": vocab, "torch_dtype": "float32",
    }
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    rng = np.random.default_rng(seed)
    sd = 0.02

    def normal(*shape):
        return rng.normal(0.0, sd, size=shape).astype(np.float32)

    t = [("model.embed_tokens.weight", normal(vocab, hidden))]
    for l in range(layers):
        p = f"model.layers.{l}."
        t += [(p + "input_layernorm.weight", np.ones(hidden, np.float32)),
              (p + "post_attention_layernorm.weight", np.ones(hidden, np.float32)),
              (p + "self_attn.q_proj.weight", normal(heads * dh, hidden)),
              (p + "self_attn.k_proj.weight", normal(kv_heads * dh, hidden)),
              (p + "self_attn.v_proj.weight", normal(kv_heads * dh, hidden)),
              (p + "self_attn.o_proj.weight", normal(hidden, heads * dh)),
              (p + "mlp.gate_proj.weight", normal(inner, hidden)),
              (p + "mlp.up_proj.weight", normal(inner, hidden)),
              (p + "mlp.down_proj.weight", normal(hidden, inner))]
    t.append(("model.norm.weight", np.ones(hidden, np.float32)))
    write_safetensors(os.path.join(folder, "model.safetensors"), t)
    shutil.copy(TOKENIZER, os.path.join(folder, "tokenizer.json"))


def peak_rss_kib(cmd, env):
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit("failed: " + " ".join(cmd) + "\n" + r.stdout + r.stderr)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", r.stderr).group(1))
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", r.stderr).group(1))
    wall = re.search(r"Elapsed \(wall clock\) time.*: ([\d:.]+)", r.stderr).group(1)
    return rss, user + system, wall


def formula_bytes(mode, L, H, n, k=4, target=False):
    """docs/extract.md, "Bounded memory": what one example adds to the fixed cost."""
    layer = 4 * k * H * n * n  # one layer's maps inside the model while it runs
    backward = 2 * 4 * L * H * n * n if target else 0  # kept attention + dy/dA, every layer
    if mode == "per-head":  # every layer (and dy/dA) is written into the store as it comes
        return layer + backward
    if mode == "fused":
        return layer + 16 * n * n
    if target:  # fused + head means kept through the backward pass, then the analysis
        return max(16 * L * n * n + layer + backward + 24 * n * n, 24 * L * n * n)
    return max(8 * L * n * n + layer, 16 * L * n * n)  # derived: forward, then the analysis


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--attnflow", required=True)
    ap.add_argument("--n", default="512,1024")
    ap.add_argument("--layers", default="4,8")
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--kv-heads", type=int, default=4)
    ap.add_argument("--modes", default="per-head,fused,derived")
    ap.add_argument("--methods", default="raw,rollout", help="-m of --store derived")
    ap.add_argument("--target", default=None, help="a gradient target (per-head, derived)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default=None)
    ap.add_argument("--repeat", type=int, default=1, help="runs per setting (the median is shown)")
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="attnflow_extract_memory_")
    os.makedirs(work, exist_ok=True)
    vocab = 931
    ns = [int(x) for x in a.n.split(",")]
    Ls = [int(x) for x in a.layers.split(",")]
    corpus = os.path.join(work, "corpus.txt")
    rng = np.random.default_rng(1)
    words = ["".join(chr(97 + c) for c in rng.integers(0, 26, rng.integers(2, 8))) for _ in range(6 * max(ns))]
    with open(corpus, "w") as f:
        f.write(" ".join(words) + "\n")
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    print(f"model: LlamaForCausalLM, {a.heads} heads ({a.kv_heads} KV), hidden {a.hidden}, float32; "
          f"one example; -j {a.threads}; target {a.target or 'none'}")
    print(f"{'mode':9} {'L':>2} {'n':>5} {'peak MiB':>9} {'base MiB':>9} {'peak-base':>10} "
          f"{'formula':>8} {'cpu s':>6} {'wall':>8}")
    for L in Ls:
        model = os.path.join(work, f"llama_L{L}")
        make_model(model, L, a.heads, a.hidden, a.kv_heads, vocab)
        for mode in a.modes.split(","):
            extra = ["--store", mode]
            if mode == "derived":
                methods = a.methods + (",grad-rollout" if a.target else "")
                extra += ["-m", methods, "--rows", "-1"]
            if a.target and mode != "fused":
                extra += ["--target", a.target]
            runs = {}
            for n in [8] + ns:
                out = os.path.join(work, f"out_{mode}_{L}_{n}.h5")
                cmd = [a.attnflow, "extract", model, corpus, "-o", out, "--overwrite", "-q",
                       "--max-length", str(n), "--truncate", "-b", "1", "-j", str(a.threads)] + extra
                samples = sorted(peak_rss_kib(cmd, env) for _ in range(a.repeat))
                runs[n] = samples[len(samples) // 2]
                os.remove(out)
            base = runs[8][0] / 1024
            for n in ns:
                rss, cpu, wall = runs[n]
                f = formula_bytes(mode, L, a.heads, n, target=bool(a.target) and mode != "fused") / 2**20
                print(f"{mode:9} {L:>2} {n:>5} {rss / 1024:9.0f} {base:9.0f} {rss / 1024 - base:10.0f} "
                      f"{f:8.0f} {cpu:6.1f} {wall:>8}", flush=True)


if __name__ == "__main__":
    main()
