// Internal to attnflow::torch: the forward pass every model kind implements.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "compute_dtype.hpp"

namespace attnflow::torch::detail {

/// Inputs of one padded batch, on the model's device.
struct BatchTensors {
  ::torch::Tensor ids;       ///< long [B, N], right-padded
  ::torch::Tensor type_ids;  ///< long [B, N]
  ::torch::Tensor mask;      ///< long [B, N]: 1 = token, 0 = padding
  ::torch::Tensor lengths;   ///< long [B] (CPU)
  /// Encoder-decoder models (T5): the teacher-forced decoder input, right-padded; undefined
  /// for every other model.
  ::torch::Tensor decoder_ids;      ///< long [B, M]
  ::torch::Tensor decoder_mask;     ///< long [B, M]: 1 = token, 0 = padding
  ::torch::Tensor decoder_lengths;  ///< long [B] (CPU)
  /// Keep what every layer computed (ForwardResult::layer_inputs, layers): for the value-aware
  /// methods only, since it holds ~3 [B, N, d] tensors per layer alive.
  bool keep_layers = false;
  /// Streaming (RunOptions::stream): called with each layer's attention [B, H, N, N] (0-based
  /// layer) as soon as it is computed; the map is then kept in ForwardResult::attentions only
  /// with keep_attentions (gradients need them), so that it is freed after the layer.
  std::function<void(int layer, const ::torch::Tensor& probs)> on_attention;
  bool keep_attentions = true;
};

struct ForwardResult;

/// Hands layer `layer`'s attention to batch.on_attention and/or keeps it in r.attentions.
void emit_attention(const BatchTensors& batch, int layer, const ::torch::Tensor& probs,
                    ForwardResult& r);

/// LayerNorm over the last dimension with the given parameters (the encoders, GPT-2).
struct LayerNorm {
  ::torch::Tensor weight, bias;
  double eps = 1e-5;
  ::torch::Tensor operator()(const ::torch::Tensor& x) const {
    return ::torch::layer_norm(x, {weight.size(0)}, weight, bias, eps);
  }
};

/// RMSNorm (LlamaRMSNorm, T5LayerNorm): weight * x / sqrt(mean(x^2) + eps), no mean, no bias.
/// A bfloat16 / float16 x is normalised in float32 and cast back before the weight is applied,
/// as LlamaRMSNorm does.
struct RmsNorm {
  ::torch::Tensor weight;
  double eps = 1e-6;
  ::torch::Tensor operator()(const ::torch::Tensor& x) const {
    const ::torch::Tensor f = upcast(x);
    return weight * (f * ::torch::rsqrt(f.pow(2).mean(-1, true) + eps)).to(x.scalar_type());
  }
};

/// What one transformer layer computed ([B, N, d] unless said), for the value-aware methods.
struct LayerResult {
  ::torch::Tensor probs;          ///< [B, H, N, N] attention (the tensor multiplied with V)
  ::torch::Tensor attention_sum;  ///< x + attention output (post-LN: the input of LN1)
  ::torch::Tensor ffn_sum;        ///< post-LN: the input of LN2; pre-LN: the layer output
  ::torch::Tensor output;         ///< the layer output (the next layer's input)
};

struct ForwardResult {
  ::torch::Tensor logits;  ///< [B, C] or [B, N, V] ([B, M, V] for T5); undefined for base models
  std::vector<::torch::Tensor> attentions;  ///< L x [B, H, N, N], the tensors used downstream
                                            ///< (an encoder-decoder: the encoder's)
  // Encoder-decoder models only (empty otherwise):
  std::vector<::torch::Tensor> decoder_attentions;  ///< L_dec x [B, H, M, M] (causal)
  std::vector<::torch::Tensor> cross_attentions;    ///< L_dec x [B, H, M, N]
  ::torch::Tensor input_embeddings;                 ///< [B, N, d] token embeddings (native models)
  // Native models with BatchTensors::keep_layers only (empty otherwise):
  std::vector<::torch::Tensor> layer_inputs;  ///< L x [B, N, d]: the input x of each layer
  std::vector<LayerResult> layers;            ///< L: what each layer computed
  ::torch::Tensor additive_mask;              ///< [B, 1, 1, N] padding mask the layers used
};

/// Where a block's first LayerNorm sits: after the attention residual (BERT) or before the
/// attention, with an unnormalised residual stream (GPT-2).
enum class Placement { PostLN, PreLN };

/// The tensors of one layer the value-aware methods read, in x W layout ([in, out]).
struct BlockWeights {
  Placement placement = Placement::PostLN;
  /// [d, KV dh]: v = x' W_V + b_V (x' = x, or LN1(x) / RMSNorm(x) pre-norm)
  ::torch::Tensor value_weight;
  ::torch::Tensor value_bias;  ///< [KV dh]; undefined = none (Llama, Mistral)
  /// [H dh, d]: z = context W_O + b_O (rows h*dh.. = head h)
  ::torch::Tensor output_weight;
  ::torch::Tensor output_bias;  ///< [d]; undefined = none (the Llama family)
  LayerNorm ln1;  ///< post-LN: after the attention residual; pre-LN: before the attention
  LayerNorm ln2;  ///< post-LN: after the feed-forward residual; pre-LN: before the feed-forward
  /// Pre-RMSNorm blocks (the Llama family): the input norm before the attention, used instead
  /// of ln1 (ln1 and ln2 are then unset: nothing reads the post-attention norm).
  RmsNorm rms1{};
  /// Grouped-query attention: KV, the number of value heads (0 = one per query head); query
  /// head h reads value head h / (H / KV), as repeat_kv lays them out.
  int kv_heads = 0;
};

class Network {
 public:
  virtual ~Network() = default;
  /// Runs the model. With `track_inputs`, the token embeddings are a leaf that requires grad
  /// (so that attention maps and embeddings are in the autograd graph).
  virtual ForwardResult forward(const BatchTensors& batch, bool track_inputs) = 0;

  // The layer structure for the value-aware methods (contributions.hpp); native models only.
  virtual bool has_layers() const { return false; }
  virtual int heads() const { return 0; }
  virtual BlockWeights block(int /*layer*/) const { return {}; }
  /// Layer `layer` (0-based) on x [B, N, d] with the additive padding mask [B, 1, 1, N]
  /// (the causal and sliding-window masks are the layer's own); every value head's vector of
  /// token j is multiplied by value_scale[b, j] ([B, N]; undefined = 1), the hook of value
  /// zeroing.
  virtual LayerResult layer(int layer, const ::torch::Tensor& x, const ::torch::Tensor& mask,
                            const ::torch::Tensor& value_scale) const {
    throw std::logic_error("Network::layer: not a native model");
  }
};

/// Runs layers 0..layers-1 of a native network on x with the additive padding `mask`, filling
/// r.attentions and, with `keep`, r.layer_inputs, r.layers and r.additive_mask; returns the
/// last layer's output. With `batch`, each layer's attention goes through emit_attention.
::torch::Tensor run_layers(const Network& net, int layers, ::torch::Tensor x,
                           const ::torch::Tensor& mask, bool keep, ForwardResult& r,
                           const BatchTensors* batch = nullptr);

/// HF's "extended attention mask": 0 for tokens, the lowest finite value of `dtype` for padding,
/// [B, 1, 1, N].
::torch::Tensor additive_padding_mask(const ::torch::Tensor& mask, ::torch::ScalarType dtype);

/// Scores [B, H, N, N] with every key after its query set to the lowest float (HF's eager
/// causal masking: those weights become exactly 0 after softmax).
::torch::Tensor apply_causal_mask(const ::torch::Tensor& scores);

}  // namespace attnflow::torch::detail

namespace attnflow::hf {
struct ModelConfig;
enum class Activation;
}  // namespace attnflow::hf

namespace attnflow::torch::detail {

/// The feed-forward activation of hf::ModelConfig::activation (hidden_act /
/// activation_function of config.json, parsed by hf).
::torch::Tensor activation(const ::torch::Tensor& x, hf::Activation a);

class TensorSource;

/// The head of an encoder family: none (a base model; Pooler: one with a pooler, which gives no
/// logits), a sequence classifier, a masked LM.
enum class BertHead { None, Pooler, SequenceClassification, MaskedLM };

/// BertModel / BertForSequenceClassification / BertForMaskedLM with eager attention.
std::unique_ptr<Network> make_bert(const hf::ModelConfig& config, TensorSource& weights,
                                   BertHead head);

/// RobertaModel / RobertaForSequenceClassification / RobertaForMaskedLM, and the XLMRoberta*
/// classes (the same code): BERT's blocks, position ids offset by pad_token_id + 1.
std::unique_ptr<Network> make_roberta(const hf::ModelConfig& config, TensorSource& weights,
                                      BertHead head);

/// How AttnflowPooledClassifier reads the last hidden state: its mean over the non-pad tokens,
/// or token 0 ([CLS]).
enum class Pooling { Mean, Cls };

/// AttnflowPooledClassifier: a BERT or RoBERTa body (config.family) and one linear layer
/// "classifier" [num_labels, d] on the pooled last hidden state (no pooler, no tanh).
std::unique_ptr<Network> make_pooled_classifier(const hf::ModelConfig& config,
                                                TensorSource& weights, Pooling pooling);

/// DistilBertModel / DistilBertForSequenceClassification / DistilBertForMaskedLM.
std::unique_ptr<Network> make_distilbert(const hf::ModelConfig& config, TensorSource& weights,
                                         BertHead head);

enum class Gpt2Head { None, LanguageModel, FirstTokenClassifier };

struct Gpt2Options {
  Gpt2Head head = Gpt2Head::None;
  bool causal = true;  ///< false for the encoder classifier of Abnar & Zuidema
  std::int64_t classifier_position = 0;
};

/// GPT2Model / GPT2LMHeadModel, and GPT-2 blocks without the causal mask and with a classifier
/// on one token (AttnflowEncoderClassifier).
std::unique_ptr<Network> make_gpt2(const hf::ModelConfig& config, TensorSource& weights,
                                   const Gpt2Options& options);

enum class T5Head { None, LanguageModel, EncoderOnly };

/// T5Model (None), T5ForConditionalGeneration (LanguageModel), T5EncoderModel (EncoderOnly).
std::unique_ptr<Network> make_t5(const hf::ModelConfig& config, TensorSource& weights, T5Head head);

/// LlamaModel / LlamaForCausalLM, MistralModel / MistralForCausalLM, Qwen2Model /
/// Qwen2ForCausalLM (the differences are in hf::ModelConfig: sliding_window, qkv_bias).
std::unique_ptr<Network> make_llama(const hf::ModelConfig& config, TensorSource& weights,
                                    bool lm_head);

}  // namespace attnflow::torch::detail
