#!/usr/bin/python3
"""Writes the crafted inputs of issue 13's findings to tests/fuzz/regressions/<target>/ (replayed by
the fuzz_replay test). Usage: make_regressions.py REPO_ROOT. The files are committed; rerun only
to regenerate them."""
import json, os, struct, sys

root = sys.argv[1]
out = os.path.join(root, "tests", "fuzz", "regressions")

def put(target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

def npy(header, data=b"", version=1):
    h = header.encode("latin1")
    lenb = 2 if version == 1 else 4
    total = 8 + lenb + len(h) + 1
    h += b" " * ((64 - total % 64) % 64) + b"\n"
    return b"\x93NUMPY" + bytes([version, 0]) + (struct.pack("<H", len(h)) if version == 1 else struct.pack("<I", len(h))) + h + data

f4 = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }"
put("npy", "huge_4tib_97_bytes.npy", npy(f4 % "(1099511627776,)", b"\0" * 33))
put("npy", "big_3gib_96_bytes.npy", npy(f4 % "(805306368,)", b"\0" * 32))
put("npy", "long_descr_regex_stack.npy", npy("{'descr': '" + "<" * 60000 + "', 'fortran_order': False, 'shape': (1,), }", version=2))
put("npy", "long_shape_regex_stack.npy", npy(f4 % ("(" + "1," * 30000 + ")"), version=2))
put("npy", "zero_size_dim_memcpy_null.npy", npy(f4 % "(0, 2, 2)"))
put("npy", "zero_dim_with_huge_dims.npy", npy(f4 % "(4294967296, 0, 4294967296)"))
put("npy", "hex_shape_entry.npy", npy(f4 % "(0x2, 2, 2)", b"\0" * 16))
put("npy", "product_shape_entry.npy", npy(f4 % "(65*36,)", b"\0" * 260))
put("npy", "misspelt_fortran_order.npy", npy("{'descr': '<f4', 'fortan_order': False, 'shape': (1, 2, 2), }", b"\0" * 16))
put("npy", "duplicate_key.npy", npy("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", b"\0" * 8))
put("npy", "shape_product_overflow.npy", npy(f4 % "(4294967296, 4294967296, 4294967296)"))
put("npy", "trailing_data.npy", npy(f4 % "(1, 2, 2)", b"\0" * 20))
put("npy", "dimension_2_63.npy", npy(f4 % "(9223372036854775808,)"))
put("npy", "attention_dim_above_int.npy", npy(f4 % "(3000000000, 0, 0)"))

def st(header_text, data=b""):
    h = header_text.encode()
    return struct.pack("<Q", len(h)) + h + data

put("safetensors", "numel_overflow_zero_dim.safetensors",
    st('{"z":{"dtype":"F32","shape":[1099511627776,1099511627776,0],"data_offsets":[0,0]}}'))
put("safetensors", "number_1e400.safetensors",
    st('{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}}', b"\0" * 4))
put("safetensors", "offset_1e400.safetensors",
    st('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4e999]}}', b"\0" * 4))
put("safetensors", "metadata_1e400.safetensors", st('{"__metadata__":{"x":-1e400}}'))
put("safetensors", "deep_nesting.safetensors", st('{"a":' + "[" * 5000))
put("safetensors", "duplicate_name.safetensors",
    st('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}', b"x"))
# 8,000 tensors: quadratic header parsing (quadratic before; milliseconds now).
h = ",".join('"t%d":{"dtype":"U8","shape":[1],"data_offsets":[%d,%d]}' % (i, i, i + 1) for i in range(3000))
put("safetensors", "many_tensors_3000.safetensors", st("{" + h + "}", b"x" * 3000))

put("config", "hidden_size_1e400.json", b'{"model_type": "bert", "hidden_size": 1e400}')
put("config", "layers_2_63_minus_1.json", b'{"model_type": "bert", "num_hidden_layers": 9223372036854775807}')
put("config", "hidden_size_2_62.json", b'{"model_type": "bert", "hidden_size": 4611686018427387904}')
put("config", "positions_2_64_minus_1.json", b'{"model_type": "gpt2", "n_positions": 18446744073709551615}')
put("config", "id2label_huge_key.json", b'{"model_type": "bert", "id2label": {"9223372036854775807": "a"}}')
put("config", "deep_nesting.json", b'{"x":' + b"[" * 5000)

put("tokenizer_json", "added_token_id_int64_max.json",
    json.dumps({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1}},
                "normalizer": None, "pre_tokenizer": {"type": "BertPreTokenizer"},
                "added_tokens": [{"id": 2**63 - 1, "content": "[BIG]", "special": True}]}).encode())
put("tokenizer_json", "vocab_id_2_62.json",
    json.dumps({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 2**62}},
                "normalizer": None, "pre_tokenizer": {"type": "BertPreTokenizer"}}).encode())
put("tokenizer_json", "duplicate_ids.json",
    json.dumps({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 0}},
                "normalizer": None, "pre_tokenizer": {"type": "BertPreTokenizer"}}).encode())
put("tokenizer_json", "empty_vocab_added_unk.json",
    json.dumps({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {}},
                "normalizer": None, "pre_tokenizer": {"type": "BertPreTokenizer"},
                "added_tokens": [{"id": 0, "content": "[UNK]", "special": True}]}).encode())
put("tokenizer_json", "number_1e400.json", b'{"model": {"type": "WordPiece", "vocab": {"a": 1e400}}}')
put("tokenizer_json", "max_input_chars_2_40.json",
    json.dumps({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1},
                          "max_input_chars_per_word": 2**40},
                "normalizer": None, "pre_tokenizer": {"type": "BertPreTokenizer"}}).encode())

put("vocab_txt", "empty.txt", b"")
put("vocab_txt", "invalid_utf8_line.txt", b"[PAD]\n[UNK]\n\xff\xfe\n[CLS]\n[SEP]\n")
put("vocab_txt", "truncated_utf8_line.txt", b"[PAD]\n[UNK]\n[CLS]\n[SEP]\nab\xc3\n")
put("vocab_txt", "duplicate_lines.txt", b"[UNK]\n[CLS]\n[SEP]\na\na\n")

put("bpe_files", "merges_invalid_utf8", json.dumps({"a": 0, "b": 1, "ab": 2, "<|endoftext|>": 3}).encode() + b"\0#version: 0.2\na b\n\xff b\n")
put("bpe_files", "vocab_id_int64_max", json.dumps({"a": 0, "b": 2**63 - 1}).encode() + b"\0a b\n")
put("bpe_files", "vocab_1e400", b'{"a": 1e400}\0a b\n')

put("tokenizer_config", "number_1e400.json", b'{"model_max_length": 1e400}')
put("tokenizer_config", "decoder_id_int64_max.json",
    b'{"added_tokens_decoder": {"9223372036854775807": {"content": "[BIG]", "special": true}}}')
put("tokenizer_config", "decoder_id_2_62.json",
    b'{"added_tokens_decoder": {"4611686018427387904": {"content": "[BIG]"}}}')
put("tokenizer_config", "decoder_id_plus_sign.json",
    b'{"added_tokens_decoder": {"+5": {"content": "[BIG]"}}}')

put("corpus", "jsonl_label_1e400", b"\x01" + b'{"text": "a", "label": 1e400}\n')
put("corpus", "jsonl_deep_nesting", b"\x01" + b'{"text": "a", "x": ' + b"[" * 5000 + b"\n")
put("corpus", "txt_invalid_utf8", b"\x00good line\n\xff\xfe bad\n")

# The tokenizer.json engine (issue 17): unknown stages named by their JSON path, bad regexes,
# Unigram vocabularies and ids, nested sequences, byte fallback.
def engine(name, **doc):
    put("tokenizer_json", "engine_" + name + ".json", json.dumps(doc).encode())

wp = {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1, "##b": 2}}
engine("unknown_nested_normalizer", model=wp,
       normalizer={"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Foo"}]})
engine("bad_split_regex", model=wp,
       pre_tokenizer={"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"})
engine("split_regex_backtracking", model=wp,
       pre_tokenizer={"type": "Split", "pattern": {"Regex": "(\\w+)+$"}, "behavior": "Removed",
                      "invert": True})
engine("empty_regex_matches", model=wp,
       pre_tokenizer={"type": "Split", "pattern": {"Regex": "x*"}, "behavior": "MergedWithNext"},
       normalizer={"type": "Replace", "pattern": {"Regex": "y*"}, "content": "z"})
engine("metaspace_two_char_replacement", model=wp,
       pre_tokenizer={"type": "Metaspace", "replacement": "ab"})
engine("unigram_unk_id_outside", model={"type": "Unigram", "unk_id": 5, "vocab": [["a", -1.0]]})
engine("unigram_no_unk", model={"type": "Unigram", "vocab": [["a", -1.0], ["b", -2.0]]})
engine("unigram_score_string", model={"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", "x"]]})
engine("unigram_empty_piece", model={"type": "Unigram", "unk_id": 0,
                                     "vocab": [["<unk>", 0.0], ["", -1.0], ["a", -1.0]]})
engine("template_missing_special", model=wp,
       post_processor={"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]"}}],
                       "pair": [], "special_tokens": {}})
nested = {"type": "Lowercase"}
for _ in range(300):
    nested = {"type": "Sequence", "normalizers": [nested]}
engine("deep_normalizer_sequence", model=wp, normalizer=nested)
engine("bpe_byte_fallback_no_bytes",
       model={"type": "BPE", "byte_fallback": True, "fuse_unk": True, "unk_token": "<unk>",
              "vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3, "<0x41>": 4}, "merges": [["a", "b"]]},
       normalizer={"type": "Sequence", "normalizers": [
           {"type": "Prepend", "prepend": "\u2581"},
           {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]})
engine("bpe_prefix_longer_than_token",
       model={"type": "BPE", "continuing_subword_prefix": "####", "vocab": {"a": 0, "b": 1, "a": 0},
              "merges": ["a b"]})
engine("unknown_decoder", model=wp, decoder={"type": "CTC"})

# SentencePiece: the Precompiled normaliser's map (a darts-clone trie) and spiece.model files
# (a protobuf ModelProto) read by attnflow itself.
import base64
uni = {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["a", -1.0], ["b", -2.0]]}
def precompiled(name, blob):
    engine("precompiled_" + name, model=uni,
           normalizer={"type": "Precompiled", "precompiled_charsmap": base64.b64encode(blob).decode()})
precompiled("unit_outside_trie", struct.pack("<I", 4) + b"\xff\xff\xff\xff" + b"x")
precompiled("trie_size_past_end", struct.pack("<I", 4096) + b"\0" * 16)
precompiled("trie_size_not_multiple_of_4", struct.pack("<I", 6) + b"\0" * 16)
precompiled("value_past_strings", struct.pack("<I", 8) + struct.pack("<II", 0x400 | 0x100, 0x7fffffff) + b"a\0")
precompiled("strings_not_utf8", struct.pack("<I", 4) + b"\0\0\0\0" + b"\xff\xfe\0")
engine("precompiled_not_base64", model=uni, normalizer={"type": "Precompiled", "precompiled_charsmap": "@@@"})
engine("precompiled_missing", model=uni, normalizer={"type": "Precompiled"})

def varint(v):
    out = b""
    while True:
        b = v & 0x7f
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out
def field(number, wire, payload):
    key = varint(number << 3 | wire)
    return key + (varint(len(payload)) + payload if wire == 2 else payload)
def piece(text, score, kind=None):
    body = field(1, 2, text.encode()) + field(2, 5, struct.pack("<f", score))
    return field(1, 2, body + (field(3, 0, varint(kind)) if kind is not None else b""))
def trainer(model_type=1, byte_fallback=False):
    return field(2, 2, field(3, 0, varint(model_type)) + field(35, 0, varint(int(byte_fallback))))
def normalizer(blob=None, **flags):
    body = field(1, 2, b"nmt_nfkc") + (field(2, 2, blob) if blob is not None else b"")
    for number, key in ((3, "dummy"), (4, "extra"), (5, "escape")):
        if key in flags:
            body += field(number, 0, varint(int(flags[key])))
    return field(3, 2, body)
ok_pieces = piece("<unk>", 0.0, 2) + piece("\u2581a", -1.0) + piece("a", -2.0) + piece("b", -3.0)
put("spiece_model", "tiny_unigram.model", ok_pieces + trainer() + normalizer(None, dummy=0, extra=0))
put("spiece_model", "tiny_bpe_escapes_off.model", ok_pieces + trainer(2) + normalizer(None, escape=0))
put("spiece_model", "truncated_piece.model", ok_pieces[:-3])
put("spiece_model", "overlong_varint.model", b"\x08" + b"\xff" * 11)
put("spiece_model", "group_wire_type.model", b"\x0b\x0c")
put("spiece_model", "piece_type_9.model", piece("<unk>", 0.0, 9))
put("spiece_model", "no_unknown_piece.model", piece("a", -1.0))
put("spiece_model", "two_unknown_pieces.model", piece("<unk>", 0.0, 2) + piece("<u2>", 0.0, 2))
put("spiece_model", "duplicate_piece.model", ok_pieces + piece("a", -4.0))
put("spiece_model", "empty_piece.model", ok_pieces + piece("", -4.0))
put("spiece_model", "nan_score.model", ok_pieces + piece("c", float("nan")))
put("spiece_model", "byte_piece_without_fallback.model", ok_pieces + piece("<0x41>", 0.0, 6))
put("spiece_model", "bad_byte_piece.model", ok_pieces + piece("<0xZZ>", 0.0, 6) + trainer(1, True))
put("spiece_model", "word_model_type.model", ok_pieces + trainer(3))
put("spiece_model", "piece_not_utf8.model", ok_pieces + field(1, 2, field(1, 2, b"\xff")))
put("spiece_model", "garbled_charsmap.model",
    ok_pieces + trainer() + normalizer(struct.pack("<I", 4) + b"\xff\xff\xff\xff" + b"x"))
put("spiece_model", "charsmap_too_short.model", ok_pieces + trainer() + normalizer(b"\x01\x02"))
put("spiece_model", "bool_field_2.model", ok_pieces + trainer() + field(3, 2, field(3, 0, b"\x02")))
