// parse_npy_header: a single pass over the header text with a cursor; every loop advances it,
// so the time is linear in the header length and nothing recurses.
#include "npy_header.hpp"

#include <set>

#include "attnflow/core/error.hpp"

namespace attnflow::io::detail {
namespace {

class Scanner {
 public:
  Scanner(std::string_view text, const std::string& path) : text_(text), path_(path) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw Error(path_ + ": header: " + what + " at offset " + std::to_string(pos_));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool at_end() {
    skip_space();
    return pos_ >= text_.size();
  }
  char peek() {
    skip_space();
    return pos_ < text_.size() ? text_[pos_] : '\0';
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++pos_;
  }
  bool accept(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  /// A '...' or "..." literal without escapes (NumPy writes none in its three keys).
  std::string string_literal() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("expected a quoted string");
    const std::size_t start = ++pos_;
    const std::size_t end = text_.find(quote, start);
    if (end == std::string_view::npos) fail("unterminated string");
    if (text_.substr(start, end - start).find('\\') != std::string_view::npos) {
      fail("escapes in strings are not supported");
    }
    pos_ = end + 1;
    return std::string(text_.substr(start, end - start));
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}}) {
      const std::string_view w(word);
      if (text_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        return value;
      }
    }
    fail("expected True or False");
  }
  std::uint64_t integer() {
    skip_space();
    const std::size_t start = pos_;
    std::uint64_t v = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const auto digit = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (v > ((std::uint64_t{1} << 63) - 1 - digit) / 10) fail("dimension too large");
      v = v * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative decimal integer");
    return v;
  }
  /// (d0, d1, ...) with an optional trailing comma; () is a scalar.
  std::vector<std::uint64_t> shape_tuple() {
    expect('(');
    std::vector<std::uint64_t> dims;
    while (!accept(')')) {
      if (dims.size() == kNpyMaxDims)
        fail("more than " + std::to_string(kNpyMaxDims) + " dimensions");
      dims.push_back(integer());
      if (accept(')')) break;
      if (!accept(',')) fail("expected ',' or ')' after a dimension");
    }
    return dims;
  }

 private:
  std::string_view text_;
  const std::string& path_;
  std::size_t pos_ = 0;
};

}  // namespace

NpyHeader parse_npy_header(std::string_view text, const std::string& path) {
  Scanner s(text, path);
  NpyHeader h;
  std::set<std::string> seen;
  s.expect('{');
  while (!s.accept('}')) {
    const std::string key = s.string_literal();
    if (key != "descr" && key != "fortran_order" && key != "shape") {
      s.fail("unknown key '" + key + "' (expected descr, fortran_order and shape)");
    }
    if (!seen.insert(key).second) s.fail("key '" + key + "' given twice");
    s.expect(':');
    if (key == "descr") {
      h.descr = s.string_literal();
    } else if (key == "fortran_order") {
      h.fortran_order = s.boolean();
    } else {
      h.shape = s.shape_tuple();
    }
    if (s.accept('}')) break;
    if (!s.accept(',')) s.fail("expected ',' or '}' after the value of '" + key + "'");
  }
  if (!s.at_end()) s.fail("text after the closing '}'");
  for (const char* key : {"descr", "fortran_order", "shape"}) {
    if (seen.count(key) == 0) throw Error(path + ": header has no '" + key + "'");
  }
  return h;
}

}  // namespace attnflow::io::detail
