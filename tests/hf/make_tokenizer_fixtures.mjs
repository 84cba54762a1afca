// Writes the tiny tokenizer fixtures under tests/data/tokenizers/:
//   bert_uncased/, bert_cased/  WordPiece: vocab.txt, tokenizer.json, tokenizer_config.json
//   gpt2_bpe/                   byte-level BPE trained here on a small text: vocab.json,
//                               merges.txt, tokenizer.json, tokenizer_config.json
// Plain Node (>= 18), no packages. Deterministic: rerunning gives the same files.
// Usage: node tests/hf/make_tokenizer_fixtures.mjs [out_dir]
// The reference ids come from tests/hf/make_tokenizer_golden.mjs (transformers.js).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = process.argv[2] ?? path.join(here, "..", "data", "tokenizers");

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value, null, 2) + "\n");
}

// ---------------------------------------------------------------- WordPiece
const SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
const PUNCT = [..."!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", "«", "»", "—", "…", "¿", "¡", "。", "、"];
const LOWER = [..."abcdefghijklmnopqrstuvwxyz"];
const DIGITS = [..."0123456789"];
const WORDS = [
  "the", "cat", "sat", "on", "mat", "dog", "ran", "hello", "world", "un", "##believ", "##able",
  "play", "##ing", "run", "##ed", "##ly", "love", "and", "wait", "what", "yes",
  "no", "maybe", "quote", "single", "cafe", "naive", "ang", "##strom", "in", "people",
  "lead", "trail", "tab", "new", "##line", "multiple", "space", "zero", "width", "join", "##er",
  "vertical", "super", "##cal", "##if", "##rag", "##il", "##istic", "it", "##'", "sure", "fine",
  "we", "see", "they", "done", "you", "do", "don", "istanbul", "mask",
  // Cyrillic (the sentence), Greek, CJK
  "кот", "сидел", "на", "ков", "##ре", "и", "смотрел", "собак", "##у", "к", "о", "т", "с",
  "καλημερα", "κοσμε", "我", "爱", "自", "然", "语", "言", "处", "理", "日", "本", "語", "の",
];
const CASED_EXTRA = [
  "The", "Hello", "I", "Wait", "In", "Кот", "café", "naïve", "Å", "##ngstr", "##ö", "CA",
  "##F", "##É", "Na", "##ï", "##ve", "Καλημέρα", "κόσμε", "İ", "##stanbul", "IT", "##'S",
  "A", "B", "C", "T", "W",
];

function wordpieceVocab(cased) {
  const list = [...SPECIALS, ...PUNCT, ...DIGITS, ...DIGITS.map((d) => "##" + d), ...LOWER,
    ...LOWER.map((c) => "##" + c), ...WORDS, ...(cased ? CASED_EXTRA : [])];
  const seen = new Set();
  for (const t of list) {
    if (seen.has(t)) throw new Error(`duplicate vocab entry ${t}`);
    seen.add(t);
  }
  return list;
}

function wordpieceFixture(name, cased) {
  const dir = path.join(outDir, name);
  const vocabList = wordpieceVocab(cased);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "vocab.txt"), vocabList.join("\n") + "\n");
  const vocab = Object.fromEntries(vocabList.map((t, i) => [t, i]));
  const id = (t) => vocab[t];
  const special = (t) => ({ id: id(t), content: t, single_word: false, lstrip: false,
    rstrip: false, normalized: false, special: true });
  const seq = (s, type_id) => ({ Sequence: { id: s, type_id } });
  const sp = (s, type_id) => ({ SpecialToken: { id: s, type_id } });
  writeJson(path.join(dir, "tokenizer.json"), {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map(special),
    normalizer: { type: "BertNormalizer", clean_text: true, handle_chinese_chars: true,
      strip_accents: null, lowercase: !cased },
    pre_tokenizer: { type: "BertPreTokenizer" },
    post_processor: {
      type: "TemplateProcessing",
      single: [sp("[CLS]", 0), seq("A", 0), sp("[SEP]", 0)],
      pair: [sp("[CLS]", 0), seq("A", 0), sp("[SEP]", 0), seq("B", 1), sp("[SEP]", 1)],
      special_tokens: Object.fromEntries(["[CLS]", "[SEP]"].map((t) =>
        [t, { id: t, ids: [id(t)], tokens: [t] }])),
    },
    decoder: { type: "WordPiece", prefix: "##", cleanup: true },
    model: { type: "WordPiece", unk_token: "[UNK]", continuing_subword_prefix: "##",
      max_input_chars_per_word: 100, vocab },
  });
  writeJson(path.join(dir, "tokenizer_config.json"), {
    added_tokens_decoder: Object.fromEntries(SPECIALS.map((t) => {
      const { id: i, ...rest } = special(t);
      return [String(i), rest];
    })),
    clean_up_tokenization_spaces: true,
    cls_token: "[CLS]",
    do_lower_case: !cased,
    mask_token: "[MASK]",
    model_max_length: 512,
    pad_token: "[PAD]",
    sep_token: "[SEP]",
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: "BertTokenizer",
    unk_token: "[UNK]",
  });
  return vocabList.length;
}

// ---------------------------------------------------------- byte-level BPE
function bytesToUnicode() {
  const bs = [];
  for (let b = 0x21; b <= 0x7e; ++b) bs.push(b);
  for (let b = 0xa1; b <= 0xac; ++b) bs.push(b);
  for (let b = 0xae; b <= 0xff; ++b) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; ++b) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      ++n;
    }
  }
  const map = new Map();
  bs.forEach((b, i) => map.set(b, String.fromCodePoint(cs[i])));
  return { order: bs, map };
}

const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

const CORPUS = `
The cat sat on the mat. The dog sat on the rug. The cat looked at the dog and the dog
looked at the cat. Hello world! Hello again, world. It's a fine day; we'll see what they've
done. I'm sure you'd like it, don't you? Playing, running, jumping and reading are things
people love to do. In 2024 there were 1,000,000 readers and 3.14159 pies.
Кот сидел на ковре и смотрел на собаку. Собака смотрела на кота. Кот спал на ковре.
Мы читаем книги и пишем письма. Привет, мир!
Le café est naïve à Paris; Ångström était un physicien. Crème brûlée, déjà vu, señor.
Καλημέρα κόσμε. 我爱自然语言处理。日本語のテキスト。
`;

function bpeFixture(name, numMerges) {
  const dir = path.join(outDir, name);
  const { order, map } = bytesToUnicode();
  const encoder = new TextEncoder();
  const wordCounts = new Map();
  for (const piece of CORPUS.replace(/\n/g, " ").match(GPT2_PATTERN)) {
    const w = Array.from(encoder.encode(piece), (b) => map.get(b)).join("");
    wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  }
  // words as arrays of symbols
  let words = [...wordCounts.entries()].map(([w, c]) => ({ syms: [...w], count: c }));
  const vocabList = order.map((b) => map.get(b));
  const merges = [];
  for (let m = 0; m < numMerges; ++m) {
    const pairCounts = new Map();
    for (const { syms, count } of words) {
      for (let i = 0; i + 1 < syms.length; ++i) {
        const key = syms[i] + " " + syms[i + 1];
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best = null;
    let bestCount = 0;
    for (const [key, c] of pairCounts) {
      if (c > bestCount || (c === bestCount && best !== null && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best === null) break;
    const [a, b] = best.split(" ");
    merges.push(best);
    vocabList.push(a + b);
    words = words.map(({ syms, count }) => {
      const out = [];
      for (let i = 0; i < syms.length; ++i) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(a + b);
          ++i;
        } else {
          out.push(syms[i]);
        }
      }
      return { syms: out, count };
    });
  }
  vocabList.push("<|endoftext|>");
  const vocab = Object.fromEntries(vocabList.map((t, i) => [t, i]));
  if (Object.keys(vocab).length !== vocabList.length) throw new Error("duplicate BPE token");
  const eos = vocab["<|endoftext|>"];
  // Two tokens added after training (not in vocab.json), to exercise lstrip / rstrip and a
  // non-special added token: "<mask>" as RoBERTa defines it, "[NEW]" absorbing spaces after it.
  const extra = [
    { id: eos + 1, content: "<mask>", single_word: false, lstrip: true, rstrip: false,
      normalized: false, special: true },
    { id: eos + 2, content: "[NEW]", single_word: false, lstrip: false, rstrip: true,
      normalized: false, special: false },
  ];
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "vocab.json"), JSON.stringify(vocab) + "\n");
  fs.writeFileSync(path.join(dir, "merges.txt"), "#version: 0.2\n" + merges.join("\n") + "\n");
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true,
    use_regex: true };
  writeJson(path.join(dir, "tokenizer.json"), {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: eos, content: "<|endoftext|>", single_word: false, lstrip: false,
      rstrip: false, normalized: true, special: true }, ...extra],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "",
      end_of_word_suffix: "", fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab, merges },
  });
  writeJson(path.join(dir, "tokenizer_config.json"), {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries([
      [String(eos), { content: "<|endoftext|>", single_word: false, lstrip: false, rstrip: false,
        normalized: true, special: true }],
      ...extra.map(({ id, ...rest }) => [String(id), rest]),
    ]),
    bos_token: "<|endoftext|>",
    clean_up_tokenization_spaces: false,
    eos_token: "<|endoftext|>",
    model_max_length: 1024,
    tokenizer_class: "GPT2Tokenizer",
    unk_token: "<|endoftext|>",
  });
  return { vocab: vocabList.length, merges: merges.length };
}

console.log("bert_uncased vocab", wordpieceFixture("bert_uncased", false));
console.log("bert_cased vocab", wordpieceFixture("bert_cased", true));
console.log("gpt2_bpe", bpeFixture("gpt2_bpe", 250));
