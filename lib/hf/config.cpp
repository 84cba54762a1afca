// config.json reader for the BERT, RoBERTa / XLM-RoBERTa, DistilBERT, GPT-2 and Llama (Llama,
// Mistral, Qwen2) families (transformers 4.x and 5.x).
#include "attnflow/hf/config.hpp"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "json_util.hpp"

namespace attnflow::hf {

using nlohmann::json;

namespace {

// One entry per model_type: its family and the architectures implemented natively.
struct FamilyEntry {
  const char* model_type;
  ModelFamily family;
  const char* architecture_prefix;  // for configs without model_type
  std::vector<std::string> architectures;
};

const std::vector<FamilyEntry>& families() {
  static const std::vector<FamilyEntry> table = {
      {"bert",
       ModelFamily::Bert,
       "Bert",
       {"BertModel", "BertForMaskedLM", "BertForSequenceClassification"}},
      {"roberta",
       ModelFamily::Roberta,
       "Roberta",
       {"RobertaModel", "RobertaForMaskedLM", "RobertaForSequenceClassification"}},
      {"xlm-roberta",
       ModelFamily::Roberta,
       "XLMRoberta",
       {"XLMRobertaModel", "XLMRobertaForMaskedLM", "XLMRobertaForSequenceClassification"}},
      {"distilbert",
       ModelFamily::DistilBert,
       "DistilBert",
       {"DistilBertModel", "DistilBertForMaskedLM", "DistilBertForSequenceClassification"}},
      {"gpt2", ModelFamily::Gpt2, "GPT2", {"GPT2Model", "GPT2LMHeadModel"}},
      {"llama", ModelFamily::Llama, "Llama", {"LlamaModel", "LlamaForCausalLM"}},
      {"mistral", ModelFamily::Llama, "Mistral", {"MistralModel", "MistralForCausalLM"}},
      {"qwen2", ModelFamily::Llama, "Qwen2", {"Qwen2Model", "Qwen2ForCausalLM"}},
      {"t5", ModelFamily::T5, "T5", {"T5Model", "T5ForConditionalGeneration", "T5EncoderModel"}},
  };
  return table;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// Typed access to the fields of one config, with messages naming the file and the field.
class Fields {
 public:
  Fields(const json& doc, std::string source) : doc_(doc), source_(std::move(source)) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(source_ + ": " + problem);
  }
  const std::string& source() const { return source_; }

  /// The first present, non-null key among `names`; checks that aliases agree.
  const json* get(std::initializer_list<const char*> names) const {
    const json* found = nullptr;
    const char* found_name = nullptr;
    for (const char* n : names) {
      const auto it = doc_.find(n);
      if (it == doc_.end() || it->is_null()) continue;
      if (found && *found != *it) {
        fail("'" + std::string(found_name) + "' (" + detail::brief(*found) + ") and '" + n + "' (" +
             detail::brief(*it) + ") disagree");
      }
      if (!found) {
        found = &*it;
        found_name = n;
      }
    }
    return found;
  }

  /// A positive integer up to `limit` (see ConfigLimits).
  std::int64_t positive(std::initializer_list<const char*> names, std::int64_t fallback,
                        std::int64_t limit) const {
    const json* v = get(names);
    if (!v) return fallback;
    // (get<int64_t> of an unsigned value past INT64_MAX is negative: caught as not positive.)
    if (!v->is_number_integer() || v->get<std::int64_t>() <= 0) {
      fail("'" + std::string(*names.begin()) + "' must be a positive integer, got " +
           detail::brief(*v));
    }
    if (v->get<std::int64_t>() > limit) {
      fail("'" + std::string(*names.begin()) + "' is " + detail::brief(*v) +
           ", above the limit of " + std::to_string(limit));
    }
    return v->get<std::int64_t>();
  }

  std::int64_t non_negative(const char* name, std::int64_t fallback, std::int64_t limit) const {
    const json* v = get({name});
    if (!v) return fallback;
    if (!v->is_number_integer() || v->get<std::int64_t>() < 0) {
      fail("'" + std::string(name) + "' must be a non-negative integer, got " + detail::brief(*v));
    }
    if (v->get<std::int64_t>() > limit) {
      fail("'" + std::string(name) + "' is " + detail::brief(*v) + ", above the limit of " +
           std::to_string(limit));
    }
    return v->get<std::int64_t>();
  }

  std::optional<std::int64_t> optional_int(const char* name) const {
    const json* v = get({name});
    if (!v) return std::nullopt;
    // Some configs list several ids (e.g. "eos_token_id": [1, 2]); the first is the main one.
    const json* first = v->is_array() && !v->empty() ? &(*v)[0] : v;
    if (!first->is_number_integer()) {
      fail("'" + std::string(name) + "' must be an integer, got " + detail::brief(*v));
    }
    return first->get<std::int64_t>();
  }

  double positive_number(std::initializer_list<const char*> names, double fallback) const {
    const json* v = get(names);
    if (!v) return fallback;
    if (!v->is_number() || v->get<double>() <= 0.0) {
      fail("'" + std::string(*names.begin()) + "' must be a positive number, got " +
           detail::brief(*v));
    }
    return v->get<double>();
  }

  bool boolean(const char* name, bool fallback) const {
    const json* v = get({name});
    if (!v) return fallback;
    if (!v->is_boolean())
      fail("'" + std::string(name) + "' must be true or false, got " + detail::brief(*v));
    return v->get<bool>();
  }

  std::string string(std::initializer_list<const char*> names, const std::string& fallback) const {
    const json* v = get(names);
    if (!v) return fallback;
    if (!v->is_string()) {
      fail("'" + std::string(*names.begin()) + "' must be a string, got " + detail::brief(*v));
    }
    return v->get<std::string>();
  }

 private:
  const json& doc_;
  std::string source_;
};

Activation parse_activation(const Fields& f, const std::string& name, const char* key) {
  if (name == "gelu" || name == "gelu_python") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") {
    return Activation::GeluTanh;
  }
  if (name == "relu") return Activation::Relu;
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "quick_gelu") return Activation::QuickGelu;
  f.fail("unsupported " + std::string(key) + " '" + name +
         "' (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, relu, silu, quick_gelu)");
}

// rope_theta + rope_scaling (transformers 4.x; the type under "rope_type" or the older "type")
// or rope_parameters (5.x: the same keys and rope_theta in one object), as
// modeling_rope_utils.py reads them.
RopeConfig parse_rope(const json& doc, const Fields& f) {
  RopeConfig r;
  r.theta = f.positive_number({"rope_theta"}, 10000.0);
  const char* key = "rope_scaling";
  const json* s = f.get({"rope_scaling"});
  if (const json* p = f.get({"rope_parameters"})) {
    if (s) f.fail("both 'rope_scaling' and 'rope_parameters': give one");
    s = p;
    key = "rope_parameters";
  }
  if (!s) return r;
  const std::string k = key;
  if (!s->is_object()) f.fail("'" + k + "' must be an object, got " + detail::brief(*s));
  const Fields sf(*s, f.source() + ": '" + k + "'");
  r.type = sf.string({"rope_type", "type"}, "default");
  if (s->contains("rope_theta")) {
    if (doc.contains("rope_theta") && !doc["rope_theta"].is_null() &&
        doc["rope_theta"] != (*s)["rope_theta"]) {
      f.fail("'rope_theta' and '" + k + "'.rope_theta disagree");
    }
    r.theta = sf.positive_number({"rope_theta"}, r.theta);
  }
  if (r.type == "default") return r;
  if (r.type != "linear" && r.type != "llama3") {
    sf.fail("unsupported rope type '" + r.type + "' (supported: default, linear, llama3)");
  }
  if (!s->contains("factor")) sf.fail("'factor' is missing (rope type " + r.type + ")");
  r.factor = sf.positive_number({"factor"}, 1.0);
  if (r.type == "llama3") {
    for (const char* needed :
         {"low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}) {
      if (!s->contains(needed))
        sf.fail("'" + std::string(needed) + "' is missing (rope type llama3)");
    }
    r.low_freq_factor = sf.positive_number({"low_freq_factor"}, 1.0);
    r.high_freq_factor = sf.positive_number({"high_freq_factor"}, 4.0);
    r.original_max_positions =
        sf.positive({"original_max_position_embeddings"}, 8192, ConfigLimits::kPositions);
    if (!(r.high_freq_factor > r.low_freq_factor)) {
      sf.fail("'high_freq_factor' (" + detail::brief((*s)["high_freq_factor"]) +
              ") must be above 'low_freq_factor' (" + detail::brief((*s)["low_freq_factor"]) + ")");
    }
  }
  return r;
}

// T5Config's keys and defaults (t5-small's sizes); feed_forward_proj is "ACT" or "gated-ACT"
// ("gated-gelu" means the tanh GELU, gelu_new, as in T5Config).
void parse_t5(const Fields& f, ModelConfig& c) {
  using L = ConfigLimits;
  c.vocab_size = f.positive({"vocab_size"}, 32128, L::kVocabSize);
  c.hidden_size = f.positive({"d_model", "hidden_size"}, 512, L::kHiddenSize);
  c.head_size = f.positive({"d_kv"}, 64, L::kHiddenSize);
  c.intermediate_size = f.positive({"d_ff"}, 2048, L::kIntermediateSize);
  c.num_layers = f.positive({"num_layers", "num_hidden_layers"}, 6, L::kLayers);
  c.decoder_layers = f.positive({"num_decoder_layers"}, c.num_layers, L::kLayers);
  c.num_heads = f.positive({"num_heads", "num_attention_heads"}, 8, L::kHeads);
  c.relative_buckets = f.positive({"relative_attention_num_buckets"}, 32, L::kPositions);
  c.relative_max_distance = f.positive({"relative_attention_max_distance"}, 128, L::kPositions);
  if (c.relative_buckets < 4) {
    f.fail("'relative_attention_num_buckets' is " + std::to_string(c.relative_buckets) +
           ": at least 4 (half of them per direction, half of those exact)");
  }
  c.max_positions = 0;  // relative positions: no limit
  c.type_vocab_size = 0;
  c.layer_norm_eps = f.positive_number({"layer_norm_epsilon", "layer_norm_eps"}, 1e-6);
  c.activation_name = f.string({"feed_forward_proj"}, "relu");
  const std::string& proj = c.activation_name;
  const std::size_t dash = proj.find('-');
  std::string act = proj;
  if (dash != std::string::npos) {
    if (proj.compare(0, dash, "gated") != 0 || proj.find('-', dash + 1) != std::string::npos) {
      f.fail("'feed_forward_proj' '" + proj + "' is not ACT or gated-ACT (e.g. relu, gated-gelu)");
    }
    c.gated_ffn = true;
    act = proj.substr(dash + 1);
    if (act == "gelu") act = "gelu_new";  // T5Config: "gated-gelu" is the tanh GELU
  }
  c.activation = parse_activation(f, act, "feed_forward_proj");
  c.pad_token_id = 0;
  c.eos_token_id = 1;
  c.decoder_start_token_id = f.optional_int("decoder_start_token_id");
}

}  // namespace

std::string_view family_name(ModelFamily family) {
  switch (family) {
    case ModelFamily::Bert: return "bert";
    case ModelFamily::Gpt2: return "gpt2";
    case ModelFamily::Roberta: return "roberta";
    case ModelFamily::DistilBert: return "distilbert";
    case ModelFamily::Llama: return "llama";
    case ModelFamily::T5: return "t5";
  }
  return "bert";
}

std::int64_t ModelConfig::position_offset() const {
  return family == ModelFamily::Roberta && pad_token_id ? *pad_token_id + 1 : 0;
}

bool ModelConfig::has_architecture(std::string_view name) const {
  return std::find(architectures.begin(), architectures.end(), name) != architectures.end();
}

namespace {

ModelConfig parse_config(std::string_view json_text, const std::string& source,
                         const ConfigOptions& options) {
  const json doc = detail::parse_json(json_text, source);
  if (!doc.is_object()) {
    throw Error(source + ": config is " + detail::type_words(doc) + ", not a JSON object");
  }
  const Fields f(doc, source);
  using L = ConfigLimits;
  ModelConfig c;
  c.path = source;
  c.transformers_version = f.string({"transformers_version"}, "");

  if (const json* a = f.get({"architectures"})) {
    if (!a->is_array())
      f.fail("'architectures' must be a list of strings, got " + detail::brief(*a));
    for (const json& x : *a) {
      if (!x.is_string())
        f.fail("'architectures' must be a list of strings, got " + detail::brief(*a));
      c.architectures.push_back(x.get<std::string>());
    }
  }
  c.model_type = f.string({"model_type"}, "");
  if (c.model_type.empty()) {  // very old configs: infer from the architecture
    for (const std::string& a : c.architectures) {
      for (const FamilyEntry& e : families()) {
        // prefixes are distinct: XLMRobertaModel does not start with Roberta, nor DistilBert...
        // with Bert
        if (a.rfind(e.architecture_prefix, 0) == 0) c.model_type = e.model_type;
      }
    }
    if (c.model_type.empty()) {
      f.fail(
          "no 'model_type' and no BERT, RoBERTa, XLM-RoBERTa, DistilBERT, GPT-2, Llama, "
          "Mistral, Qwen2 or T5 architecture to infer it from");
    }
  }
  const FamilyEntry* entry = nullptr;
  std::string types;
  for (const FamilyEntry& e : families()) {
    if (c.model_type == e.model_type) entry = &e;
    types += (types.empty() ? "" : ", ") + std::string(e.model_type);
  }
  if (!entry) f.fail("unknown model_type '" + c.model_type + "' (supported: " + types + ")");
  c.family = entry->family;
  const auto& builtin = entry->architectures;
  for (const std::string& a : c.architectures) {
    const bool known =
        std::find(builtin.begin(), builtin.end(), a) != builtin.end() ||
        std::find(options.extra_architectures.begin(), options.extra_architectures.end(), a) !=
            options.extra_architectures.end();
    if (!known) {
      f.fail("unknown architecture '" + a + "' for model_type '" + c.model_type +
             "' (supported: " + join(builtin) + ")");
    }
  }
  const bool bert = c.family == ModelFamily::Bert || c.family == ModelFamily::Roberta;
  const bool roberta = c.family == ModelFamily::Roberta;

  if (bert) {
    // RobertaConfig's default vocabulary is 50265 tokens; XLMRobertaConfig keeps BERT's 30522
    const std::int64_t vocab = c.model_type == "roberta" ? 50265 : 30522;
    c.vocab_size = f.positive({"vocab_size"}, vocab, L::kVocabSize);
    c.hidden_size = f.positive({"hidden_size", "n_embd"}, 768, L::kHiddenSize);
    c.num_layers = f.positive({"num_hidden_layers", "n_layer"}, 12, L::kLayers);
    c.num_heads = f.positive({"num_attention_heads", "n_head"}, 12, L::kHeads);
    c.intermediate_size = f.positive({"intermediate_size", "n_inner"}, 3072, L::kIntermediateSize);
    c.max_positions = f.positive({"max_position_embeddings", "n_positions"}, 512, L::kPositions);
    c.type_vocab_size = f.positive({"type_vocab_size"}, 2, L::kTypeVocabSize);
    c.layer_norm_eps = f.positive_number({"layer_norm_eps", "layer_norm_epsilon"}, 1e-12);
    c.activation_name = f.string({"hidden_act", "activation_function"}, "gelu");
    c.activation = parse_activation(f, c.activation_name, "hidden_act");
    c.position_embedding_type = f.string({"position_embedding_type"}, "absolute");
    if (c.position_embedding_type != "absolute") {
      f.fail("unsupported position_embedding_type '" + c.position_embedding_type +
             "' (only 'absolute')");
    }
    c.is_decoder = f.boolean("is_decoder", false);
    c.attnflow_pooling = f.string({"attnflow_pooling"}, "mean");
    if (c.attnflow_pooling != "mean" && c.attnflow_pooling != "cls") {
      f.fail("attnflow_pooling '" + c.attnflow_pooling + "' is not supported (mean or cls)");
    }
    c.pad_token_id = 0;
    if (roberta) {  // RobertaConfig / XLMRobertaConfig: <s> 0, <pad> 1, </s> 2
      c.pad_token_id = 1;
      c.bos_token_id = 0;
      c.eos_token_id = 2;
    }
  } else if (c.family == ModelFamily::DistilBert) {
    // DistilBertConfig's own keys (its attribute_map also accepts the BERT names)
    c.vocab_size = f.positive({"vocab_size"}, 30522, L::kVocabSize);
    c.hidden_size = f.positive({"dim", "hidden_size"}, 768, L::kHiddenSize);
    c.num_layers = f.positive({"n_layers", "num_hidden_layers"}, 6, L::kLayers);
    c.num_heads = f.positive({"n_heads", "num_attention_heads"}, 12, L::kHeads);
    c.intermediate_size = f.positive({"hidden_dim"}, 4 * 768, L::kIntermediateSize);
    c.max_positions = f.positive({"max_position_embeddings"}, 512, L::kPositions);
    c.type_vocab_size = 0;
    c.layer_norm_eps = 1e-12;  // fixed in modeling_distilbert.py, not a config key
    c.activation_name = f.string({"activation"}, "gelu");
    c.activation = parse_activation(f, c.activation_name, "activation");
    c.sinusoidal_pos_embds = f.boolean("sinusoidal_pos_embds", false);
    c.pad_token_id = 0;
  } else if (c.family == ModelFamily::Llama) {
    // LlamaConfig / MistralConfig / Qwen2Config defaults
    const bool mistral = c.model_type == "mistral", qwen2 = c.model_type == "qwen2";
    c.vocab_size = f.positive({"vocab_size"}, qwen2 ? 151936 : 32000, L::kVocabSize);
    c.hidden_size = f.positive({"hidden_size"}, 4096, L::kHiddenSize);
    c.num_layers = f.positive({"num_hidden_layers"}, 32, L::kLayers);
    c.num_heads = f.positive({"num_attention_heads"}, 32, L::kHeads);
    c.num_kv_heads = f.positive({"num_key_value_heads"}, mistral ? 8 : c.num_heads, L::kHeads);
    c.head_size = f.positive({"head_dim"}, 0, L::kHiddenSize);
    c.intermediate_size = f.positive({"intermediate_size"},
                                     mistral ? 14336
                                     : qwen2 ? 22016
                                             : 11008,
                                     L::kIntermediateSize);
    c.max_positions = f.positive({"max_position_embeddings"},
                                 mistral ? 4096 * 32
                                 : qwen2 ? 32768
                                         : 2048,
                                 L::kPositions);
    c.type_vocab_size = 0;
    c.layer_norm_eps = f.positive_number({"rms_norm_eps"}, 1e-6);
    c.activation_name = f.string({"hidden_act"}, "silu");
    c.activation = parse_activation(f, c.activation_name, "hidden_act");
    c.rope = parse_rope(doc, f);
    if (c.num_heads % c.num_kv_heads != 0) {
      f.fail("'num_attention_heads' (" + std::to_string(c.num_heads) +
             ") is not divisible by 'num_key_value_heads' (" + std::to_string(c.num_kv_heads) +
             ")");
    }
    if (c.head_dim() % 2 != 0) {
      f.fail("head dimension " + std::to_string(c.head_dim()) +
             " is odd: rotary embeddings rotate pairs of dimensions");
    }
    if (mistral) {
      // null: no window (MistralConfig's default is 4096)
      const bool none = doc.contains("sliding_window") && doc["sliding_window"].is_null();
      c.sliding_window = none ? 0 : f.positive({"sliding_window"}, 4096, L::kPositions);
    } else if (qwen2 && f.boolean("use_sliding_window", false)) {
      f.fail(
          "'use_sliding_window' true is not supported for qwen2 (only Mistral's sliding "
          "window is)");
    }
    c.attention_bias = f.boolean("attention_bias", false);
    c.mlp_bias = f.boolean("mlp_bias", false);
    c.qkv_bias = qwen2;
    c.bos_token_id = 1;
    c.eos_token_id = 2;
    if (qwen2) {
      c.bos_token_id.reset();
      c.eos_token_id.reset();
    }
  } else if (c.family == ModelFamily::T5) {
    parse_t5(f, c);
  } else {
    c.vocab_size = f.positive({"vocab_size"}, 50257, L::kVocabSize);
    c.hidden_size = f.positive({"n_embd", "hidden_size"}, 768, L::kHiddenSize);
    c.num_layers = f.positive({"n_layer", "num_hidden_layers"}, 12, L::kLayers);
    c.num_heads = f.positive({"n_head", "num_attention_heads"}, 12, L::kHeads);
    c.intermediate_size =
        f.positive({"n_inner", "intermediate_size"}, 4 * c.hidden_size, L::kIntermediateSize);
    c.max_positions = f.positive({"n_positions", "max_position_embeddings"}, 1024, L::kPositions);
    c.type_vocab_size = 0;
    c.layer_norm_eps = f.positive_number({"layer_norm_epsilon", "layer_norm_eps"}, 1e-5);
    c.activation_name = f.string({"activation_function", "hidden_act"}, "gelu_new");
    c.activation = parse_activation(f, c.activation_name, "activation_function");
    c.scale_attn_weights = f.boolean("scale_attn_weights", true);
    c.scale_attn_by_inverse_layer_idx = f.boolean("scale_attn_by_inverse_layer_idx", false);
    c.reorder_and_upcast_attn = f.boolean("reorder_and_upcast_attn", false);
    c.attnflow_causal = f.boolean("attnflow_causal", false);
    c.attnflow_classifier_position =
        f.non_negative("attnflow_classifier_position", 0, L::kPositions - 1);
    c.bos_token_id = 50256;
    c.eos_token_id = 50256;
  }
  if (c.head_size == 0 && c.hidden_size % c.num_heads != 0) {
    f.fail("hidden size " + std::to_string(c.hidden_size) + " is not divisible by the " +
           std::to_string(c.num_heads) + " attention heads");
  }
  if (doc.contains("pad_token_id")) c.pad_token_id = f.optional_int("pad_token_id");
  if (doc.contains("bos_token_id")) c.bos_token_id = f.optional_int("bos_token_id");
  if (doc.contains("eos_token_id")) c.eos_token_id = f.optional_int("eos_token_id");
  if (roberta) {
    if (!c.pad_token_id) {
      f.fail("'pad_token_id' is null, but " + c.model_type +
             " needs it: its position ids start at pad_token_id + 1");
    }
    if (*c.pad_token_id < 0 || *c.pad_token_id + 1 >= c.max_positions) {
      f.fail("'pad_token_id' " + std::to_string(*c.pad_token_id) +
             " leaves no position: position ids start at pad_token_id + 1 and "
             "'max_position_embeddings' is " +
             std::to_string(c.max_positions));
    }
  }
  // LlamaConfig, MistralConfig and Qwen2Config default to untied output embeddings
  c.tie_word_embeddings = f.boolean("tie_word_embeddings", c.family != ModelFamily::Llama);
  // transformers >= 4.56 writes "dtype"; older versions "torch_dtype".
  c.dtype = f.string({"dtype", "torch_dtype"}, "");
  c.problem_type = f.string({"problem_type"}, "");

  if (const json* labels = f.get({"id2label"})) {
    if (!labels->is_object()) f.fail("'id2label' must be an object, got " + detail::brief(*labels));
    for (auto it = labels->begin(); it != labels->end(); ++it) {
      std::size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(it.key(), &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != it.key().size() || id < 0) {
        f.fail("'id2label' key '" + it.key() + "' is not a non-negative integer");
      }
      if (!it.value().is_string()) {
        f.fail("'id2label' value for " + it.key() + " must be a string, got " +
               detail::brief(it.value()));
      }
      if (id >= ConfigLimits::kLabels) {
        f.fail("'id2label' key " + it.key() + " is above the limit of " +
               std::to_string(ConfigLimits::kLabels - 1));
      }
      c.id2label[id] = it.value().get<std::string>();
    }
    c.num_labels = static_cast<std::int64_t>(c.id2label.size());
    if (c.num_labels > 0 && c.id2label.rbegin()->first != c.num_labels - 1) {
      f.fail("'id2label' ids must be 0.." + std::to_string(c.num_labels - 1) + ", found " +
             std::to_string(c.id2label.rbegin()->first));
    }
  }
  if (doc.contains("num_labels") && !doc["num_labels"].is_null()) {
    const std::int64_t n = f.positive({"num_labels"}, 2, L::kLabels);
    if (!c.id2label.empty() && n != c.num_labels) {
      f.fail("'num_labels' is " + std::to_string(n) + " but 'id2label' has " +
             std::to_string(c.num_labels) + " entries");
    }
    c.num_labels = n;
  }
  return c;
}

}  // namespace

ModelConfig parse_model_config(std::string_view json_text, const std::string& source,
                               const ConfigOptions& options) {
  try {
    return parse_config(json_text, source, options);
  } catch (const json::exception& e) {  // a structure no check foresaw
    throw Error(source + ": unexpected JSON structure (" + detail::json_message(e) + ")");
  }
}

ModelConfig read_model_config(const std::string& path, const ConfigOptions& options) {
  std::string file = path;
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    file = (std::filesystem::path(path) / "config.json").string();
  return parse_model_config(detail::read_file(file), file, options);
}

}  // namespace attnflow::hf
