// GPT-2's byte-level BPE tokenizer: the GPT-2 pre-tokenisation regex (ICU), every byte mapped
// to a printable character (bytes_to_unicode), then BPE merges applied lowest rank first.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <utility>

#include "attnflow/hf/tokenizer.hpp"

namespace attnflow::hf {

struct BpeOptions {
  bool add_prefix_space = false;         ///< prepend ' ' unless the text starts with one
  bool use_regex = true;                 ///< split with the GPT-2 regex before BPE
  bool ignore_merges = false;            ///< a piece that is a vocabulary token is taken whole
  std::optional<std::string> unk_token;  ///< unset: bytes missing from the vocabulary are dropped
};

class ByteLevelBpeTokenizer final : public Tokenizer {
 public:
  /// `merges` in rank order. `source` names the files in messages. Throws Error when a merge
  /// names a token missing from `vocab`, or its result is missing.
  ByteLevelBpeTokenizer(std::unordered_map<std::string, std::int64_t> vocab,
                        const std::vector<std::pair<std::string, std::string>>& merges,
                        std::vector<AddedToken> added, PostTemplate post_template,
                        BpeOptions options, const std::string& source);
  ~ByteLevelBpeTokenizer() override;

  const BpeOptions& options() const { return options_; }
  std::string_view model_type() const override { return "BPE"; }

  /// The character GPT-2 uses for a byte ('Ġ' for a space).
  static char32_t byte_to_char(std::uint8_t byte);

 protected:
  void tokenize(std::string_view normalized, Encoding& out) const override;
  std::string decode_tokens(const std::vector<std::string>& tokens) const override;

 private:
  struct Merge {
    std::int32_t rank;
    std::int64_t id;
  };
  void bpe(std::string_view piece, Encoding& out) const;

  BpeOptions options_;
  std::unordered_map<std::uint64_t, Merge> merges_;  ///< (left id, right id) -> merge
  std::array<std::int64_t, 256> byte_ids_{};         ///< -1 where the vocabulary lacks the byte
  std::optional<std::int64_t> unk_id_;
  struct Regex;  // the compiled ICU pattern (ICU stays out of this header)
  std::unique_ptr<Regex> regex_;
};

}  // namespace attnflow::hf
