// attnflow::torch — running transformer models with libtorch and taking out every attention map
// (and, on request, the gradient of a target logit with respect to each map).
//
// This header has no libtorch types: apps and other tools include it without paying libtorch's
// compile time, and the rest of attnflow builds without libtorch at all (the target
// attnflow::torch exists only when CMake finds Torch).
//
// Two kinds of model:
//  * a Hugging Face model directory (config.json + model.safetensors): BertModel,
//    BertForMaskedLM, BertForSequenceClassification, the same three for RoBERTa
//    (Roberta*), XLM-RoBERTa (XLMRoberta*) and DistilBERT (DistilBert*), GPT2Model,
//    GPT2LMHeadModel, LlamaModel, LlamaForCausalLM, MistralModel, MistralForCausalLM,
//    Qwen2Model, Qwen2ForCausalLM (weights in one model.safetensors or sharded with a
//    model.safetensors.index.json; float32 / float16 / bfloat16, computed in float32, or for the
//    Llama family in bfloat16 / float16 on request: LoadOptions::dtype), and the
//    GPT-2-block encoder classifier of Abnar & Zuidema (config "attnflow_encoder_classifier",
//    see docs/extract.md) and seed 004's character GPT (AttnflowCharGPT, `attnflow train lm`),
//    implemented natively with eager attention;
//  * a TorchScript module (a .pt file) that follows the contract in docs/extract.md:
//    forward(input_ids: long[B, n], attention_mask: long[B, n]) -> (logits, attentions) with
//    attentions a list/tuple of L tensors [B, H, n, n].
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attnflow/core/contribution.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/core/grad_rollout.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/torch/target.hpp"

namespace attnflow::torch {

/// What the model's output logits are.
enum class HeadKind {
  None,           ///< a base model (BertModel, GPT2Model): no logits
  Classifier,     ///< logits [C] per example
  LanguageModel,  ///< logits [n, V] per example (masked or causal LM)
};

/// How the model is implemented: a native BERT, native GPT-2 blocks (GPT2Model,
/// GPT2LMHeadModel and the encoder classifier AttnflowEncoderClassifier), a native RoBERTa
/// (model_type roberta and xlm-roberta), a native DistilBERT, a native Llama-style decoder
/// (Llama, Mistral, Qwen2: one implementation), a native T5 (encoder-decoder, or its encoder
/// alone), seed 004's character GPT (AttnflowCharGPT, attnflow/torch/char_gpt.hpp), or a
/// TorchScript module.
enum class ModelFamily {
  Bert,
  Gpt2,
  Roberta,
  DistilBert,
  Llama,
  Mistral,
  Qwen2,
  T5,
  CharGpt,
  TorchScript
};

/// "bert", "gpt2", "roberta", "distilbert", "llama", "mistral", "qwen2", "t5", "char-gpt" or
/// "torchscript"
std::string_view to_string(ModelFamily family);

struct ModelInfo {
  std::string path;  ///< what was loaded (directory or .pt file)
  ModelFamily family = ModelFamily::Bert;
  std::string architecture;  ///< e.g. "BertForMaskedLM"; "TorchScript" for modules
  int layers = 0;            ///< an encoder-decoder: the encoder's
  int heads = 0;
  std::int64_t hidden_size = 0;  ///< 0 when unknown (TorchScript)
  bool causal = false;           ///< decoder-style attention (lower-triangular); an
                                 ///< encoder-decoder: false (its encoder's attention)
  /// Encoder-decoder models (T5Model, T5ForConditionalGeneration): the decoder's layers (> 0);
  /// every Input then needs decoder_ids, and the LM targets are taken at decoder positions.
  /// 0 for every other model (T5EncoderModel included).
  int decoder_layers = 0;
  /// The decoder's first input id (config decoder_start_token_id), which a teacher-forced
  /// decoder input starts with; -1 = not given.
  std::int64_t decoder_start_token_id = -1;
  HeadKind head = HeadKind::None;
  std::int64_t num_labels = 0;     ///< classifier classes (0 otherwise)
  std::int64_t vocab_size = 0;     ///< embedding rows (0 when unknown)
  std::int64_t max_positions = 0;  ///< longest input the model accepts (0 = no limit known);
                                   ///< RoBERTa: max_position_embeddings - pad_token_id - 1
  bool uses_type_ids = false;      ///< token types (BERT; RoBERTa with type_vocab_size > 1)
  std::string device;              ///< "cpu" or "cuda:N"
  /// The dtype the weights are kept in and the forward/backward computed in: "float32",
  /// "float64" (LoadOptions::float64), "bfloat16" or "float16" (LoadOptions::dtype); a
  /// TorchScript module: the dtype of its attention maps. Outputs are float32 whatever it is.
  std::string dtype = "float32";
};

/// LoadOptions::dtype (`attnflow extract --dtype`).
enum class ComputeDtype {
  Auto,      ///< the config's torch_dtype / dtype (bfloat16, float16) on CUDA; float32 on CPU
  Float32,   ///< the default: every checkpoint converted to float32
  BFloat16,  ///< 2 bytes per parameter; CPU and CUDA
  Float16,   ///< 2 bytes per parameter; CUDA only (libtorch's CPU has no float16 matmul)
};
inline constexpr EnumName<ComputeDtype> kComputeDtypeNames[] = {
    {ComputeDtype::Auto, "auto"},
    {ComputeDtype::Float32, "float32"},
    {ComputeDtype::BFloat16, "bfloat16"},
    {ComputeDtype::Float16, "float16"},
};

struct LoadOptions {
  std::string device = "cpu";  ///< "cpu", "cuda" or "cuda:N"; cuda without CUDA -> Error
  int threads = 0;             ///< intra-op threads on CPU (0 = libtorch's default)
  /// Native models: convert the weights to float64 and run in float64 (about twice the memory
  /// and time; outputs are still float32). For exact comparisons, e.g. of the value-aware
  /// contributions with a float64 reference. TorchScript modules run as they were saved.
  bool float64 = false;
  /// Native models of the Llama family (Llama, Mistral, Qwen2): BFloat16 / Float16 keep the
  /// weights in that dtype on the device (loaded tensor by tensor, no float32 copy of the model)
  /// and compute in it, with softmax and the RMSNorm statistics in float32 as Hugging Face does;
  /// the attention maps (the float32 softmax) and dy/dA come out in float32. Auto: the config's
  /// torch_dtype on CUDA, float32 on CPU. Float16 on CPU, a reduced dtype for another family,
  /// for a TorchScript module or with float64 -> Error (docs/extract.md, "Compute dtype").
  ComputeDtype dtype = ComputeDtype::Float32;
};

/// One example. Token ids as the tokenizer gave them (special tokens included).
struct Input {
  std::vector<std::int64_t> ids;
  std::vector<std::int32_t> type_ids;  ///< empty = all 0
  std::optional<std::int64_t> label;   ///< for TargetKind::Label
  /// Encoder-decoder models: the decoder input, teacher-forced (decoder_start_token_id, then the
  /// target text's ids); m = its length. Empty for every other model.
  std::vector<std::int64_t> decoder_ids = {};
};

/// Settings of the value-aware contribution methods (docs/methods.md, "Value-aware
/// contributions").
struct ContributionOptions {
  /// GlobEnc on post-LN blocks (BERT): also the second residual's LayerNorm, as GlobEnc's
  /// N_Enc does (default); false = Kobayashi et al. 2021's N_ResLN (first LayerNorm only).
  /// Pre-LN blocks have no LayerNorm on the residual path, so this changes nothing there.
  bool globenc_second_norm = true;
  /// Value zeroing: (example, token) pairs per extra run of a layer; 0 = as many as fit in
  /// about 256 MB of activations.
  std::int64_t value_zeroing_batch = 0;
};

/// One layer of one example, handed to LayerStream::sink while a batch runs (docs/extract.md,
/// "Bounded memory"): the maps of the selected heads, or their fusion.
struct StreamedLayer {
  std::size_t example = 0;  ///< index in the batch
  int layer = 0;            ///< 1-based model layer
  int index = 0;            ///< 0-based position of `layer` in the selection
  std::int64_t n = 0;       ///< the example's tokens
  bool gradient = false;    ///< dy/dA (after the forward pass) rather than A
  /// With `gradient`: the gradient-weighted head mean (LayerStream::gradient_mean) in `fused`
  /// rather than dy/dA.
  bool weighted = false;
  int heads = 0;                  ///< maps in `values` (the selected heads); 1 when fused
  const float* values = nullptr;  ///< per-head: [heads, n, n] float32, row-major (else null)
  const double* fused = nullptr;  ///< fused: [n, n] float64, row-major (else null)
};

/// Streaming of the maps layer by layer instead of Output::attention(_gradient): each layer's
/// maps leave the device as soon as the layer is computed (gradients: as soon as the backward
/// pass is done), one layer at a time, so that no [L, H, n, n] stack is ever held on the host;
/// without gradients the layer's maps are then freed on the device too.
struct LayerStream {
  std::vector<int> layers;  ///< 1-based layers to hand out, ascending; empty = all
  std::vector<int> heads;   ///< 1-based heads, ascending; empty = all
  /// Set: the selected heads are fused on the device (in float64; weighted: one weight per
  /// selected head) and only the [n, n] fusion is handed out. Attention only (no gradients).
  std::optional<FusionOptions> fusion;
  /// Set (with a target): instead of dy/dA, each selected layer's gradient-weighted mean over
  /// the selected heads of dy/dA_h ⊙ A_h (each head's product clamped at 0 first when
  /// Clamped; core's gradient_head_mean), computed on the device in float64 one head at a
  /// time and handed out as an [n, n] `fused` map with `weighted` set: no per-head gradient
  /// reaches the host. Needs `attention` (A is taken as the forward pass hands it out).
  std::optional<GradientHeadMean> gradient_mean;
  /// Called for every example of the batch, in layer order (attention during the forward
  /// pass, then the gradients). The pointers are valid during the call only.
  std::function<void(const StreamedLayer&)> sink;
};

struct RunOptions {
  bool attention = true;            ///< return the attention maps
  Target target;                    ///< kind None = no gradients
  bool attention_gradients = true;  ///< with a target: dy/dA for every layer and head
  bool input_gradients = false;     ///< with a target: dy/d(input token embeddings)
  bool logits = false;              ///< return the logits
  std::int64_t mask_token_id = -1;  ///< for TargetKind::MaskedToken
  /// Per-layer contribution matrices to compute from the same forward pass (native BERT and
  /// GPT-2 models only: a TorchScript model -> Error). Empty = none.
  std::vector<Contribution> contributions;
  ContributionOptions contribution_options;
  /// sink set: the maps go to it layer by layer, Output::attention and attention_gradient
  /// stay empty (attention is streamed when `attention` is set, gradients with a target).
  LayerStream stream;
};

/// The result for one example, at its own length n (padding removed).
struct Output {
  std::int64_t n = 0;
  std::vector<float> attention;            ///< [L, H, n, n] row-major (query, key)
  std::vector<float> attention_gradient;   ///< [L, H, n, n] dy/dA, when a target was set
  std::vector<float> logits;               ///< when RunOptions::logits
  std::vector<std::int64_t> logits_shape;  ///< [C] or [n, V]
  std::vector<float> input_gradient;       ///< [n, d] dy/de, when requested
  std::vector<float> input_embedding;      ///< [n, d] token embeddings e (for gradient x input)
  std::optional<std::int64_t> prediction;  ///< argmax class, or argmax token at the target position
  std::optional<std::int64_t> target_index;     ///< the class / token whose logit is y
  std::optional<std::int64_t> target_position;  ///< LM targets: the position of y
  double target_value = 0.0;                    ///< y
  // Encoder-decoder models (ModelInfo::decoder_layers > 0); attention and attention_gradient
  // above are the encoder's self-attention [L, H, n, n]. LM targets and logits ([m, V]) are at
  // decoder positions.
  std::int64_t m = 0;                             ///< decoder tokens
  std::vector<float> decoder_attention;           ///< [L_dec, H, m, m] (causal)
  std::vector<float> decoder_attention_gradient;  ///< [L_dec, H, m, m] dy/dA
  std::vector<float> cross_attention;             ///< [L_dec, H, m, n] (query m, key n)
  std::vector<float> cross_attention_gradient;    ///< [L_dec, H, m, n] dy/dA
  /// One entry per RunOptions::contributions: [L, n, n] float32 row-major, row = output token
  /// i of layer l, column = input token j (docs/methods.md). Padding never leaks in: a padded
  /// batch gives each example what it gives alone (to float rounding).
  std::map<Contribution, std::vector<float>> contributions;
};

/// The [L, n, n] matrices of `method` in `output` as an L x 1 x n x n stack (the layout of a
/// fused attention stack). Throws Error when `output` has no such matrices.
AttentionStack contribution_stack(const Output& output, Contribution method);

class Model {
 public:
  /// Loads a Hugging Face model directory (or its config.json) or a TorchScript .pt file.
  /// Throws Error naming the file and what is wrong (missing/corrupt config or weights, a
  /// tensor with the wrong shape or dtype, an unknown architecture, CUDA requested without
  /// CUDA).
  static std::unique_ptr<Model> load(const std::string& path, const LoadOptions& options = {});

  virtual ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelInfo& info() const { return info_; }

  /// Runs one batch (right-padded internally with an attention mask; every output is cut back
  /// to its example's length). Throws Error for an empty batch, an empty example, an id out
  /// of the vocabulary, an example longer than max_positions, or a target the model or an
  /// example cannot give (check_target, check_target_input in attnflow/torch/target.hpp).
  virtual std::vector<Output> run(const std::vector<Input>& batch, const RunOptions& options) = 0;

 protected:
  Model() = default;
  ModelInfo info_;
};

/// Softmax of a classifier output's logits (run with RunOptions::logits), in double precision.
std::vector<double> class_probabilities(const Output& output);

/// Blank-out importance (Abnar & Zuidema 2020): for every token k of `input`,
/// |p_c(x) - p_c(x with token k replaced by `replacement`)| with p_c the softmax probability of
/// class `target_class` of a classifier. Tokens whose position is in `skip` (e.g. [CLS], [SEP])
/// get 0 and are not run. All variants of the example run as one batch of at most
/// `batch_size`. Throws Error for a model without a classifier or a class out of range.
std::vector<double> blank_out_scores(Model& model, const Input& input, std::int64_t target_class,
                                     std::int64_t replacement, const std::vector<int>& skip = {},
                                     int batch_size = 64);

/// True when libtorch was built with CUDA and a device is present.
bool cuda_available();

}  // namespace attnflow::torch
