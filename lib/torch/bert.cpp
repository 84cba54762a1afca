// BERT (modeling_bert.py, eager attention): BertModel, BertForSequenceClassification (pooler
// tanh + classifier on [CLS]) and BertForMaskedLM (transform, activation, LayerNorm, decoder tied
// to the word embeddings) over the shared post-LayerNorm encoder (encoder.hpp).
#include <memory>
#include <string>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"
#include "encoder.hpp"
#include "network.hpp"

namespace attnflow::torch::detail {

using ::torch::Tensor;

const EncoderLayerNames& bert_layer_names() {
  static const EncoderLayerNames names{"attention.self.query",
                                       "attention.self.key",
                                       "attention.self.value",
                                       "attention.output.dense",
                                       "attention.output.LayerNorm",
                                       "intermediate.dense",
                                       "output.dense",
                                       "output.LayerNorm"};
  return names;
}

EncoderParts load_bert_body(const EncoderWeights& w) {
  const hf::ModelConfig& c = w.config();
  if (c.position_embedding_type != "absolute") {
    throw Error(c.path + ": position_embedding_type '" + c.position_embedding_type +
                "' is not supported (only 'absolute')");
  }
  EncoderParts parts;
  parts.embeddings = load_bert_embeddings(w);
  parts.layers = load_encoder_layers(w, "encoder.layer.", bert_layer_names());
  return parts;
}

std::unique_ptr<Network> make_bert(const hf::ModelConfig& c, TensorSource& weights, BertHead head) {
  const EncoderWeights w(c, weights);
  EncoderParts parts = load_bert_body(w);
  const std::int64_t d = c.hidden_size;
  if (head == BertHead::SequenceClassification || head == BertHead::Pooler) {
    const Linear pooler = w.linear("pooler.dense", d, d);
    if (head == BertHead::SequenceClassification) {
      const Linear classifier = w.linear("classifier", c.num_labels, d);
      parts.head = [pooler, classifier](const Tensor& x) {
        return classifier(::torch::tanh(pooler(x.select(1, 0))));
      };
    }
  }
  if (head == BertHead::MaskedLM) {
    parts.head = masked_lm_head(
        w,
        {"cls.predictions.transform.dense", "cls.predictions.transform.LayerNorm",
         "cls.predictions.decoder.weight", "cls.predictions.bias", "cls.predictions.decoder.bias"},
        c.activation, parts.embeddings.word);
  }
  return make_encoder(c, std::move(parts));
}

}  // namespace attnflow::torch::detail
