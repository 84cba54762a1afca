// Private parts of the tokenizer engine: the stages of Hugging Face's pipeline (normaliser,
// pre-tokeniser, model, decoder) as interfaces, their tokenizer.json parsers, and the Pipeline a
// Tokenizer runs. Each stage lives in its own file (normalizer.cpp, pre_tokenizer.cpp,
// wordpiece.cpp, bpe.cpp, unigram.cpp, tokenizer_decoder.cpp, post_processor.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "attnflow/hf/tokenizer.hpp"
#include "tokenizer_json.hpp"

namespace attnflow::hf::detail {

/// A node of a JSON file: the file and the node's JSON Pointer, for messages such as
/// "tokenizer.json: /normalizer/normalizers/2/type: unknown normalizer 'Foo'".
struct JsonAt {
  std::string file;
  std::string pointer;       ///< "" for the document itself
  bool show_pointer = true;  ///< false for a document built from vocab.txt / vocab.json

  JsonAt operator/(const std::string& key) const {
    return {file, pointer + "/" + key, show_pointer};
  }
  JsonAt operator/(std::size_t index) const {
    return {file, pointer + "/" + std::to_string(index), show_pointer};
  }
  /// "<file>: <pointer>" (just the file at the top or without pointers).
  std::string where() const {
    return pointer.empty() || !show_pointer ? file : file + ": " + pointer;
  }
  [[noreturn]] void fail(const std::string& problem) const;

  // Typed reads of a member of the object `j` (absent or null: the fallback / nullopt).
  bool get_bool(const nlohmann::json& j, const char* key, bool fallback) const;
  std::optional<std::string> get_string(const nlohmann::json& j, const char* key) const;
  std::int64_t get_int(const nlohmann::json& j, const char* key, std::int64_t fallback,
                       std::int64_t lo, std::int64_t hi) const;
  /// The member "type" of an object; `what` names the stage in messages ("normalizer").
  std::string type_of(const nlohmann::json& j, const std::string& what) const;
};

/// The stages of a "Sequence": `parse(item, at)` for every item of the list `j[key]` (null
/// items, which parse to nullptr, are left out); `what` names the stages in messages.
template <typename Stage, typename Parse>
std::vector<std::unique_ptr<Stage>> parse_list(const nlohmann::json& j, const char* key,
                                               const JsonAt& at, const std::string& what,
                                               Parse parse) {
  const JsonAt list = at / key;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) list.fail("must be a list of " + what);
  std::vector<std::unique_ptr<Stage>> parts;
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (auto stage = parse((*it)[i], list / i)) parts.push_back(std::move(stage));
  }
  return parts;
}

/// One piece of text in code points.
using Piece = std::u32string;

class Regex;

/// A string member as code points; throws naming the member when it is missing or no string.
std::u32string json_u32(const nlohmann::json& j, const char* key, const JsonAt& at);
/// The "pattern" of Replace and Split: {"String": s} sets `literal` and returns null,
/// {"Regex": r} returns the compiled regex.
std::unique_ptr<Regex> parse_pattern(const nlohmann::json& j, const JsonAt& at,
                                     std::u32string& literal);

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void normalize(std::u32string& text) const = 0;
};

/// tokenizer.json's "normalizer" (null gives nullptr).
std::unique_ptr<Normalizer> parse_normalizer(const nlohmann::json& j, const JsonAt& at);

/// tokenizer.json's {"type": "Precompiled", "precompiled_charsmap": "<base64>"}.
std::unique_ptr<Normalizer> parse_precompiled(const nlohmann::json& j, const JsonAt& at);

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  /// Splits the pieces further; empty pieces are dropped. `first`: pieces[0] starts the text
  /// (Metaspace's prepend_scheme "first").
  virtual void split(std::vector<Piece>& pieces, bool first) const = 0;
};

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const nlohmann::json& j, const JsonAt& at);

class Model {
 public:
  virtual ~Model() = default;
  /// Appends the ids and tokens of one pre-tokenised piece.
  virtual void tokenize(std::u32string_view piece, Encoding& out) const = 0;
  virtual std::string_view type() const = 0;
  /// Token -> id of the model's own vocabulary.
  virtual const Vocab& vocab() const = 0;
  /// The model's unknown token, if it has one.
  virtual std::optional<std::string> unk_token() const = 0;
};

struct BpeSettings {
  std::optional<std::string> unk_token;
  std::string prefix;  ///< continuing_subword_prefix
  std::string suffix;  ///< end_of_word_suffix
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  /// Every merge giving the same token has the rank of the first of them (SentencePiece's BPE,
  /// which merges the adjacent pair whose result scores highest, leftmost first).
  bool rank_by_result = false;
  /// attnflow's own key "attnflow_unknown_is_error" (the character vocabulary of `attnflow
  /// train lm`): a character without an id is an Error naming it, where tokenizers drops it.
  bool unknown_is_error = false;
};
/// A BPE model; `at` names the model in messages (its "merges" member for merge errors).
std::unique_ptr<Model> make_bpe(Vocab vocab,
                                const std::vector<std::pair<std::string, std::string>>& merges,
                                const BpeSettings& settings, const JsonAt& at);
struct UnigramSettings {
  std::optional<std::int64_t> unk_id;
  bool byte_fallback = false;
  /// Pieces the Viterbi search may use (empty: all, as in tokenizers; SentencePiece leaves out
  /// control, unknown, byte and unused pieces).
  std::vector<bool> searchable;
  /// The lowest score, which gives the unknown token's score minus 10 (unset: the lowest of
  /// all pieces; SentencePiece: of its normal pieces).
  std::optional<double> min_score;
};
/// A Unigram model of (piece, log-probability) with ids in list order.
std::unique_ptr<Model> make_unigram(std::vector<std::pair<std::string, double>> pieces,
                                    UnigramSettings settings, const JsonAt& at);
std::unique_ptr<Model> parse_wordpiece(const nlohmann::json& j, const JsonAt& at);
std::unique_ptr<Model> parse_bpe(const nlohmann::json& j, const JsonAt& at);
std::unique_ptr<Model> parse_unigram(const nlohmann::json& j, const JsonAt& at);
/// Dispatches on "type" (or infers it like tokenizers does when there is none).
std::unique_ptr<Model> parse_model(const nlohmann::json& j, const JsonAt& at);

class Decoder {
 public:
  virtual ~Decoder() = default;
  /// Hugging Face's decode_chain: tokens in, strings out (joined by the caller).
  virtual void decode(std::vector<std::string>& tokens) const = 0;
};

/// tokenizer.json's "decoder" (null gives nullptr: tokens are joined with spaces).
std::unique_ptr<Decoder> parse_decoder(const nlohmann::json& j, const JsonAt& at);

/// tokenizer.json's "post_processor" (TemplateProcessing, BertProcessing, RobertaProcessing,
/// ByteLevel, Sequence, null).
PostTemplate parse_post_processor(const nlohmann::json& j, const JsonAt& at);

/// GPT-2's bytes_to_unicode: the printable character standing for each byte ('Ġ' for ' ').
char32_t byte_to_char(std::uint8_t byte);
/// The byte a character of bytes_to_unicode stands for; -1 for other characters.
int char_to_byte(char32_t c);

/// Everything a Tokenizer runs.
struct Pipeline {
  std::unique_ptr<Normalizer> normalizer;       ///< may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer;  ///< may be null
  std::unique_ptr<Model> model;
  std::unique_ptr<Decoder> decoder;  ///< may be null
  std::vector<AddedToken> added;
  PostTemplate post;
};

/// A whole tokenizer.json document; `file` names it in messages (with JSON Pointers unless
/// `show_pointers` is false: documents built from vocabulary files).
std::unique_ptr<Pipeline> parse_pipeline(const nlohmann::json& doc, const std::string& file,
                                         bool show_pointers = true);

/// The SentencePiece model of a model directory (spiece.model, sentencepiece.bpe.model,
/// tokenizer.model), "" when there is none.
std::string sentencepiece_model_file(const std::string& dir);
/// A pipeline running a SentencePiece model through libsentencepiece, with the ids and the
/// template of the transformers class that tokenizer_config.json names (T5Tokenizer,
/// XLMRobertaTokenizer, LlamaTokenizer, ...). Throws Error when attnflow was built without
/// libsentencepiece.
std::unique_ptr<Pipeline> sentencepiece_pipeline(const std::string& model_file,
                                                 const nlohmann::json& config,
                                                 const std::string& config_path);

}  // namespace attnflow::hf::detail
