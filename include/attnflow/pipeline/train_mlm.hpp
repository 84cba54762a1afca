// train_mlm: the job behind `attnflow train mlm`. A text corpus -> a word-level WordPiece
// tokenizer -> torch::train_masked_lm (a small BERT pretrained from scratch) -> a
// BertForMaskedLM directory (config.json, model.safetensors, vocab.txt, tokenizer_config.json)
// with training.json: the settings, the per-epoch history and the masked-token accuracy and
// loss of the saved weights as read back, on validation masks drawn with seed + 1.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "attnflow/torch/train_bert.hpp"

namespace attnflow::pipeline {

struct TrainMlmReport;

struct TrainMlmOptions {
  std::string train_path;  ///< training corpus (io::read_corpus; labels ignored)
  std::string valid_path;  ///< validation corpus
  std::string vocab_path;  ///< WordPiece vocab.txt (word level) with [PAD] [UNK] [CLS] [SEP] [MASK]
  std::string output;      ///< model directory to write (built as OUTPUT.partial)
  bool overwrite = false;
  /// Architecture, masking shares, optimiser, seed, threads, save dtype, progress. vocab_size,
  /// pad_id and the masking's mask id / special ids are set by the job from the vocabulary.
  torch::MaskedLmTrainOptions training;
  std::string curves;  ///< figure of the loss / accuracy curves to draw; empty = none
  std::function<void(const TrainMlmReport&)> on_start;  ///< once the corpora are tokenized
};

struct TrainMlmReport {
  std::string output;
  torch::TrainResult result;
  std::int64_t train_examples = 0;
  std::int64_t valid_examples = 0;
  torch::MaskedLmMetrics valid;  ///< of the saved model read back, validation masks
  std::string created;
  double cpu_seconds = 0.0;  ///< process CPU time of the training
};

/// The validation set as the job masks it: every sequence of `sequences` masked with
/// torch::mask_tokens(..., `masking`, seed + 1) (what training.json's valid_* numbers are on).
std::vector<torch::MaskedExample> validation_masks(
    const std::vector<std::vector<std::int64_t>>& sequences, const torch::MaskingOptions& masking,
    std::uint64_t seed);

/// Runs the job. Throws Error, and leaves no output folder, for a missing vocabulary or one
/// without [MASK], an existing output without overwrite, an unreadable corpus, a line longer
/// than max_positions, and the errors of torch::train_masked_lm.
TrainMlmReport train_mlm(const TrainMlmOptions& options);

}  // namespace attnflow::pipeline
