// The training loop every attnflow trainer shares, and its saving helpers.
#include "train_loop.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>

#include "attnflow/core/error.hpp"
#include "weights.hpp"

namespace attnflow::torch::detail {

using ::torch::Tensor;

TrainResult train_loop(const std::vector<Tensor>& trainable, std::size_t examples,
                       const LoopSettings& o,
                       const std::function<Tensor(const std::vector<std::size_t>&)>& batch_loss,
                       const std::function<EpochEnd(int)>& end_of_epoch) {
  if (o.batch_size <= 0 || o.epochs <= 0) throw Error("train: batch size and epochs must be > 0");
  const auto started = std::chrono::steady_clock::now();
  std::vector<Tensor> decay, no_decay;
  for (const Tensor& t : trainable) (t.dim() >= 2 ? decay : no_decay).push_back(t);
  std::vector<::torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      decay, std::make_unique<::torch::optim::AdamWOptions>(
                 ::torch::optim::AdamWOptions(o.learning_rate).weight_decay(o.weight_decay)));
  groups.emplace_back(no_decay, std::make_unique<::torch::optim::AdamWOptions>(
                                    ::torch::optim::AdamWOptions(o.learning_rate).weight_decay(0)));
  ::torch::optim::AdamW optimizer(groups, ::torch::optim::AdamWOptions(o.learning_rate));

  std::mt19937_64 rng(o.seed);
  std::vector<std::size_t> order(examples);
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto bs = static_cast<std::size_t>(o.batch_size);
  const std::int64_t per_epoch = static_cast<std::int64_t>((examples + bs - 1) / bs);
  const std::int64_t total = per_epoch * o.epochs;
  TrainResult result;
  TrainProgress progress;
  progress.steps = total;
  for (int epoch = 1; epoch <= o.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i) {  // Fisher-Yates with our own draws
      std::swap(order[i - 1], order[draw_below(rng, i)]);
    }
    double loss_sum = 0;
    std::int64_t batches = 0;
    for (std::size_t begin = 0; begin < order.size(); begin += bs) {
      const std::size_t end = std::min(order.size(), begin + bs);
      if (o.warmup_decay) {
        const double step = static_cast<double>(result.steps);
        const double warm = std::max(1.0, 0.05 * static_cast<double>(total));
        const double scale =
            step < warm ? (step + 1) / warm
                        : std::max(0.1, 1.0 - 0.9 * (step - warm) /
                                                  std::max(1.0, static_cast<double>(total) - warm));
        for (auto& group : optimizer.param_groups()) {
          static_cast<::torch::optim::AdamWOptions&>(group.options()).lr(o.learning_rate * scale);
        }
      }
      const std::vector<std::size_t> batch(order.begin() + static_cast<std::ptrdiff_t>(begin),
                                           order.begin() + static_cast<std::ptrdiff_t>(end));
      const Tensor loss = batch_loss(batch);
      optimizer.zero_grad();
      loss.backward();
      ::torch::nn::utils::clip_grad_norm_(trainable, o.clip_norm);
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
    const EpochEnd measured = end_of_epoch(epoch);
    result.valid_accuracy = measured.valid_accuracy;
    result.history.push_back(
        {epoch, result.final_loss, measured.valid_loss, measured.valid_accuracy});
    progress.valid_accuracy = measured.valid_accuracy;
    progress.valid_loss = measured.valid_loss;
    if (o.progress) o.progress(progress);
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

void check_examples(const std::vector<TrainExample>& data, const std::string& name,
                    const ExampleLimits& o) {
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

BatchTensors pack_examples(const std::vector<TrainExample>& data,
                           const std::vector<std::size_t>& batch, const ::torch::Device& device,
                           Tensor& labels) {
  std::int64_t longest = 0;
  for (std::size_t k : batch)
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(data[k].ids.size()));
  const auto B = static_cast<std::int64_t>(batch.size());
  const auto opts = ::torch::TensorOptions().dtype(::torch::kInt64);
  BatchTensors t;
  t.ids = ::torch::zeros({B, longest}, opts);
  t.mask = ::torch::zeros({B, longest}, opts);
  labels = ::torch::zeros({B}, opts);
  auto ids = t.ids.accessor<std::int64_t, 2>();
  auto mask = t.mask.accessor<std::int64_t, 2>();
  auto lab = labels.accessor<std::int64_t, 1>();
  for (std::int64_t b = 0; b < B; ++b) {
    const TrainExample& e = data[batch[static_cast<std::size_t>(b)]];
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

EpochEnd evaluate_classifier(Network& net, const std::vector<TrainExample>& data, int batch_size,
                             const ::torch::Device& device) {
  ::torch::NoGradGuard no_grad;
  std::vector<std::int64_t> predictions, labels;
  double loss_sum = 0;
  const auto step = static_cast<std::size_t>(batch_size);
  for (std::size_t begin = 0; begin < data.size(); begin += step) {
    std::vector<std::size_t> batch;
    for (std::size_t i = begin; i < std::min(data.size(), begin + step); ++i) batch.push_back(i);
    Tensor batch_labels;
    const BatchTensors t = pack_examples(data, batch, device, batch_labels);
    const Tensor logits = net.forward(t, false).logits;
    loss_sum += ::torch::nn::functional::cross_entropy(
                    logits, batch_labels,
                    ::torch::nn::functional::CrossEntropyFuncOptions().reduction(::torch::kSum))
                    .item<double>();
    const Tensor predicted = logits.argmax(1).to(::torch::kCPU);
    const auto p = predicted.accessor<std::int64_t, 1>();
    for (std::int64_t k = 0; k < p.size(0); ++k) predictions.push_back(p[k]);
  }
  for (const TrainExample& e : data) labels.push_back(e.label);
  EpochEnd r;
  r.valid_accuracy = accuracy(predictions, labels);
  r.valid_loss = loss_sum / static_cast<double>(data.size());
  return r;
}

void write_tensors(const std::string& path,
                   const std::vector<std::pair<std::string, Tensor>>& tensors, SaveDtype dtype) {
  write_float_tensors(path, tensors, dtype == SaveDtype::Float16);
}

void add_label_maps(nlohmann::json& config, std::int64_t count,
                    const std::vector<std::string>& names) {
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (std::int64_t k = 0; k < count; ++k) {
    const std::string name = static_cast<std::size_t>(k) < names.size()
                                 ? names[static_cast<std::size_t>(k)]
                                 : "LABEL_" + std::to_string(k);
    id2label[std::to_string(k)] = name;
    label2id[name] = k;
  }
  config["id2label"] = id2label;
  config["label2id"] = label2id;
}

void write_json(const std::string& path, const nlohmann::json& config) {
  std::ofstream f(path);
  f << config.dump(2) << "\n";
  if (!f) throw Error(path + ": cannot write");
}

}  // namespace attnflow::torch::detail
