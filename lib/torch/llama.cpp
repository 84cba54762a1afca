// The Llama family (modeling_llama.py, modeling_mistral.py, modeling_qwen2.py; eager attention):
// pre-RMSNorm decoder blocks, rotary position embeddings (rope_theta; rope_scaling "linear" or
// "llama3"), grouped-query attention (num_key_value_heads, every query head's map reported),
// a SwiGLU MLP, tied or untied output embeddings. Mistral adds a sliding window to the causal
// mask, Qwen2 biases on q/k/v_proj. Computed in the weights' dtype (float32 by default; bfloat16 /
// float16 with LoadOptions::dtype: then, as Hugging Face does, the softmax and the RMSNorm
// statistics in float32, and the float32 softmax is the map handed out and differentiated). The
// blocks run one at a time through run_layers, so that the value-aware methods
// (contributions.cpp) read each block's input and value path and re-run it with values zeroed.
#include <cmath>
#include <limits>
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

constexpr double kPi = 3.14159265358979323846;

// nn.Linear: weight [out, in], optional bias.
struct Linear {
  Tensor weight, bias;
  Tensor operator()(const Tensor& x) const { return F::linear(x, weight, bias); }
};

struct Block {
  RmsNorm input_norm, post_attention_norm;
  Linear q, k, v, o, gate, up, down;
};

// The rotary inverse frequencies theta^(-2i/dh), i < dh / 2, with the config's scaling.
std::vector<double> rope_inverse_frequencies(const hf::RopeConfig& rope, std::int64_t head_dim) {
  std::vector<double> inv(static_cast<std::size_t>(head_dim / 2));
  for (std::size_t i = 0; i < inv.size(); ++i) {
    inv[i] = 1.0 / std::pow(rope.theta, static_cast<double>(2 * i) / static_cast<double>(head_dim));
  }
  if (rope.type == "linear") {
    for (double& f : inv) f /= rope.factor;
  } else if (rope.type == "llama3") {
    // Llama 3.1: long wavelengths divided by factor, short ones kept, the band between
    // interpolated (modeling_rope_utils._compute_llama3_parameters)
    const double old = static_cast<double>(rope.original_max_positions);
    const double low_wavelen = old / rope.low_freq_factor;
    const double high_wavelen = old / rope.high_freq_factor;
    for (double& f : inv) {
      const double wavelen = 2 * kPi / f;
      if (wavelen > low_wavelen) {
        f /= rope.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth =
            (old / wavelen - rope.low_freq_factor) / (rope.high_freq_factor - rope.low_freq_factor);
        f = (1 - smooth) * f / rope.factor + smooth * f;
      }
    }
  }
  return inv;
}

class Llama final : public Network {
 public:
  Llama(const hf::ModelConfig& c, TensorSource& w, bool lm_head) : config_(c) {
    const std::int64_t d = c.hidden_size, H = c.num_heads, KV = c.num_kv_heads, dh = c.head_dim(),
                       inner = c.intermediate_size;
    const auto linear = [&](const std::string& name, std::int64_t in, std::int64_t out, bool bias,
                            const std::string& why) {
      Linear l{w.get(name + ".weight", {out, in}, why), Tensor()};
      if (bias) l.bias = w.get(name + ".bias", {out}, why);
      return l;
    };
    const std::string why_d = "hidden_size " + std::to_string(d);
    const std::string why_q = "num_attention_heads " + std::to_string(H) + " x head_dim " +
                              std::to_string(dh) + ", " + why_d;
    const std::string why_kv = "num_key_value_heads " + std::to_string(KV) + " x head_dim " +
                               std::to_string(dh) + ", " + why_d;
    const std::string why_mlp = "intermediate_size " + std::to_string(inner) + ", " + why_d;
    const std::string why_vocab = "vocab_size " + std::to_string(c.vocab_size) + ", " + why_d;
    const bool qkv_bias = c.attention_bias || c.qkv_bias;
    const auto norm = [&](const std::string& name) {
      return RmsNorm{w.get(name + ".weight", {d}, why_d), c.layer_norm_eps};
    };
    embed_ = w.get("embed_tokens.weight", {c.vocab_size, d}, why_vocab);
    for (std::int64_t l = 0; l < c.num_layers; ++l) {
      const std::string p = "layers." + std::to_string(l) + ".";
      Block b;
      b.input_norm = norm(p + "input_layernorm");
      b.q = linear(p + "self_attn.q_proj", d, H * dh, qkv_bias, why_q);
      b.k = linear(p + "self_attn.k_proj", d, KV * dh, qkv_bias, why_kv);
      b.v = linear(p + "self_attn.v_proj", d, KV * dh, qkv_bias, why_kv);
      b.o = linear(p + "self_attn.o_proj", H * dh, d, c.attention_bias, why_q);
      b.post_attention_norm = norm(p + "post_attention_layernorm");
      b.gate = linear(p + "mlp.gate_proj", d, inner, c.mlp_bias, why_mlp);
      b.up = linear(p + "mlp.up_proj", d, inner, c.mlp_bias, why_mlp);
      b.down = linear(p + "mlp.down_proj", inner, d, c.mlp_bias, why_mlp);
      blocks_.push_back(std::move(b));
    }
    norm_ = norm("norm");
    if (lm_head) {
      // untied (the default of these configs): lm_head.weight must be there; tied: the file's
      // copy if it has one, else the input embeddings
      lm_head_ =
          c.tie_word_embeddings && !w.has("lm_head.weight")
              ? embed_
              : w.get("lm_head.weight", {c.vocab_size, d},
                      why_vocab + (c.tie_word_embeddings ? "" : ", tie_word_embeddings false"));
    }
    const std::vector<double> inv = rope_inverse_frequencies(c.rope, dh);
    inv_freq_ = ::torch::tensor(inv, ::torch::TensorOptions().dtype(::torch::kFloat64));
  }

  ForwardResult forward(const BatchTensors& batch, bool track_inputs) override {
    ForwardResult r;
    Tensor x = F::embedding(batch.ids, embed_);
    if (track_inputs) x = x.detach().requires_grad_(true);
    r.input_embeddings = x;
    const Tensor mask = additive_padding_mask(batch.mask, x.scalar_type());
    x = run_layers(*this, static_cast<int>(blocks_.size()), x, mask, batch.keep_layers, r, &batch);
    x = norm_(x);
    if (lm_head_.defined()) r.logits = F::linear(x, lm_head_);
    return r;
  }

  bool has_layers() const override { return true; }
  int heads() const override { return static_cast<int>(config_.num_heads); }

  // The value path of a pre-RMSNorm block: v = RMSNorm(x) W_V (+ Qwen2's b_V), shared by the
  // H / KV query heads of a group; o_proj without bias (Llama's attention_bias: with).
  BlockWeights block(int l) const override {
    const Block& b = blocks_[static_cast<std::size_t>(l)];
    BlockWeights w;
    w.placement = Placement::PreLN;
    w.value_weight = b.v.weight.t();
    w.value_bias = b.v.bias;
    w.output_weight = b.o.weight.t();
    w.output_bias = b.o.bias;
    w.rms1 = b.input_norm;
    w.kv_heads = static_cast<int>(config_.num_kv_heads);
    return w;
  }

  // One decoder block on x [B, N, d]: RoPE at positions 0..N-1 (right padding: every example
  // starts at 0), the causal mask (and Mistral's sliding window) of the block itself, the
  // padding keys of the additive `mask` [B, 1, 1, N]; value_scale [B, N] multiplies token j's
  // vector in every key/value head (value zeroing).
  LayerResult layer(int l, const Tensor& x, const Tensor& mask,
                    const Tensor& value_scale) const override {
    const Block& b = blocks_[static_cast<std::size_t>(l)];
    const std::int64_t B = x.size(0), N = x.size(1);
    const std::int64_t H = config_.num_heads, KV = config_.num_kv_heads, dh = config_.head_dim();
    const auto device = x.device();
    // cos / sin [N, dh], computed in double and used in the model's dtype
    const Tensor pos = ::torch::arange(N, ::torch::TensorOptions().dtype(::torch::kFloat64));
    const Tensor freqs = ::torch::outer(pos, inv_freq_);
    const Tensor angles = ::torch::cat({freqs, freqs}, -1);
    const Tensor cos = angles.cos().to(device, x.scalar_type());
    const Tensor sin = angles.sin().to(device, x.scalar_type());
    const auto rotate = [&](const Tensor& t) {  // t * cos + rotate_half(t) * sin
      const auto halves = t.chunk(2, -1);
      return t * cos + ::torch::cat({-halves[1], halves[0]}, -1) * sin;
    };
    // allowed[b, 1, i, j]: j <= i, i - j < sliding_window (Mistral), key j not padding
    const auto idx =
        ::torch::arange(N, ::torch::TensorOptions().dtype(::torch::kLong).device(device));
    Tensor allowed = idx.unsqueeze(0) <= idx.unsqueeze(1);  // [N(query), N(key)]
    if (config_.sliding_window > 0) {
      allowed = allowed & ((idx.unsqueeze(1) - idx.unsqueeze(0)) < config_.sliding_window);
    }
    allowed = allowed.view({1, 1, N, N}) & (mask >= 0);
    const double lowest = std::numeric_limits<float>::lowest();
    const double scale = 1.0 / std::sqrt(static_cast<double>(dh));

    const Tensor h = b.input_norm(x);
    const Tensor q = rotate(b.q(h).view({B, N, H, dh}).transpose(1, 2));
    Tensor k = rotate(b.k(h).view({B, N, KV, dh}).transpose(1, 2));
    Tensor v = b.v(h).view({B, N, KV, dh}).transpose(1, 2);
    if (value_scale.defined()) v = v * value_scale.view({B, 1, N, 1}).to(v.scalar_type());
    if (KV != H) {  // query head g * (H / KV) + r reads key/value head g (repeat_kv)
      k = k.repeat_interleave(H / KV, 1);
      v = v.repeat_interleave(H / KV, 1);
    }
    // eager_attention_forward: scores in the model's dtype, softmax in float32, cast back for
    // the product with V; the float32 softmax is the map (dy/dA: the same gradient)
    const Tensor scores = upcast(::torch::matmul(q, k.transpose(-1, -2)) * scale)
                              .masked_fill(allowed.logical_not(), lowest);
    LayerResult r;
    r.probs = ::torch::softmax(scores, -1);
    const Tensor context =
        ::torch::matmul(r.probs.to(v.scalar_type()), v).transpose(1, 2).reshape({B, N, H * dh});
    r.attention_sum = x + b.o(context);
    const Tensor m = b.post_attention_norm(r.attention_sum);
    r.ffn_sum = r.attention_sum + b.down(activation(b.gate(m), config_.activation) * b.up(m));
    r.output = r.ffn_sum;
    return r;
  }

 private:
  hf::ModelConfig config_;
  Tensor embed_, lm_head_, inv_freq_;
  std::vector<Block> blocks_;
  RmsNorm norm_;
};

}  // namespace

std::unique_ptr<Network> make_llama(const hf::ModelConfig& config, TensorSource& weights,
                                    bool lm_head) {
  return std::make_unique<Llama>(config, weights, lm_head);
}

}  // namespace attnflow::torch::detail
