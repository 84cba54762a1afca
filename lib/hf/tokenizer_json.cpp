// tokenizer.json / tokenizer_config.json fields: typed reads, added tokens, templates.
#include "tokenizer_json.hpp"

#include <array>

#include "attnflow/core/error.hpp"
#include "json_util.hpp"
#include "tokenizer_pipeline.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& problem) {
  throw Error(where + ": " + problem);
}

bool get_bool(const json& obj, const char* key, bool fallback, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    fail(where, "'" + std::string(key) + "' must be true or false, got " + detail::brief(*it));
  return it->get<bool>();
}

std::optional<std::string> get_string(const json& obj, const char* key, const std::string& where) {
  const auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_string())
    fail(where, "'" + std::string(key) + "' must be a string, got " + detail::brief(*it));
  return it->get<std::string>();
}

std::optional<std::string> token_field(const json& config, const char* key,
                                       const std::string& where) {
  const auto it = config.find(key);
  if (it == config.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
    return (*it)["content"].get<std::string>();
  }
  fail(where, "'" + std::string(key) + "' must be a string or {\"content\": ...}, got " +
                  detail::brief(*it));
}

void check_token_id(std::int64_t id, const std::string& what, const std::string& where) {
  if (id < 0 || id > kMaxTokenId) {
    fail(where,
         what + " id " + std::to_string(id) + " is outside 0.." + std::to_string(kMaxTokenId));
  }
}

Vocab vocab_object(const json& v, const std::string& where) {
  if (!v.is_object())
    fail(where, "vocab must be an object of token -> id, got " + detail::type_words(v));
  if (v.empty()) fail(where, "vocab is empty");
  Vocab vocab;
  std::unordered_map<std::int64_t, const std::string*> tokens;  // id -> token, for duplicates
  for (auto it = v.begin(); it != v.end(); ++it) {
    const json& id = it.value();
    // (get<int64_t> of an unsigned value past INT64_MAX is negative, so one check covers it.)
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
        id.get<std::int64_t>() > kMaxTokenId) {
      fail(where, "vocab id of '" + it.key() + "' must be an integer in 0.." +
                      std::to_string(kMaxTokenId) + ", got " + detail::brief(id));
    }
    const auto [slot, fresh] = tokens.emplace(id.get<std::int64_t>(), &it.key());
    if (!fresh) {
      fail(where, "vocab tokens '" + *slot->second + "' and '" + it.key() + "' have the same id " +
                      std::to_string(id.get<std::int64_t>()));
    }
    vocab[it.key()] = id.get<std::int64_t>();
  }
  return vocab;
}

AddedToken added_token(const json& t, std::int64_t id, const std::string& where) {
  if (!t.is_object() || !t.contains("content") || !t["content"].is_string()) {
    fail(where, "added token must be an object with a string 'content', got " + detail::brief(t));
  }
  AddedToken a;
  a.content = t["content"].get<std::string>();
  check_token_id(id, "added token '" + a.content + "':", where);
  if (a.content.empty()) fail(where, "added token " + std::to_string(id) + " has empty content");
  a.id = id;
  a.special = get_bool(t, "special", false, where);
  a.normalized = get_bool(t, "normalized", !a.special, where);
  a.lstrip = get_bool(t, "lstrip", false, where);
  a.rstrip = get_bool(t, "rstrip", false, where);
  a.single_word = get_bool(t, "single_word", false, where);
  return a;
}

std::vector<AddedToken> added_tokens_json(const json& doc, const std::string& where) {
  std::vector<AddedToken> out;
  const auto it = doc.find("added_tokens");
  if (it == doc.end() || it->is_null()) return out;
  if (!it->is_array()) fail(where, "'added_tokens' must be a list, got " + detail::type_words(*it));
  for (const json& t : *it) {
    if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
        t["id"].get<std::int64_t>() < 0 || t["id"].get<std::int64_t>() > kMaxTokenId) {
      fail(where, "added token needs an integer 'id' in 0.." + std::to_string(kMaxTokenId) +
                      ", got " + detail::brief(t));
    }
    out.push_back(added_token(t, t["id"].get<std::int64_t>(), where));
  }
  return out;
}

// ---- JsonAt ----------------------------------------------------------------------------

void JsonAt::fail(const std::string& problem) const {
  throw Error(where() + ": " + problem);
}

bool JsonAt::get_bool(const json& j, const char* key, bool fallback) const {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) (*this / key).fail("must be true or false, got " + brief(*it));
  return it->get<bool>();
}

std::optional<std::string> JsonAt::get_string(const json& j, const char* key) const {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) (*this / key).fail("must be a string, got " + brief(*it));
  return it->get<std::string>();
}

std::int64_t JsonAt::get_int(const json& j, const char* key, std::int64_t fallback, std::int64_t lo,
                             std::int64_t hi) const {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<std::int64_t>() < lo || it->get<std::int64_t>() > hi ||
      (it->is_number_unsigned() && it->get<std::uint64_t>() > static_cast<std::uint64_t>(hi))) {
    (*this / key)
        .fail("must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got " +
              brief(*it));
  }
  return it->get<std::int64_t>();
}

std::string JsonAt::type_of(const json& j, const std::string& what) const {
  if (!j.is_object()) fail(what + " must be an object or null, got " + brief(j));
  const auto it = j.find("type");
  if (it == j.end() || !it->is_string())
    (*this / "type").fail(what + " needs a string 'type', got " + brief(j));
  return it->get<std::string>();
}

// ---- bytes_to_unicode -------------------------------------------------------------------

namespace {

struct ByteTable {
  std::array<char32_t, 256> to_char{};
  std::array<int, 324> to_byte{};  // characters 0..323 (256 + the 68 shifted bytes)
  ByteTable() {
    to_byte.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable =
          (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
      const auto i = static_cast<std::size_t>(b);
      to_char[i] = printable ? static_cast<char32_t>(b) : next++;
      to_byte[to_char[i]] = b;
    }
  }
};

const ByteTable kBytes;  // no function-local static: byte_to_char runs for every byte

const ByteTable& bytes_table() {
  return kBytes;
}

}  // namespace

char32_t byte_to_char(std::uint8_t byte) {
  return bytes_table().to_char[byte];
}

int char_to_byte(char32_t c) {
  return c < 324 ? bytes_table().to_byte[c] : -1;
}

// ---- the whole document -----------------------------------------------------------------

std::unique_ptr<Model> parse_model(const json& j, const JsonAt& at) {
  if (!j.is_object()) at.fail("model must be an object, got " + brief(j));
  std::string type;
  if (j.contains("type")) {
    type = at.type_of(j, "model");
  } else {  // files without "type": infer like tokenizers does
    type = j.contains("merges")                           ? "BPE"
           : j.contains("continuing_subword_prefix")      ? "WordPiece"
           : j.contains("vocab") && j["vocab"].is_array() ? "Unigram"
                                                          : "";
  }
  if (type == "WordPiece") return parse_wordpiece(j, at);
  if (type == "BPE") return parse_bpe(j, at);
  if (type == "Unigram") return parse_unigram(j, at);
  (at / "type").fail("unknown model '" + type + "' (supported: WordPiece, BPE, Unigram)");
}

std::unique_ptr<Pipeline> parse_pipeline(const json& doc, const std::string& file,
                                         bool show_pointers) {
  const JsonAt at{file, "", show_pointers};
  if (!doc.is_object() || !doc.contains("model") || !doc["model"].is_object())
    at.fail("has no 'model' object (not a tokenizers file)");
  auto p = std::make_unique<Pipeline>();
  p->added = added_tokens_json(doc, file);
  p->normalizer = parse_normalizer(doc.value("normalizer", json()), at / "normalizer");
  p->pre_tokenizer = parse_pre_tokenizer(doc.value("pre_tokenizer", json()), at / "pre_tokenizer");
  p->model = parse_model(doc["model"], at / "model");
  p->post = parse_post_processor(doc.value("post_processor", json()), at / "post_processor");
  p->decoder = parse_decoder(doc.value("decoder", json()), at / "decoder");
  return p;
}

}  // namespace attnflow::hf::detail
