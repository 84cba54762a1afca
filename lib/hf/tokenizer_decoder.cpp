// The decoders of Hugging Face's tokenizers (decoders/*.rs): decode_chain on token strings.
#include "attnflow/core/util/utf8.hpp"
#include "json_util.hpp"
#include "tokenizer_pipeline.hpp"
#include "unicode.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
}

// All tokens' characters mapped back to bytes (a token outside the byte alphabet stays as
// written); invalid UTF-8 becomes U+FFFD.
class ByteLevelDecoder final : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      std::string mapped;
      bool ok = true;
      for (char32_t c : decode_utf8(token, "token")) {
        const int b = char_to_byte(c);
        if (b < 0) {
          ok = false;
          break;
        }
        mapped += static_cast<char>(b);
      }
      bytes += ok ? mapped : token;
    }
    tokens = {sanitize_utf8(bytes)};
  }
};

class WordPieceDecoder final : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void decode(std::vector<std::string>& tokens) const override {
    static const std::pair<const char*, const char*> kCleanup[] = {
        {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
        {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
        {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i > 0) {
        if (!prefix_.empty() && t.compare(0, prefix_.size(), prefix_) == 0) {
          t.erase(0, prefix_.size());
        } else {
          t.insert(0, " ");
        }
      }
      if (cleanup_)
        for (const auto& [from, to] : kCleanup) replace_all(t, from, to);
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      replace_all(tokens[i], replacement_, " ");
      if (i == 0 && strip_first_ && !tokens[i].empty() && tokens[i][0] == ' ')
        tokens[i].erase(0, 1);
    }
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// Runs of <0xXX> tokens become the text of their bytes (U+FFFD per byte when not UTF-8).
class ByteFallbackDecoder final : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string bytes;
    std::size_t count = 0;
    const auto flush = [&] {
      if (count == 0) return;
      if (utf8_problem(bytes, NulBytes::Allowed).empty()) {
        out.push_back(bytes);
      } else {
        for (std::size_t k = 0; k < count; ++k) out.emplace_back("\xef\xbf\xbd");
      }
      bytes.clear();
      count = 0;
    };
    for (std::string& t : tokens) {
      int value = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        const auto hex = [](char c) {
          return c >= '0' && c <= '9'   ? c - '0'
                 : c >= 'A' && c <= 'F' ? c - 'A' + 10
                 : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                        : -1;
        };
        if (hex(t[3]) >= 0 && hex(t[4]) >= 0) value = hex(t[3]) * 16 + hex(t[4]);
      }
      if (value >= 0) {
        bytes += static_cast<char>(value);
        ++count;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }
};

class Fuse final : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens = {all};
  }
};

// Strip: up to `start` leading and `stop` trailing copies of the character `content`.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, std::int64_t start, std::int64_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) {
      std::u32string chars = decode_utf8(t, "token");
      const std::u32string c = decode_utf8(content_, "content");
      std::size_t begin = 0, end = chars.size();
      for (std::int64_t k = 0; k < start_ && begin < end && c.size() == 1 && chars[begin] == c[0];
           ++k)
        ++begin;
      for (std::int64_t k = 0; k < stop_ && end > begin && c.size() == 1 && chars[end - 1] == c[0];
           ++k)
        --end;
      t = encode_utf8(std::u32string_view(chars).substr(begin, end - begin));
    }
  }

 private:
  std::string content_;
  std::int64_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::string from, std::string to) : from_(std::move(from)), to_(std::move(to)) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (std::string& t : tokens) replace_all(t, from_, to_);
  }

 private:
  std::string from_, to_;
};

// BPEDecoder: the end-of-word suffix becomes a space (nothing after the last token).
class BpeDecoder final : public Decoder {
 public:
  explicit BpeDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i)
      replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
  }

 private:
  std::string suffix_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts)
      : parts_(std::move(parts)) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (const auto& p : parts_) p->decode(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

std::unique_ptr<Decoder> parse_decoder(const json& j, const JsonAt& at) {
  if (j.is_null()) return nullptr;
  const std::string type = at.type_of(j, "decoder");
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "WordPiece") {
    return std::make_unique<WordPieceDecoder>(at.get_string(j, "prefix").value_or("##"),
                                              at.get_bool(j, "cleanup", true));
  }
  if (type == "Metaspace") {
    bool strip = at.get_bool(j, "add_prefix_space", true);
    if (const auto scheme = at.get_string(j, "prepend_scheme")) strip = *scheme != "never";
    return std::make_unique<MetaspaceDecoder>(
        at.get_string(j, "replacement").value_or("\xe2\x96\x81"), strip);
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<Fuse>();
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(at.get_string(j, "content").value_or(" "),
                                          at.get_int(j, "start", 0, 0, 1 << 20),
                                          at.get_int(j, "stop", 0, 0, 1 << 20));
  }
  if (type == "Replace") {
    std::u32string literal;
    if (parse_pattern(j, at, literal))
      (at / "pattern").fail("a Regex pattern is not supported in a Replace decoder");
    return std::make_unique<ReplaceDecoder>(encode_utf8(literal),
                                            encode_utf8(json_u32(j, "content", at)));
  }
  if (type == "BPEDecoder")
    return std::make_unique<BpeDecoder>(at.get_string(j, "suffix").value_or("</w>"));
  if (type == "Sequence") {
    auto parts = parse_list<Decoder>(j, "decoders", at, "decoders", parse_decoder);
    return std::make_unique<SequenceDecoder>(std::move(parts));
  }
  (at / "type")
      .fail("unknown decoder '" + type +
            "' (supported: ByteLevel, WordPiece, Metaspace, ByteFallback, Fuse, Strip, Replace, "
            "BPEDecoder, Sequence)");
}

}  // namespace attnflow::hf::detail
