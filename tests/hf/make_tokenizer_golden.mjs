// Writes tests/data/tokenizers/golden.json: the token ids Hugging Face's own JavaScript
// implementation (transformers.js AutoTokenizer, cross-checked against @huggingface/tokenizers)
// gives for the fixtures of make_tokenizer_fixtures.mjs. CI does not run this; it only reads
// the committed golden.json (tests/hf/tokenizer_golden_test.cpp).
//
// Regenerate (node_modules outside the repository; --ignore-scripts skips onnxruntime's
// binary download, which tokenization does not need):
//   mkdir -p /tmp/hfjs && cd /tmp/hfjs && npm init -y &&
//     npm install --ignore-scripts @huggingface/transformers@4.3.1 @huggingface/tokenizers@0.2.0
//   HF_JS_DIR=/tmp/hfjs node tests/hf/make_tokenizer_golden.mjs
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = path.join(here, "..", "data", "tokenizers");
const jsDir = process.env.HF_JS_DIR ?? "/tmp/hfjs";
const req = createRequire(path.join(jsDir, "package.json"));
const load = async (name) => {
  const mod = await import(pathToFileURL(req.resolve(name)).href);
  return mod.default ?? mod;  // CommonJS builds come back as the default export
};
const version = (name) =>
  JSON.parse(fs.readFileSync(path.join(jsDir, "node_modules", name, "package.json"))).version;

const transformers = await load("@huggingface/transformers");
const tokenizers = await load("@huggingface/tokenizers");
const { AutoTokenizer, env } = transformers;
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = dataDir + path.sep;

const LONG_OK = "a".repeat(100);   // exactly max_input_chars_per_word: WordPiece splits it
const LONG_UNK = "a".repeat(101);  // one more: BERT gives [UNK]
const TEXTS = {
  english: "The cat sat on the mat.",
  english_subwords: "Hello, world! Unbelievable playing running.",
  cyrillic: "Кот сидел на ковре и смотрел на собаку.",
  accents: "café naïve Ångström",
  accents_upper: "CAFÉ Naïve ÅNGSTRÖM",
  accents_decomposed: "cafe\u0301 nai\u0308ve",
  greek_turkish: "Καλημέρα κόσμε İstanbul",
  emoji: "I love 🐱 and 🐶! 👍🏽 ❤️",
  punctuation_run: "!!!...???",
  punctuation_mixed: "Wait... what?!?! (yes) [no] {maybe} \"quoted\" 'single' «ёлка» — ¿sí? ¡no!",
  empty: "",
  only_spaces: "   ",
  long_word_100: LONG_OK,
  long_word_101: LONG_UNK,
  long_word_mixed: "supercalifragilisticexpialidocious".repeat(4),
  long_text: ("The cat sat on the mat. ".repeat(20)).trim(),
  cjk: "我爱自然语言处理。日本語のテキスト",
  whitespace: "  leading and trailing  ",
  tabs_newlines: "tabs\tand\nnewlines\r\nand  multiple   spaces\u000bvertical",
  unicode_spaces: "no\u00a0break\u2003em\u3000ideographic",
  control_chars: "zero\u200bwidth\u0000joiner\u0007bell",
  contractions: "I'm sure it's fine, we'll see; they've done what you'd do, don't they? IT'S",
  numbers: "In 2024, 3.14159 and 1,000,000 people.",
  special_in_text: "The [MASK] sat on [SEP] mat",
  endoftext_in_text: "Hello<|endoftext|>World <|endoftext|>",
  added_strip: "Hello <mask> world  <mask>!  [NEW]   cat[NEW]dog",
};
const PAIRS = {
  pair_english: ["The cat sat.", "The dog ran."],
  pair_cyrillic: ["Кот сидел на ковре.", "и смотрел на собаку."],
};
const TOKENIZERS = ["bert_uncased", "bert_cased", "gpt2_bpe"];

function sameArray(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const cases = [];
for (const name of TOKENIZERS) {
  const tjs = await AutoTokenizer.from_pretrained(name);
  const dir = path.join(dataDir, name);
  const plain = new tokenizers.Tokenizer(
    JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"))),
    JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"))));
  const run = (caseName, text, pair, addSpecial) => {
    const opts = { add_special_tokens: addSpecial };
    if (pair !== null) opts.text_pair = pair;
    const ids = tjs.encode(text, opts).map(Number);
    const ref = plain.encode(text, pair === null ? { add_special_tokens: addSpecial }
                                                 : { text_pair: pair, add_special_tokens: addSpecial });
    if (!sameArray(ids, ref.ids.map(Number))) {
      throw new Error(`${name}/${caseName}: transformers.js ${ids} != tokenizers.js ${ref.ids}`);
    }
    const entry = { tokenizer: name, name: caseName, text };
    if (pair !== null) entry.pair = pair;
    entry.add_special_tokens = addSpecial;
    entry.ids = ids;
    entry.tokens = ref.tokens;
    cases.push(entry);
  };
  for (const [caseName, text] of Object.entries(TEXTS)) run(caseName, text, null, true);
  for (const caseName of ["english", "cyrillic", "empty"]) {
    run(caseName + "_no_special", TEXTS[caseName], null, false);
  }
  if (name.startsWith("bert")) {
    for (const [caseName, [a, b]] of Object.entries(PAIRS)) run(caseName, a, b, true);
  }
}

const golden = {
  comment: "Reference ids from Hugging Face's JS tokenizers; regenerate with " +
           "tests/hf/make_tokenizer_golden.mjs (see its header).",
  generator: {
    "@huggingface/transformers": version("@huggingface/transformers"),
    "@huggingface/tokenizers": version("@huggingface/tokenizers"),
    node: process.version,
  },
  cases,
};
fs.writeFileSync(path.join(dataDir, "golden.json"), JSON.stringify(golden, null, 1) + "\n");
console.log(`wrote ${cases.length} cases to ${path.join(dataDir, "golden.json")}`);
