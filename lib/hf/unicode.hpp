// Private Unicode helpers of the tokenizers: the character classes, case mapping and NFD
// decomposition BERT's normaliser needs (via ICU); UTF-8 itself is core/util/utf8.hpp.
#pragma once

#include <string>
#include <string_view>

namespace attnflow::hf::detail {

bool is_whitespace(char32_t c);        ///< Unicode White_Space (Rust's char::is_whitespace)
bool is_control(char32_t c);           ///< categories Cc Cf Cn Co Cs, except \t \n \r
bool is_bert_punctuation(char32_t c);  ///< ASCII punctuation or a P* category
bool is_chinese_char(char32_t c);      ///< CJK ideograph blocks, as tokenizers (Rust) lists them
bool is_nonspacing_mark(char32_t c);   ///< category Mn
bool is_alphanumeric(char32_t c);

/// Appends the full lower-case mapping of one character (İ gives i + U+0307), with no
/// context rules (Σ always gives σ), as Hugging Face's tokenizers do.
void append_lowercase(std::u32string& out, char32_t c);

/// Canonical decomposition (NFD).
std::u32string nfd(std::u32string_view text);

}  // namespace attnflow::hf::detail
