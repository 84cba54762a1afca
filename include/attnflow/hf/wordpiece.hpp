// BERT's WordPiece tokenizer: BertNormalizer (drop control characters, space out CJK
// ideographs, strip accents and lower-case for uncased models), BertPreTokenizer (split on
// whitespace and punctuation), then greedy longest-match-first WordPiece with "##" pieces.
#pragma once

#include <optional>

#include "attnflow/hf/tokenizer.hpp"

namespace attnflow::hf {

struct WordPieceOptions {
  bool lowercase = true;              ///< do_lower_case (uncased models)
  std::optional<bool> strip_accents;  ///< unset: strip when lower-casing (BERT's rule)
  bool clean_text = true;             ///< drop control characters, whitespace becomes ' '
  bool handle_chinese_chars = true;   ///< each CJK ideograph is a word of its own
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  int max_input_chars_per_word = 100;  ///< longer words become unk_token
};

class WordPieceTokenizer final : public Tokenizer {
 public:
  /// `source` names the vocabulary file in messages. Throws Error when unk_token is not in
  /// `vocab`.
  WordPieceTokenizer(std::unordered_map<std::string, std::int64_t> vocab,
                     std::vector<AddedToken> added, PostTemplate post_template,
                     WordPieceOptions options, const std::string& source);

  const WordPieceOptions& options() const { return options_; }
  std::string_view model_type() const override { return "WordPiece"; }

 protected:
  std::string normalize(std::string_view text) const override;
  void tokenize(std::string_view normalized, Encoding& out) const override;
  std::string decode_tokens(const std::vector<std::string>& tokens) const override;

 private:
  void wordpiece(std::u32string_view word, Encoding& out) const;

  WordPieceOptions options_;
  std::int64_t unk_id_ = 0;
};

}  // namespace attnflow::hf
