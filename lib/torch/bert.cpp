// BERT (modeling_bert.py, eager attention): post-LayerNorm encoder blocks.
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"
#include "network.hpp"
#include "weights.hpp"

namespace attnflow::torch::detail {

namespace F = ::torch::nn::functional;
using ::torch::Tensor;

namespace {

struct Linear {
  Tensor weight;  // [out, in] (torch.nn.Linear layout)
  Tensor bias;    // [out]
  Tensor operator()(const Tensor& x) const {
    return ::torch::nn::functional::linear(x, weight, bias);
  }
};

using Norm = LayerNorm;

struct Layer {
  Linear query, key, value, attention_output, intermediate, output;
  Norm attention_norm, output_norm;
};

class Bert final : public Network {
 public:
  Bert(const hf::ModelConfig& c, TensorSource& w, BertHead head) : config_(c), head_(head) {
    const std::int64_t d = c.hidden_size;
    const std::string why_d = "hidden_size " + std::to_string(d);
    const auto linear = [&](const std::string& name, std::int64_t out, std::int64_t in) {
      const std::string why = "config.json: " + std::to_string(in) + " -> " + std::to_string(out);
      return Linear{w.get(name + ".weight", {out, in}, why), w.get(name + ".bias", {out}, why)};
    };
    const auto norm = [&](const std::string& name) {
      return Norm{w.get(name + ".weight", {d}, why_d), w.get(name + ".bias", {d}, why_d),
                  c.layer_norm_eps};
    };
    word_ = w.get("embeddings.word_embeddings.weight", {c.vocab_size, d},
                  "vocab_size " + std::to_string(c.vocab_size) + ", " + why_d);
    position_ = w.get("embeddings.position_embeddings.weight", {c.max_positions, d},
                      "max_position_embeddings " + std::to_string(c.max_positions) + ", " + why_d);
    if (c.type_vocab_size > 0) {
      type_ = w.get("embeddings.token_type_embeddings.weight", {c.type_vocab_size, d},
                    "type_vocab_size " + std::to_string(c.type_vocab_size) + ", " + why_d);
    }
    embedding_norm_ = norm("embeddings.LayerNorm");
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
      const std::string p = "encoder.layer." + std::to_string(l) + ".";
      Layer layer;
      layer.query = linear(p + "attention.self.query", d, d);
      layer.key = linear(p + "attention.self.key", d, d);
      layer.value = linear(p + "attention.self.value", d, d);
      layer.attention_output = linear(p + "attention.output.dense", d, d);
      layer.attention_norm = norm(p + "attention.output.LayerNorm");
      layer.intermediate = linear(p + "intermediate.dense", c.intermediate_size, d);
      layer.output = linear(p + "output.dense", d, c.intermediate_size);
      layer.output_norm = norm(p + "output.LayerNorm");
      layers_.push_back(std::move(layer));
    }
    if (head == BertHead::SequenceClassification || head == BertHead::Pooler) {
      pooler_ = linear("pooler.dense", d, d);
    }
    if (head == BertHead::SequenceClassification) {
      classifier_ = linear("classifier", c.num_labels, d);
    }
    if (head == BertHead::MaskedLM) {
      transform_ = linear("cls.predictions.transform.dense", d, d);
      transform_norm_ = norm("cls.predictions.transform.LayerNorm");
      // Tied to the input embeddings unless the file has its own decoder matrix.
      decoder_ = w.has("cls.predictions.decoder.weight")
                     ? w.get("cls.predictions.decoder.weight", {c.vocab_size, d},
                             "vocab_size " + std::to_string(c.vocab_size) + ", " + why_d)
                     : word_;
      const std::string bias =
          w.has("cls.predictions.bias") ? "cls.predictions.bias" : "cls.predictions.decoder.bias";
      decoder_bias_ = w.get(bias, {c.vocab_size}, "vocab_size " + std::to_string(c.vocab_size));
    }
  }

  ForwardResult forward(const BatchTensors& batch, bool track_inputs) override {
    ForwardResult r;
    const std::int64_t N = batch.ids.size(1);
    Tensor e = F::embedding(batch.ids, word_);
    if (track_inputs) e = e.detach().requires_grad_(true);
    r.input_embeddings = e;
    Tensor x = e + position_.narrow(0, 0, N).unsqueeze(0);
    if (type_.defined()) x = x + F::embedding(batch.type_ids, type_);
    x = embedding_norm_(x);
    const Tensor mask = additive_padding_mask(batch.mask, x.scalar_type());
    x = run_layers(*this, static_cast<int>(layers_.size()), x, mask, batch.keep_layers, r);
    switch (head_) {
      case BertHead::None:
      case BertHead::Pooler: break;
      case BertHead::SequenceClassification: {
        const Tensor pooled = ::torch::tanh(pooler_(x.select(1, 0)));
        r.logits = classifier_(pooled);
        break;
      }
      case BertHead::MaskedLM: {
        const Tensor t = transform_norm_(activation(transform_(x), config_.activation));
        r.logits = F::linear(t, decoder_, decoder_bias_);
        break;
      }
    }
    return r;
  }

  bool has_layers() const override { return true; }
  int heads() const override { return static_cast<int>(config_.num_heads); }

  BlockWeights block(int l) const override {
    const Layer& layer = layers_[static_cast<std::size_t>(l)];
    return BlockWeights{Placement::PostLN,
                        layer.value.weight.t(),
                        layer.value.bias,
                        layer.attention_output.weight.t(),
                        layer.attention_output.bias,
                        layer.attention_norm,
                        layer.output_norm};
  }

  LayerResult layer(int l, const Tensor& x, const Tensor& mask,
                    const Tensor& value_scale) const override {
    const Layer& layer = layers_[static_cast<std::size_t>(l)];
    const std::int64_t B = x.size(0), N = x.size(1);
    const std::int64_t H = config_.num_heads, dh = config_.head_dim(), d = config_.hidden_size;
    const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
    const auto heads = [&](const Tensor& t) { return t.view({B, N, H, dh}).transpose(1, 2); };
    const Tensor q = heads(layer.query(x)), k = heads(layer.key(x));
    Tensor v = heads(layer.value(x));
    if (value_scale.defined()) v = v * value_scale.view({B, 1, N, 1}).to(v.scalar_type());
    Tensor scores = ::torch::matmul(q, k.transpose(-1, -2)) * scale + mask;
    if (config_.is_decoder) scores = apply_causal_mask(scores);
    LayerResult r;
    r.probs = ::torch::softmax(scores, -1);
    const Tensor context = ::torch::matmul(r.probs, v).transpose(1, 2).reshape({B, N, d});
    r.attention_sum = layer.attention_output(context) + x;
    const Tensor a = layer.attention_norm(r.attention_sum);
    const Tensor h = activation(layer.intermediate(a), config_.activation);
    r.ffn_sum = layer.output(h) + a;
    r.output = layer.output_norm(r.ffn_sum);
    return r;
  }

 private:
  hf::ModelConfig config_;
  BertHead head_;
  Tensor word_, position_, type_;
  Norm embedding_norm_;
  std::vector<Layer> layers_;
  Linear pooler_, classifier_, transform_;
  Norm transform_norm_;
  Tensor decoder_, decoder_bias_;
};

}  // namespace

std::unique_ptr<Network> make_bert(const hf::ModelConfig& config, TensorSource& weights,
                                   BertHead head) {
  if (config.position_embedding_type != "absolute") {
    throw Error(config.path + ": position_embedding_type '" + config.position_embedding_type +
                "' is not supported (only 'absolute')");
  }
  return std::make_unique<Bert>(config, weights, head);
}

}  // namespace attnflow::torch::detail
