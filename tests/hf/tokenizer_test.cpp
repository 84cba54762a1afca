// Tokenizer behaviour beyond the goldens: invalid UTF-8, special ids, pairs, decoding,
// tokenizer_config.json overrides, the merges formats, threads, and load errors.
#include "attnflow/hf/tokenizer.hpp"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include <gmock/gmock.h>

#include "hf_test_util.hpp"

namespace attnflow::hf {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::error_of;
using Source = TokenizerLoadOptions::Source;

std::string fixture(const std::string& name) {
  return test::data_path("tokenizers/" + name);
}

using test::scratch;
using test::slurp;

json load_json(const std::string& path) {
  return json::parse(slurp(path));
}

TEST(Tokenizer, InvalidUtf8IsAnError) {
  for (const char* name : {"bert_uncased", "gpt2_bpe"}) {
    const auto t = load_tokenizer(fixture(name));
    EXPECT_EQ(error_of([&] { t->encode("abc\xff"); }),
              "text is not valid UTF-8 (byte 0xff at offset 3)");
    EXPECT_EQ(error_of([&] { t->encode("caf\xc3"); }),
              "text is not valid UTF-8 (sequence truncated at offset 3)");
    EXPECT_EQ(error_of([&] { t->encode("\xc0\xaf"); }),
              "text is not valid UTF-8 (byte 0xc0 at offset 0)");
    EXPECT_EQ(error_of([&] { t->encode("x\xed\xa0\x80"); }),
              "text is not valid UTF-8 (byte 0xa0 at offset 2)");
    EXPECT_EQ(error_of([&] { t->encode_pair("ok", "\x80"); }),
              "text is not valid UTF-8 (byte 0x80 at offset 0)");
  }
}

TEST(Tokenizer, SpecialIdsPairsAndFlags) {
  const auto bert = load_tokenizer(fixture("bert_uncased"));
  EXPECT_EQ(bert->model_type(), "WordPiece");
  EXPECT_EQ(bert->special_ids().pad, 0);
  EXPECT_EQ(bert->special_ids().unk, 1);
  EXPECT_EQ(bert->special_ids().cls, 2);
  EXPECT_EQ(bert->special_ids().sep, 3);
  EXPECT_EQ(bert->special_ids().mask, 4);
  EXPECT_EQ(bert->vocab_size(), 207);
  EXPECT_EQ(bert->token_to_id("cat"), 118);
  EXPECT_EQ(bert->id_to_token(118), "cat");
  EXPECT_FALSE(bert->token_to_id("zebra").has_value());
  EXPECT_EQ(error_of([&] { bert->id_to_token(207); }),
            "token id 207 is not in the vocabulary (size 207)");
  const Encoding e = bert->encode_pair("The cat.", "[MASK] dog");
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "the", "cat", ".", "[SEP]", "[MASK]",
                                                "dog", "[SEP]"}));
  EXPECT_EQ(e.type_ids, (std::vector<std::int32_t>{0, 0, 0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(e.special, (std::vector<std::uint8_t>{1, 0, 0, 0, 1, 1, 0, 1}));
  EXPECT_EQ(bert->encode("").ids, (std::vector<std::int64_t>{2, 3}));

  const auto gpt2 = load_tokenizer(fixture("gpt2_bpe"));
  EXPECT_EQ(gpt2->model_type(), "BPE");
  EXPECT_EQ(gpt2->special_ids().eos, 506);
  EXPECT_EQ(gpt2->special_ids().bos, 506);
  EXPECT_FALSE(gpt2->special_ids().pad.has_value());
  EXPECT_EQ(gpt2->vocab_size(), 509);  // 507 + the two added tokens
  EXPECT_TRUE(gpt2->encode("").ids.empty());
  const Encoding p = gpt2->encode_pair("The cat", " sat");
  EXPECT_EQ(p.type_ids, (std::vector<std::int32_t>{0, 0, 1}));
  EXPECT_EQ(gpt2->encode(" \n", {false}).tokens, (std::vector<std::string>{"Ġ", "Ċ"}));
}

TEST(Tokenizer, Decode) {
  const auto bert = load_tokenizer(fixture("bert_uncased"));
  const Encoding e = bert->encode("Hello, world! Unbelievable playing.");
  EXPECT_EQ(bert->decode(e.ids), "[CLS] hello, world! unbelievable playing. [SEP]");
  EXPECT_EQ(bert->decode(e.ids, true), "hello, world! unbelievable playing.");
  const auto gpt2 = load_tokenizer(fixture("gpt2_bpe"));
  EXPECT_EQ(gpt2->decode(gpt2->encode("Hello<|endoftext|>").ids, true), "Hello");
  // A cut multi-byte character decodes to U+FFFD instead of invalid UTF-8.
  const Encoding cat = gpt2->encode("🐱");
  ASSERT_GT(cat.ids.size(), 1u);
  EXPECT_EQ(gpt2->decode({cat.ids[0]}), "\xef\xbf\xbd");
}

TEST(Tokenizer, LongWordsAndUnknownCharacters) {
  const auto bert = load_tokenizer(fixture("bert_uncased"));
  const std::string word(100, 'a');
  EXPECT_EQ(bert->encode(word, {false}).ids.size(), 100u);
  EXPECT_EQ(bert->encode(word + "a", {false}).tokens, std::vector<std::string>{"[UNK]"});
  EXPECT_EQ(bert->encode("ab🐱cd", {false}).tokens, std::vector<std::string>{"[UNK]"});
  // 100 characters, not bytes: 60 two-byte letters are one word of 60 characters.
  std::string cyrillic;
  for (int i = 0; i < 60; ++i) cyrillic += "к";
  EXPECT_EQ(bert->encode(cyrillic, {false}).tokens, std::vector<std::string>{"[UNK]"});
}

TEST(Tokenizer, TokenizerConfigOverridesNormalizer) {
  const std::string dir =
      scratch("override",
              {{"tokenizer.json", slurp(fixture("bert_uncased/tokenizer.json"))},
               {"tokenizer_config.json", R"({"do_lower_case": false, "strip_accents": true})"}});
  const auto t = load_tokenizer(dir);
  EXPECT_EQ(t->encode("Cat café", {false}).tokens, (std::vector<std::string>{"[UNK]", "cafe"}));
}

TEST(Tokenizer, MergesAsPairsAndAddPrefixSpace) {
  json doc = load_json(fixture("gpt2_bpe/tokenizer.json"));
  json pairs = json::array();
  for (const json& m : doc["model"]["merges"]) {
    const std::string s = m.get<std::string>();
    pairs.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
  }
  doc["model"]["merges"] = pairs;  // the format of tokenizers >= 0.20
  const std::string dir = scratch("pairs", {{"tokenizer.json", doc.dump()}});
  const auto a = load_tokenizer(dir);
  const auto b = load_tokenizer(fixture("gpt2_bpe"));
  const std::string text = "Кот сидел на ковре и смотрел на собаку.";
  EXPECT_EQ(a->encode(text).ids, b->encode(text).ids);

  const std::string prefixed = scratch(
      "prefix",
      {{"tokenizer.json", doc.dump()}, {"tokenizer_config.json", R"({"add_prefix_space": true})"}});
  const auto c = load_tokenizer(prefixed);
  EXPECT_EQ(c->encode("cat").ids, b->encode(" cat").ids);
  EXPECT_EQ(c->encode(" cat").ids, b->encode(" cat").ids);
}

TEST(Tokenizer, ConcurrentEncodeMatchesSerial) {
  const auto t = load_tokenizer(fixture("gpt2_bpe"));
  const auto u = load_tokenizer(fixture("bert_cased"));
  const std::string text =
      "Кот сидел на ковре и смотрел на собаку. The cat sat on the mat, naïve café!";
  const auto want_t = t->encode(text).ids;
  const auto want_u = u->encode(text).ids;
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      bool good = true;
      for (int i = 0; i < 200; ++i) {
        good = good && t->encode(text).ids == want_t && u->encode(text).ids == want_u;
      }
      ok[static_cast<std::size_t>(k)] = good ? 1 : 0;
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(ok, (std::vector<int>{1, 1, 1, 1}));
}

// Hand-computed expectations, not from the JS reference: where Hugging Face's Rust tokenizers
// (what transformers runs) and transformers.js differ, we follow the Rust library.
TEST(Tokenizer, FollowsRustTokenizersWhereTheJsPortDiffers) {
  const json vocab = {{"[UNK]", 0}, {"a", 1},        {"##b", 2},        {"b", 3},
                      {"οδοσ", 4},  {"οδος", 5},     {"\U0002B920", 6}, {"\U0002B820", 7},
                      {"i", 8},     {"##stanbul", 9}};
  json doc = {{"normalizer", {{"type", "BertNormalizer"}}},
              {"pre_tokenizer", {{"type", "BertPreTokenizer"}}},
              {"model", {{"type", "WordPiece"}, {"vocab", vocab}}}};
  const auto t = tokenizer_from_json(doc.dump(), "test vocab");
  const auto tokens = [&](const std::string& text) { return t->encode(text).tokens; };
  using V = std::vector<std::string>;
  EXPECT_EQ(tokens("ΟΔΟΣ"), V{"οδοσ"});  // per character: no final sigma (JS gives οδος)
  EXPECT_EQ(tokens("a\U0002B920b"), (V{"a", "\U0002B920", "b"}));  // in Rust's CJK ranges
  EXPECT_EQ(tokens("a\U0002B820b"), V{"[UNK]"});                   // not in them (JS splits it off)
  EXPECT_EQ(tokens("a\u0378b"), (V{"a", "##b"}));  // unassigned: dropped as a control character
  EXPECT_EQ(tokens("İstanbul"), (V{"i", "##stanbul"}));  // strip accents, then lower-case
  doc["model"]["vocab"] = {{"a", 0}};
  EXPECT_EQ(error_of([&] { tokenizer_from_json(doc.dump(), "v"); }),
            "v: /model: unk_token '[UNK]' is not in the vocabulary");
}

// tokenizer.json and tokenizer_config.json with a node replaced by a value of another type
// load or throw attnflow::Error, never nlohmann's exceptions; what loads still encodes.
TEST(Tokenizer, DamagedJsonThrowsErrorOnly) {
  const json replacements[] = {nullptr, 1, -1, "x", json::array(), json::object(), true, 1.5};
  std::uint32_t state = 99;
  const auto next = [&] { return state = state * 1664525u + 1013904223u; };
  int rejected = 0;
  for (const char* name : {"bert_uncased", "gpt2_bpe"}) {
    for (const char* file : {"tokenizer.json", "tokenizer_config.json"}) {
      const json doc = load_json(fixture(std::string(name) + "/" + file));
      std::vector<json::json_pointer> nodes;
      const json flat = doc.flatten();
      for (auto it = flat.begin(); it != flat.end(); ++it) {
        const std::string key = it.key();
        if (key.rfind("/model/vocab/", 0) == 0 && next() % 20 != 0) continue;  // sample
        if (key.rfind("/model/merges/", 0) == 0 && next() % 20 != 0) continue;
        for (json::json_pointer ptr(key); !ptr.empty(); ptr = ptr.parent_pointer()) {
          nodes.push_back(ptr);
        }
      }
      for (int round = 0; round < 150; ++round) {
        json damaged = doc;
        damaged[nodes[next() % nodes.size()]] = replacements[next() % 8];
        const std::string other =
            std::string(file) == "tokenizer.json" ? "tokenizer_config.json" : "tokenizer.json";
        const std::string dir = scratch(
            "damaged",
            {{file, damaged.dump()}, {other, slurp(fixture(std::string(name) + "/" + other))}});
        try {
          load_tokenizer(dir)->encode("The cat sat on the mat. Кот сидел.");
        } catch (const attnflow::Error&) {
          ++rejected;
        }
      }
    }
  }
  EXPECT_GT(rejected, 100);
}

TEST(Tokenizer, LoadErrors) {
  const std::string empty = scratch("empty", {});
  EXPECT_EQ(error_of([&] { load_tokenizer(empty); }),
            empty +
                ": no tokenizer files (looked for tokenizer.json, vocab.txt, vocab.json + "
                "merges.txt or a SentencePiece model)");
  const std::string only_vocab = scratch("only_vocab", {{"vocab.txt", "[UNK]\n"}});
  TokenizerLoadOptions json_only;
  json_only.source = Source::TokenizerJson;
  EXPECT_EQ(error_of([&] { load_tokenizer(only_vocab, json_only); }),
            only_vocab + ": no tokenizer files (looked for tokenizer.json)");
  EXPECT_EQ(error_of([&] { load_tokenizer(test::temp_path("nope")); }),
            test::temp_path("nope") + ": not a directory");

  const auto with_json = [](const std::string& name, const json& doc) {
    const std::string dir = scratch(name, {{"tokenizer.json", doc.dump()}});
    return std::make_pair(dir + "/tokenizer.json", error_of([&] { load_tokenizer(dir); }));
  };
  json unigram = {{"model", {{"type", "Unigram"}, {"vocab", json::array()}}}};
  auto [p1, e1] = with_json("unigram", unigram);
  EXPECT_EQ(e1, p1 + ": /model/vocab: is empty");
  json mystery = {{"model", {{"type", "WordLevel"}, {"vocab", json::object()}}}};
  auto [p1b, e1b] = with_json("mystery", mystery);
  EXPECT_EQ(e1b, p1b +
                     ": /model/type: unknown model 'WordLevel' (supported: WordPiece, BPE, "
                     "Unigram)");

  json bert = load_json(fixture("bert_uncased/tokenizer.json"));
  json foo = bert;
  foo["normalizer"] = {
      {"type", "Sequence"},
      {"normalizers", {{{"type", "NFKC"}}, {{"type", "Lowercase"}}, {{"type", "Foo"}}}}};
  auto [p2, e2] = with_json("foo", foo);
  EXPECT_EQ(e2, p2 + ": /normalizer/normalizers/2/type: unknown normalizer 'Foo' (supported: "
                     "BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Replace, "
                     "Prepend, Strip, Nmt, Precompiled, ByteLevel, Sequence)");
  json pre = bert;
  pre["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {{{"type", "Bar"}}}}};
  auto [p2b, e2b] = with_json("pre", pre);
  EXPECT_THAT(e2b, ::testing::StartsWith(p2b + ": /pre_tokenizer/pretokenizers/0/type: unknown "
                                               "pre-tokenizer 'Bar' (supported: "));
  json regex = bert;
  regex["pre_tokenizer"] = {
      {"type", "Split"}, {"pattern", {{"Regex", "(a"}}}, {"behavior", "Isolated"}};
  auto [p2c, e2c] = with_json("regex", regex);
  EXPECT_THAT(e2c, ::testing::StartsWith(p2c + ": /pre_tokenizer/pattern/Regex: regex '(a' does "
                                               "not compile (U_REGEX_MISMATCHED_PAREN"));
  json no_unk = bert;
  no_unk["model"]["unk_token"] = "<unk>";
  auto [p3, e3] = with_json("no_unk", no_unk);
  EXPECT_EQ(e3, p3 + ": /model: unk_token '<unk>' is not in the vocabulary");
  json roberta_post = bert;
  roberta_post["post_processor"] = {{"type", "Mystery"}};
  auto [p4, e4] = with_json("post", roberta_post);
  EXPECT_EQ(e4, p4 + ": /post_processor/type: unknown post-processor 'Mystery' (supported: "
                     "TemplateProcessing, BertProcessing, RobertaProcessing, ByteLevel, Sequence)");

  json gpt2 = load_json(fixture("gpt2_bpe/tokenizer.json"));
  json bad_merge = gpt2;
  bad_merge["model"]["merges"][0] = "Ġ zzz";
  auto [p5, e5] = with_json("bad_merge", bad_merge);
  EXPECT_EQ(e5, p5 + ": /model/merges/0: merge 1 'Ġ zzz': 'zzz' is not in the vocabulary");
  json decoder = gpt2;
  decoder["decoder"] = {{"type", "CTC"}};
  auto [p6, e6] = with_json("decoder", decoder);
  EXPECT_THAT(e6, ::testing::StartsWith(p6 + ": /decoder/type: unknown decoder 'CTC'"));
  json behavior = gpt2;
  behavior["pre_tokenizer"] = {{"type", "Punctuation"}, {"behavior", "Sideways"}};
  auto [p7, e7] = with_json("behavior", behavior);
  EXPECT_THAT(e7, ::testing::StartsWith(p7 + ": /pre_tokenizer/behavior: unknown split behavior "
                                             "'Sideways'"));

  const std::string bad_text = scratch("bad_text", {{"tokenizer.json", "{\"model\": "}});
  EXPECT_THAT(
      error_of([&] { load_tokenizer(bad_text); }),
      ::testing::StartsWith(bad_text + "/tokenizer.json: invalid JSON (parse error at line 1"));

  const std::string bad_merges =
      scratch("bad_merges_txt", {{"vocab.json", slurp(fixture("gpt2_bpe/vocab.json"))},
                                 {"merges.txt", "#version: 0.2\nĠ t\nabc\n"}});
  EXPECT_EQ(error_of([&] { load_tokenizer(bad_merges); }),
            bad_merges + "/merges.txt:3: expected two tokens separated by one space, got 'abc'");
  const std::string no_cls = scratch("no_cls", {{"vocab.txt", "[UNK]\n[SEP]\na\n"}});
  EXPECT_EQ(error_of([&] { load_tokenizer(no_cls); }),
            no_cls + "/vocab.txt: cls_token '[CLS]' is not in the vocabulary");
}

// The crafted inputs of issue 13 (also under tests/fuzz/regressions/): ids that overflow,
// empty and inconsistent vocabularies, invalid UTF-8 and numbers nlohmann cannot hold.
TEST(Tokenizer, HostileVocabulariesAreErrors) {
  const auto with_json = [](const std::string& name, const json& doc) {
    const std::string dir = scratch(name, {{"tokenizer.json", doc.dump()}});
    return std::make_pair(dir + "/tokenizer.json", error_of([&] { load_tokenizer(dir); }));
  };
  const json bert = load_json(fixture("bert_uncased/tokenizer.json"));
  json huge_added = bert;
  huge_added["added_tokens"] = {{{"id", INT64_MAX}, {"content", "[BIG]"}}};
  auto [p1, e1] = with_json("huge_added", huge_added);
  EXPECT_EQ(e1, p1 + ": added token needs an integer 'id' in 0..2147483647, got "
                     "{\"content\":\"[BIG]\",\"id\":9223372036854775807}");
  json empty_vocab = bert;
  empty_vocab["model"]["vocab"] = json::object();
  auto [p2, e2] = with_json("empty_vocab", empty_vocab);
  EXPECT_EQ(e2, p2 + ": /model/vocab: vocab is empty");
  json same_id = bert;
  same_id["model"]["vocab"]["zzzzz"] = same_id["model"]["vocab"]["[UNK]"];
  auto [p3, e3] = with_json("same_id", same_id);
  EXPECT_EQ(e3, p3 + ": /model/vocab: vocab tokens '[UNK]' and 'zzzzz' have the same id 1");
  json big_id = bert;
  big_id["model"]["vocab"]["zzzzz"] = std::int64_t{1} << 62;
  auto [p4, e4] = with_json("big_id", big_id);
  EXPECT_EQ(e4, p4 + ": /model/vocab: vocab id of 'zzzzz' must be an integer in 0..2147483647, got "
                     "4611686018427387904");

  const std::string number = scratch(
      "number", {{"tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {"a": 1e400}}})"}});
  EXPECT_EQ(error_of([&] { load_tokenizer(number); }),
            number +
                "/tokenizer.json: invalid JSON at /model/vocab/a (number overflow parsing "
                "'1e400')");
  const std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\n";
  const std::string config_number = scratch(
      "config_number", {{"vocab.txt", vocab}, {"tokenizer_config.json", "{\"x\": [1, -2e999]}"}});
  EXPECT_EQ(error_of([&] { load_tokenizer(config_number); }),
            config_number +
                "/tokenizer_config.json: invalid JSON at /x/1 (number overflow "
                "parsing '-2e999')");
  const std::string decoder_id =
      scratch("decoder_id",
              {{"vocab.txt", vocab},
               {"tokenizer_config.json",
                R"({"added_tokens_decoder": {"9223372036854775807": {"content": "[BIG]"}}})"}});
  EXPECT_EQ(error_of([&] { load_tokenizer(decoder_id); }),
            decoder_id +
                "/tokenizer_config.json: added token '[BIG]': id 9223372036854775807 is "
                "outside 0..2147483647");

  const std::string empty_txt = scratch("empty_txt", {{"vocab.txt", ""}});
  EXPECT_EQ(error_of([&] { load_tokenizer(empty_txt); }),
            empty_txt + "/vocab.txt: is empty (one token per line expected)");
  const std::string bad_utf8 = scratch("bad_utf8", {{"vocab.txt", "[UNK]\n\xff\xfe\n[CLS]\n"}});
  EXPECT_EQ(error_of([&] { load_tokenizer(bad_utf8); }),
            bad_utf8 + "/vocab.txt:2: line is not valid UTF-8 (byte 0xff at offset 0)");
  const std::string bad_merges =
      scratch("bad_merges_utf8", {{"vocab.json", slurp(fixture("gpt2_bpe/vocab.json"))},
                                  {"merges.txt", "#version: 0.2\nĠ t\na \xc3\n"}});
  EXPECT_EQ(error_of([&] { load_tokenizer(bad_merges); }),
            bad_merges + "/merges.txt:3: line is not valid UTF-8 (sequence truncated at offset 2)");
}

}  // namespace
}  // namespace attnflow::hf

namespace attnflow::hf {
namespace {

// The SentencePiece path: XLM-R's fairseq ids are T5's plus one with <s> A </s></s> B </s>; a
// tokenizer.json with a Precompiled normaliser falls back to the directory's spiece.model.
TEST(Tokenizer, SentencePieceLayoutsAndFallback) {
  const std::string model = slurp(fixture("t5_spiece/spiece.model"));
  const auto t5 = load_tokenizer(fixture("t5_spiece"));
  EXPECT_EQ(t5->special_ids().eos, 1);
  EXPECT_EQ(t5->special_ids().pad, 0);
  const std::string xlmr_dir =
      scratch("xlmr", {{"sentencepiece.bpe.model", model},
                       {"tokenizer_config.json", R"({"tokenizer_class": "XLMRobertaTokenizer"})"}});
  const auto xlmr = load_tokenizer(xlmr_dir);
  const std::string a = "Кот сидел на ковре.", b = "The cat sat.";
  const Encoding ta = t5->encode(a, {false}), tb = t5->encode(b, {false});
  std::vector<std::int64_t> want = {0};
  for (std::int64_t id : ta.ids) want.push_back(id + 1);
  want.insert(want.end(), {2, 2});
  for (std::int64_t id : tb.ids) want.push_back(id + 1);
  want.push_back(2);
  EXPECT_EQ(xlmr->encode_pair(a, b).ids, want);
  EXPECT_EQ(xlmr->special_ids().mask, xlmr->vocab_size() - 1);
  EXPECT_EQ(xlmr->encode("a <mask>").ids.back(), 2);

  // tokenizer.json is read even when the directory also has the model (a Precompiled
  // normaliser needs its charsmap).
  json precompiled = {
      {"normalizer", {{"type", "Sequence"}, {"normalizers", {{{"type", "Precompiled"}}}}}},
      {"model", {{"type", "Unigram"}, {"vocab", {{"a", 0.0}}}}}};
  const std::string no_map =
      scratch("precompiled", {{"spiece.model", model}, {"tokenizer.json", precompiled.dump()}});
  EXPECT_EQ(error_of([&] { load_tokenizer(no_map); }),
            no_map +
                "/tokenizer.json: /normalizer/normalizers/0/precompiled_charsmap: must be a "
                "base64 string (SentencePiece's normalisation map)");
  const std::string garbage = scratch("garbage_model", {{"spiece.model", "not a model"}});
  EXPECT_EQ(error_of([&] { load_tokenizer(garbage); }),
            garbage +
                "/spiece.model: field 13 has wire type 6 (not a SentencePiece model?) at "
                "byte 0");
}

// Stages outside the goldens, against hand-computed pieces.
TEST(Tokenizer, SplitBehavioursAndNormalizers) {
  const auto pieces = [](const json& pre, const json& normalizer, const std::string& text) {
    json vocab = json::object();
    vocab["[UNK]"] = 0;
    json doc = {{"normalizer", normalizer},
                {"pre_tokenizer", pre},
                {"model", {{"type", "WordPiece"}, {"vocab", vocab}, {"unk_token", "[UNK]"}}}};
    // Every piece becomes one [UNK]: the number of pieces is what the pre-tokeniser made.
    const auto t = tokenizer_from_json(doc.dump(), "test");
    return t->encode(text).ids.size();
  };
  const auto split = [&](const char* behavior, bool invert = false) {
    return pieces({{"type", "Split"},
                   {"pattern", {{"String", "-"}}},
                   {"behavior", behavior},
                   {"invert", invert}},
                  nullptr, "a-b--c");
  };
  EXPECT_EQ(split("Removed"), 3u);             // a b c
  EXPECT_EQ(split("Isolated"), 6u);            // a - b - - c
  EXPECT_EQ(split("MergedWithPrevious"), 4u);  // a- b- - c
  EXPECT_EQ(split("MergedWithNext"), 4u);      // a -b - -c
  EXPECT_EQ(split("Contiguous"), 5u);          // a - b -- c
  EXPECT_EQ(split("Removed", true), 3u);       // - - -
  EXPECT_EQ(pieces({{"type", "Digits"}, {"individual_digits", true}}, nullptr, "a123b"), 5u);
  EXPECT_EQ(pieces({{"type", "Digits"}, {"individual_digits", false}}, nullptr, "a123b"), 3u);
  EXPECT_EQ(pieces({{"type", "Whitespace"}}, nullptr, "hi, you!!"), 4u);  // hi , you !!
  EXPECT_EQ(pieces({{"type", "WhitespaceSplit"}}, nullptr, " a  b\tc "), 3u);
  EXPECT_EQ(pieces({{"type", "Punctuation"}, {"behavior", "Contiguous"}}, nullptr, "a?!b"), 3u);
  // Strip leaves nothing of a whitespace-only text; Prepend adds nothing to an empty one.
  EXPECT_EQ(pieces(nullptr, {{"type", "Strip"}}, " \t "), 0u);
  EXPECT_EQ(
      pieces(nullptr,
             {{"type", "Sequence"},
              {"normalizers", {{{"type", "Strip"}}, {{"type", "Prepend"}, {"prepend", "x"}}}}},
             "  "),
      0u);
}

}  // namespace
}  // namespace attnflow::hf
