// Strict UTF-8 (RFC 3629): one decoder of a sequence, used for validation messages,
// decoding and sanitising.
#include "attnflow/core/util/utf8.hpp"

#include <cstdio>

#include "attnflow/core/error.hpp"

namespace attnflow {
namespace {

// One sequence starting at text[i]: its length (0 = invalid) and, when invalid, the offset
// of the first byte that makes it so (`bad`, == text.size() when it is cut off).
struct Sequence {
  std::size_t length = 0;
  char32_t code_point = 0;
  std::size_t bad = 0;
};

Sequence scan(std::string_view text, std::size_t i) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  const unsigned char c = s[i];
  if (c < 0x80) return {1, c, 0};
  std::size_t extra = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80, hi = 0xbf;  // allowed range of the second byte
  if (c >= 0xc2 && c <= 0xdf) {
    extra = 1;
    cp = c & 0x1fu;
  } else if (c >= 0xe0 && c <= 0xef) {
    extra = 2;
    cp = c & 0x0fu;
    if (c == 0xe0) lo = 0xa0;  // no overlong 3-byte forms
    if (c == 0xed) hi = 0x9f;  // no UTF-16 surrogates
  } else if (c >= 0xf0 && c <= 0xf4) {
    extra = 3;
    cp = c & 0x07u;
    if (c == 0xf0) lo = 0x90;  // no overlong 4-byte forms
    if (c == 0xf4) hi = 0x8f;  // nothing above U+10FFFF
  } else {
    return {0, 0, i};  // a continuation byte, an overlong lead (0xc0, 0xc1) or 0xf5..0xff
  }
  for (std::size_t k = 1; k <= extra; ++k) {
    if (i + k >= n) return {0, 0, n};
    const unsigned char b = s[i + k];
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return {0, 0, i + k};
    cp = (cp << 6) | (b & 0x3fu);
  }
  return {extra + 1, cp, 0};
}

std::string problem_at(std::string_view text, std::size_t i, const Sequence& seq) {
  if (seq.bad >= text.size()) {
    return "is not valid UTF-8 (sequence truncated at offset " + std::to_string(i) + ")";
  }
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(text[seq.bad]));
  return "is not valid UTF-8 (byte " + std::string(hex) + " at offset " + std::to_string(seq.bad) +
         ")";
}

}  // namespace

std::string utf8_problem(std::string_view text, NulBytes nul) {
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '\0' && nul == NulBytes::Rejected) {
      return "contains a NUL byte at offset " + std::to_string(i);
    }
    const Sequence seq = scan(text, i);
    if (seq.length == 0) return problem_at(text, i, seq);
    i += seq.length;
  }
  return {};
}

void require_utf8(std::string_view text, const std::string& what, NulBytes nul) {
  const std::string problem = utf8_problem(text, nul);
  if (!problem.empty()) throw Error(what + " " + problem);
}

std::size_t utf8_sequence(std::string_view text, std::size_t i, char32_t* code_point) {
  if (i >= text.size()) return 0;
  const Sequence seq = scan(text, i);
  if (code_point && seq.length) *code_point = seq.code_point;
  return seq.length;
}

std::u32string decode_utf8(std::string_view text, const std::string& what) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const Sequence seq = scan(text, i);
    if (seq.length == 0) throw Error(what + " " + problem_at(text, i, seq));
    out.push_back(seq.code_point);
    i += seq.length;
  }
  return out;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) append_utf8(out, c);
  return out;
}

std::string sanitize_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const std::size_t len = scan(bytes, i).length;
    if (len == 0) {
      append_utf8(out, 0xfffd);
      ++i;
    } else {
      out.append(bytes.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace attnflow
