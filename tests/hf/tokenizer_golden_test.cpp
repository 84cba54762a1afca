// Token ids equal Hugging Face's: every case of tests/data/tokenizers/golden.json (written by
// make_tokenizer_golden.mjs with transformers.js) for each fixture, loaded both from
// tokenizer.json and from the vocabulary files (vocab.txt, vocab.json + merges.txt).
#include <nlohmann/json.hpp>

#include "attnflow/hf/tokenizer.hpp"
#include "hf_test_util.hpp"

namespace attnflow::hf {
namespace {

using nlohmann::json;

const json& golden() {
  static const json doc = [] {
    std::ifstream in(test::data_path("tokenizers/golden.json"));
    return json::parse(in);
  }();
  return doc;
}

void check_all(const std::string& name, TokenizerLoadOptions::Source source) {
  TokenizerLoadOptions options;
  options.source = source;
  const auto tokenizer = load_tokenizer(test::data_path("tokenizers/" + name), options);
  int checked = 0;
  for (const json& c : golden()["cases"]) {
    if (c["tokenizer"] != name) continue;
    EncodeOptions encode;
    encode.add_special_tokens = c["add_special_tokens"].get<bool>();
    const std::string text = c["text"].get<std::string>();
    const Encoding e = c.contains("pair")
                           ? tokenizer->encode_pair(text, c["pair"].get<std::string>(), encode)
                           : tokenizer->encode(text, encode);
    const std::string label = name + "/" + c["name"].get<std::string>();
    EXPECT_EQ(e.ids, c["ids"].get<std::vector<std::int64_t>>()) << label;
    EXPECT_EQ(e.tokens, c["tokens"].get<std::vector<std::string>>()) << label;
    EXPECT_EQ(e.type_ids.size(), e.ids.size()) << label;
    EXPECT_EQ(e.special.size(), e.ids.size()) << label;
    ++checked;
  }
  EXPECT_GE(checked, 28) << name;
}

TEST(TokenizerGolden, BertUncasedTokenizerJson) {
  check_all("bert_uncased", TokenizerLoadOptions::Source::TokenizerJson);
}
TEST(TokenizerGolden, BertUncasedVocabTxt) {
  check_all("bert_uncased", TokenizerLoadOptions::Source::VocabFiles);
}
TEST(TokenizerGolden, BertCasedTokenizerJson) {
  check_all("bert_cased", TokenizerLoadOptions::Source::TokenizerJson);
}
TEST(TokenizerGolden, BertCasedVocabTxt) {
  check_all("bert_cased", TokenizerLoadOptions::Source::VocabFiles);
}
TEST(TokenizerGolden, Gpt2TokenizerJson) {
  check_all("gpt2_bpe", TokenizerLoadOptions::Source::TokenizerJson);
}
TEST(TokenizerGolden, Gpt2VocabJsonMerges) {
  check_all("gpt2_bpe", TokenizerLoadOptions::Source::VocabFiles);
}

TEST(TokenizerGolden, GeneratorRecorded) {
  EXPECT_EQ(golden()["generator"]["@huggingface/transformers"], "4.3.1");
  EXPECT_GE(golden()["cases"].size(), 90u);
}

// Byte-level BPE loses nothing: decoding the ids gives the text back.
TEST(TokenizerGolden, Gpt2DecodeRoundTrip) {
  const auto t = load_tokenizer(test::data_path("tokenizers/gpt2_bpe"));
  for (const json& c : golden()["cases"]) {
    if (c["tokenizer"] != "gpt2_bpe" || c["name"] == "added_strip") continue;  // strip drops spaces
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(t->decode(t->encode(text).ids), text) << c["name"];
  }
}

}  // namespace
}  // namespace attnflow::hf
