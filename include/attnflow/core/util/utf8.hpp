// Strict UTF-8 (RFC 3629): validation with a message that points at the bad byte,
// decoding to code points and encoding back. Overlong forms, UTF-16 surrogates, code
// points above U+10FFFF and truncated sequences are invalid.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace attnflow {

/// Whether a NUL byte (valid UTF-8) is accepted: strings stored in HDF5 or passed to C
/// APIs reject it.
enum class NulBytes { Allowed, Rejected };

/// Empty when `text` is valid UTF-8 (and NUL-free when `nul` is Rejected); otherwise what
/// is wrong with the first bad sequence: "is not valid UTF-8 (byte 0xff at offset 3)",
/// "is not valid UTF-8 (sequence truncated at offset 4)" or "contains a NUL byte at offset 1".
std::string utf8_problem(std::string_view text, NulBytes nul);

/// Throws Error("<what> <problem>") when utf8_problem(text, nul) is not empty.
void require_utf8(std::string_view text, const std::string& what, NulBytes nul);

/// Length (1 to 4) of the valid UTF-8 sequence that starts at byte `i` of `text`, and its
/// code point in `*code_point` (when given); 0 when no valid sequence starts there.
std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t* code_point = nullptr);

/// Decodes `text` into code points (NUL allowed). Throws Error("<what> <problem>") as
/// require_utf8 does.
std::u32string decode_utf8(std::string_view text, const std::string& what);

/// Appends the UTF-8 form of code point `c` (which must be a valid scalar value).
void append_utf8(std::string& out, char32_t c);
std::string encode_utf8(std::u32string_view text);

/// Replaces each byte that starts no valid sequence with U+FFFD (for byte-level text).
std::string sanitize_utf8(std::string_view bytes);

}  // namespace attnflow
