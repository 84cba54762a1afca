// Internal to attnflow::pipeline (extract_corpus): a corpus as the model sees it, every example
// tokenized and, on request, truncated; the checks that need the tokenizer and the model (ids in
// the vocabulary, lengths); and where the tokenizer of a model is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/torch/model.hpp"

namespace attnflow::pipeline::detail {

/// One corpus example, tokenized (and truncated) as it goes to the model.
struct TokenizedExample {
  const io::CorpusExample* source = nullptr;
  hf::Encoding encoding;
  std::size_t full_length = 0;  ///< tokens before truncation
  /// Encoder-decoder models: the teacher-forced decoder input (encode_decoder_inputs).
  std::vector<std::int64_t> decoder_ids;
  std::vector<std::string> decoder_tokens;
};

/// "corpus.txt:7", for messages.
std::string where(const io::Corpus& corpus, const TokenizedExample& example);

/// The tokenizer directory: `tokenizer`, else the model directory, else the directory of the
/// model file (a TorchScript .pt or a config.json).
std::string tokenizer_dir(const std::string& model, const std::string& tokenizer);

/// "WordPiece (DIR/tokenizer.json)": the model type and the file it came from.
std::string tokenizer_description(const hf::Tokenizer& tokenizer, const std::string& dir);

/// The model's label names (config.json id2label) inverted, for string labels in the corpus;
/// empty when the model has none (or its config is unreadable: loading the model says why).
std::map<std::string, std::int64_t> label_ids(const std::string& model);

/// Every example of `corpus` encoded (a text pair as a pair). Throws Error naming the line for
/// a text the tokenizer rejects or that gives no tokens.
std::vector<TokenizedExample> tokenize_corpus(const io::Corpus& corpus,
                                              const hf::Tokenizer& tokenizer);

/// Throws Error naming the line and token when a token id is outside the model's vocabulary
/// (`tokenizer_dir` is then probably not the model's tokenizer).
void check_vocabulary(const io::Corpus& corpus, const std::vector<TokenizedExample>& examples,
                      const torch::ModelInfo& info, const std::string& tokenizer_dir);

/// Examples longer than `limit` tokens (0 = no limit): with `truncate` they are cut to it (a
/// final special token stays last) and their lines returned; without, Error naming the first,
/// how many there are and `limit_source` ("--max-length", "the model's max_positions").
std::vector<std::int64_t> fit_lengths(const io::Corpus& corpus,
                                      std::vector<TokenizedExample>& examples, std::int64_t limit,
                                      const std::string& limit_source, bool truncate);

/// Encoder-decoder models (info.decoder_layers > 0): every example's decoder input, the
/// decoder_start_token_id and then the tokens of its decoder text ("decoder_text", else
/// "text_pair", which then is no longer the encoder's second text) without special tokens, so
/// that the decoder positions read like a causal LM's (next: after the text; last: its last
/// token). Without decoder text the input is the start token alone, which is an Error naming
/// the line when `target_name` is not empty (a target of the decoder's logits). Also an Error:
/// a model without decoder_start_token_id, an id outside the vocabulary.
void encode_decoder_inputs(const io::Corpus& corpus, std::vector<TokenizedExample>& examples,
                           const hf::Tokenizer& tokenizer, const torch::ModelInfo& info,
                           const std::string& target_name);

/// The model input of one example (token types only for a model that uses them).
torch::Input model_input(const TokenizedExample& example, const torch::ModelInfo& info);

}  // namespace attnflow::pipeline::detail
