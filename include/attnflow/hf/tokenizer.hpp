// Tokenizers that give Hugging Face's ids: one engine running the pipeline of a tokenizer.json
// (added/special tokens matched in the raw text, normalisers, pre-tokenisers, a WordPiece, BPE
// or Unigram model, the post-processing template such as [CLS] A [SEP], the decoder), and
// load_tokenizer(), which reads it from a model directory (tokenizer.json, else vocab.txt,
// vocab.json + merges.txt, or a SentencePiece model).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace attnflow::hf {

/// Largest token id a loaded tokenizer accepts (Hugging Face's tokenizers use 32-bit ids; real
/// vocabularies stay below a few million).
inline constexpr std::int64_t kMaxTokenId = 2'147'483'647;

/// One encoded text; all vectors have the same length.
struct Encoding {
  std::vector<std::int64_t> ids;
  std::vector<std::string> tokens;     ///< vocabulary strings ("##ing", GPT-2's "Ġcat")
  std::vector<std::int32_t> type_ids;  ///< segment: 0 = first text, 1 = second text of a pair
  std::vector<std::uint8_t> special;   ///< 1 for special tokens ([CLS], [SEP], a matched [MASK])
};

struct EncodeOptions {
  bool add_special_tokens = true;  ///< apply the post-processing template ([CLS] A [SEP])
};

/// A token matched in the text before the model sees it ("added_tokens" of tokenizer.json).
struct AddedToken {
  std::string content;
  std::int64_t id = 0;
  bool special = true;       ///< skipped by decode(..., skip_special = true)
  bool normalized = false;   ///< matched in normalised rather than raw text
  bool lstrip = false;       ///< absorbs the whitespace on its left
  bool rstrip = false;       ///< absorbs the whitespace on its right
  bool single_word = false;  ///< matches only as a whole word
};

/// One item of a post-processing template ("TemplateProcessing").
struct TemplateItem {
  int sequence = -1;              ///< 0 = first text (A), 1 = second (B), -1 = tokens below
  std::vector<std::int64_t> ids;  ///< special token ids
  std::vector<std::string> tokens;
  std::int32_t type_id = 0;
};

/// The template for one text and for a pair; empty templates add nothing (GPT-2).
struct PostTemplate {
  std::vector<TemplateItem> single;
  std::vector<TemplateItem> pair;
};

/// Ids of the tokens a model treats specially; unset when the tokenizer has none.
struct SpecialTokenIds {
  std::optional<std::int64_t> unk, pad, cls, sep, mask, bos, eos;
};

namespace detail {
struct Pipeline;
}

class Tokenizer {
 public:
  /// Built by load_tokenizer() or tokenizer_from_json().
  explicit Tokenizer(std::unique_ptr<detail::Pipeline> pipeline);
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  /// Encodes UTF-8 text. Throws Error "text: invalid UTF-8 at byte N (0xXX)" for invalid input.
  /// Safe to call from several threads at once.
  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  /// Encodes a pair of texts (e.g. premise and hypothesis: [CLS] A [SEP] B [SEP]).
  Encoding encode_pair(std::string_view first, std::string_view second,
                       const EncodeOptions& options = {}) const;
  /// Text of the ids, as Hugging Face's decoder gives it (WordPiece joins "##" pieces, byte-level
  /// BPE maps bytes back; invalid UTF-8 becomes U+FFFD). Throws Error for an unknown id.
  std::string decode(const std::vector<std::int64_t>& ids, bool skip_special = false) const;

  std::optional<std::int64_t> token_to_id(std::string_view token) const;
  /// Throws Error for an id without a token.
  const std::string& id_to_token(std::int64_t id) const;
  /// Largest id + 1 (the embedding rows a model needs).
  std::int64_t vocab_size() const { return vocab_size_; }

  const std::vector<AddedToken>& added_tokens() const;
  const PostTemplate& post_template() const;
  const SpecialTokenIds& special_ids() const { return special_ids_; }
  void set_special_ids(const SpecialTokenIds& ids) { special_ids_ = ids; }
  /// "WordPiece", "BPE" or "Unigram".
  std::string_view model_type() const;
  /// The model's unknown token, if it has one.
  std::optional<std::string> unk_token() const;

 private:
  Encoding encode_text(std::string_view text) const;
  std::string normalize(std::u32string text) const;

  std::unique_ptr<const detail::Pipeline> pipeline_;
  std::unordered_map<std::string, std::int64_t> vocab_;  ///< model vocabulary + added tokens
  std::unordered_map<std::int64_t, std::string> id_to_token_;
  std::int64_t vocab_size_ = 0;
  std::vector<std::string> normalized_added_;  ///< normalised content of normalized tokens
  SpecialTokenIds special_ids_;
};

/// A tokenizer from the text of a tokenizer.json; `source` names it in messages. Throws Error
/// naming the source and the JSON path of what is invalid or unsupported.
std::unique_ptr<Tokenizer> tokenizer_from_json(std::string_view json_text,
                                               const std::string& source);

struct TokenizerLoadOptions {
  enum class Source {
    Auto,           ///< tokenizer.json when present, else the vocabulary files below
    TokenizerJson,  ///< tokenizer.json only
    /// vocab.txt (WordPiece), vocab.json + merges.txt (BPE) or a SentencePiece model
    /// (spiece.model, sentencepiece.bpe.model, tokenizer.model) only
    VocabFiles,
  };
  Source source = Source::Auto;
};

/// Loads the tokenizer of a Hugging Face model directory, with the settings of its
/// tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars,
/// add_prefix_space and the special tokens override tokenizer.json as in transformers).
/// Throws Error naming the directory or file for missing files, invalid JSON and model,
/// normaliser, pre-tokeniser or post-processor types we do not implement.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir,
                                          const TokenizerLoadOptions& options = {});

}  // namespace attnflow::hf
