// WordPiece (BERT): BertNormalizer, BertPreTokenizer and the greedy WordPiece model, following
// Hugging Face's tokenizers (Rust) step for step.
#include "attnflow/hf/wordpiece.hpp"

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "unicode.hpp"

namespace attnflow::hf {

WordPieceTokenizer::WordPieceTokenizer(std::unordered_map<std::string, std::int64_t> vocab,
                                       std::vector<AddedToken> added, PostTemplate post_template,
                                       WordPieceOptions options, const std::string& source)
    : Tokenizer(std::move(vocab), std::move(added), std::move(post_template)),
      options_(std::move(options)) {
  const auto unk = token_to_id(options_.unk_token);
  if (!unk) {
    throw Error(source + ": unk_token '" + options_.unk_token + "' is not in the vocabulary");
  }
  unk_id_ = *unk;
  if (options_.max_input_chars_per_word <= 0) {
    throw Error(source + ": max_input_chars_per_word must be positive, got " +
                std::to_string(options_.max_input_chars_per_word));
  }
  prepare_added_tokens();
}

std::string WordPieceTokenizer::normalize(std::string_view text) const {
  const std::u32string in = decode_utf8(text, "text");
  std::u32string s;
  s.reserve(in.size());
  for (char32_t c : in) {
    if (options_.clean_text) {
      if (c == 0 || c == 0xfffd || detail::is_control(c)) continue;
      if (detail::is_whitespace(c)) c = U' ';
    }
    if (options_.handle_chinese_chars && detail::is_chinese_char(c)) {
      s.push_back(U' ');
      s.push_back(c);
      s.push_back(U' ');
    } else {
      s.push_back(c);
    }
  }
  // Rust's BertNormalizer: strip accents (NFD, drop Mn), then lower-case character by character.
  if (options_.strip_accents.value_or(options_.lowercase)) {
    std::u32string decomposed = detail::nfd(s);
    s.clear();
    for (char32_t c : decomposed) {
      if (!detail::is_nonspacing_mark(c)) s.push_back(c);
    }
  }
  if (options_.lowercase) {
    std::u32string lower;
    lower.reserve(s.size());
    for (char32_t c : s) detail::append_lowercase(lower, c);
    s.swap(lower);
  }
  return encode_utf8(s);
}

void WordPieceTokenizer::tokenize(std::string_view normalized, Encoding& out) const {
  const std::u32string text = decode_utf8(normalized, "text");
  std::size_t start = 0;
  const auto flush = [&](std::size_t end) {
    if (end > start) wordpiece(std::u32string_view(text).substr(start, end - start), out);
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (detail::is_whitespace(c)) {
      flush(i);
      start = i + 1;
    } else if (detail::is_bert_punctuation(c)) {
      flush(i);
      wordpiece(std::u32string_view(text).substr(i, 1), out);
      start = i + 1;
    }
  }
  flush(text.size());
}

void WordPieceTokenizer::wordpiece(std::u32string_view word, Encoding& out) const {
  if (word.size() > static_cast<std::size_t>(options_.max_input_chars_per_word)) {
    out.ids.push_back(unk_id_);
    out.tokens.push_back(options_.unk_token);
    return;
  }
  // Byte offset of every character boundary, so candidates are substrings of one UTF-8 string.
  const std::string utf8 = encode_utf8(word);
  std::vector<std::size_t> offset(word.size() + 1, 0);
  for (std::size_t i = 0, b = 0; i < word.size(); ++i) {
    b += word[i] < 0x80 ? 1 : word[i] < 0x800 ? 2 : word[i] < 0x10000 ? 3 : 4;
    offset[i + 1] = b;
  }
  const auto& v = vocab();
  std::vector<std::pair<std::int64_t, std::string>> pieces;
  std::string candidate;
  for (std::size_t start = 0; start < word.size();) {
    std::size_t end = word.size();
    bool found = false;
    for (; end > start; --end) {
      candidate.assign(start > 0 ? options_.continuing_subword_prefix : std::string());
      candidate.append(utf8, offset[start], offset[end] - offset[start]);
      const auto it = v.find(candidate);
      if (it != v.end()) {
        pieces.emplace_back(it->second, candidate);
        found = true;
        break;
      }
    }
    if (!found) {  // one unknown piece makes the whole word unknown
      out.ids.push_back(unk_id_);
      out.tokens.push_back(options_.unk_token);
      return;
    }
    start = end;
  }
  for (auto& [id, token] : pieces) {
    out.ids.push_back(id);
    out.tokens.push_back(std::move(token));
  }
}

std::string WordPieceTokenizer::decode_tokens(const std::vector<std::string>& tokens) const {
  // Hugging Face's WordPiece decoder with cleanup = true.
  static const std::pair<const char*, const char*> kCleanup[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},    {" ,", ","},
      {" ' ", "'"},  {" n't", "n't"}, {" 'm", "'m"},  {" do not", " don't"},
      {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  const std::string& prefix = options_.continuing_subword_prefix;
  std::string out;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    std::string t = tokens[i];
    if (i > 0) {
      if (!prefix.empty() && t.compare(0, prefix.size(), prefix) == 0) {
        t.erase(0, prefix.size());
      } else {
        t.insert(0, " ");
      }
    }
    for (const auto& [from, to] : kCleanup) {
      const std::string f(from), r(to);
      for (std::size_t p = t.find(f); p != std::string::npos; p = t.find(f, p + r.size())) {
        t.replace(p, f.size(), r);
      }
    }
    out += t;
  }
  return out;
}

}  // namespace attnflow::hf
