// UTF-8 validation for token strings: the HDF5 store stores tokens as UTF-8
// variable-length strings and rejects anything else (overlong forms,
// surrogates, code points above U+10FFFF, truncated sequences, NUL bytes).
#pragma once

#include <string>

namespace attnflow::io {

/// Empty when `text` is valid UTF-8 without NUL bytes; otherwise what is
/// wrong, e.g. "byte 0xff at offset 3 is not valid UTF-8".
std::string utf8_problem(const std::string& text);

/// Throws Error("<what> <problem>") unless `text` is valid UTF-8 without NUL.
void require_utf8(const std::string& text, const std::string& what);

}  // namespace attnflow::io
