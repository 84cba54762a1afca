// Internal to attnflow::torch: the post-LayerNorm encoder that BERT, RoBERTa / XLM-RoBERTa and
// DistilBERT share (modeling_bert.py, modeling_roberta.py, modeling_distilbert.py, eager
// attention). The families differ only in their embeddings, their tensor names and their heads;
// the layer math is this one.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "network.hpp"

namespace attnflow::hf {
struct ModelConfig;
enum class Activation;
}  // namespace attnflow::hf

namespace attnflow::torch::detail {

class TensorSource;

/// torch.nn.Linear: y = x W^T + b.
struct Linear {
  ::torch::Tensor weight;  ///< [out, in]
  ::torch::Tensor bias;    ///< [out]
  ::torch::Tensor operator()(const ::torch::Tensor& x) const {
    return ::torch::nn::functional::linear(x, weight, bias);
  }
};

/// A TensorSource read with the shapes one config implies; every error names the config keys
/// behind the expected shape.
class EncoderWeights {
 public:
  EncoderWeights(const hf::ModelConfig& config, TensorSource& source)
      : config_(config), source_(source) {}
  /// `name`.weight [out, in] and `name`.bias [out].
  Linear linear(const std::string& name, std::int64_t out, std::int64_t in) const;
  /// `name`.weight and `name`.bias [hidden], with the config's layer_norm_eps.
  LayerNorm norm(const std::string& name) const;
  /// A matrix [rows, hidden]; `rows_key` is the config key behind rows, e.g. "vocab_size 509".
  ::torch::Tensor matrix(const std::string& name, std::int64_t rows,
                         const std::string& rows_key) const;
  /// A vector [size] explained by `size_key`.
  ::torch::Tensor vector(const std::string& name, std::int64_t size,
                         const std::string& size_key) const;
  bool has(const std::string& name) const;
  /// An MLM decoder matrix [vocab, hidden]: the input embeddings `word` when
  /// tie_word_embeddings (as from_pretrained ties them, whatever the file holds), else `name`.
  ::torch::Tensor output_embeddings(const std::string& name, const ::torch::Tensor& word) const;
  const hf::ModelConfig& config() const { return config_; }

 private:
  const hf::ModelConfig& config_;
  TensorSource& source_;
};

/// Tensor names of one encoder block, relative to the block's prefix.
struct EncoderLayerNames {
  std::string query, key, value, attention_output, attention_norm, intermediate, output,
      output_norm;
};

struct EncoderLayer {
  Linear query, key, value, attention_output, intermediate, output;
  LayerNorm attention_norm, output_norm;
};

/// Blocks `prefix`0. ... `prefix`(L-1). (e.g. "encoder.layer.").
std::vector<EncoderLayer> load_encoder_layers(const EncoderWeights& w, const std::string& prefix,
                                              const EncoderLayerNames& names);

struct EncoderEmbeddings {
  ::torch::Tensor word;      ///< [vocab, d]
  ::torch::Tensor position;  ///< [max_positions, d]
  ::torch::Tensor type;      ///< [type_vocab, d]; undefined: no token types (DistilBERT)
  LayerNorm norm;            ///< undefined weight: no embedding LayerNorm (the char GPT)
  /// >= 0: RoBERTa's position ids, padding_idx + the running count of real non-pad tokens
  /// (pad tokens and padding get padding_idx); < 0: 0..n-1.
  std::int64_t padding_idx = -1;
};

/// BERT's embedding tensors (embeddings.word_embeddings / position_embeddings /
/// token_type_embeddings when type_vocab_size > 0 / LayerNorm), also RoBERTa's and
/// DistilBERT's.
EncoderEmbeddings load_bert_embeddings(const EncoderWeights& w);

struct EncoderParts {
  EncoderEmbeddings embeddings;
  std::vector<EncoderLayer> layers;
  /// DistilBERT divides q by sqrt(d_head) before q k^T; BERT divides the scores.
  bool scale_queries = false;
  /// Logits from the last hidden state [B, N, d]; empty for a base model (no logits).
  std::function<::torch::Tensor(const ::torch::Tensor&)> head;
  /// Logits from the last hidden state [B, N, d] and the padding mask (long [B, N], 1 = token),
  /// for heads that pool over the tokens (AttnflowPooledClassifier); used instead of `head`.
  std::function<::torch::Tensor(const ::torch::Tensor&, const ::torch::Tensor&)> pooled_head;
};

std::unique_ptr<Network> make_encoder(const hf::ModelConfig& config, EncoderParts parts);

/// Tensor names of a masked-LM head: `transform` (Linear d -> d), the activation, `norm`, then
/// the decoder: `decoder` [vocab, d] only when tie_word_embeddings is false (else the word
/// embeddings) with the bias `bias`, or `bias_alias` when the file has no `bias`.
struct MaskedLmNames {
  std::string transform, norm, decoder, bias, bias_alias;
};

/// The logits [B, N, vocab] of such a head as a function of the last hidden state.
std::function<::torch::Tensor(const ::torch::Tensor&)> masked_lm_head(const EncoderWeights& w,
                                                                      const MaskedLmNames& names,
                                                                      hf::Activation activation,
                                                                      const ::torch::Tensor& word);

/// BERT's block names (attention.self.query, ..., output.LayerNorm), also RoBERTa's.
const EncoderLayerNames& bert_layer_names();
/// BERT's embeddings and blocks "encoder.layer.N." (no head); RoBERTa reuses them. Throws for
/// a position_embedding_type other than "absolute".
EncoderParts load_bert_body(const EncoderWeights& w);

}  // namespace attnflow::torch::detail
