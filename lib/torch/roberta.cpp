// RoBERTa and XLM-RoBERTa (modeling_roberta.py / modeling_xlm_roberta.py, eager attention):
// BERT's embeddings and blocks with position ids padding_idx + 1, padding_idx + 2, ... counted
// over the non-pad tokens (fairseq's make_positions), a classification head on <s>
// (dense, tanh, out_proj) and an LM head (dense, erf GELU, layer_norm, decoder tied to the word
// embeddings, lm_head.bias).
#include <memory>
#include <string>

#include "attnflow/hf/config.hpp"
#include "encoder.hpp"
#include "network.hpp"

namespace attnflow::torch::detail {

using ::torch::Tensor;

std::unique_ptr<Network> make_roberta(const hf::ModelConfig& c, TensorSource& weights,
                                      BertHead head) {
  const EncoderWeights w(c, weights);
  EncoderParts parts = load_bert_body(w);
  parts.embeddings.padding_idx = *c.pad_token_id;  // the config reader requires it
  const std::int64_t d = c.hidden_size;
  switch (head) {
    case BertHead::None:
    case BertHead::Pooler:
      // RobertaModel has a pooler (add_pooling_layer); it gives no logits
      if (w.has("pooler.dense.weight")) w.linear("pooler.dense", d, d);
      break;
    case BertHead::SequenceClassification: {
      const Linear dense = w.linear("classifier.dense", d, d);
      const Linear out = w.linear("classifier.out_proj", c.num_labels, d);
      parts.head = [dense, out](const Tensor& x) {
        return out(::torch::tanh(dense(x.select(1, 0))));
      };
      break;
    }
    case BertHead::MaskedLM:
      // lm_head.decoder.bias is tied to lm_head.bias (files hold one or both); RobertaLMHead
      // always uses the erf GELU, whatever hidden_act says
      parts.head = masked_lm_head(w,
                                  {"lm_head.dense", "lm_head.layer_norm", "lm_head.decoder.weight",
                                   "lm_head.bias", "lm_head.decoder.bias"},
                                  hf::Activation::Gelu, parts.embeddings.word);
      break;
  }
  return make_encoder(c, std::move(parts));
}

}  // namespace attnflow::torch::detail
