// Tokenizers that give Hugging Face's ids: the pipeline every model shares (added/special
// tokens matched in the raw text, normalisation, pre-tokenisation + model, the post-processing
// template such as [CLS] A [SEP]) and load_tokenizer(), which picks WordPiece (BERT) or
// byte-level BPE (GPT-2) from the files of a model directory.
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

class Tokenizer {
 public:
  virtual ~Tokenizer();
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

  const std::vector<AddedToken>& added_tokens() const { return added_; }
  const PostTemplate& post_template() const { return template_; }
  const SpecialTokenIds& special_ids() const { return special_ids_; }
  void set_special_ids(const SpecialTokenIds& ids) { special_ids_ = ids; }
  /// "WordPiece" or "BPE".
  virtual std::string_view model_type() const = 0;

 protected:
  /// `vocab` maps tokens to ids; added tokens missing from it are added.
  Tokenizer(std::unordered_map<std::string, std::int64_t> vocab, std::vector<AddedToken> added,
            PostTemplate post_template);

  /// Normalises valid UTF-8 (default: unchanged).
  virtual std::string normalize(std::string_view text) const;
  /// Pre-tokenises normalised text and runs the model on each piece.
  virtual void tokenize(std::string_view normalized, Encoding& out) const = 0;
  /// Joins vocabulary tokens into text.
  virtual std::string decode_tokens(const std::vector<std::string>& tokens) const = 0;

  /// Derived constructors call this last: it normalises the contents of the added tokens
  /// that are matched in normalised text (a virtual call, so not from this constructor).
  void prepare_added_tokens();

  const std::unordered_map<std::string, std::int64_t>& vocab() const { return vocab_; }

 private:
  Encoding encode_text(std::string_view text) const;

  std::unordered_map<std::string, std::int64_t> vocab_;
  std::unordered_map<std::int64_t, std::string> id_to_token_;
  std::int64_t vocab_size_ = 0;
  std::vector<AddedToken> added_;
  std::vector<std::string> normalized_added_;  ///< normalize(content) of normalized tokens
  PostTemplate template_;
  SpecialTokenIds special_ids_;
};

struct TokenizerLoadOptions {
  enum class Source {
    Auto,           ///< tokenizer.json when present, else vocab.txt or vocab.json + merges.txt
    TokenizerJson,  ///< tokenizer.json only
    VocabFiles,     ///< vocab.txt (WordPiece) or vocab.json + merges.txt (BPE) only
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
