// The normalisers of Hugging Face's tokenizers (normalizers/*.rs), on code points.
#include <algorithm>

#include "attnflow/core/util/utf8.hpp"
#include "json_util.hpp"
#include "tokenizer_pipeline.hpp"
#include "unicode.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

namespace {

void lowercase(std::u32string& s) {
  std::u32string lower;
  lower.reserve(s.size());
  for (char32_t c : s) append_lowercase(lower, c);
  s.swap(lower);
}

template <typename Keep>
void filter(std::u32string& s, Keep keep) {
  s.erase(std::remove_if(s.begin(), s.end(), [&](char32_t c) { return !keep(c); }), s.end());
}

// BertNormalizer: drop control characters, space out CJK ideographs, strip accents (NFD, drop
// Mn), lower-case character by character.
class BertNormalizer final : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, std::optional<bool> strip_accents, bool lower)
      : clean_text_(clean_text),
        chinese_(chinese),
        strip_accents_(strip_accents.value_or(lower)),
        lowercase_(lower) {}

  void normalize(std::u32string& text) const override {
    std::u32string s;
    s.reserve(text.size());
    for (char32_t c : text) {
      if (clean_text_) {
        if (c == 0 || c == 0xfffd || is_control(c)) continue;
        if (is_whitespace(c)) c = U' ';
      }
      if (chinese_ && is_chinese_char(c)) {
        s.push_back(U' ');
        s.push_back(c);
        s.push_back(U' ');
      } else {
        s.push_back(c);
      }
    }
    if (strip_accents_) {
      s = nfd(s);
      filter(s, [](char32_t c) { return !is_nonspacing_mark(c); });
    }
    if (lowercase_) lowercase(s);
    text.swap(s);
  }

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

class FormNormalizer final : public Normalizer {
 public:
  explicit FormNormalizer(NormalForm form) : form_(form) {}
  void normalize(std::u32string& text) const override { text = normalize_form(text, form_); }

 private:
  NormalForm form_;
};

class Lowercase final : public Normalizer {
 public:
  void normalize(std::u32string& text) const override { lowercase(text); }
};

// StripAccents removes every combining mark (it does not decompose: an NFD before it does).
class StripAccents final : public Normalizer {
 public:
  void normalize(std::u32string& text) const override {
    filter(text, [](char32_t c) { return !is_mark(c); });
  }
};

// Nmt: SentencePiece's handling of control characters.
class Nmt final : public Normalizer {
 public:
  void normalize(std::u32string& text) const override {
    filter(text, [](char32_t c) {
      return !((c >= 0x1 && c <= 0x8) || c == 0xb || (c >= 0xe && c <= 0x1f) || c == 0x7f ||
               c == 0x8f || c == 0x9f);
    });
    for (char32_t& c : text) {
      if (c == 0x9 || c == 0xa || c == 0xc || c == 0xd || c == 0x1680 ||
          (c >= 0x200b && c <= 0x200f) || c == 0x2028 || c == 0x2029 || c == 0x2581 ||
          c == 0xfeff || c == 0xfffd) {
        c = U' ';
      }
    }
  }
};

class Replace final : public Normalizer {
 public:
  Replace(std::unique_ptr<Regex> regex, std::u32string literal, std::u32string content)
      : regex_(std::move(regex)), literal_(std::move(literal)), content_(std::move(content)) {}

  void normalize(std::u32string& text) const override {
    std::vector<std::pair<std::size_t, std::size_t>> matches;
    if (regex_) {
      matches = regex_->find_all(text);
    } else if (!literal_.empty()) {
      for (std::size_t p = text.find(literal_); p != std::u32string::npos;
           p = text.find(literal_, p + literal_.size())) {
        matches.emplace_back(p, p + literal_.size());
      }
    }
    if (matches.empty()) return;
    std::u32string out;
    std::size_t at = 0;
    for (const auto& [begin, end] : matches) {
      out.append(text, at, begin - at);
      out += content_;
      at = end;
    }
    out.append(text, at, std::u32string::npos);
    text.swap(out);
  }

 private:
  std::unique_ptr<Regex> regex_;  ///< null: `literal_` is the pattern
  std::u32string literal_, content_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::u32string prefix) : prefix_(std::move(prefix)) {}
  void normalize(std::u32string& text) const override {
    if (!text.empty()) text.insert(0, prefix_);
  }

 private:
  std::u32string prefix_;
};

class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void normalize(std::u32string& text) const override {
    std::size_t begin = 0, end = text.size();
    if (left_)
      while (begin < end && is_whitespace(text[begin])) ++begin;
    if (right_)
      while (end > begin && is_whitespace(text[end - 1])) --end;
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

// The ByteLevel normaliser: every UTF-8 byte becomes its bytes_to_unicode character.
class ByteLevelNormalizer final : public Normalizer {
 public:
  void normalize(std::u32string& text) const override {
    const std::string bytes = encode_utf8(text);
    text.clear();
    for (char b : bytes) text.push_back(byte_to_char(static_cast<std::uint8_t>(b)));
  }
};

class Sequence final : public Normalizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<Normalizer>> parts) : parts_(std::move(parts)) {}
  void normalize(std::u32string& text) const override {
    for (const auto& p : parts_) p->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

std::u32string json_u32(const json& j, const char* key, const JsonAt& at) {
  const auto s = at.get_string(j, key);
  if (!s) (at / key).fail("must be a string");
  return decode_utf8(*s, at.where() + "/" + key);
}

std::unique_ptr<Regex> parse_pattern(const json& j, const JsonAt& at, std::u32string& literal) {
  const JsonAt p = at / "pattern";
  const auto it = j.find("pattern");
  if (it == j.end() || !it->is_object() || it->size() != 1) {
    p.fail("must be {\"String\": ...} or {\"Regex\": ...}, got " +
           (it == j.end() ? std::string("nothing") : brief(*it)));
  }
  if (it->contains("String")) {
    literal = json_u32(*it, "String", p);
    return nullptr;
  }
  if (it->contains("Regex")) {
    const auto r = p.get_string(*it, "Regex");
    if (!r) (p / "Regex").fail("must be a string");
    return std::make_unique<Regex>(*r, (p / "Regex").where());
  }
  p.fail("must be {\"String\": ...} or {\"Regex\": ...}, got " + brief(*it));
}

std::unique_ptr<Normalizer> parse_normalizer(const json& j, const JsonAt& at) {
  if (j.is_null()) return nullptr;
  const std::string type = at.type_of(j, "normalizer");
  if (type == "BertNormalizer") {
    std::optional<bool> strip;
    if (j.contains("strip_accents") && !j["strip_accents"].is_null())
      strip = at.get_bool(j, "strip_accents", false);
    return std::make_unique<BertNormalizer>(at.get_bool(j, "clean_text", true),
                                            at.get_bool(j, "handle_chinese_chars", true), strip,
                                            at.get_bool(j, "lowercase", true));
  }
  if (type == "NFC") return std::make_unique<FormNormalizer>(NormalForm::NFC);
  if (type == "NFD") return std::make_unique<FormNormalizer>(NormalForm::NFD);
  if (type == "NFKC") return std::make_unique<FormNormalizer>(NormalForm::NFKC);
  if (type == "NFKD") return std::make_unique<FormNormalizer>(NormalForm::NFKD);
  if (type == "Lowercase") return std::make_unique<Lowercase>();
  if (type == "StripAccents") return std::make_unique<StripAccents>();
  if (type == "Nmt") return std::make_unique<Nmt>();
  if (type == "ByteLevel") return std::make_unique<ByteLevelNormalizer>();
  if (type == "Replace") {
    std::u32string literal;
    auto regex = parse_pattern(j, at, literal);
    return std::make_unique<Replace>(std::move(regex), std::move(literal),
                                     json_u32(j, "content", at));
  }
  if (type == "Prepend") return std::make_unique<Prepend>(json_u32(j, "prepend", at));
  if (type == "Strip") {
    return std::make_unique<Strip>(at.get_bool(j, "strip_left", true),
                                   at.get_bool(j, "strip_right", true));
  }
  if (type == "Precompiled") return parse_precompiled(j, at);
  if (type == "Sequence") {
    auto parts = parse_list<Normalizer>(j, "normalizers", at, "normalizers", parse_normalizer);
    return std::make_unique<Sequence>(std::move(parts));
  }
  (at / "type")
      .fail("unknown normalizer '" + type +
            "' (supported: BertNormalizer, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, "
            "Replace, Prepend, Strip, Nmt, Precompiled, ByteLevel, Sequence)");
}

}  // namespace attnflow::hf::detail
