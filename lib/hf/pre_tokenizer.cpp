// The pre-tokenisers of Hugging Face's tokenizers (pre_tokenizers/*.rs) and the split
// behaviours of NormalizedString::split, on code points.
#include "attnflow/core/util/utf8.hpp"
#include "json_util.hpp"
#include "tokenizer_pipeline.hpp"
#include "unicode.hpp"

namespace attnflow::hf::detail {

using nlohmann::json;

namespace {

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Span {
  std::size_t begin, end;
  bool match;
};
using Spans = std::vector<Span>;

// Spans covering `text`: every character for which `is_match` holds is a match of its own.
template <typename Pred>
Spans char_matches(std::u32string_view text, Pred is_match) {
  Spans out;
  std::size_t last = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_match(text[i])) continue;
    if (last < i) out.push_back({last, i, false});
    out.push_back({i, i + 1, true});
    last = i + 1;
  }
  if (last < text.size()) out.push_back({last, text.size(), false});
  return out;
}

Spans regex_matches(std::u32string_view text, const Regex& regex) {
  Spans out;
  std::size_t last = 0;
  for (const auto& [begin, end] : regex.find_all(text)) {
    if (last != begin) out.push_back({last, begin, false});
    out.push_back({begin, end, true});
    last = end;
  }
  if (last != text.size()) out.push_back({last, text.size(), false});
  return out;
}

Spans literal_matches(std::u32string_view text, const std::u32string& literal) {
  Spans out;
  std::size_t last = 0;
  if (!literal.empty()) {
    for (std::size_t p = text.find(literal); p != std::u32string_view::npos;
         p = text.find(literal, p + literal.size())) {
      if (last != p) out.push_back({last, p, false});
      out.push_back({p, p + literal.size(), true});
      last = p + literal.size();
    }
  }
  if (last != text.size()) out.push_back({last, text.size(), false});
  return out;
}

// NormalizedString::split: the pieces `spans` give under `behavior`, empty ones dropped.
void apply(std::u32string_view text, Spans spans, Behavior behavior, bool invert,
           std::vector<Piece>& out) {
  if (invert)
    for (Span& s : spans) s.match = !s.match;
  const auto emit = [&](const Span& s) {
    if (s.end > s.begin) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  };
  if (behavior == Behavior::Isolated || behavior == Behavior::Removed) {
    for (const Span& s : spans)
      if (behavior == Behavior::Isolated || !s.match) emit(s);
    return;
  }
  Spans kept;
  bool previous = false;
  switch (behavior) {
    case Behavior::Removed:
    case Behavior::Isolated: break;
    case Behavior::MergedWithPrevious:
      for (const Span& s : spans) {
        if (s.match && !previous && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back(s);
        }
        previous = s.match;
      }
      break;
    case Behavior::MergedWithNext:
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->match && !previous && !kept.empty()) {
          kept.back().begin = it->begin;
        } else {
          kept.push_back(*it);
        }
        previous = it->match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    case Behavior::Contiguous:
      for (const Span& s : spans) {
        if (s.match == previous && !kept.empty()) {
          kept.back().end = s.end;
        } else {
          kept.push_back(s);
        }
        previous = s.match;
      }
      break;
  }
  for (const Span& s : kept) emit(s);
}

// Replaces every piece by what `split_one(piece, index, out)` appends.
template <typename F>
void split_each(std::vector<Piece>& pieces, F split_one) {
  std::vector<Piece> out;
  out.reserve(pieces.size());
  for (std::size_t i = 0; i < pieces.size(); ++i) split_one(pieces[i], i, out);
  pieces.swap(out);
}

template <typename Pred>
void split_chars(std::vector<Piece>& pieces, Pred pred, Behavior behavior) {
  split_each(pieces, [&](const Piece& p, std::size_t, std::vector<Piece>& out) {
    apply(p, char_matches(p, pred), behavior, false, out);
  });
}

bool is_punctuation(char32_t c) {
  return is_bert_punctuation(c);  // ASCII punctuation or a P* category, as Rust's check
}

// Whitespace removed, then punctuation isolated, in one pass.
class BertPreTokenizer final : public PreTokenizer {
 public:
  void split(std::vector<Piece>& pieces, bool) const override {
    split_each(pieces, [&](const Piece& p, std::size_t, std::vector<Piece>& out) {
      std::size_t start = 0;
      for (std::size_t i = 0; i < p.size(); ++i) {
        const bool space = is_whitespace(p[i]);
        if (!space && !is_punctuation(p[i])) continue;
        if (i > start) out.emplace_back(p, start, i - start);
        if (!space) out.emplace_back(1, p[i]);
        start = i + 1;
      }
      if (p.size() > start) out.emplace_back(p, start, p.size() - start);
    });
  }
};

class WhitespaceSplit final : public PreTokenizer {
 public:
  void split(std::vector<Piece>& pieces, bool) const override {
    split_chars(pieces, is_whitespace, Behavior::Removed);
  }
};

class CharDelimiterSplit final : public PreTokenizer {
 public:
  explicit CharDelimiterSplit(char32_t delimiter) : delimiter_(delimiter) {}
  void split(std::vector<Piece>& pieces, bool) const override {
    split_chars(
        pieces, [&](char32_t c) { return c == delimiter_; }, Behavior::Removed);
  }

 private:
  char32_t delimiter_;
};

class Punctuation final : public PreTokenizer {
 public:
  explicit Punctuation(Behavior behavior) : behavior_(behavior) {}
  void split(std::vector<Piece>& pieces, bool) const override {
    split_chars(pieces, is_punctuation, behavior_);
  }

 private:
  Behavior behavior_;
};

class Digits final : public PreTokenizer {
 public:
  explicit Digits(bool individual) : individual_(individual) {}
  void split(std::vector<Piece>& pieces, bool) const override {
    split_chars(pieces, is_numeric, individual_ ? Behavior::Isolated : Behavior::Contiguous);
  }

 private:
  bool individual_;
};

// Split and Whitespace (which keeps the matches of \w+|[^\w\s]+).
class Split final : public PreTokenizer {
 public:
  Split(std::unique_ptr<Regex> regex, std::u32string literal, Behavior behavior, bool invert)
      : regex_(std::move(regex)),
        literal_(std::move(literal)),
        behavior_(behavior),
        invert_(invert) {}
  void split(std::vector<Piece>& pieces, bool) const override {
    split_each(pieces, [&](const Piece& p, std::size_t, std::vector<Piece>& out) {
      apply(p, regex_ ? regex_matches(p, *regex_) : literal_matches(p, literal_), behavior_,
            invert_, out);
    });
  }

 private:
  std::unique_ptr<Regex> regex_;
  std::u32string literal_;
  Behavior behavior_;
  bool invert_;
};

// GPT-2's pattern (ByteLevel's use_regex).
constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex, const std::string& where)
      : add_prefix_space_(add_prefix_space),
        regex_(use_regex ? std::make_unique<Regex>(kGpt2Pattern, where) : nullptr) {}
  void split(std::vector<Piece>& pieces, bool) const override {
    split_each(pieces, [&](Piece& p, std::size_t, std::vector<Piece>& out) {
      if (add_prefix_space_ && (p.empty() || p.front() != U' ')) p.insert(p.begin(), U' ');
      if (!regex_) {
        if (!p.empty()) out.push_back(to_bytes(p));
        return;
      }
      std::size_t last = 0;
      for (const auto& [begin, end] : regex_->find_all(p)) {  // Isolated: matches and gaps
        if (begin > last)
          out.push_back(to_bytes(std::u32string_view(p).substr(last, begin - last)));
        if (end > begin) out.push_back(to_bytes(std::u32string_view(p).substr(begin, end - begin)));
        last = end;
      }
      if (p.size() > last) out.push_back(to_bytes(std::u32string_view(p).substr(last)));
    });
  }

 private:
  // The bytes_to_unicode characters of the UTF-8 bytes of `text`.
  static Piece to_bytes(std::u32string_view text) {
    std::size_t n = 0;
    for (char32_t c : text) n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    Piece out;
    out.reserve(n);
    std::string bytes;
    for (char32_t c : text) {
      bytes.clear();
      append_utf8(bytes, c);
      for (char b : bytes) out.push_back(byte_to_char(static_cast<std::uint8_t>(b)));
    }
    return out;
  }

  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class Prepend { Always, First, Never };

class Metaspace final : public PreTokenizer {
 public:
  Metaspace(char32_t replacement, Prepend prepend, bool split)
      : replacement_(replacement), prepend_(prepend), split_(split) {}
  void split(std::vector<Piece>& pieces, bool first) const override {
    split_each(pieces, [&](Piece& p, std::size_t index, std::vector<Piece>& out) {
      for (char32_t& c : p)
        if (c == U' ') c = replacement_;
      const bool starts = !p.empty() && p.front() == replacement_;
      if (!starts &&
          (prepend_ == Prepend::Always || (prepend_ == Prepend::First && first && index == 0))) {
        p.insert(p.begin(), replacement_);
      }
      if (split_) {
        apply(p, char_matches(p, [&](char32_t c) { return c == replacement_; }),
              Behavior::MergedWithNext, false, out);
      } else if (!p.empty()) {
        out.push_back(p);
      }
    });
  }

 private:
  char32_t replacement_;
  Prepend prepend_;
  bool split_;
};

class Sequence final : public PreTokenizer {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void split(std::vector<Piece>& pieces, bool first) const override {
    for (const auto& p : parts_) p->split(pieces, first);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

Behavior parse_behavior(const json& j, const JsonAt& at, const char* fallback) {
  const std::string b = at.get_string(j, "behavior").value_or(fallback);
  if (b == "Removed") return Behavior::Removed;
  if (b == "Isolated") return Behavior::Isolated;
  if (b == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::MergedWithNext;
  if (b == "Contiguous") return Behavior::Contiguous;
  (at / "behavior")
      .fail("unknown split behavior '" + b +
            "' (supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous)");
}

char32_t one_char(const json& j, const char* key, const JsonAt& at, char32_t fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  const std::u32string s = json_u32(j, key, at);
  if (s.size() != 1) (at / key).fail("must be one character, got " + brief(j[key]));
  return s[0];
}

}  // namespace

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const json& j, const JsonAt& at) {
  if (j.is_null()) return nullptr;
  const std::string type = at.type_of(j, "pre-tokenizer");
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplit>();
  if (type == "Whitespace") {
    return std::make_unique<Split>(std::make_unique<Regex>("\\w+|[^\\w\\s]+", at.where()),
                                   std::u32string(), Behavior::Removed, true);
  }
  if (type == "CharDelimiterSplit")
    return std::make_unique<CharDelimiterSplit>(one_char(j, "delimiter", at, U' '));
  if (type == "Punctuation")
    return std::make_unique<Punctuation>(parse_behavior(j, at, "Isolated"));
  if (type == "Digits") return std::make_unique<Digits>(at.get_bool(j, "individual_digits", false));
  if (type == "Split") {
    std::u32string literal;
    auto regex = parse_pattern(j, at, literal);
    if (!j.contains("behavior")) (at / "behavior").fail("is missing");
    return std::make_unique<Split>(std::move(regex), std::move(literal),
                                   parse_behavior(j, at, "Removed"),
                                   at.get_bool(j, "invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevel>(at.get_bool(j, "add_prefix_space", true),
                                       at.get_bool(j, "use_regex", true), at.where());
  }
  if (type == "Metaspace") {
    Prepend prepend = at.get_bool(j, "add_prefix_space", true) ? Prepend::Always : Prepend::Never;
    if (const auto scheme = at.get_string(j, "prepend_scheme")) {
      if (*scheme == "always") {
        prepend = Prepend::Always;
      } else if (*scheme == "first") {
        prepend = Prepend::First;
      } else if (*scheme == "never") {
        prepend = Prepend::Never;
      } else {
        (at / "prepend_scheme")
            .fail("unknown prepend_scheme '" + *scheme + "' (supported: always, first, never)");
      }
    }
    return std::make_unique<Metaspace>(one_char(j, "replacement", at, U'\u2581'), prepend,
                                       at.get_bool(j, "split", true));
  }
  if (type == "Sequence") {
    auto parts =
        parse_list<PreTokenizer>(j, "pretokenizers", at, "pre-tokenizers", parse_pre_tokenizer);
    return std::make_unique<Sequence>(std::move(parts));
  }
  (at / "type")
      .fail("unknown pre-tokenizer '" + type +
            "' (supported: BertPreTokenizer, ByteLevel, Metaspace, Whitespace, WhitespaceSplit, "
            "Split, Punctuation, Digits, CharDelimiterSplit, Sequence)");
}

}  // namespace attnflow::hf::detail
