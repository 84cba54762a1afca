// T5 (modeling_t5.py, eager attention): an encoder and a decoder of pre-RMSNorm blocks
// (T5LayerNorm: no mean, no bias) around one shared embedding matrix; no position embeddings but
// a learned bias per head and relative-position bucket, added to the scores (bidirectional
// buckets in the encoder, causal ones in the decoder; the bias lives in layer 0 of each stack
// and every layer of that stack reuses it); no 1/sqrt(d) scaling of q k^T; bias-free linear
// maps; a ReLU feed-forward (T5 v1.0) or a gated one, act(wi_0 x) * wi_1 x (v1.1, flan-t5); the
// decoder's layers attend to themselves, then to the encoder output (cross-attention); the
// LM head is tied to the shared embeddings, with the decoder output scaled by d_model^-0.5, or
// a separate lm_head (tie_word_embeddings false).
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

struct Attention {
  Tensor q, k, v, o;  // nn.Linear weights [out, in], no bias
};

struct FeedForward {
  Tensor wi, wi_1, wo;  // wi = wi_0 when gated
};

struct Block {
  RmsNorm self_norm, cross_norm, ffn_norm;
  Attention self, cross;  // cross: the decoder only
  FeedForward ffn;
};

// T5's bucket of each relative position key - query (modeling_t5's _relative_position_bucket):
// bidirectional: half the buckets for keys after the query; then half of the rest exact
// distances, the other half logarithmic up to max_distance (beyond: the last bucket). The
// logarithm is taken in float32 whatever the model's dtype, as transformers does.
Tensor relative_buckets(const Tensor& relative, bool bidirectional, std::int64_t buckets,
                        std::int64_t max_distance) {
  Tensor result = ::torch::zeros_like(relative);
  Tensor distance = relative;
  if (bidirectional) {
    buckets /= 2;
    result = result + (relative > 0).to(::torch::kLong) * buckets;
    distance = relative.abs();
  } else {
    distance = -::torch::min(relative, ::torch::zeros_like(relative));
  }
  const std::int64_t exact = buckets / 2;
  const Tensor small = distance < exact;
  Tensor large = exact + (::torch::log(distance.to(::torch::kFloat) / exact) /
                          std::log(static_cast<double>(max_distance) / static_cast<double>(exact)) *
                          (buckets - exact))
                             .to(::torch::kLong);
  large = ::torch::min(large, ::torch::full_like(large, buckets - 1));
  return result + ::torch::where(small, distance, large);
}

class T5 final : public Network {
 public:
  T5(const hf::ModelConfig& c, TensorSource& w, T5Head head) : config_(c), head_(head) {
    const std::int64_t d = c.hidden_size, inner = c.num_heads * c.head_dim(),
                       ff = c.intermediate_size;
    const std::string why_d = "d_model " + std::to_string(d);
    const std::string why_inner = "num_heads " + std::to_string(c.num_heads) + " x d_kv " +
                                  std::to_string(c.head_dim()) + ", " + why_d;
    const std::string why_ff = "d_ff " + std::to_string(ff) + ", " + why_d;
    const std::string why_vocab = "vocab_size " + std::to_string(c.vocab_size) + ", " + why_d;
    const auto norm = [&](const std::string& name) {
      return RmsNorm{w.get(name + ".weight", {d}, why_d), c.layer_norm_eps};
    };
    const auto attention = [&](const std::string& p) {
      return Attention{w.get(p + "q.weight", {inner, d}, why_inner),
                       w.get(p + "k.weight", {inner, d}, why_inner),
                       w.get(p + "v.weight", {inner, d}, why_inner),
                       w.get(p + "o.weight", {d, inner}, why_inner)};
    };
    const auto ffn = [&](const std::string& p) {
      FeedForward f;
      if (c.gated_ffn) {
        f.wi =
            w.get(p + "wi_0.weight", {ff, d}, why_ff + ", feed_forward_proj " + c.activation_name);
        f.wi_1 = w.get(p + "wi_1.weight", {ff, d}, why_ff);
      } else {
        f.wi = w.get(p + "wi.weight", {ff, d}, why_ff + ", feed_forward_proj " + c.activation_name);
      }
      f.wo = w.get(p + "wo.weight", {d, ff}, why_ff);
      return f;
    };
    // save_pretrained keeps shared.weight and drops the tied encoder/decoder.embed_tokens
    shared_ = w.get(w.has("shared.weight") ? "shared.weight" : "encoder.embed_tokens.weight",
                    {c.vocab_size, d}, why_vocab);
    const std::string why_bias = "relative_attention_num_buckets " +
                                 std::to_string(c.relative_buckets) + ", num_heads " +
                                 std::to_string(c.num_heads);
    // one stack: "encoder." / "decoder." blocks (the decoder's with cross-attention as
    // layer.1), the relative-position table of its block 0, its final norm
    const auto stack = [&](const std::string& name, std::int64_t layers, bool decoder,
                           std::vector<Block>& blocks, Tensor& bias, RmsNorm& final_norm) {
      for (std::int64_t l = 0; l < layers; ++l) {
        const std::string p = name + ".block." + std::to_string(l) + ".layer.";
        const std::string sub = decoder ? "2." : "1.";
        Block b;
        b.self_norm = norm(p + "0.layer_norm");
        b.self = attention(p + "0.SelfAttention.");
        if (decoder) {
          b.cross_norm = norm(p + "1.layer_norm");
          b.cross = attention(p + "1.EncDecAttention.");
        }
        b.ffn_norm = norm(p + sub + "layer_norm");
        b.ffn = ffn(p + sub + "DenseReluDense.");
        blocks.push_back(std::move(b));
      }
      bias = w.get(name + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                   {c.relative_buckets, c.num_heads}, why_bias);
      final_norm = norm(name + ".final_layer_norm");
    };
    stack("encoder", c.num_layers, false, encoder_, encoder_bias_, encoder_norm_);
    if (head == T5Head::EncoderOnly) return;
    stack("decoder", c.decoder_layers, true, decoder_, decoder_bias_, decoder_norm_);
    if (head == T5Head::LanguageModel) {
      lm_head_ = c.tie_word_embeddings ? shared_
                                       : w.get("lm_head.weight", {c.vocab_size, d},
                                               why_vocab + ", tie_word_embeddings false");
    }
  }

  ForwardResult forward(const BatchTensors& batch, bool track_inputs) override {
    ForwardResult r;
    const std::int64_t N = batch.ids.size(1);
    Tensor e = F::embedding(batch.ids, shared_);
    if (track_inputs) e = e.detach().requires_grad_(true);
    r.input_embeddings = e;
    const auto dtype = e.scalar_type();
    const Tensor key_mask = additive_padding_mask(batch.mask, dtype);  // [B, 1, 1, N]
    const Tensor encoder_bias = position_bias(encoder_bias_, N, N, true, e.device(), dtype);
    Tensor x = e;
    for (const Block& b : encoder_) {
      x = x +
          attend(b.self, b.self_norm(x), Tensor(), encoder_bias + key_mask, false, r.attentions);
      x = x + feed_forward(b.ffn, b.ffn_norm(x));
    }
    x = encoder_norm_(x);
    if (head_ == T5Head::EncoderOnly) return r;
    if (!batch.decoder_ids.defined()) {
      throw Error("T5: an encoder-decoder model needs a decoder input (Input::decoder_ids)");
    }
    const std::int64_t M = batch.decoder_ids.size(1);
    const Tensor decoder_mask = additive_padding_mask(batch.decoder_mask, dtype);
    const Tensor decoder_bias =
        position_bias(decoder_bias_, M, M, false, e.device(), dtype) + decoder_mask;
    Tensor y = F::embedding(batch.decoder_ids, shared_);
    // a leaf too, so that the decoder's first self-attention (which does not see the encoder)
    // is in the autograd graph
    if (track_inputs) y = y.detach().requires_grad_(true);
    for (const Block& b : decoder_) {
      y = y + attend(b.self, b.self_norm(y), Tensor(), decoder_bias, true, r.decoder_attentions);
      // cross-attention: no position bias, the encoder's padding mask
      y = y + attend(b.cross, b.cross_norm(y), x, key_mask, false, r.cross_attentions);
      y = y + feed_forward(b.ffn, b.ffn_norm(y));
    }
    y = decoder_norm_(y);
    if (head_ == T5Head::LanguageModel) {
      if (config_.tie_word_embeddings) {
        y = y * std::pow(static_cast<double>(config_.hidden_size), -0.5);
      }
      r.logits = F::linear(y, lm_head_);
    }
    return r;
  }

 private:
  // [1, H, q, k]: the learned bias of each head for the bucket of key - query.
  Tensor position_bias(const Tensor& table, std::int64_t queries, std::int64_t keys,
                       bool bidirectional, const ::torch::Device& device,
                       ::torch::ScalarType dtype) const {
    const auto longs = ::torch::TensorOptions().dtype(::torch::kLong).device(device);
    const Tensor relative =
        ::torch::arange(keys, longs).unsqueeze(0) - ::torch::arange(queries, longs).unsqueeze(1);
    const Tensor buckets = relative_buckets(relative, bidirectional, config_.relative_buckets,
                                            config_.relative_max_distance);
    return F::embedding(buckets, table).permute({2, 0, 1}).unsqueeze(0).to(dtype);
  }

  // One attention of queries from x [B, Q, d] over keys from kv [B, K, d] (undefined: x itself)
  // with the additive `bias` ([.., Q, K]); appends the probabilities to `maps`.
  Tensor attend(const Attention& a, const Tensor& x, const Tensor& kv, const Tensor& bias,
                bool causal, std::vector<Tensor>& maps) const {
    const Tensor& source = kv.defined() ? kv : x;
    const std::int64_t B = x.size(0), Q = x.size(1), K = source.size(1);
    const std::int64_t H = config_.num_heads, dh = config_.head_dim();
    const auto heads = [&](const Tensor& t, std::int64_t n) {
      return t.view({B, n, H, dh}).transpose(1, 2);
    };
    const Tensor q = heads(F::linear(x, a.q), Q);
    const Tensor k = heads(F::linear(source, a.k), K);
    const Tensor v = heads(F::linear(source, a.v), K);
    Tensor scores = ::torch::matmul(q, k.transpose(-1, -2)) + bias;
    if (causal) scores = apply_causal_mask(scores);
    const Tensor probs = ::torch::softmax(scores, -1);
    maps.push_back(probs);
    const Tensor context = ::torch::matmul(probs, v).transpose(1, 2).reshape({B, Q, H * dh});
    return F::linear(context, a.o);
  }

  Tensor feed_forward(const FeedForward& f, const Tensor& x) const {
    Tensor h = activation(F::linear(x, f.wi), config_.activation);
    if (f.wi_1.defined()) h = h * F::linear(x, f.wi_1);
    return F::linear(h, f.wo);
  }

  hf::ModelConfig config_;
  T5Head head_;
  Tensor shared_, encoder_bias_, decoder_bias_, lm_head_;
  std::vector<Block> encoder_, decoder_;
  RmsNorm encoder_norm_, decoder_norm_;
};

}  // namespace

std::unique_ptr<Network> make_t5(const hf::ModelConfig& config, TensorSource& weights,
                                 T5Head head) {
  return std::make_unique<T5>(config, weights, head);
}

}  // namespace attnflow::torch::detail
