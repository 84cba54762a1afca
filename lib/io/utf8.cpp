// Strict UTF-8 validation (RFC 3629) with a message that points at the byte.
#include "attnflow/io/utf8.hpp"

#include <cstdio>

#include "attnflow/core/error.hpp"

namespace attnflow::io {
namespace {

std::string bad_byte(unsigned char byte, std::size_t offset) {
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", byte);
  return "is not valid UTF-8 (byte " + std::string(hex) + " at offset " + std::to_string(offset) +
         ")";
}

}  // namespace

std::string utf8_problem(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    if (c == 0) return "contains a NUL byte at offset " + std::to_string(i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra = 0;
    unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c >= 0xe0 && c <= 0xef) {
      extra = 2;
      if (c == 0xe0) lo = 0xa0;  // no overlong 3-byte forms
      if (c == 0xed) hi = 0x9f;  // no UTF-16 surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      extra = 3;
      if (c == 0xf0) lo = 0x90;  // no overlong 4-byte forms
      if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
    } else {
      return bad_byte(c, i);
    }
    for (int k = 1; k <= extra; ++k) {
      if (i + static_cast<std::size_t>(k) >= n) {
        return "is not valid UTF-8 (sequence truncated at offset " + std::to_string(i) + ")";
      }
      const unsigned char b = s[i + static_cast<std::size_t>(k)];
      const unsigned char low = k == 1 ? lo : 0x80, high = k == 1 ? hi : 0xbf;
      if (b < low || b > high) return bad_byte(b, i + static_cast<std::size_t>(k));
    }
    i += static_cast<std::size_t>(extra) + 1;
  }
  return {};
}

void require_utf8(const std::string& text, const std::string& what) {
  const std::string problem = utf8_problem(text);
  if (!problem.empty()) throw Error(what + " " + problem);
}

}  // namespace attnflow::io
