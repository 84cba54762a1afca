// Targets: parsing, printing and the checks against a model and an example (no libtorch needed,
// but they live with the layer that uses them), and the small tensor helpers shared by the
// native models.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/torch/model.hpp"
#include "network.hpp"

namespace attnflow::torch {

namespace {

// Every spelling of a target, "NAME" or "NAME:ARG" (ARG a non-negative integer, the
// Target::index; token's ARG is "POS:ID", Target::position and index), in the order of the
// "expected ..." text. A kind's name is its NAME.
constexpr EnumName<TargetKind> kTargetForms[] = {
    {TargetKind::None, "none"},
    {TargetKind::Class, "class:K"},
    {TargetKind::Label, "label"},
    {TargetKind::PredictedClass, "predicted"},
    {TargetKind::MaskedToken, "mask"},
    {TargetKind::MaskedToken, "mask:TOKEN_ID"},
    {TargetKind::NextToken, "next"},
    {TargetKind::NextToken, "next:TOKEN_ID"},
    {TargetKind::LastToken, "last"},
    {TargetKind::Token, "token:POS:TOKEN_ID"},
    {TargetKind::ProbabilityDifference, "prob-diff"},
};

std::string_view form_name(std::string_view form) {
  return form.substr(0, form.find(':'));
}
bool form_has_value(std::string_view form) {
  return form.find(':') != std::string_view::npos;
}

/// `value` as an integer (>= 0 unless `negative_ok`); the error names `what` in `text`.
std::int64_t parse_integer(const std::string& text, const std::string& value,
                           const std::string& what, bool negative_ok) {
  std::size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const bool digits = !value.empty() && (std::isdigit(static_cast<unsigned char>(value[0])) != 0 ||
                                         (value[0] == '-' && value.size() > 1));
  if (!digits || used != value.size() || (v < 0 && !negative_ok)) {
    throw Error("target '" + text + "': " + what + "'" + value + "' is not " +
                (negative_ok ? "an integer" : "a non-negative integer"));
  }
  return v;
}

std::int64_t parse_index(const std::string& text, const std::string& value) {
  return parse_integer(text, value, "", false);
}

/// "POS:ID" of "token:POS:ID".
void parse_token_target(const std::string& text, const std::string& value, Target& t) {
  const std::size_t colon = value.find(':');
  if (colon == std::string::npos) {
    throw Error("target '" + text +
                "': expected token:POS:TOKEN_ID (an output position, negative from the end, "
                "and a token id)");
  }
  t.position = parse_integer(text, value.substr(0, colon), "position ", true);
  t.index = parse_integer(text, value.substr(colon + 1), "token id ", false);
}

}  // namespace

Target parse_target(const std::string& text) {
  const std::size_t colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const bool has_value = colon != std::string::npos;
  const std::string value = has_value ? text.substr(colon + 1) : std::string();
  for (const EnumName<TargetKind>& form : kTargetForms) {
    if (form_name(form.name) == kind && form_has_value(form.name) == has_value) {
      Target t;
      t.kind = form.value;
      if (t.kind == TargetKind::Token) {
        parse_token_target(text, value, t);
      } else if (has_value) {
        t.index = parse_index(text, value);
      }
      return t;
    }
  }
  throw Error("target '" + text + "': expected " + enum_choices(kTargetForms));
}

std::string to_string(const Target& t) {
  if (t.kind == TargetKind::Token) {
    return "token:" + std::to_string(t.position) + ":" + std::to_string(t.index);
  }
  std::string name;
  bool takes_value = false;  // the kind has a NAME:ARG form, so a set index is printed
  for (const EnumName<TargetKind>& form : kTargetForms) {
    if (form.value != t.kind) continue;
    if (name.empty()) name = form_name(form.name);
    takes_value = takes_value || form_has_value(form.name);
  }
  if (name.empty()) return "none";
  return takes_value && t.index >= 0 ? name + ":" + std::to_string(t.index) : name;
}

std::int64_t resolve_position(const Target& target, std::int64_t n) {
  return target.position < 0 ? n + target.position : target.position;
}

bool is_classifier_target(TargetKind kind) {
  return kind == TargetKind::Class || kind == TargetKind::Label ||
         kind == TargetKind::PredictedClass || kind == TargetKind::ProbabilityDifference;
}

namespace {

std::string target_name(const Target& target, const TargetNames& names) {
  return names.target.empty() ? "target '" + to_string(target) + "'" : names.target;
}

/// The checks of the model's head: what kind of logits the target needs, and their range.
void check_head(const Target& target, const ModelInfo& info, const std::string& what) {
  const TargetKind k = target.kind;
  const std::string model = info.path + " is a " + info.architecture;
  const bool classifier = is_classifier_target(k);
  if (classifier && info.head != HeadKind::Classifier) {
    throw Error(what + " needs a sequence classifier; " + model);
  }
  if (!classifier && info.head != HeadKind::LanguageModel) {
    throw Error(what + " needs a language-model head; " + model);
  }
  if (k == TargetKind::ProbabilityDifference && info.num_labels < 2) {
    throw Error(what + " needs at least 2 classes; the model has " +
                std::to_string(info.num_labels));
  }
  if (k == TargetKind::Class && target.index >= info.num_labels) {
    throw Error(what + ": the model has " + std::to_string(info.num_labels) + " classes (0.." +
                std::to_string(info.num_labels - 1) + ")");
  }
  if ((k == TargetKind::MaskedToken || k == TargetKind::NextToken || k == TargetKind::Token) &&
      info.vocab_size > 0 && target.index >= info.vocab_size) {
    throw Error(what + ": token id " + std::to_string(target.index) +
                " is outside the vocabulary (" + std::to_string(info.vocab_size) + " ids)");
  }
}

}  // namespace

void check_target(const Target& target, const ModelInfo& info, std::int64_t mask_token_id,
                  const TargetNames& names) {
  const TargetKind k = target.kind;
  if (k == TargetKind::None) return;
  const std::string what = target_name(target, names);
  check_head(target, info, what);
  const std::string model = info.path + " is a " + info.architecture;
  // an encoder-decoder's LM logits come from its causal decoder
  const bool causal_lm = info.causal || info.decoder_layers > 0;
  if ((k == TargetKind::NextToken || k == TargetKind::LastToken) && !causal_lm) {
    throw Error(what + " needs a causal language model (GPT-2); " + model +
                " (for a masked language model use --target mask)");
  }
  if (k == TargetKind::MaskedToken && causal_lm) {
    throw Error(what + " needs a masked language model (BERT); " + model +
                " (for a causal language model use --target next or last)");
  }
  if (k == TargetKind::MaskedToken && mask_token_id < 0) {
    throw Error(what + ": the tokenizer has no mask token");
  }
}

void check_target_input(const Target& target, const ModelInfo& info, const Input& input,
                        std::int64_t mask_token_id, const TargetNames& names) {
  const TargetKind k = target.kind;
  const std::string what = target_name(target, names);
  const std::string where = names.example.empty() ? "the example" : names.example;
  // an encoder-decoder's LM targets are at decoder positions
  const auto& ids = info.decoder_layers > 0 ? input.decoder_ids : input.ids;
  if (k == TargetKind::Label) {
    if (!input.label) throw Error(where + ": no label, but " + what + " needs one");
    if (*input.label < 0 || *input.label >= info.num_labels) {
      throw Error(where + ": label " + std::to_string(*input.label) +
                  " is not a class of the model (0.." + std::to_string(info.num_labels - 1) + ")");
    }
  } else if (k == TargetKind::MaskedToken &&
             std::find(ids.begin(), ids.end(), mask_token_id) == ids.end()) {
    const std::string token = names.mask_token.empty() ? "" : names.mask_token + ", ";
    throw Error(where + ": no mask token (" + token + "id " + std::to_string(mask_token_id) +
                "), but " + what + " needs one");
  } else if (k == TargetKind::LastToken && ids.size() < 2) {
    throw Error(where + ": " + std::to_string(ids.size()) +
                (info.decoder_layers > 0 ? " decoder token" : " token") + ", but " + what +
                " needs at least 2");
  } else if (k == TargetKind::Token) {
    const auto n = static_cast<std::int64_t>(ids.size());
    const std::int64_t p = resolve_position(target, n);
    if (p < 0 || p >= n) {
      const std::string tokens = std::to_string(n) +
                                 (info.decoder_layers > 0 ? " decoder token" : " token") +
                                 (n == 1 ? "" : "s");
      const std::string valid =
          n == 0 ? "none" : "0.." + std::to_string(n - 1) + " or -" + std::to_string(n) + "..-1";
      throw Error(where + ": position " + std::to_string(target.position) + " is outside its " +
                  tokens + " (valid " + valid + "), but " + what + " needs it");
    }
  }
}

namespace detail {

::torch::Tensor additive_padding_mask(const ::torch::Tensor& mask, ::torch::ScalarType dtype) {
  // the lowest finite value of `dtype` itself (HF's torch.finfo(dtype).min): float's is -inf in
  // bfloat16 and float16, and 0 * -inf would make the mask of every token NaN
  double lowest = std::numeric_limits<float>::lowest();
  if (dtype == ::torch::kFloat64) lowest = std::numeric_limits<double>::lowest();
  if (dtype == ::torch::kBFloat16) lowest = std::numeric_limits<c10::BFloat16>::lowest();
  if (dtype == ::torch::kHalf) lowest = std::numeric_limits<c10::Half>::lowest();
  return (1 - mask.to(dtype)).mul(lowest).unsqueeze(1).unsqueeze(1);
}

::torch::Tensor apply_causal_mask(const ::torch::Tensor& scores) {
  const std::int64_t n = scores.size(-1);
  const ::torch::Tensor future =
      ::torch::ones({n, n}, ::torch::TensorOptions().dtype(::torch::kBool).device(scores.device()))
          .triu(1);
  const double lowest = scores.scalar_type() == ::torch::kFloat64
                            ? std::numeric_limits<double>::lowest()
                            : std::numeric_limits<float>::lowest();
  return scores.masked_fill(future, lowest);
}

void emit_attention(const BatchTensors& batch, int layer, const ::torch::Tensor& probs,
                    ForwardResult& r) {
  if (batch.on_attention) batch.on_attention(layer, probs);
  if (!batch.on_attention || batch.keep_attentions) r.attentions.push_back(probs);
}

::torch::Tensor run_layers(const Network& net, int layers, ::torch::Tensor x,
                           const ::torch::Tensor& mask, bool keep, ForwardResult& r,
                           const BatchTensors* batch) {
  if (keep) r.additive_mask = mask;
  for (int l = 0; l < layers; ++l) {
    if (keep) r.layer_inputs.push_back(x);
    LayerResult out = net.layer(l, x, mask, {});
    if (batch != nullptr) {
      emit_attention(*batch, l, out.probs, r);
    } else {
      r.attentions.push_back(out.probs);
    }
    x = out.output;
    if (keep) r.layers.push_back(std::move(out));
  }
  return x;
}

::torch::Tensor activation(const ::torch::Tensor& x, hf::Activation a) {
  switch (a) {
    case hf::Activation::Gelu: return ::torch::gelu(x);
    case hf::Activation::GeluTanh: {
      // NewGELUActivation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
      const double c = std::sqrt(2.0 / M_PI);
      return 0.5 * x * (1.0 + ::torch::tanh(c * (x + 0.044715 * ::torch::pow(x, 3.0))));
    }
    case hf::Activation::Relu: return ::torch::relu(x);
    case hf::Activation::Silu: return ::torch::silu(x);
    case hf::Activation::QuickGelu: return x * ::torch::sigmoid(1.702 * x);
  }
  throw Error("activation " + std::to_string(static_cast<int>(a)) + " is not supported");
}

}  // namespace detail
}  // namespace attnflow::torch

namespace attnflow::torch {

std::vector<double> class_probabilities(const Output& o) {
  if (o.logits.empty()) {
    throw Error("class_probabilities: the output has no logits (run with RunOptions::logits)");
  }
  const double m = *std::max_element(o.logits.begin(), o.logits.end());
  double z = 0;
  for (float l : o.logits) z += std::exp(static_cast<double>(l) - m);
  std::vector<double> p;
  for (float l : o.logits) p.push_back(std::exp(static_cast<double>(l) - m) / z);
  return p;
}

std::vector<double> blank_out_scores(Model& model, const Input& input, std::int64_t target_class,
                                     std::int64_t replacement, const std::vector<int>& skip,
                                     int batch_size) {
  const ModelInfo& info = model.info();
  if (info.head != HeadKind::Classifier) {
    throw Error("blank-out: " + info.path + " is a " + info.architecture + ", not a classifier");
  }
  if (target_class < 0 || target_class >= info.num_labels) {
    throw Error("blank-out: class " + std::to_string(target_class) +
                " out of range (the model "
                "has " +
                std::to_string(info.num_labels) + " classes)");
  }
  RunOptions options;
  options.attention = false;
  options.logits = true;
  const std::size_t n = input.ids.size();
  std::vector<double> scores(n, 0.0);
  std::vector<std::size_t> positions;
  for (std::size_t k = 0; k < n; ++k) {
    if (std::find(skip.begin(), skip.end(), static_cast<int>(k)) == skip.end()) {
      positions.push_back(k);
    }
  }
  // Every batch starts with the unchanged example, so that p_c(x) and p_c(x_k) come from the
  // same batched computation (a token that already is `replacement` scores ~0: only float
  // rounding between rows of one batch remains, ~1e-8 with OpenBLAS).
  const auto step = static_cast<std::size_t>(std::max(1, batch_size - 1));
  const auto c = static_cast<std::size_t>(target_class);
  for (std::size_t begin = 0; begin < positions.size(); begin += step) {
    std::vector<Input> batch = {input};
    const std::size_t end = std::min(positions.size(), begin + step);
    for (std::size_t i = begin; i < end; ++i) {
      Input v = input;
      v.ids[positions[i]] = replacement;
      batch.push_back(std::move(v));
    }
    const std::vector<Output> out = model.run(batch, options);
    const double base = class_probabilities(out.front())[c];
    for (std::size_t i = begin; i < end; ++i) {
      scores[positions[i]] = std::fabs(base - class_probabilities(out[i - begin + 1])[c]);
    }
  }
  return scores;
}

}  // namespace attnflow::torch
