// Fine-tuning a classifier on an encoder backbone (seed 002): the backbone's body read from its
// directory as trainable (or frozen) tensors, a new linear classifier on the pooled last hidden
// state, AdamW, and the AttnflowPooledClassifier directory it is saved as.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train_bert.hpp"
#include "model_internal.hpp"
#include "network.hpp"
#include "train_loop.hpp"
#include "weights.hpp"

namespace attnflow::torch {

namespace {

using ::torch::Tensor;

constexpr EnumName<Pooling> kPoolingNames[] = {{Pooling::Mean, "mean"}, {Pooling::Cls, "cls"}};

bool is_classifier_tensor(const std::string& name) {
  return name.rfind("classifier.", 0) == 0;
}

// The backbone's tensors as leaves (trainable unless frozen), the new classifier's fresh.
class FineTuneTensors final : public detail::TensorSource {
 public:
  FineTuneTensors(detail::Weights& backbone, double init_std, bool freeze)
      : backbone_(backbone), head_(init_std, ::torch::Device(::torch::kCPU)), freeze_(freeze) {}

  Tensor get(const std::string& name, const std::vector<std::int64_t>& shape,
             const std::string& why) override {
    Tensor t;
    if (is_classifier_tensor(name)) {
      t = head_.get(name, shape, why);
    } else {
      t = backbone_.get(name, shape, why).clone();
      t.set_requires_grad(!freeze_);
    }
    tensors_.emplace_back(name, t);
    return t;
  }
  bool has(const std::string& name) const override {
    return !is_classifier_tensor(name) && backbone_.has(name);
  }
  const std::vector<std::pair<std::string, Tensor>>& tensors() const { return tensors_; }

 private:
  detail::Weights& backbone_;
  detail::InitTensors head_;
  bool freeze_;
  std::vector<std::pair<std::string, Tensor>> tensors_;
};

hf::ModelConfig backbone_config(const std::string& dir) {
  if (!std::filesystem::is_regular_file(dir + "/config.json")) {
    throw Error("--backbone " + dir + ": no config.json (expected a model directory)");
  }
  hf::ConfigOptions options;  // attnflow's own architectures, as Model::load accepts them
  options.extra_architectures = {"AttnflowEncoderClassifier", "AttnflowPooledClassifier"};
  hf::ModelConfig c = hf::read_model_config(dir + "/config.json", options);
  if (c.family != hf::ModelFamily::Bert && c.family != hf::ModelFamily::Roberta) {
    throw Error("--backbone " + dir + ": model_type '" + c.model_type +
                "' is not supported as a backbone (BERT or RoBERTa family)");
  }
  if (c.is_decoder) throw Error("--backbone " + dir + ": is_decoder true (a causal BERT)");
  return c;
}

std::string body_prefix(const hf::ModelConfig& c) {
  return c.family == hf::ModelFamily::Roberta ? "roberta." : "bert.";
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  return nlohmann::json::parse(text.str());
}

}  // namespace

std::string to_string(Pooling pooling) {
  return enum_name(kPoolingNames, pooling);
}

Pooling parse_pooling(const std::string& text) {
  return parse_enum(kPoolingNames, text, "pooling");
}

ModelInfo backbone_info(const std::string& backbone) {
  const hf::ModelConfig c = backbone_config(backbone);
  detail::weights_path(backbone);  // throws when the weights are missing
  ModelInfo info;
  info.path = backbone;
  info.family = c.family == hf::ModelFamily::Roberta ? ModelFamily::Roberta : ModelFamily::Bert;
  info.architecture = c.architectures.empty() ? "" : c.architectures.front();
  info.layers = static_cast<int>(c.num_layers);
  info.heads = static_cast<int>(c.num_heads);
  info.hidden_size = c.hidden_size;
  info.vocab_size = c.vocab_size;
  info.max_positions = c.max_tokens();
  info.uses_type_ids = c.type_vocab_size > 0;
  return info;
}

TrainResult fine_tune_classifier(const std::vector<TrainExample>& train,
                                 const std::vector<TrainExample>& valid, const FineTuneOptions& o,
                                 const std::string& dir) {
  hf::ModelConfig c = backbone_config(o.backbone);
  c.num_labels = o.num_labels;
  const detail::ExampleLimits limits{c.max_tokens(), o.num_labels, c.vocab_size};
  detail::check_examples(train, "training", limits);
  detail::check_examples(valid, "validation", limits);
  if (o.threads > 0) ::torch::set_num_threads(o.threads);
  ::torch::manual_seed(o.seed);
  const ::torch::Device device(::torch::kCPU);
  const std::string prefix = body_prefix(c);
  detail::Weights weights(detail::weights_path(o.backbone), {prefix}, device);
  FineTuneTensors source(weights, o.init_std, o.freeze_backbone);
  const detail::Pooling pooling =
      o.pooling == Pooling::Cls ? detail::Pooling::Cls : detail::Pooling::Mean;
  std::unique_ptr<detail::Network> net = detail::make_pooled_classifier(c, source, pooling);
  std::vector<Tensor> trainable;
  std::int64_t parameters = 0, trained = 0;
  for (const auto& [name, t] : source.tensors()) {
    parameters += t.numel();
    if (t.requires_grad()) {
      trained += t.numel();
      trainable.push_back(t);
    }
  }
  detail::LoopSettings loop = detail::loop_settings(o);
  loop.warmup_decay = false;  // seed 002: a plain AdamW loop
  TrainResult result = detail::train_loop(
      trainable, train.size(), loop,
      [&](const std::vector<std::size_t>& batch) {
        Tensor labels;
        const detail::BatchTensors t = detail::pack_examples(train, batch, device, labels);
        return ::torch::nn::functional::cross_entropy(net->forward(t, false).logits, labels);
      },
      [&](int) { return detail::evaluate_classifier(*net, valid, 64, device); });
  result.parameters = parameters;
  result.trainable_parameters = trained;

  std::vector<std::pair<std::string, Tensor>> named;
  for (const auto& [name, t] : source.tensors()) {
    named.emplace_back(is_classifier_tensor(name) ? name : prefix + name, t);
  }
  nlohmann::json config = read_json(o.backbone + "/config.json");
  const std::string backbone_arch = c.architectures.empty() ? "" : c.architectures.front();
  config["architectures"] = {"AttnflowPooledClassifier"};
  config["attnflow_pooling"] = to_string(o.pooling);
  config["attnflow_backbone"] = {
      {"path", o.backbone}, {"architecture", backbone_arch}, {"frozen", o.freeze_backbone}};
  config["num_labels"] = o.num_labels;
  config["torch_dtype"] = to_string(o.save_dtype);
  config.erase("dtype");
  detail::add_label_maps(config, o.num_labels, o.label_names);

  if (o.on_trained) {
    ModelInfo info = backbone_info(o.backbone);
    info.path = dir + " (in training)";
    info.architecture = "AttnflowPooledClassifier";
    info.head = HeadKind::Classifier;
    info.num_labels = o.num_labels;
    info.device = "cpu";
    std::unique_ptr<Model> model = detail::wrap_network(info, std::move(net), device);
    o.on_trained(*model);
  }
  detail::write_tensors(dir + "/model.safetensors", named, o.save_dtype);
  detail::write_json(dir + "/config.json", config);
  return result;
}

}  // namespace attnflow::torch
