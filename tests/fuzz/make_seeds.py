#!/usr/bin/python3
"""Builds the seed corpus of every fuzz target (tests/fuzz/fuzz_targets.cpp) from the fixtures
in tests/data and the shipped datasets: make_seeds.py SOURCE_DIR OUT_DIR -> OUT_DIR/<target>/.
Inputs that stand for several files (bpe_files: vocab.json NUL merges.txt) are joined with NUL,
as the targets split them; corpus inputs start with a byte that picks the format and options."""

import glob
import os
import shutil
import sys


def main(source, out):
    data = os.path.join(source, "tests", "data")
    models = os.path.join(data, "models")
    seeds = {
        "npy": glob.glob(os.path.join(data, "*.npy")),
        "safetensors": glob.glob(os.path.join(models, "*", "model.safetensors"))
        + glob.glob(os.path.join(models, "*", "golden_b1.safetensors")),
        "config": glob.glob(os.path.join(data, "hf", "*.json"))
        + glob.glob(os.path.join(models, "*", "config.json"))
        + [os.path.join(source, "datasets", "models", "sva", "config.json")],
        "tokenizer_json": glob.glob(os.path.join(data, "tokenizers", "*", "tokenizer.json")),
        "vocab_txt": glob.glob(os.path.join(data, "tokenizers", "*", "vocab.txt")),
        "tokenizer_config": glob.glob(os.path.join(data, "tokenizers", "*",
                                                   "tokenizer_config.json")),
        "spiece_model": glob.glob(os.path.join(data, "tokenizers", "*", "spiece.model")),
        "store": [os.path.join(data, "store_v1.h5")],
    }
    shutil.rmtree(out, ignore_errors=True)
    for target, files in seeds.items():
        d = os.path.join(out, target)
        os.makedirs(d)
        for k, f in enumerate(sorted(set(files))):
            shutil.copyfile(f, os.path.join(d, f"{k:03d}_{os.path.basename(f)}"))
    d = os.path.join(out, "bpe_files")
    os.makedirs(d)
    for k, tok in enumerate(sorted(glob.glob(os.path.join(data, "tokenizers", "*")))):
        vocab, merges = os.path.join(tok, "vocab.json"), os.path.join(tok, "merges.txt")
        if os.path.exists(vocab) and os.path.exists(merges):
            with open(vocab, "rb") as v, open(merges, "rb") as m, \
                    open(os.path.join(d, f"{k:03d}"), "wb") as o:
                o.write(v.read() + b"\0" + m.read())
    d = os.path.join(out, "corpus")
    os.makedirs(d)
    with open(os.path.join(source, "datasets", "sva", "demo.jsonl"), "rb") as f:
        jsonl = f.read()
    texts = b"".join(line.split(b'"text": "')[1].split(b'"')[0] + b"\n"
                     for line in jsonl.splitlines() if b'"text": "' in line)
    tsv = b"text\tlabel\n" + b"".join(t + b"\t" + str(i % 2).encode() + b"\n"
                                      for i, t in enumerate(texts.splitlines()))
    for k, (fmt, body) in enumerate([(0, texts), (1, jsonl), (2, tsv), (2 | 8, tsv),
                                     (0 | 4, b"a\n\n b\r\nc")]):
        with open(os.path.join(d, f"{k:03d}"), "wb") as o:
            o.write(bytes([fmt]) + body)
    for target in sorted(os.listdir(out)):
        n = len(os.listdir(os.path.join(out, target)))
        if n == 0:
            sys.exit(f"make_seeds.py: no seeds for {target}")
        print(f"{target}: {n} seeds")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
