#!/usr/bin/env python3
"""A BERT-base-shaped random model and a corpus for the GPU throughput runs (issue 22).

    make_random_bert.py OUT_DIR [--examples 2048] [--tokens 126] [--layers 12] [--no-model]

Writes OUT_DIR/model/ (BertForSequenceClassification, random weights, 2 labels, config.json +
model.safetensors via transformers' save_pretrained, eager attention) with a WordPiece
vocabulary of bert-base's size (30522: [PAD] [UNK] [CLS] [SEP] [MASK], then w00000 ...) and
its tokenizer_config.json, and OUT_DIR/corpus.txt: EXAMPLES lines of TOKENS whole-word
tokens each, so every example is exactly TOKENS + 2 = 128 tokens with [CLS] and [SEP] (no
padding: the HF anchor and attnflow run the same shapes).  The model needs torch and
transformers (the GPU machine has both); --no-model writes only the vocabulary, the
tokenizer config and the corpus (numpy only), e.g. to check them on the build machine.
"""
import argparse
import json
import os
import sys

import numpy as np

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def write_tokenizer(mdir, vocab):
    words = [f"w{i:05d}" for i in range(vocab - len(SPECIAL))]
    with open(os.path.join(mdir, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(SPECIAL + words) + "\n")
    added = {str(i): {"content": t, "single_word": False, "lstrip": False, "rstrip": False,
                      "normalized": False, "special": True} for i, t in enumerate(SPECIAL)}
    cfg = {"added_tokens_decoder": added, "clean_up_tokenization_spaces": True,
           "cls_token": "[CLS]", "do_lower_case": True, "mask_token": "[MASK]",
           "model_max_length": 512, "pad_token": "[PAD]", "sep_token": "[SEP]",
           "strip_accents": None, "tokenize_chinese_chars": True,
           "tokenizer_class": "BertTokenizer", "unk_token": "[UNK]"}
    with open(os.path.join(mdir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    return words


def write_corpus(path, words, examples, tokens):
    rng = np.random.default_rng(23)
    ids = rng.integers(0, len(words), (examples, tokens))
    with open(path, "w", encoding="utf-8") as f:
        for row in ids:
            f.write(" ".join(words[i] for i in row) + "\n")


def write_model(mdir, layers, vocab):
    try:
        import torch
        import transformers
    except ImportError as e:  # the build machine has neither
        sys.exit(f"make_random_bert.py: the model needs torch and transformers ({e}); "
                 "run it on the GPU machine, or pass --no-model")
    torch.manual_seed(22)
    cfg = transformers.BertConfig(vocab_size=vocab, hidden_size=768, num_hidden_layers=layers,
                                  num_attention_heads=12, intermediate_size=3072,
                                  max_position_embeddings=512, num_labels=2)
    model = transformers.BertForSequenceClassification(cfg).eval()
    model.save_pretrained(mdir, safe_serialization=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--examples", type=int, default=2048)
    p.add_argument("--tokens", type=int, default=126, help="word tokens per line (special tokens add 2)")
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--vocab", type=int, default=30522)
    p.add_argument("--no-model", action="store_true", help="vocabulary, tokenizer config and corpus only")
    a = p.parse_args()
    mdir = os.path.join(a.out, "model")
    os.makedirs(mdir, exist_ok=True)
    words = write_tokenizer(mdir, a.vocab)
    write_corpus(os.path.join(a.out, "corpus.txt"), words, a.examples, a.tokens)
    if not a.no_model:
        write_model(mdir, a.layers, a.vocab)
    print(f"wrote {mdir} ({'no model' if a.no_model else f'BERT {a.layers}x12, hidden 768'}, "
          f"vocab {a.vocab}) and {a.out}/corpus.txt ({a.examples} lines x {a.tokens} word tokens "
          f"= n {a.tokens + 2})")


if __name__ == "__main__":
    main()
