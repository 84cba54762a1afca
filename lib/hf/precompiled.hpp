// SentencePiece's precompiled normalisation map (NormalizerSpec.precompiled_charsmap, and the
// "Precompiled" normaliser of tokenizer.json): a little-endian u32 byte count, a darts-clone
// double-array trie over UTF-8 byte strings of that many bytes, then NUL-terminated
// replacement strings the trie's values point into.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace attnflow::hf::detail {

class CharsMap {
 public:
  /// Throws Error "<where>: ..." when the blob is too short or its sizes do not add up.
  CharsMap(std::string_view blob, std::string where);

  /// The lengths and replacements of every key that is a prefix of `text`, shortest first
  /// (darts' commonPrefixSearch). Throws Error naming the map when the trie points outside
  /// itself (a garbled map).
  std::vector<std::pair<std::size_t, std::string_view>> prefixes(std::string_view text) const;

  /// SentencePiece's Normalizer::NormalizePrefix: the longest key at the start of `text` and
  /// its replacement, else one UTF-8 character unchanged (an invalid byte: U+FFFD, one byte
  /// consumed). Returns (replacement, bytes consumed); `text` must not be empty.
  std::pair<std::string_view, std::size_t> normalize_prefix(std::string_view text) const;

  /// Hugging Face's Precompiled (spm_precompiled's normalize_string): per extended grapheme
  /// cluster shorter than 6 bytes, the replacement of the cluster's shortest matching prefix
  /// replaces the whole cluster; otherwise character by character.
  std::string normalize_hf(std::string_view text) const;

  /// Throws Error naming the map unless its replacement strings are valid UTF-8 (Hugging
  /// Face's requirement).
  void check_utf8() const;

 private:
  std::uint32_t unit(std::size_t index) const;
  std::string_view replacement(std::uint32_t offset) const;

  std::vector<std::uint32_t> units_;
  std::string normalized_;
  std::string where_;
};

/// Standard base64 (with or without '=' padding); throws Error "<where>: ..." on other text.
std::string decode_base64(std::string_view text, const std::string& where);

}  // namespace attnflow::hf::detail
