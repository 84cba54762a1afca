// GPT-2 (modeling_gpt2.py, eager attention): pre-LayerNorm blocks, Conv1D weights stored
// [in, out], tied output embeddings. Also the blocks without the causal mask and with a
// classifier on one token: the subject-verb agreement model of Abnar & Zuidema (2020).
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

// transformers' Conv1D: y = x W + b with W stored [in, out].
struct Conv1D {
  Tensor weight;  // [in, out]
  Tensor bias;    // [out]
  Tensor operator()(const Tensor& x) const {
    return ::torch::addmm(bias, x.reshape({-1, weight.size(0)}), weight).view(out_shape(x));
  }
  std::vector<std::int64_t> out_shape(const Tensor& x) const {
    std::vector<std::int64_t> s(x.sizes().begin(), x.sizes().end());
    s.back() = weight.size(1);
    return s;
  }
};

using Norm = LayerNorm;

struct Block {
  Norm ln_1, ln_2;
  Conv1D c_attn, attn_proj, c_fc, mlp_proj;
};

class Gpt2 final : public Network {
 public:
  Gpt2(const hf::ModelConfig& c, TensorSource& w, const Gpt2Options& options)
      : config_(c), options_(options) {
    const std::int64_t d = c.hidden_size, inner = c.intermediate_size;
    const std::string why_d = "n_embd " + std::to_string(d);
    const auto conv = [&](const std::string& name, std::int64_t in, std::int64_t out) {
      const std::string why = "config.json: Conv1D [in, out] = [" + std::to_string(in) + ", " +
                              std::to_string(out) + "]";
      return Conv1D{w.get(name + ".weight", {in, out}, why), w.get(name + ".bias", {out}, why)};
    };
    const auto norm = [&](const std::string& name) {
      return Norm{w.get(name + ".weight", {d}, why_d), w.get(name + ".bias", {d}, why_d),
                  c.layer_norm_eps};
    };
    wte_ = w.get("wte.weight", {c.vocab_size, d},
                 "vocab_size " + std::to_string(c.vocab_size) + ", " + why_d);
    wpe_ = w.get("wpe.weight", {c.max_positions, d},
                 "n_positions " + std::to_string(c.max_positions) + ", " + why_d);
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
      const std::string p = "h." + std::to_string(l) + ".";
      Block b;
      b.ln_1 = norm(p + "ln_1");
      b.c_attn = conv(p + "attn.c_attn", d, 3 * d);
      b.attn_proj = conv(p + "attn.c_proj", d, d);
      b.ln_2 = norm(p + "ln_2");
      b.c_fc = conv(p + "mlp.c_fc", d, inner);
      b.mlp_proj = conv(p + "mlp.c_proj", inner, d);
      blocks_.push_back(std::move(b));
    }
    ln_f_ = norm("ln_f");
    if (options.head == Gpt2Head::LanguageModel) {
      // Tied to wte unless the file has an lm_head of its own (tie_word_embeddings false, or
      // a file that stores the tied copy).
      lm_head_ = w.has("lm_head.weight")
                     ? w.get("lm_head.weight", {c.vocab_size, d},
                             "vocab_size " + std::to_string(c.vocab_size) + ", " + why_d)
                     : wte_;
    }
    if (options.head == Gpt2Head::FirstTokenClassifier) {
      const std::string why = "num_labels " + std::to_string(c.num_labels) + ", " + why_d;
      classifier_weight_ = w.get("classifier.weight", {c.num_labels, d}, why);
      classifier_bias_ = w.get("classifier.bias", {c.num_labels}, why);
    }
  }

  ForwardResult forward(const BatchTensors& batch, bool track_inputs) override {
    ForwardResult r;
    const std::int64_t N = batch.ids.size(1);
    Tensor e = F::embedding(batch.ids, wte_);
    if (track_inputs) e = e.detach().requires_grad_(true);
    r.input_embeddings = e;
    Tensor x = e + wpe_.narrow(0, 0, N).unsqueeze(0);
    const Tensor mask = additive_padding_mask(batch.mask, x.scalar_type());
    x = run_layers(*this, static_cast<int>(blocks_.size()), x, mask, batch.keep_layers, r, &batch);
    x = ln_f_(x);
    if (options_.head == Gpt2Head::LanguageModel) r.logits = F::linear(x, lm_head_);
    if (options_.head == Gpt2Head::FirstTokenClassifier) {
      r.logits = F::linear(x.select(1, options_.classifier_position), classifier_weight_,
                           classifier_bias_);
    }
    return r;
  }

  bool has_layers() const override { return true; }
  int heads() const override { return static_cast<int>(config_.num_heads); }

  BlockWeights block(int l) const override {
    const Block& b = blocks_[static_cast<std::size_t>(l)];
    const std::int64_t d = config_.hidden_size;
    // c_attn holds [W_Q | W_K | W_V] side by side.
    return BlockWeights{Placement::PreLN,
                        b.c_attn.weight.narrow(1, 2 * d, d),
                        b.c_attn.bias.narrow(0, 2 * d, d),
                        b.attn_proj.weight,
                        b.attn_proj.bias,
                        b.ln_1,
                        b.ln_2};
  }

  LayerResult layer(int l, const Tensor& x, const Tensor& mask,
                    const Tensor& value_scale) const override {
    const Block& b = blocks_[static_cast<std::size_t>(l)];
    const std::int64_t B = x.size(0), N = x.size(1);
    const std::int64_t H = config_.num_heads, dh = config_.head_dim(), d = config_.hidden_size;
    const auto heads = [&](const Tensor& t) { return t.view({B, N, H, dh}).transpose(1, 2); };
    const Tensor qkv = b.c_attn(b.ln_1(x));
    const auto parts = qkv.split(d, -1);
    const Tensor q = heads(parts[0]), k = heads(parts[1]);
    Tensor v = heads(parts[2]);
    if (value_scale.defined()) v = v * value_scale.view({B, 1, N, 1}).to(v.scalar_type());
    double scale = 1.0;
    if (config_.scale_attn_weights) scale /= std::sqrt(static_cast<double>(dh));
    if (config_.scale_attn_by_inverse_layer_idx) scale /= static_cast<double>(l + 1);
    Tensor scores = ::torch::matmul(q, k.transpose(-1, -2)) * scale;
    if (options_.causal) scores = apply_causal_mask(scores);
    scores = scores + mask;
    LayerResult r;
    r.probs = ::torch::softmax(scores, -1);
    const Tensor context = ::torch::matmul(r.probs, v).transpose(1, 2).reshape({B, N, d});
    r.attention_sum = x + b.attn_proj(context);
    r.ffn_sum = r.attention_sum +
                b.mlp_proj(activation(b.c_fc(b.ln_2(r.attention_sum)), config_.activation));
    r.output = r.ffn_sum;
    return r;
  }

 private:
  hf::ModelConfig config_;
  Gpt2Options options_;
  Tensor wte_, wpe_, lm_head_, classifier_weight_, classifier_bias_;
  std::vector<Block> blocks_;
  Norm ln_f_;
};

}  // namespace

std::unique_ptr<Network> make_gpt2(const hf::ModelConfig& config, TensorSource& weights,
                                   const Gpt2Options& options) {
  return std::make_unique<Gpt2>(config, weights, options);
}

}  // namespace attnflow::torch::detail
