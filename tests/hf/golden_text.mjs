// The text of the tokenizer goldens, shared by make_engine_golden.mjs and
// make_spm_golden.mjs: a training text from a fixed pseudo-random generator over word lists
// written for attnflow (no outside text), and the strings the goldens encode.
let state = 12345;
const rand = (n) => {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return (state >>> 8) % n;
};
const pick = (list) => list[rand(list.length)];
const WORDS = {
  en: ["the", "cat", "sat", "on", "mat", "dog", "ran", "after", "ball", "and", "looked", "at",
    "people", "love", "reading", "books", "playing", "running", "jumping", "attention", "flow",
    "model", "token", "layer", "head", "weights", "gradient", "explains", "prediction", "sentence",
    "language", "transformer", "encoder", "decoder", "tokenizer", "world", "hello", "again",
    "it's", "we'll", "don't", "they've", "I'm", "quickly", "slowly", "beautiful", "window"],
  ru: ["кот", "сидел", "на", "ковре", "и", "смотрел", "собаку", "собака", "спала", "мы",
    "читаем", "книги", "пишем", "письма", "привет", "мир", "внимание", "модель", "слово",
    "предложение", "язык", "большой", "маленький", "дом", "окно", "кошка", "видит", "птицу"],
  fr: ["le", "café", "est", "naïve", "à", "Paris", "crème", "brûlée", "déjà", "vu", "élève",
    "été", "garçon", "façade", "où", "noël"],
  de: ["Straße", "Mädchen", "über", "schön", "Größe", "Ärger", "Öl", "groß"],
  el: ["Καλημέρα", "κόσμε", "γλώσσα", "λόγος"],
  cjk: ["我", "爱", "自然", "语言", "处理", "日本語", "の", "テキスト", "한국어", "문장"],
  misc: ["🐱", "🐶", "👍", "❤️", "2024", "3.14", "1,000", "100%", "e-mail", "(yes)", "[no]", "—",
    "...", "?!", "«ёлка»", "İstanbul", "ΟΔΟΣ"],
};
function sentence() {
  const lang = pick(["en", "en", "en", "ru", "ru", "fr", "de", "el", "cjk", "mixed"]);
  const n = 4 + rand(9);
  const words = [];
  for (let i = 0; i < n; ++i) {
    const l = lang === "mixed" ? pick(Object.keys(WORDS)) : rand(10) === 0 ? "misc" : lang;
    words.push(pick(WORDS[l]));
  }
  let s = words.join(lang === "cjk" ? "" : " ");
  s = s[0].toUpperCase() + s.slice(1);
  return s + pick([".", ".", "!", "?", ";", ""]);
}

/// `n` training sentences; the generator restarts from its seed on every call.
export function trainingLines(n) {
  state = 12345;
  const lines = [];
  for (let i = 0; i < n; ++i) lines.push(sentence());
  return lines;
}

const RU = [
  "Кот сидел на ковре и смотрел на собаку.",
  "Собака смотрела на кота, а кот спал.",
  "Мы читаем книги и пишем письма друзьям.",
  "Привет, мир! Как дела?",
  "Большой дом стоит у реки; в окне горит свет.",
  "ЁЛКА и ёжик — «новогодние» слова.",
  "Внимание: модель объясняет предсказание по словам.",
  "Съешь же ещё этих мягких французских булок, да выпей чаю.",
];
export const TEXTS = [
  "The cat sat on the mat.",
  "Hello, world! Unbelievable playing running.",
  "The transformer encoder explains its prediction with attention flow.",
  "It's fine, we'll see; they've done what you'd do, don't they? IT'S",
  "In 2024, 3.14159 and 1,000,000 people read 42 books.",
  "Quickly the beautiful window looked at the dog again",
  "Tokenizers split words into pieces: un-believ-able.",
  "e-mail me at someone@example.com or visit https://example.org/path?q=1",
  "Zebras xylophone quizzically; jackdaws vex.",
  "the THE The tHe",
  ...RU,
  "café naïve Ångström",
  "CAFÉ Naïve ÅNGSTRÖM crème brûlée",
  "cafe\u0301 nai\u0308ve (decomposed)",
  "Straße Mädchen über Größe",
  "Καλημέρα κόσμε ΟΔΟΣ İstanbul",
  "I love 🐱 and 🐶! 👍🏽 ❤️",
  "👨‍👩‍👧‍👦 family, 🇫🇷 flag, 🙂🙃",
  "emoji🐱inside🐶words",
  "我爱自然语言处理。",
  "日本語のテキストとカタカナ",
  "한국어 문장입니다",
  "混合 text 和 русский 文字",
  "",
  " ",
  "   ",
  "\t\n",
  " \u00a0 \u3000 ",
  "a".repeat(100),
  "a".repeat(101),
  "supercalifragilisticexpialidocious".repeat(3),
  "Donaudampfschifffahrtsgesellschaftskapitän",
  "Hello [MASK] and <mask> with </s> end <s> start <unk> x <|begin_of_text|> y",
  "[CLS][SEP][MASK]",
  "A <mask>   B",
  "a    b     c",
  "  leading and trailing  ",
  "many          spaces          here",
  "tabs\tand\nnewlines\r\nand  multiple   spaces\u000bvertical",
  "no\u00a0break\u2003em\u3000ideographic",
  "zero\u200bwidth\u0000null\u0007bell",
  "!!!...???",
  "Wait... what?!?! (yes) [no] {maybe} \"quoted\" 'single' — ¿sí? ¡no!",
  "１２３ ＡＢＣ ﬁ ﬂ ① ㈱ ½",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕋𝕖𝕩𝕥",
  "नमस्ते दुनिया",
  "مرحبا بالعالم",
  "שלום עולם",
  "ภาษาไทย",
  "ǅ ǈ ǋ Σίσυφος",
  "x",
  "1234567890",
  "the_snake_case and camelCaseWords",
  "don't won't can't shouldn't",
  "Кот сидел. The cat sat. 猫が座った。",
  "  Кот   сидел  ",
  "’curly quotes’ “double”",
  "$100 €20 £5 ¥1000",
  "#hashtag @mention",
  "line1\nline2\n\nline4",
  "\u0301leading combining mark",
  "end with space ",
];
export const PAIRS = [
  ["The cat sat.", "The dog ran."],
  ["Кот сидел на ковре.", "и смотрел на собаку."],
  ["", "only second"],
];

