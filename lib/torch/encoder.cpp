// The post-LayerNorm encoder shared by BERT, RoBERTa / XLM-RoBERTa and DistilBERT.
#include "encoder.hpp"

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "attnflow/hf/config.hpp"
#include "weights.hpp"

namespace attnflow::torch::detail {

namespace F = ::torch::nn::functional;
using ::torch::Tensor;

namespace {

std::string hidden_key(const hf::ModelConfig& c) {
  return (c.family == hf::ModelFamily::DistilBert ? "dim " : "hidden_size ") +
         std::to_string(c.hidden_size);
}

}  // namespace

Linear EncoderWeights::linear(const std::string& name, std::int64_t out, std::int64_t in) const {
  const std::string why = "config.json: " + std::to_string(in) + " -> " + std::to_string(out);
  return Linear{source_.get(name + ".weight", {out, in}, why),
                source_.get(name + ".bias", {out}, why)};
}

LayerNorm EncoderWeights::norm(const std::string& name) const {
  const std::string why = hidden_key(config_);
  return LayerNorm{source_.get(name + ".weight", {config_.hidden_size}, why),
                   source_.get(name + ".bias", {config_.hidden_size}, why), config_.layer_norm_eps};
}

Tensor EncoderWeights::matrix(const std::string& name, std::int64_t rows,
                              const std::string& rows_key) const {
  return source_.get(name, {rows, config_.hidden_size}, rows_key + ", " + hidden_key(config_));
}

Tensor EncoderWeights::vector(const std::string& name, std::int64_t size,
                              const std::string& size_key) const {
  return source_.get(name, {size}, size_key);
}

bool EncoderWeights::has(const std::string& name) const {
  return source_.has(name);
}

Tensor EncoderWeights::output_embeddings(const std::string& name, const Tensor& word) const {
  if (config_.tie_word_embeddings) return word;
  return matrix(name, config_.vocab_size,
                "vocab_size " + std::to_string(config_.vocab_size) + ", tie_word_embeddings false");
}

std::vector<EncoderLayer> load_encoder_layers(const EncoderWeights& w, const std::string& prefix,
                                              const EncoderLayerNames& n) {
  const hf::ModelConfig& c = w.config();
  const std::int64_t d = c.hidden_size, inner = c.intermediate_size;
  std::vector<EncoderLayer> layers;
  for (std::int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = prefix + std::to_string(l) + ".";
    EncoderLayer layer;
    layer.query = w.linear(p + n.query, d, d);
    layer.key = w.linear(p + n.key, d, d);
    layer.value = w.linear(p + n.value, d, d);
    layer.attention_output = w.linear(p + n.attention_output, d, d);
    layer.attention_norm = w.norm(p + n.attention_norm);
    layer.intermediate = w.linear(p + n.intermediate, inner, d);
    layer.output = w.linear(p + n.output, d, inner);
    layer.output_norm = w.norm(p + n.output_norm);
    layers.push_back(std::move(layer));
  }
  return layers;
}

std::function<Tensor(const Tensor&)> masked_lm_head(const EncoderWeights& w, const MaskedLmNames& n,
                                                    hf::Activation act, const Tensor& word) {
  const hf::ModelConfig& c = w.config();
  const Linear transform = w.linear(n.transform, c.hidden_size, c.hidden_size);
  const LayerNorm norm = w.norm(n.norm);
  const Tensor decoder = w.output_embeddings(n.decoder, word);
  const std::string& bias_name = w.has(n.bias) || n.bias_alias.empty() ? n.bias : n.bias_alias;
  const Tensor bias =
      w.vector(bias_name, c.vocab_size, "vocab_size " + std::to_string(c.vocab_size));
  return [transform, norm, decoder, bias, act](const Tensor& x) {
    return F::linear(norm(activation(transform(x), act)), decoder, bias);
  };
}

EncoderEmbeddings load_bert_embeddings(const EncoderWeights& w) {
  const hf::ModelConfig& c = w.config();
  EncoderEmbeddings e;
  e.word = w.matrix("embeddings.word_embeddings.weight", c.vocab_size,
                    "vocab_size " + std::to_string(c.vocab_size));
  e.position = w.matrix("embeddings.position_embeddings.weight", c.max_positions,
                        "max_position_embeddings " + std::to_string(c.max_positions));
  if (c.type_vocab_size > 0) {
    e.type = w.matrix("embeddings.token_type_embeddings.weight", c.type_vocab_size,
                      "type_vocab_size " + std::to_string(c.type_vocab_size));
  }
  e.norm = w.norm("embeddings.LayerNorm");
  return e;
}

namespace {

class Encoder final : public Network {
 public:
  Encoder(const hf::ModelConfig& c, EncoderParts parts) : config_(c), parts_(std::move(parts)) {}

  ForwardResult forward(const BatchTensors& batch, bool track_inputs) override {
    ForwardResult r;
    const EncoderEmbeddings& emb = parts_.embeddings;
    const std::int64_t N = batch.ids.size(1);
    Tensor e = F::embedding(batch.ids, emb.word);
    if (track_inputs) e = e.detach().requires_grad_(true);
    r.input_embeddings = e;
    // transformers' order: (words + token types) + positions
    Tensor x = e;
    if (emb.type.defined()) x = x + F::embedding(batch.type_ids, emb.type);
    if (emb.padding_idx >= 0) {
      const Tensor real =
          batch.ids.ne(emb.padding_idx).logical_and(batch.mask.ne(0)).to(::torch::kLong);
      const Tensor positions = real.cumsum(1) * real + emb.padding_idx;
      x = x + F::embedding(positions, emb.position);
    } else {
      x = x + emb.position.narrow(0, 0, N).unsqueeze(0);
    }
    if (emb.norm.weight.defined()) x = emb.norm(x);  // the char GPT has none
    const Tensor mask = additive_padding_mask(batch.mask, x.scalar_type());
    x = run_layers(*this, static_cast<int>(parts_.layers.size()), x, mask, batch.keep_layers, r,
                   &batch);
    if (parts_.pooled_head) {
      r.logits = parts_.pooled_head(x, batch.mask);
    } else if (parts_.head) {
      r.logits = parts_.head(x);
    }
    return r;
  }

  bool has_layers() const override { return true; }
  int heads() const override { return static_cast<int>(config_.num_heads); }

  BlockWeights block(int l) const override {
    const EncoderLayer& layer = parts_.layers[static_cast<std::size_t>(l)];
    return BlockWeights{Placement::PostLN,
                        layer.value.weight.t(),
                        layer.value.bias,
                        layer.attention_output.weight.t(),
                        layer.attention_output.bias,
                        layer.attention_norm,
                        layer.output_norm};
  }

  // One post-LN block; value_scale [B, N] multiplies every head's value vector of token j
  // (value zeroing).
  LayerResult layer(int l, const Tensor& x, const Tensor& mask,
                    const Tensor& value_scale) const override {
    const EncoderLayer& layer = parts_.layers[static_cast<std::size_t>(l)];
    const std::int64_t B = x.size(0), N = x.size(1);
    const std::int64_t H = config_.num_heads, dh = config_.head_dim(), d = config_.hidden_size;
    const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
    const auto heads = [&](const Tensor& t) { return t.view({B, N, H, dh}).transpose(1, 2); };
    const Tensor q = heads(layer.query(x)), k = heads(layer.key(x));
    Tensor v = heads(layer.value(x));
    if (value_scale.defined()) v = v * value_scale.view({B, 1, N, 1}).to(v.scalar_type());
    Tensor scores;
    if (parts_.scale_queries) {
      scores = ::torch::matmul(q * scale, k.transpose(-1, -2)) + mask;
    } else {
      scores = ::torch::matmul(q, k.transpose(-1, -2)) * scale + mask;
    }
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
  EncoderParts parts_;
};

}  // namespace

std::unique_ptr<Network> make_encoder(const hf::ModelConfig& config, EncoderParts parts) {
  return std::make_unique<Encoder>(config, std::move(parts));
}

}  // namespace attnflow::torch::detail
