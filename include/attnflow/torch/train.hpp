// Training the GPT-2-block encoder classifier of Abnar & Zuidema (2020) with libtorch: GPT-2
// blocks without the causal mask, a CLS token first, its last-layer vector into a linear
// classifier. The result is saved as a Hugging Face-style directory (config.json with
// architecture "AttnflowEncoderClassifier", model.safetensors) that Model::load reads.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace attnflow::torch {

class Model;

/// Element type of the weights in the saved model.safetensors.
enum class SaveDtype {
  Float32,
  Float16,  ///< IEEE half: half the size, accuracy as read back reported by `attnflow train`
};

/// "float32" / "float16" (also config.json's torch_dtype).
std::string to_string(SaveDtype dtype);
/// Parses "float32" or "float16". Throws
/// Error("save dtype: unknown 'TEXT' (expected float32 or float16)").
SaveDtype parse_save_dtype(const std::string& text);

struct TrainExample {
  std::vector<std::int64_t> ids;  ///< token ids, CLS first
  std::int64_t label = 0;
};

struct TrainProgress {
  int epoch = 0;                     ///< 1-based
  std::int64_t step = 0, steps = 0;  ///< optimiser steps done / planned in total
  double loss = 0.0;                 ///< running mean of the epoch so far
  double valid_accuracy = -1.0;      ///< set at the end of an epoch (-1 = not yet)
  double valid_loss = -1.0;          ///< set at the end of an epoch where measured (-1 = not)
};

/// One epoch of a training run (training.json's "history": the loss / accuracy curves).
struct EpochStats {
  int epoch = 0;                 ///< 1-based
  double train_loss = 0.0;       ///< mean training loss over the epoch's batches
  double valid_loss = -1.0;      ///< validation loss after the epoch (-1 = not measured)
  double valid_accuracy = -1.0;  ///< validation accuracy after the epoch (-1 = not measured)
};

struct TrainOptions {
  int layers = 6;
  int heads = 8;
  std::int64_t hidden = 128;
  std::int64_t inner = 512;  ///< feed-forward width
  std::int64_t max_positions = 64;
  std::int64_t vocab_size = 0;  ///< embedding rows (the tokenizer's)
  std::int64_t num_labels = 2;
  std::vector<std::string> label_names;  ///< id2label, e.g. {"singular", "plural"}
  int epochs = 4;
  int batch_size = 64;
  double learning_rate = 1e-3;
  double weight_decay = 0.01;
  double init_std = 0.02;
  std::uint64_t seed = 1;
  SaveDtype save_dtype = SaveDtype::Float16;  ///< of the weights in model.safetensors
  std::string device = "cpu";
  int threads = 0;                                     ///< CPU threads (0 = libtorch's default)
  std::function<void(const TrainProgress&)> progress;  ///< called after every step
};

struct TrainResult {
  double final_loss = 0.0;      ///< mean training loss of the last epoch
  double valid_accuracy = 0.0;  ///< of the saved model (after the last epoch)
  std::int64_t steps = 0;
  double seconds = 0.0;
  std::int64_t parameters = 0;            ///< all parameters of the model
  std::int64_t trainable_parameters = 0;  ///< those the optimiser updated
  std::vector<EpochStats> history;        ///< one entry per epoch
};

/// Trains on `train`, reports accuracy on `valid` after every epoch, and writes `dir`/config.json
/// and `dir`/model.safetensors (the directory must exist). Deterministic for a seed on one
/// machine and thread count. Throws Error for empty data, a label outside 0..num_labels-1,
/// an example longer than max_positions or an id outside the vocabulary (naming the example).
TrainResult train_encoder_classifier(const std::vector<TrainExample>& train,
                                     const std::vector<TrainExample>& valid,
                                     const TrainOptions& options, const std::string& dir);

/// The fraction of `predictions` equal to `labels` (the one accuracy of attnflow: training,
/// `attnflow train`, demo and reproduce). Throws Error when the sizes differ or are 0.
double accuracy(const std::vector<std::int64_t>& predictions,
                const std::vector<std::int64_t>& labels);
/// Accuracy of a classifier `model` on `data`, run in batches of `batch_size` without
/// attention maps. Throws Error for empty data or a model without a classifier head.
double accuracy(Model& model, const std::vector<TrainExample>& data, int batch_size = 256);

}  // namespace attnflow::torch
