// SentencePiece models with a real normalisation map (nmt_nfkc, nmt_nfkc_cf), written by
// make_spm_golden.mjs: the spiece.model path (attnflow's own reader) gives libsentencepiece's
// ids, the tokenizer.json path (the Precompiled normaliser) gives Hugging Face's Rust ids, and
// the two paths agree; truncated or garbled models and maps are errors naming the file and
// the field.
#include <boost/archive/iterators/base64_from_binary.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <nlohmann/json.hpp>

#include <gmock/gmock.h>

#include "attnflow/hf/tokenizer.hpp"
#include "hf_test_util.hpp"

namespace attnflow::hf {
namespace {

using nlohmann::json;
using test::error_of;
using test::scratch;
using test::slurp;

const json& golden() {
  static const json doc = json::parse(slurp(test::data_path("tokenizers/spm_golden.json")));
  return doc;
}

std::string fixture(const std::string& name) {
  return test::data_path("tokenizers/" + name);
}

std::string base64(const std::string& bytes) {
  using namespace boost::archive::iterators;
  using Encode = base64_from_binary<transform_width<std::string::const_iterator, 6, 8>>;
  std::string out(Encode(bytes.cbegin()), Encode(bytes.cend()));
  out.append((3 - bytes.size() % 3) % 3, '=');
  return out;
}

// The tokenizer.json the generator encoded with: the template plus the map of spiece.model.
json tokenizer_json(const std::string& name) {
  const json& g = golden()["tokenizers"][name];
  const std::string model = slurp(fixture(name + "/spiece.model"));
  const auto offset = g["charsmap_offset"].get<std::size_t>();
  const auto length = g["charsmap_length"].get<std::size_t>();
  EXPECT_LE(offset + length, model.size());
  json doc = json::parse(slurp(fixture(name + "/tokenizer.template.json")));
  doc["normalizer"]["normalizers"][0]["precompiled_charsmap"] =
      base64(model.substr(offset, length));
  return doc;
}

std::string json_dir(const std::string& name) {
  return scratch(name, {{"tokenizer.json", tokenizer_json(name).dump()}});
}

void check(const std::string& name) {
  const json& g = golden()["tokenizers"][name];
  ASSERT_GE(g["cases"].size(), 60u);
  const auto spm = load_tokenizer(fixture(name));  // spiece.model (no tokenizer.json there)
  EXPECT_EQ(spm->vocab_size(), g["pieces"].get<std::int64_t>());
  const auto hf = load_tokenizer(json_dir(name));
  int same_paths = 0;
  for (const json& c : g["cases"]) {
    const std::string text = c["text"].get<std::string>();
    const Encoding from_model = spm->encode(text, {false});
    EXPECT_EQ(from_model.ids, c["spm_ids"].get<std::vector<std::int64_t>>())
        << name << " '" << text << "'";
    const Encoding from_json = hf->encode(text);
    EXPECT_EQ(from_json.ids, c["hf_ids"].get<std::vector<std::int64_t>>())
        << name << " '" << text << "'";
    EXPECT_EQ(from_json.tokens, c["hf_tokens"].get<std::vector<std::string>>())
        << name << " '" << text << "'";
    const Encoding plain = hf->encode(text, {false});
    EXPECT_EQ(plain.ids, c["hf_ids_plain"].get<std::vector<std::int64_t>>())
        << name << " '" << text << "'";
    // The two paths agree wherever Hugging Face's and SentencePiece's own code agree; they
    // differ where tokenizer.json's added tokens (<s>, </s> as text) cut the string and where
    // spm_precompiled maps a grapheme cluster of 6 bytes or more character by character
    // ("ｶﾞ": SentencePiece's longest key gives "ガ", Hugging Face's "カ" + U+3099).
    if (c["hf_ids_plain"] == c["spm_ids"]) {
      EXPECT_EQ(plain.ids, from_model.ids) << name << " '" << text << "'";
      ++same_paths;
    }
  }
  EXPECT_EQ(static_cast<std::size_t>(same_paths) + g["hf_and_spm_differ"].get<std::size_t>(),
            g["cases"].size());
  EXPECT_GE(same_paths, 60);
}

TEST(SentencePiece, UnigramNmtNfkc) {
  check("spm_unigram_nfkc");
}
TEST(SentencePiece, BpeNmtNfkcCaseFoldByteFallback) {
  check("spm_bpe_nfkc_cf");
}

TEST(SentencePiece, TruncatedAndGarbledModels) {
  const std::string model = slurp(fixture("spm_unigram_nfkc/spiece.model"));
  const std::string cut = scratch("cut", {{"spiece.model", model.substr(0, model.size() / 2)}});
  EXPECT_THAT(error_of([&] { load_tokenizer(cut); }),
              ::testing::MatchesRegex(cut + "/spiece.model: field 3 needs [0-9]+ bytes at byte "
                                            "[0-9]+, only [0-9]+ left \\(truncated file\\?\\)"));
  const std::string empty = scratch("empty", {{"spiece.model", ""}});
  EXPECT_EQ(error_of([&] { load_tokenizer(empty); }),
            empty + "/spiece.model: pieces: none (not a SentencePiece model?)");
  // A piece type outside 1..6 (the first piece's type byte: field 3, varint 3 -> 9).
  std::string bad_type = model;
  const std::size_t at = bad_type.find(std::string("\x18\x03", 2));
  ASSERT_NE(at, std::string::npos);
  bad_type[at + 1] = 9;
  const std::string typed = scratch("type", {{"spiece.model", bad_type}});
  EXPECT_EQ(error_of([&] { load_tokenizer(typed); }),
            typed + "/spiece.model: pieces[0]: type 9 is not a SentencePiece piece type (1..6)");
  // A map whose trie size does not fit.
  std::string bad_map = model;
  const auto offset =
      golden()["tokenizers"]["spm_unigram_nfkc"]["charsmap_offset"].get<std::size_t>();
  bad_map[offset + 3] = '\x7f';
  const std::string mapped = scratch("map", {{"spiece.model", bad_map}});
  EXPECT_THAT(error_of([&] { load_tokenizer(mapped); }),
              ::testing::StartsWith(mapped + "/spiece.model: normalizer_spec.precompiled_charsmap: "
                                             "trie size "));
}

TEST(SentencePiece, BadPrecompiledMaps) {
  json doc = tokenizer_json("spm_unigram_nfkc");
  json& map = doc["normalizer"]["normalizers"][0]["precompiled_charsmap"];
  const std::string where = "/tokenizer.json: /normalizer/normalizers/0/precompiled_charsmap: ";
  map = "not base64!";
  std::string dir = scratch("not_base64", {{"tokenizer.json", doc.dump()}});
  EXPECT_EQ(error_of([&] { load_tokenizer(dir); }), dir + where + "not base64 (character 4)");
  map = base64("abc");
  dir = scratch("short", {{"tokenizer.json", doc.dump()}});
  EXPECT_EQ(error_of([&] { load_tokenizer(dir); }), dir + where + "3 bytes, too short for a trie");
  // A trie of one unit pointing outside itself: the first lookup names the map.
  map = base64(std::string("\x04\x00\x00\x00\xff\xff\xff\xff", 8) + "x");
  dir = scratch("garbled", {{"tokenizer.json", doc.dump()}});
  const auto t = load_tokenizer(dir);
  EXPECT_THAT(error_of([&] { t->encode("abc"); }),
              ::testing::StartsWith(dir + where + "garbled trie (unit "));
  map = 3;
  dir = scratch("number", {{"tokenizer.json", doc.dump()}});
  EXPECT_EQ(error_of([&] { load_tokenizer(dir); }), dir + where + "must be a string, got 3");
}

}  // namespace
}  // namespace attnflow::hf
