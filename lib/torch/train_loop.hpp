// Internal to attnflow::torch: what every trainer shares (the encoder classifier, masked-LM
// pretraining, fine-tuning): AdamW over shuffled mini-batches with our own deterministic draws,
// the learning-rate schedule, gradient clipping, the per-epoch history, and saving tensors.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "attnflow/torch/train.hpp"
#include "network.hpp"
#include "random.hpp"  // draw_below

namespace attnflow::torch::detail {

struct LoopSettings {
  int epochs = 1;
  int batch_size = 1;
  double learning_rate = 1e-3;
  double weight_decay = 0.01;  ///< on tensors of 2 or more dimensions only
  std::uint64_t seed = 1;      ///< of the shuffles
  /// Linear warm-up over the first 5% of steps, then linear decay to 10% of the peak; false =
  /// a constant learning rate.
  bool warmup_decay = true;
  double clip_norm = 1.0;  ///< gradients clipped to this global norm
  std::function<void(const TrainProgress&)> progress;
};

/// The loop settings of a trainer's options (any struct with epochs, batch_size,
/// learning_rate, weight_decay, seed and progress).
template <class Options>
LoopSettings loop_settings(const Options& o) {
  LoopSettings l;
  l.epochs = o.epochs;
  l.batch_size = o.batch_size;
  l.learning_rate = o.learning_rate;
  l.weight_decay = o.weight_decay;
  l.seed = o.seed;
  l.progress = o.progress;
  return l;
}

/// What the end of an epoch measured on the validation set.
struct EpochEnd {
  double valid_loss = -1.0;      ///< < 0: not measured
  double valid_accuracy = -1.0;  ///< < 0: not measured
};

/// Trains `trainable` (leaves that require grad) for settings.epochs passes over examples
/// 0..examples-1 in a fresh Fisher-Yates order per epoch; `batch_loss` gives the mean loss of
/// the examples it is handed, `end_of_epoch` (1-based epoch) measures the validation set.
/// Fills steps, final_loss, valid_accuracy (of the last epoch), history and seconds (not
/// parameters).
TrainResult train_loop(
    const std::vector<::torch::Tensor>& trainable, std::size_t examples,
    const LoopSettings& settings,
    const std::function<::torch::Tensor(const std::vector<std::size_t>&)>& batch_loss,
    const std::function<EpochEnd(int)>& end_of_epoch);

/// What a valid example is: at most `max_positions` ids, each below `vocab_size`, a label in
/// 0..num_labels-1.
struct ExampleLimits {
  std::int64_t max_positions = 0;
  std::int64_t num_labels = 0;
  std::int64_t vocab_size = 0;
};

/// Throws Error("train: the NAME set is empty") or "train: NAME example I: ..." (no tokens,
/// too long, label out of range, id outside the vocabulary).
void check_examples(const std::vector<TrainExample>& data, const std::string& name,
                    const ExampleLimits& limits);

/// The examples data[batch[0]], data[batch[1]], ... right-padded (mask 0), token types 0, on
/// `device`; their labels into `labels`.
BatchTensors pack_examples(const std::vector<TrainExample>& data,
                           const std::vector<std::size_t>& batch, const ::torch::Device& device,
                           ::torch::Tensor& labels);

/// Accuracy and mean cross-entropy of a classifier network (as it is in memory) on `data`.
EpochEnd evaluate_classifier(Network& net, const std::vector<TrainExample>& data, int batch_size,
                             const ::torch::Device& device);

/// Writes `tensors` (full names) to `path` as float32 or float16.
void write_tensors(const std::string& path,
                   const std::vector<std::pair<std::string, ::torch::Tensor>>& tensors,
                   SaveDtype dtype);

/// Sets config["id2label"] and config["label2id"] for `count` classes named `names` (LABEL_k
/// where a name is missing).
void add_label_maps(nlohmann::json& config, std::int64_t count,
                    const std::vector<std::string>& names);

/// Writes `config` to `path` (2-space indent).
void write_json(const std::string& path, const nlohmann::json& config);

}  // namespace attnflow::torch::detail
