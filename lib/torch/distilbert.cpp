// DistilBERT (modeling_distilbert.py, eager attention): word + position embeddings (no token
// types), BERT's post-LayerNorm blocks under DistilBERT's names (q_lin, ..., output_layer_norm;
// q scaled before q k^T; every LayerNorm eps 1e-12), a classifier on [CLS] (pre_classifier,
// ReLU, classifier) and an MLM head (vocab_transform, activation, vocab_layer_norm,
// vocab_projector tied to the word embeddings).
#include <memory>
#include <string>

#include "attnflow/hf/config.hpp"
#include "encoder.hpp"
#include "network.hpp"

namespace attnflow::torch::detail {

using ::torch::Tensor;

namespace {

// create_sinusoidal_embeddings: [pos, j] = sin (j even) / cos (j odd) of
// pos / 10000^(2 floor(j / 2) / dim).
Tensor sinusoidal_positions(std::int64_t positions, std::int64_t dim, const Tensor& like) {
  const auto f64 = ::torch::TensorOptions().dtype(::torch::kFloat64);
  const Tensor pos = ::torch::arange(positions, f64).unsqueeze(1);
  const Tensor j = ::torch::arange(dim, f64);
  const Tensor angle =
      pos / ::torch::pow(10000.0, 2.0 * ::torch::floor(j / 2.0) / static_cast<double>(dim));
  const Tensor even = j.remainder(2).eq(0).unsqueeze(0);
  return ::torch::where(even, angle.sin(), angle.cos()).to(like.options());
}

}  // namespace

std::unique_ptr<Network> make_distilbert(const hf::ModelConfig& c, TensorSource& weights,
                                         BertHead head) {
  static const EncoderLayerNames names{"attention.q_lin",   "attention.k_lin",  "attention.v_lin",
                                       "attention.out_lin", "sa_layer_norm",    "ffn.lin1",
                                       "ffn.lin2",          "output_layer_norm"};
  const EncoderWeights w(c, weights);
  EncoderParts parts;
  const std::string positions = "embeddings.position_embeddings.weight";
  if (c.sinusoidal_pos_embds && !w.has(positions)) {
    // checkpoints normally store the sinusoids (from_pretrained then uses the stored matrix)
    parts.embeddings.word = w.matrix("embeddings.word_embeddings.weight", c.vocab_size,
                                     "vocab_size " + std::to_string(c.vocab_size));
    parts.embeddings.position =
        sinusoidal_positions(c.max_positions, c.hidden_size, parts.embeddings.word);
    parts.embeddings.norm = w.norm("embeddings.LayerNorm");
  } else {
    parts.embeddings = load_bert_embeddings(w);  // type_vocab_size 0: no token types
  }
  parts.layers = load_encoder_layers(w, "transformer.layer.", names);
  parts.scale_queries = true;
  const std::int64_t d = c.hidden_size;
  if (head == BertHead::SequenceClassification) {
    const Linear pre = w.linear("pre_classifier", d, d);
    const Linear classifier = w.linear("classifier", c.num_labels, d);
    parts.head = [pre, classifier](const Tensor& x) {
      return classifier(::torch::relu(pre(x.select(1, 0))));
    };
  }
  if (head == BertHead::MaskedLM) {
    parts.head = masked_lm_head(w,
                                {"vocab_transform", "vocab_layer_norm", "vocab_projector.weight",
                                 "vocab_projector.bias", ""},
                                c.activation, parts.embeddings.word);
  }
  return make_encoder(c, std::move(parts));
}

}  // namespace attnflow::torch::detail
