// Training the encoder classifier (GPT-2 blocks, no causal mask, classifier on the CLS token)
// with Adam(W), saving it as config.json + model.safetensors with GPT-2's tensor names.
#include "attnflow/torch/train.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/torch/model.hpp"
#include "network.hpp"
#include "train_loop.hpp"
#include "weights.hpp"

namespace attnflow::torch {

namespace {

using ::torch::Tensor;

constexpr EnumName<SaveDtype> kSaveDtypeNames[] = {{SaveDtype::Float32, "float32"},
                                                   {SaveDtype::Float16, "float16"}};

hf::ModelConfig make_config(const TrainOptions& o) {
  hf::ModelConfig c;
  c.path = "(training)";
  c.family = hf::ModelFamily::Gpt2;
  c.model_type = "gpt2";
  c.hidden_size = o.hidden;
  c.num_layers = o.layers;
  c.num_heads = o.heads;
  c.intermediate_size = o.inner;
  c.max_positions = o.max_positions;
  c.vocab_size = o.vocab_size;
  c.layer_norm_eps = 1e-5;
  c.activation_name = "gelu_new";
  c.activation = hf::Activation::GeluTanh;
  c.num_labels = o.num_labels;
  return c;
}

void save(const std::string& dir, const TrainOptions& o,
          const std::vector<std::pair<std::string, Tensor>>& tensors) {
  std::vector<std::pair<std::string, Tensor>> named;
  for (const auto& [name, tensor] : tensors) {
    named.emplace_back(name.rfind("classifier.", 0) == 0 ? name : "transformer." + name, tensor);
  }
  detail::write_tensors(dir + "/model.safetensors", named, o.save_dtype);
  nlohmann::json config = {
      {"model_type", "gpt2"},
      {"architectures", {"AttnflowEncoderClassifier"}},
      {"attnflow_causal", false},
      {"attnflow_classifier_position", 0},
      {"n_embd", o.hidden},
      {"n_layer", o.layers},
      {"n_head", o.heads},
      {"n_inner", o.inner},
      {"n_positions", o.max_positions},
      {"vocab_size", o.vocab_size},
      {"layer_norm_epsilon", 1e-5},
      {"activation_function", "gelu_new"},
      {"scale_attn_weights", true},
      {"tie_word_embeddings", false},
      {"torch_dtype", to_string(o.save_dtype)},
  };
  detail::add_label_maps(config, o.num_labels, o.label_names);
  detail::write_json(dir + "/config.json", config);
}

}  // namespace

std::string to_string(SaveDtype dtype) {
  return enum_name(kSaveDtypeNames, dtype);
}

SaveDtype parse_save_dtype(const std::string& text) {
  return parse_enum(kSaveDtypeNames, text, "save dtype");
}

double accuracy(const std::vector<std::int64_t>& predictions,
                const std::vector<std::int64_t>& labels) {
  if (predictions.size() != labels.size()) {
    throw Error("accuracy: " + std::to_string(predictions.size()) + " predictions for " +
                std::to_string(labels.size()) + " labels");
  }
  if (labels.empty()) throw Error("accuracy: no examples");
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) correct += predictions[i] == labels[i] ? 1 : 0;
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

double accuracy(Model& model, const std::vector<TrainExample>& data, int batch_size) {
  if (data.empty()) throw Error("accuracy: no examples");
  if (batch_size <= 0) throw Error("accuracy: batch size " + std::to_string(batch_size) + " <= 0");
  if (model.info().head != HeadKind::Classifier) {
    throw Error("accuracy: " + model.info().path + " is a " + model.info().architecture +
                ", not a classifier");
  }
  RunOptions options;
  options.attention = false;
  std::vector<std::int64_t> predictions, labels;
  const auto step = static_cast<std::size_t>(batch_size);
  for (std::size_t begin = 0; begin < data.size(); begin += step) {
    std::vector<Input> batch;
    for (std::size_t i = begin; i < std::min(data.size(), begin + step); ++i) {
      batch.push_back({data[i].ids, {}, data[i].label});
      labels.push_back(data[i].label);
    }
    for (const Output& out : model.run(batch, options)) predictions.push_back(*out.prediction);
  }
  return accuracy(predictions, labels);
}

TrainResult train_encoder_classifier(const std::vector<TrainExample>& train,
                                     const std::vector<TrainExample>& valid, const TrainOptions& o,
                                     const std::string& dir) {
  if (o.vocab_size <= 0) throw Error("train: vocab_size must be positive");
  if (o.hidden % o.heads != 0) {
    throw Error("train: hidden size " + std::to_string(o.hidden) + " is not divisible by " +
                std::to_string(o.heads) + " heads");
  }
  if (o.batch_size <= 0 || o.epochs <= 0) throw Error("train: batch size and epochs must be > 0");
  const detail::ExampleLimits limits{o.max_positions, o.num_labels, o.vocab_size};
  detail::check_examples(train, "training", limits);
  detail::check_examples(valid, "validation", limits);
  if (o.threads > 0) ::torch::set_num_threads(o.threads);
  ::torch::manual_seed(o.seed);
  const ::torch::Device device(o.device == "cpu" ? ::torch::kCPU : ::torch::kCUDA);
  detail::InitTensors params(o.init_std, device);
  detail::Gpt2Options go;
  go.head = detail::Gpt2Head::FirstTokenClassifier;
  go.causal = false;
  const hf::ModelConfig config = make_config(o);
  std::unique_ptr<detail::Network> net = detail::make_gpt2(config, params, go);
  std::vector<Tensor> all;
  std::int64_t parameters = 0;
  for (const auto& [name, t] : params.tensors()) {
    parameters += t.numel();
    all.push_back(t);
  }
  detail::LoopSettings loop = detail::loop_settings(o);
  TrainResult result = detail::train_loop(
      all, train.size(), loop,
      [&](const std::vector<std::size_t>& batch) {
        Tensor labels;
        const detail::BatchTensors t = detail::pack_examples(train, batch, device, labels);
        return ::torch::nn::functional::cross_entropy(net->forward(t, false).logits, labels);
      },
      [&](int) { return detail::evaluate_classifier(*net, valid, o.batch_size, device); });
  result.parameters = parameters;
  result.trainable_parameters = parameters;
  save(dir, o, params.tensors());
  return result;
}

}  // namespace attnflow::torch
