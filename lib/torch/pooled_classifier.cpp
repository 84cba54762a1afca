// AttnflowPooledClassifier (seed 002's fine-tuning head): a BERT or RoBERTa body and one linear
// layer on the last hidden state, mean-pooled over the non-pad tokens or taken at token 0.
#include <memory>
#include <string>

#include "attnflow/hf/config.hpp"
#include "encoder.hpp"
#include "network.hpp"

namespace attnflow::torch::detail {

using ::torch::Tensor;

std::unique_ptr<Network> make_pooled_classifier(const hf::ModelConfig& c, TensorSource& weights,
                                                Pooling pooling) {
  const EncoderWeights w(c, weights);
  EncoderParts parts = load_bert_body(w);
  if (c.family == hf::ModelFamily::Roberta) parts.embeddings.padding_idx = *c.pad_token_id;
  const Linear classifier = w.linear("classifier", c.num_labels, c.hidden_size);
  if (pooling == Pooling::Cls) {
    parts.head = [classifier](const Tensor& x) { return classifier(x.select(1, 0)); };
  } else {
    parts.pooled_head = [classifier](const Tensor& x, const Tensor& mask) {
      const Tensor m = mask.to(x.scalar_type()).unsqueeze(-1);  // [B, N, 1]
      return classifier((x * m).sum(1) / m.sum(1));
    };
  }
  return make_encoder(c, std::move(parts));
}

}  // namespace attnflow::torch::detail
