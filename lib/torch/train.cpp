// Training the encoder classifier (GPT-2 blocks, no causal mask, classifier on the CLS token)
// with Adam(W), saving it as config.json + model.safetensors with GPT-2's tensor names.
#include "attnflow/torch/train.hpp"

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/torch/model.hpp"
#include "network.hpp"
#include "random.hpp"
#include "weights.hpp"

namespace attnflow::torch {

namespace {

using ::torch::Tensor;

constexpr EnumName<SaveDtype> kSaveDtypeNames[] = {{SaveDtype::Float32, "float32"},
                                                   {SaveDtype::Float16, "float16"}};

void check_data(const std::vector<TrainExample>& data, const std::string& name,
                const TrainOptions& o) {
  if (data.empty()) throw Error("train: the " + name + " set is empty");
  for (std::size_t i = 0; i < data.size(); ++i) {
    const TrainExample& e = data[i];
    const std::string where = "train: " + name + " example " + std::to_string(i);
    if (e.ids.empty()) throw Error(where + ": no tokens");
    if (static_cast<std::int64_t>(e.ids.size()) > o.max_positions) {
      throw Error(where + ": " + std::to_string(e.ids.size()) + " tokens, more than " +
                  std::to_string(o.max_positions) + " positions");
    }
    if (e.label < 0 || e.label >= o.num_labels) {
      throw Error(where + ": label " + std::to_string(e.label) + " outside 0.." +
                  std::to_string(o.num_labels - 1));
    }
    for (std::int64_t id : e.ids) {
      if (id < 0 || id >= o.vocab_size) {
        throw Error(where + ": token id " + std::to_string(id) + " outside the vocabulary (" +
                    std::to_string(o.vocab_size) + " ids)");
      }
    }
  }
}

detail::BatchTensors pack(const std::vector<TrainExample>& data,
                          const std::vector<std::size_t>& order, std::size_t begin, std::size_t end,
                          const ::torch::Device& device, Tensor& labels) {
  std::int64_t longest = 0;
  for (std::size_t k = begin; k < end; ++k)
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(data[order[k]].ids.size()));
  const auto B = static_cast<std::int64_t>(end - begin);
  const auto opts = ::torch::TensorOptions().dtype(::torch::kInt64);
  detail::BatchTensors t;
  t.ids = ::torch::zeros({B, longest}, opts);
  t.mask = ::torch::zeros({B, longest}, opts);
  labels = ::torch::zeros({B}, opts);
  auto ids = t.ids.accessor<std::int64_t, 2>();
  auto mask = t.mask.accessor<std::int64_t, 2>();
  auto lab = labels.accessor<std::int64_t, 1>();
  for (std::int64_t b = 0; b < B; ++b) {
    const TrainExample& e = data[order[begin + static_cast<std::size_t>(b)]];
    for (std::size_t i = 0; i < e.ids.size(); ++i) {
      ids[b][static_cast<std::int64_t>(i)] = e.ids[i];
      mask[b][static_cast<std::int64_t>(i)] = 1;
    }
    lab[b] = e.label;
  }
  t.ids = t.ids.to(device);
  t.mask = t.mask.to(device);
  t.type_ids = ::torch::zeros_like(t.ids);
  labels = labels.to(device);
  return t;
}

// Accuracy of the network being trained (float32, before saving).
double network_accuracy(detail::Network& net, const std::vector<TrainExample>& data, int batch_size,
                        const ::torch::Device& device) {
  ::torch::NoGradGuard no_grad;
  std::vector<std::size_t> order(data.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<std::int64_t> predictions, labels;
  for (std::size_t begin = 0; begin < data.size(); begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(data.size(), begin + static_cast<std::size_t>(batch_size));
    Tensor batch_labels;
    const detail::BatchTensors t = pack(data, order, begin, end, device, batch_labels);
    const Tensor predicted = net.forward(t, false).logits.argmax(1).to(::torch::kCPU);
    const auto p = predicted.accessor<std::int64_t, 1>();
    for (std::int64_t k = 0; k < p.size(0); ++k) predictions.push_back(p[k]);
  }
  for (const TrainExample& e : data) labels.push_back(e.label);
  return accuracy(predictions, labels);
}

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
  detail::write_float_tensors(dir + "/model.safetensors", tensors,
                              o.save_dtype == SaveDtype::Float16, "transformer.", {"classifier."});
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
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (std::int64_t k = 0; k < o.num_labels; ++k) {
    const std::string name = static_cast<std::size_t>(k) < o.label_names.size()
                                 ? o.label_names[static_cast<std::size_t>(k)]
                                 : "LABEL_" + std::to_string(k);
    id2label[std::to_string(k)] = name;
    label2id[name] = k;
  }
  config["id2label"] = id2label;
  config["label2id"] = label2id;
  std::ofstream f(dir + "/config.json");
  f << config.dump(2) << "\n";
  if (!f) throw Error(dir + "/config.json: cannot write");
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
  check_data(train, "training", o);
  check_data(valid, "validation", o);
  const auto started = std::chrono::steady_clock::now();
  if (o.threads > 0) ::torch::set_num_threads(o.threads);
  ::torch::manual_seed(o.seed);
  const ::torch::Device device(o.device == "cpu" ? ::torch::kCPU : ::torch::kCUDA);
  detail::InitTensors params(o.init_std, device);
  detail::Gpt2Options go;
  go.head = detail::Gpt2Head::FirstTokenClassifier;
  go.causal = false;
  const hf::ModelConfig config = make_config(o);
  std::unique_ptr<detail::Network> net = detail::make_gpt2(config, params, go);
  std::vector<Tensor> decay, no_decay;
  TrainResult result;
  for (const auto& [name, t] : params.tensors()) {
    result.parameters += t.numel();
    (t.dim() >= 2 ? decay : no_decay).push_back(t);
  }
  std::vector<Tensor> all = decay;
  all.insert(all.end(), no_decay.begin(), no_decay.end());
  std::vector<::torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      decay, std::make_unique<::torch::optim::AdamWOptions>(
                 ::torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<::torch::optim::AdamWOptions>(
                                    ::torch::optim::AdamWOptions(o.learning_rate).weight_decay(0)));
  ::torch::optim::AdamW optimizer(groups, ::torch::optim::AdamWOptions(o.learning_rate));

  std::mt19937_64 rng(o.seed);
  std::vector<std::size_t> order(train.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto bs = static_cast<std::size_t>(o.batch_size);
  const std::int64_t per_epoch = static_cast<std::int64_t>((train.size() + bs - 1) / bs);
  const std::int64_t total = per_epoch * o.epochs;
  TrainProgress progress;
  progress.steps = total;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i) {  // Fisher-Yates with our own draws
      std::swap(order[i - 1], order[detail::draw_below(rng, i)]);
    }
    double loss_sum = 0;
    std::int64_t batches = 0;
    for (std::size_t begin = 0; begin < order.size(); begin += bs) {
      const std::size_t end = std::min(order.size(), begin + bs);
      // Linear warm-up over the first 5% of steps, then linear decay to 10%.
      const double step = static_cast<double>(result.steps);
      const double warm = std::max(1.0, 0.05 * static_cast<double>(total));
      const double scale =
          step < warm ? (step + 1) / warm
                      : std::max(0.1, 1.0 - 0.9 * (step - warm) /
                                                std::max(1.0, static_cast<double>(total) - warm));
      for (auto& group : optimizer.param_groups()) {
        static_cast<::torch::optim::AdamWOptions&>(group.options()).lr(o.learning_rate * scale);
      }
      Tensor labels;
      const detail::BatchTensors t = pack(train, order, begin, end, device, labels);
      const Tensor logits = net->forward(t, false).logits;
      const Tensor loss = ::torch::nn::functional::cross_entropy(logits, labels);
      optimizer.zero_grad();
      loss.backward();
      ::torch::nn::utils::clip_grad_norm_(all, 1.0);
      optimizer.step();
      loss_sum += loss.item<double>();
      ++batches;
      ++result.steps;
      progress.epoch = epoch;
      progress.step = result.steps;
      progress.loss = loss_sum / static_cast<double>(batches);
      progress.valid_accuracy = -1;
      if (o.progress && end < order.size()) o.progress(progress);
    }
    result.final_loss = loss_sum / static_cast<double>(batches);
    result.valid_accuracy = network_accuracy(*net, valid, o.batch_size, device);
    progress.valid_accuracy = result.valid_accuracy;
    if (o.progress) o.progress(progress);
  }
  save(dir, o, params.tensors());
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace attnflow::torch
