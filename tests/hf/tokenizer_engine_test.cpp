// The tokenizer engine gives Hugging Face's ids: every case of
// tests/data/tokenizers/engine_golden.json (written by make_engine_golden.mjs with Hugging Face's
// Rust tokenizers) for the tokenizers trained there: WordPiece, byte-fallback BPE (with
// normalisers or Metaspace), Unigram (T5-like and with byte_fallback), byte-level BPE with a
// Split regex, BPE with prefix and suffix. Ids, tokens, type ids and the decoded text.
#include <nlohmann/json.hpp>

#include "attnflow/hf/tokenizer.hpp"
#include "hf_test_util.hpp"

namespace attnflow::hf {
namespace {

using nlohmann::json;

const json& golden() {
  static const json doc = [] {
    std::ifstream in(test::data_path("tokenizers/engine_golden.json"));
    return json::parse(in);
  }();
  return doc;
}

void check_all(const std::string& name) {
  const auto tokenizer = load_tokenizer(test::data_path("tokenizers/" + name));
  int checked = 0;
  for (const json& c : golden()["cases"]) {
    if (c["tokenizer"] != name) continue;
    EncodeOptions encode;
    encode.add_special_tokens = c["add_special_tokens"].get<bool>();
    const std::string text = c["text"].get<std::string>();
    const Encoding e = c.contains("pair")
                           ? tokenizer->encode_pair(text, c["pair"].get<std::string>(), encode)
                           : tokenizer->encode(text, encode);
    const std::string label = name + "/" + c["name"].get<std::string>() + " '" + text + "'";
    const auto ids = c["ids"].get<std::vector<std::int64_t>>();
    EXPECT_EQ(e.ids, ids) << label;
    // Rust's Encoding gives an added token the text it matched (" <mask>" with the space lstrip
    // absorbed); ours gives its content, the vocabulary string.
    auto tokens = c["tokens"].get<std::vector<std::string>>();
    for (std::size_t k = 0; k < tokens.size() && k < ids.size(); ++k) {
      for (const AddedToken& a : tokenizer->added_tokens()) {
        if (a.id == ids[k] && tokens[k] != a.content &&
            tokens[k].find(a.content) != std::string::npos) {
          tokens[k] = a.content;
        }
      }
    }
    EXPECT_EQ(e.tokens, tokens) << label;
    EXPECT_EQ(e.type_ids, c["type_ids"].get<std::vector<std::int32_t>>()) << label;
    EXPECT_EQ(tokenizer->decode(ids), c["decoded"].get<std::string>()) << label;
    ++checked;
  }
  EXPECT_GE(checked, 60) << name;
}

TEST(TokenizerEngine, WordPieceBert) {
  check_all("wp_bert");
}
TEST(TokenizerEngine, ByteFallbackBpeNormalizers) {
  check_all("bpe_fallback");
}
TEST(TokenizerEngine, ByteFallbackBpeMetaspace) {
  check_all("bpe_metaspace");
}
TEST(TokenizerEngine, UnigramT5) {
  check_all("unigram_t5");
}
TEST(TokenizerEngine, UnigramByteFallback) {
  check_all("unigram_xlmr");
}
TEST(TokenizerEngine, ByteLevelBpeSplitRegex) {
  check_all("bpe_split");
}
TEST(TokenizerEngine, BpePrefixSuffix) {
  check_all("bpe_suffix");
}

TEST(TokenizerEngine, GeneratorRecorded) {
  EXPECT_EQ(golden()["generator"]["tokenizers_crate"], "0.22.2");
}

}  // namespace
}  // namespace attnflow::hf
