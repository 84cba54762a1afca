// SentencePiece's precompiled character map: the darts-clone double array read as SentencePiece
// (normalizer.cc) and Hugging Face's spm_precompiled read it, with every index checked.
#include "precompiled.hpp"

#include <algorithm>
#include <boost/archive/iterators/binary_from_base64.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <cstring>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utf8.hpp"
#include "tokenizer_pipeline.hpp"
#include "unicode.hpp"

namespace attnflow::hf::detail {

namespace {

// darts-clone's DoubleArrayUnit.
bool has_leaf(std::uint32_t u) {
  return ((u >> 8) & 1) == 1;
}
std::uint32_t value(std::uint32_t u) {
  return u & ((1u << 31) - 1);
}
std::uint32_t label(std::uint32_t u) {
  return u & ((1u << 31) | 0xFF);
}
std::uint32_t offset(std::uint32_t u) {
  return (u >> 10) << ((u & (1u << 9)) >> 6);
}

std::uint32_t le32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<std::uint32_t>(b[0]) | (static_cast<std::uint32_t>(b[1]) << 8) |
         (static_cast<std::uint32_t>(b[2]) << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
}

}  // namespace

CharsMap::CharsMap(std::string_view blob, std::string where) : where_(std::move(where)) {
  if (blob.size() <= 4)
    throw Error(where_ + ": " + std::to_string(blob.size()) + " bytes, too short for a trie");
  const std::uint32_t trie_bytes = le32(blob.data());
  if (trie_bytes == 0 || trie_bytes % 4 != 0 || trie_bytes > blob.size() - 4) {
    throw Error(where_ + ": trie size " + std::to_string(trie_bytes) + " does not fit the " +
                std::to_string(blob.size()) + "-byte map (a multiple of 4 up to the size - 4)");
  }
  units_.resize(trie_bytes / 4);
  for (std::size_t i = 0; i < units_.size(); ++i) units_[i] = le32(blob.data() + 4 + 4 * i);
  normalized_ = std::string(blob.substr(4 + trie_bytes));
}

std::uint32_t CharsMap::unit(std::size_t index) const {
  if (index >= units_.size()) {
    throw Error(where_ + ": garbled trie (unit " + std::to_string(index) + " of " +
                std::to_string(units_.size()) + ")");
  }
  return units_[index];
}

std::string_view CharsMap::replacement(std::uint32_t at) const {
  if (at >= normalized_.size()) {
    throw Error(where_ + ": garbled trie (replacement offset " + std::to_string(at) + " past the " +
                std::to_string(normalized_.size()) + " bytes of strings)");
  }
  const char* begin = normalized_.data() + at;
  const void* nul = std::memchr(begin, 0, normalized_.size() - at);
  const std::size_t n = nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - begin)
                            : normalized_.size() - at;
  return {begin, n};
}

std::vector<std::pair<std::size_t, std::string_view>> CharsMap::prefixes(
    std::string_view text) const {
  std::vector<std::pair<std::size_t, std::string_view>> out;
  std::size_t node = offset(unit(0));
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == 0) break;  // keys are NUL-terminated strings
    node ^= c;
    const std::uint32_t u = unit(node);
    if (label(u) != c) break;
    node ^= offset(u);
    if (has_leaf(u)) out.emplace_back(i + 1, replacement(value(unit(node))));
  }
  return out;
}

std::pair<std::string_view, std::size_t> CharsMap::normalize_prefix(std::string_view text) const {
  const auto found = prefixes(text);
  if (!found.empty()) return {found.back().second, found.back().first};
  const std::size_t n = utf8_sequence(text, 0);
  if (n > 0) return {text.substr(0, n), n};
  return {"\xEF\xBF\xBD", 1};  // a malformed byte: U+FFFD, one byte consumed
}

std::string CharsMap::normalize_hf(std::string_view text) const {
  std::string out;
  out.reserve(text.size());
  const std::vector<std::size_t> bounds = grapheme_bounds(text);
  for (std::size_t g = 0; g + 1 < bounds.size(); ++g) {
    const std::string_view cluster = text.substr(bounds[g], bounds[g + 1] - bounds[g]);
    if (cluster.size() < 6) {
      const auto found = prefixes(cluster);
      if (!found.empty()) {
        out += found.front().second;
        continue;
      }
    }
    for (std::size_t i = 0; i < cluster.size();) {
      const std::size_t n = std::max<std::size_t>(utf8_sequence(cluster, i), 1);
      const std::string_view c = cluster.substr(i, n);
      const auto found = prefixes(c);
      out += found.empty() ? c : found.front().second;
      i += n;
    }
  }
  return out;
}

std::string decode_base64(std::string_view text, const std::string& where) {
  std::string s(text);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
          c == '/')) {
      throw Error(where + ": not base64 (character " + std::to_string(i + 1) + ")");
    }
  }
  if (s.size() % 4 == 1)
    throw Error(where + ": not base64 (length " + std::to_string(text.size()) + ")");
  using namespace boost::archive::iterators;
  using Base64 = transform_width<binary_from_base64<std::string::const_iterator>, 8, 6>;
  std::string out(Base64(s.cbegin()), Base64(s.cend()));
  out.resize(s.size() * 6 / 8);
  return out;
}

void CharsMap::check_utf8() const {
  const std::string problem = utf8_problem(normalized_, NulBytes::Allowed);
  if (!problem.empty()) throw Error(where_ + ": its replacement text " + problem);
}

}  // namespace attnflow::hf::detail

// ---- the "Precompiled" normaliser of tokenizer.json -------------------------------------

namespace attnflow::hf::detail {

namespace {

class Precompiled final : public Normalizer {
 public:
  explicit Precompiled(CharsMap map) : map_(std::move(map)) {}
  void normalize(std::u32string& text) const override {
    text = decode_utf8(map_.normalize_hf(encode_utf8(text)), "Precompiled normaliser output");
  }

 private:
  CharsMap map_;
};

}  // namespace

std::unique_ptr<Normalizer> parse_precompiled(const nlohmann::json& j, const JsonAt& at) {
  const JsonAt field = at / "precompiled_charsmap";
  const auto text = at.get_string(j, "precompiled_charsmap");
  if (!text) field.fail("must be a base64 string (SentencePiece's normalisation map)");
  const std::string blob = decode_base64(*text, field.where());
  CharsMap map(blob, field.where());
  map.check_utf8();
  return std::make_unique<Precompiled>(std::move(map));
}

}  // namespace attnflow::hf::detail
