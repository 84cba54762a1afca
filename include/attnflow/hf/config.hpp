// A model's config.json (Hugging Face layout) for the BERT, RoBERTa / XLM-RoBERTa, DistilBERT,
// GPT-2 and Llama (Llama, Mistral, Qwen2) families. The field names of every family (hidden_size /
// n_embd / dim, ...) and of transformers 4.x and 5.x (torch_dtype / dtype) map onto one struct;
// missing fields take the defaults of transformers' config classes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace attnflow::hf {

/// Roberta covers model_type "roberta" and "xlm-roberta" (the same modelling code); Llama covers
/// "llama", "mistral" and "qwen2" (pre-RMSNorm decoders with RoPE, GQA and a SwiGLU MLP).
/// T5 covers model_type "t5" (T5Model, T5ForConditionalGeneration, T5EncoderModel).
enum class ModelFamily { Bert, Gpt2, Roberta, DistilBert, Llama, T5 };

/// Rotary position embeddings of the Llama family (modeling_rope_utils.py): rope_theta and
/// rope_scaling (transformers 4.x) or rope_parameters (5.x).
struct RopeConfig {
  std::string type = "default";   ///< "default", "linear" or "llama3"
  double theta = 10000.0;         ///< rope_theta
  double factor = 1.0;            ///< linear, llama3: positions (frequencies) divided by factor
  double low_freq_factor = 1.0;   ///< llama3
  double high_freq_factor = 4.0;  ///< llama3
  std::int64_t original_max_positions = 0;  ///< llama3: original_max_position_embeddings
};

/// Feed-forward activation. GeluTanh covers "gelu_new", "gelu_pytorch_tanh" and "gelu_fast".
enum class Activation { Gelu, GeluTanh, Relu, Silu, QuickGelu };

struct ModelConfig {
  std::string path;                  ///< the file read, for messages
  std::string transformers_version;  ///< as written; "" when absent
  ModelFamily family = ModelFamily::Bert;
  std::string model_type;  ///< "bert", "roberta", "xlm-roberta", "distilbert", "gpt2"
  std::vector<std::string> architectures;  ///< e.g. {"BertForMaskedLM"}; may be empty
  std::int64_t hidden_size = 0;            ///< hidden_size / n_embd / dim (DistilBERT)
  std::int64_t num_layers = 0;             ///< num_hidden_layers / n_layer / n_layers
  std::int64_t num_heads = 0;              ///< num_attention_heads / n_head / n_heads
  std::int64_t intermediate_size = 0;      ///< intermediate_size / n_inner (null: 4 x n_embd) /
                                           ///< hidden_dim
  std::int64_t max_positions = 0;          ///< max_position_embeddings / n_positions
  std::int64_t vocab_size = 0;
  std::int64_t type_vocab_size = 0;  ///< BERT / RoBERTa token types; 0 for GPT-2 and DistilBERT
  double layer_norm_eps = 0.0;       ///< layer_norm_eps / layer_norm_epsilon (DistilBERT: 1e-12);
                                     ///< rms_norm_eps for the Llama family
  std::string activation_name;       ///< hidden_act / activation_function / activation as written
  Activation activation = Activation::Gelu;
  std::int64_t num_labels = 2;                   ///< num_labels, else the size of id2label, else 2
  std::map<std::int64_t, std::string> id2label;  ///< empty when the file has none
  bool tie_word_embeddings = true;               ///< output embeddings share the input ones
  std::string dtype;  ///< dtype (5.x) or torch_dtype (4.x); "" when absent
  std::optional<std::int64_t> pad_token_id;
  std::optional<std::int64_t> bos_token_id;
  std::optional<std::int64_t> eos_token_id;
  std::string problem_type;  ///< e.g. "single_label_classification"; "" when absent
  // BERT and RoBERTa
  std::string position_embedding_type = "absolute";
  bool is_decoder = false;  ///< causal self-attention (BertLMHeadModel)
  // DistilBERT only: the position matrix is sinusoidal (it is stored in the weights all the
  // same, and from_pretrained uses the stored one)
  bool sinusoidal_pos_embds = false;
  // GPT-2 only
  bool scale_attn_weights = true;                ///< divide scores by sqrt(head_dim)
  bool scale_attn_by_inverse_layer_idx = false;  ///< also divide by layer index + 1
  bool reorder_and_upcast_attn = false;
  // Llama family (LlamaConfig, MistralConfig, Qwen2Config)
  std::int64_t num_kv_heads = 0;  ///< num_key_value_heads (default: num_attention_heads)
  std::int64_t head_size = 0;     ///< head_dim when given (else hidden_size / num_heads)
  RopeConfig rope;
  std::int64_t sliding_window = 0;  ///< Mistral: keys with query - key >= window masked; 0 = none
  bool attention_bias = false;      ///< biases of q/k/v/o_proj (Llama attention_bias)
  bool qkv_bias = false;            ///< biases of q/k/v_proj only (Qwen2)
  bool mlp_bias = false;            ///< biases of gate/up/down_proj (Llama mlp_bias)
  // T5 (T5Config): hidden_size = d_model, head_size = d_kv, intermediate_size = d_ff,
  // num_layers = num_layers (the encoder), layer_norm_eps = layer_norm_epsilon
  std::int64_t decoder_layers = 0;           ///< num_decoder_layers (default: num_layers)
  std::int64_t relative_buckets = 32;        ///< relative_attention_num_buckets
  std::int64_t relative_max_distance = 128;  ///< relative_attention_max_distance
  bool gated_ffn = false;  ///< feed_forward_proj "gated-ACT": act(wi_0 x) * wi_1 x
  std::optional<std::int64_t> decoder_start_token_id;  ///< the first decoder input id
  // attnflow's own keys (AttnflowEncoderClassifier: GPT-2 blocks with a classifier,
  // docs/extract.md)
  bool attnflow_causal = false;                   ///< attnflow_causal: keep GPT-2's causal mask
  std::int64_t attnflow_classifier_position = 0;  ///< attnflow_classifier_position: the token the
                                                  ///< classifier reads (0: the CLS token)
  /// attnflow_pooling (AttnflowPooledClassifier over a BERT / RoBERTa backbone,
  /// docs/extract.md): "mean" (the last hidden state averaged over the non-pad tokens) or "cls"
  /// (token 0)
  std::string attnflow_pooling = "mean";

  std::int64_t head_dim() const { return head_size > 0 ? head_size : hidden_size / num_heads; }
  /// RoBERTa's position ids start at pad_token_id + 1 (fairseq); 0 for the other families.
  std::int64_t position_offset() const;
  /// The longest input: max_positions less the RoBERTa offset.
  std::int64_t max_tokens() const { return max_positions - position_offset(); }
  /// True when `name` is one of `architectures`.
  bool has_architecture(std::string_view name) const;
};

/// Upper limits of the size fields, far above any BERT or GPT-2 checkpoint (the largest have
/// 50,257 tokens, 1,600 hidden units, 48 layers, 25 heads, 1,024 positions), so that a damaged
/// or hostile config.json fails here with its field name rather than as a huge allocation in
/// the model loader. docs/hf-formats.md lists them.
struct ConfigLimits {
  static constexpr std::int64_t kVocabSize = std::int64_t{1} << 24;  ///< 16,777,216 tokens
  static constexpr std::int64_t kHiddenSize = 65'536;                ///< hidden_size / n_embd
  static constexpr std::int64_t kLayers = 1'024;                     ///< num_hidden_layers
  static constexpr std::int64_t kHeads = 1'024;                      ///< num_attention_heads
  static constexpr std::int64_t kIntermediateSize = std::int64_t{1} << 20;  ///< 1,048,576
  static constexpr std::int64_t kPositions = std::int64_t{1} << 20;  ///< max_position_embeddings
  static constexpr std::int64_t kTypeVocabSize = 1'024;              ///< BERT token types
  static constexpr std::int64_t kLabels = std::int64_t{1} << 20;     ///< num_labels, id2label
};

struct ConfigOptions {
  /// Architectures accepted besides the built-in ones (BertModel, BertForMaskedLM,
  /// BertForSequenceClassification, RobertaModel, RobertaForMaskedLM,
  /// RobertaForSequenceClassification, the same three XLMRoberta*, DistilBertModel,
  /// DistilBertForMaskedLM, DistilBertForSequenceClassification, GPT2Model, GPT2LMHeadModel,
  /// LlamaModel, LlamaForCausalLM, MistralModel, MistralForCausalLM, Qwen2Model,
  /// Qwen2ForCausalLM),
  /// e.g. a later native model.
  std::vector<std::string> extra_architectures;
};

/// Reads `path` (a config.json, or a directory holding one). Throws Error "<path>: <problem>"
/// for a missing file, invalid JSON, an unknown model_type or architecture, a field of the
/// wrong type or range (ConfigLimits), hidden size not divisible by the head count, heads not
/// divisible by num_key_value_heads, or an unknown or incomplete rope_scaling.
ModelConfig read_model_config(const std::string& path, const ConfigOptions& options = {});

/// Same from JSON text; `source` names it in messages.
ModelConfig parse_model_config(std::string_view json_text, const std::string& source,
                               const ConfigOptions& options = {});

/// "bert" / "gpt2" / "roberta" / "distilbert" / "llama" / "t5"
std::string_view family_name(ModelFamily family);

}  // namespace attnflow::hf
