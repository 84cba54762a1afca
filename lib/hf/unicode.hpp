// Private Unicode helpers of the tokenizers: the character classes, case mapping and NFD
// decomposition BERT's normaliser needs (via ICU); UTF-8 itself is core/util/utf8.hpp.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attnflow::hf::detail {

bool is_whitespace(char32_t c);        ///< Unicode White_Space (Rust's char::is_whitespace)
bool is_control(char32_t c);           ///< categories Cc Cf Cn Co Cs, except \t \n \r
bool is_bert_punctuation(char32_t c);  ///< ASCII punctuation or a P* category
bool is_chinese_char(char32_t c);      ///< CJK ideograph blocks, as tokenizers (Rust) lists them
bool is_nonspacing_mark(char32_t c);   ///< category Mn
bool is_alphanumeric(char32_t c);
bool is_mark(char32_t c);     ///< categories Mn Mc Me (unicode-normalization's is_combining_mark)
bool is_numeric(char32_t c);  ///< categories Nd Nl No (Rust's char::is_numeric)

/// Appends the full lower-case mapping of one character (İ gives i + U+0307), with no
/// context rules (Σ always gives σ), as Hugging Face's tokenizers do.
void append_lowercase(std::u32string& out, char32_t c);

/// Canonical decomposition (NFD).
std::u32string nfd(std::u32string_view text);

/// Byte offsets of the extended grapheme cluster boundaries of UTF-8 `text` (ICU's character
/// break iterator, UAX #29): 0, ..., text.size().
std::vector<std::size_t> grapheme_bounds(std::string_view text);

enum class NormalForm { NFC, NFD, NFKC, NFKD };
/// Unicode normalisation (ICU's Normalizer2).
std::u32string normalize_form(std::u32string_view text, NormalForm form);

/// A compiled regular expression of Hugging Face's tokenizers (written for Oniguruma) run with
/// ICU; `\s` / `\S` become Unicode White_Space as in Oniguruma. Immutable, so one object may
/// be used from several threads.
class Regex {
 public:
  /// Throws Error "<where>: regex '<pattern>' does not compile (<ICU error>)".
  Regex(const std::string& pattern, const std::string& where);
  /// The pattern matching `literal` exactly.
  static std::string escape(std::string_view literal);
  /// Non-overlapping leftmost matches, as [begin, end) code point indices of `text`.
  std::vector<std::pair<std::size_t, std::size_t>> find_all(std::u32string_view text) const;

 private:
  struct Compiled;
  std::shared_ptr<const Compiled> compiled_;
};

}  // namespace attnflow::hf::detail
