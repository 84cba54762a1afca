// Private Unicode helpers of the tokenizers: strict UTF-8 decoding and the character
// classes, case mapping and NFD decomposition BERT's normaliser needs (via ICU).
#pragma once

#include <string>
#include <string_view>

namespace attnflow::hf::detail {

/// Decodes UTF-8. Throws Error "<what>: invalid UTF-8 at byte N (0xXX)" for bad lead or
/// continuation bytes, overlong forms, surrogates and code points above U+10FFFF.
std::u32string decode_utf8(std::string_view text, const std::string& what);

void append_utf8(std::string& out, char32_t c);
std::string encode_utf8(std::u32string_view text);

/// Replaces invalid UTF-8 sequences with U+FFFD (for decoded byte-level text).
std::string sanitize_utf8(std::string_view bytes);

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
