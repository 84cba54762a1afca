// SentencePiece models with a real normalisation map, and the ids of both ways attnflow reads
// them (tests/hf/tokenizer_spm_test.cpp):
//   tests/data/tokenizers/<name>/spiece.model            trained with Debian's libsentencepiece
//                                                         (make_spiece_model.cpp)
//   tests/data/tokenizers/<name>/tokenizer.template.json  the tokenizer.json of our converter
//                                                         below, its Precompiled charsmap left out
//   tests/data/tokenizers/spm_golden.json                 per string: the ids of Hugging Face's
//                                                         Rust tokenizers on the full
//                                                         tokenizer.json, and libsentencepiece's
//                                                         own ids (spm_encode_golden.cpp)
// The normalisation map (~240 KB) is stored once, in spiece.model: the test puts its bytes,
// base64-encoded, into the template's "precompiled_charsmap" (spm_golden.json records where
// they lie in the file), which gives the exact file Hugging Face's code encoded with here.
//
//   spm_unigram_nfkc   Unigram, 600 pieces, nmt_nfkc, T5's ids (<pad> 0, </s> 1, <unk> 2), A </s>
//   spm_bpe_nfkc_cf    BPE, 800 pieces, nmt_nfkc_cf (NFKC + case folding), byte_fallback,
//                      <unk> 0, <s> 1, </s> 2, <s> A
// Both trained on the training text of golden_text.mjs (character_coverage 0.995, so some
// characters stay unknown). The converter is ours (transformers' SpmConverter is Python): pieces
// and scores; Precompiled, then SentencePiece's remove_extra_whitespaces as two Replace
// normalisers; Metaspace (always); for BPE every split of a normal piece into two pieces as a
// merge, in the order of the merged piece's score, then of the halves' ids (as transformers'
// SentencePieceExtractor orders them).
//
// Regenerate (node_modules outside the repository, as for make_engine_golden.mjs):
//   HF_JS_DIR=/tmp/hfjs-tok node tests/hf/make_spm_golden.mjs
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

import { PAIRS, TEXTS, trainingLines } from "./golden_text.mjs";
import { parseModelProto } from "./spm_proto.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, "..", "data", "tokenizers");
const jsDir = process.env.HF_JS_DIR ?? "/tmp/hfjs-tok";
const req = createRequire(path.join(jsDir, "package.json"));
const tkMod = await import(pathToFileURL(req.resolve("@anush008/tokenizers")).href);
const tk = tkMod.default ?? tkMod;
const tkVersion =
  JSON.parse(fs.readFileSync(path.join(jsDir, "node_modules/@anush008/tokenizers/package.json")))
    .version;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "attnflow-spm-"));
const corpusFile = path.join(tmp, "corpus.txt");
fs.writeFileSync(corpusFile, trainingLines(2500).join("\n") + "\n");
const build = (source, libs) => {
  const out = path.join(tmp, path.basename(source, ".cpp"));
  execFileSync("g++", ["-O1", path.join(here, source), ...libs, "-o", out]);
  return out;
};
const trainer = build("make_spiece_model.cpp", ["-lsentencepiece_train", "-lsentencepiece"]);
const encoder = build("spm_encode_golden.cpp", ["-lsentencepiece"]);

const STRINGS = [...TEXTS, ...PAIRS.flat(), "ＦＵＬＬ－ＷＩＤＴＨ　ｔｅｘｔ　１２３", "ﾊﾝｶｸ ｶﾀｶﾅ",
  "Ⅻ ㎏ ℡ ™ ﬀ", "ÀÉÎÕÜ àéîõü ÇçÑñ", "ЁЖИК ёжик Ъ", "x\u3000\u3000y",
  // half-width kana with voiced marks: keys of two characters ("ｶﾞ" -> "ガ") over keys of one
  "ｶﾞｷﾞｸﾞ ﾊﾟﾋﾟ ｳﾞ", "ｶﾞ", "e\u0301\u0301 a\u0308\u0304 ㋿ ㍻"];

const MODELS = {
  spm_unigram_nfkc: { flags: "--model_type=unigram --vocab_size=600 --normalization_rule_name=nmt_nfkc " +
    "--pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1", template: ["A", "</s>"] },
  spm_bpe_nfkc_cf: { flags: "--model_type=bpe --vocab_size=800 --normalization_rule_name=nmt_nfkc_cf " +
    "--byte_fallback=true --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1", template: ["<s>", "A"] },
};

const SPECIAL = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false,
  normalized: false, special: true });

function template(items, ids) {
  const item = (x, seq) => x === "A" ? { Sequence: { id: seq, type_id: 0 } }
    : { SpecialToken: { id: x, type_id: 0 } };
  const specials = {};
  for (const x of items) if (x !== "A") specials[x] = { id: x, ids: [ids[x]], tokens: [x] };
  return { type: "TemplateProcessing", single: items.map((x) => item(x, "A")),
    pair: [...items.map((x) => item(x, "A")), ...items.map((x) => item(x, "B"))],
    special_tokens: specials };
}

// Our converter: spiece.model -> tokenizer.json (charsmap as given).
function convert(model, charsmapBase64, items) {
  const { pieces } = model;
  const id = Object.fromEntries(pieces.map((p, i) => [p.piece, i]));
  const unk = pieces.findIndex((p) => p.type === 2);
  const doc = {
    version: "1.0", truncation: null, padding: null,
    added_tokens: pieces.map((p, i) => [p, i]).filter(([p]) => p.type === 2 || p.type === 3)
      .map(([p, i]) => SPECIAL(i, p.piece)),
    normalizer: { type: "Sequence", normalizers: [
      { type: "Precompiled", precompiled_charsmap: charsmapBase64 },
      { type: "Replace", pattern: { Regex: "^ +| +$" }, content: "" },
      { type: "Replace", pattern: { Regex: " {2,}" }, content: " " }] },
    pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
    post_processor: template(items, id),
    decoder: { type: "Sequence", decoders: [
      { type: "Replace", pattern: { String: "▁" }, content: " " }, { type: "ByteFallback" },
      { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
  };
  if (model.modelType === 1) {
    doc.model = { type: "Unigram", unk_id: unk, vocab: pieces.map((p) => [p.piece, p.score]),
      byte_fallback: model.byteFallback };
  } else {
    const mergeable = (s) => s in id && [1, 4, 5].includes(pieces[id[s]].type);
    const order = pieces.map((p, i) => i).filter((i) => pieces[i].type === 1)
      .sort((a, b) => pieces[b].score - pieces[a].score || a - b);
    const merges = [];
    for (const i of order) {
      const chars = [...pieces[i].piece];
      const local = [];
      for (let k = 1; k < chars.length; ++k) {
        const l = chars.slice(0, k).join(""), r = chars.slice(k).join("");
        if (mergeable(l) && mergeable(r)) local.push([l, r]);
      }
      local.sort((a, b) => id[a[0]] - id[b[0]] || id[a[1]] - id[b[1]]);
      merges.push(...local);
    }
    doc.model = { type: "BPE", dropout: null, unk_token: pieces[unk].piece,
      continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true,
      byte_fallback: model.byteFallback, ignore_merges: false, vocab: id, merges };
  }
  return doc;
}

const spmIds = (modelFile) => {
  const input = STRINGS.map((s) => `${Buffer.byteLength(s)}\n${s}`).join("");
  return execFileSync(encoder, [modelFile], { input }).toString().split("\n").slice(0, -1)
    .map((line) => (line === "" ? [] : line.split(" ").map(Number)));
};

const golden = { comment: "Regenerate with tests/hf/make_spm_golden.mjs (see its header).",
  generator: { "@anush008/tokenizers": tkVersion, tokenizers_crate: "0.22.2",
    libsentencepiece: "Debian 0.1.97", node: process.version }, tokenizers: {} };
for (const [name, { flags, template: items }] of Object.entries(MODELS)) {
  const dir = path.join(dataDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const modelFile = path.join(dir, "spiece.model");
  execFileSync(trainer, [`--input=${corpusFile} --model_prefix=${path.join(tmp, name)} ${flags} ` +
    "--character_coverage=0.995 --num_threads=1 --minloglevel=2"], { stdio: "ignore" });
  fs.copyFileSync(path.join(tmp, `${name}.model`), modelFile);
  const bytes = fs.readFileSync(modelFile);
  const model = parseModelProto(bytes);
  const { offset, length } = model.normalizer.charsmap;
  const charsmap = bytes.subarray(offset, offset + length);
  const doc = convert(model, charsmap.toString("base64"), items);
  const rust = tk.Tokenizer.fromString(JSON.stringify(doc));
  fs.writeFileSync(path.join(dir, "tokenizer.template.json"),
    JSON.stringify({ ...doc, normalizer: { ...doc.normalizer, normalizers: [
      { type: "Precompiled", precompiled_charsmap: "" }, ...doc.normalizer.normalizers.slice(1)] } }) +
    "\n");
  const spm = spmIds(modelFile);
  const cases = [];
  let differ = 0;
  for (let i = 0; i < STRINGS.length; ++i) {
    const plain = await rust.encode(STRINGS[i], null, { addSpecialTokens: false });
    const full = await rust.encode(STRINGS[i], null, { addSpecialTokens: true });
    const hf = plain.getIds().map(Number);
    const same = hf.length === spm[i].length && hf.every((x, k) => x === spm[i][k]);
    if (!same) ++differ;
    cases.push({ text: STRINGS[i], hf_ids: full.getIds().map(Number), hf_tokens: full.getTokens(),
      hf_ids_plain: hf, spm_ids: spm[i] });
  }
  golden.tokenizers[name] = { normalization: model.normalizer.name, charsmap_offset: offset,
    charsmap_length: length, pieces: model.pieces.length, hf_and_spm_differ: differ, cases };
  console.log(`${name}: ${model.pieces.length} pieces, charsmap ${length} bytes, ` +
    `${STRINGS.length} strings, Rust tokenizers and libsentencepiece differ on ${differ}`);
}
fs.writeFileSync(path.join(dataDir, "spm_golden.json"),
  JSON.stringify(golden).replace(/\},\{"text"/g, '},\n{"text"') + "\n");
fs.rmSync(tmp, { recursive: true });
