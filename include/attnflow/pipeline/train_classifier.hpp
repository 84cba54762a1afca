// train_classifier: the job behind `attnflow train classifier`. Labelled corpora -> a
// word-level WordPiece tokenizer -> torch::train_encoder_classifier (from scratch), or the
// backbone's tokenizer -> torch::fine_tune_classifier (with --backbone) -> a Hugging Face-style
// model directory (config.json, model.safetensors, tokenizer files) with training.json (the
// run's settings, the per-epoch loss / accuracy history, the accuracy of the saved weights as
// read back) and optionally a figure of the curves.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/torch/train.hpp"
#include "attnflow/torch/train_bert.hpp"

namespace attnflow::pipeline {

struct TrainClassifierReport;

struct TrainClassifierOptions {
  std::string train_path;  ///< training corpus (io::read_corpus: every line needs a label)
  std::string valid_path;  ///< validation corpus
  std::string test_path;   ///< test corpus; empty = none (test accuracy -1)
  std::string vocab_path;  ///< WordPiece vocab.txt (word level), copied into the model; must
                           ///< be empty with `backbone`
  /// Non-empty: fine-tune this encoder directory (BERT / RoBERTa family) with `fine_tune`'s
  /// settings instead of training `training`'s encoder from scratch; its tokenizer files are
  /// copied into the output.
  std::string backbone;
  /// With `backbone`: pooling, freezing, optimiser, seed, threads, save dtype, progress
  /// (seed 002's defaults). backbone, num_labels and label_names are set by the job.
  torch::FineTuneOptions fine_tune;
  std::string curves;      ///< figure of the loss / accuracy curves to draw; empty = none
  std::string output;      ///< model directory to write (built as OUTPUT.partial)
  bool overwrite = false;  ///< replace an existing `output`
  /// Class names (config.json's id2label); their number is the number of classes.
  std::vector<std::string> labels = {"singular", "plural"};
  /// Architecture, optimiser, seed, threads, save dtype and progress callback. vocab_size,
  /// num_labels and label_names are set by the job (from the vocabulary and `labels`).
  torch::TrainOptions training;
  /// Called once the corpora are read and tokenized, before training starts, with the report
  /// so far (output and the example counts set).
  std::function<void(const TrainClassifierReport&)> on_start;
};

struct TrainClassifierReport {
  std::string output;         ///< the finished model directory
  torch::TrainResult result;  ///< loss, steps, parameters, seconds of the training
  std::int64_t train_examples = 0;
  std::int64_t valid_examples = 0;
  std::int64_t test_examples = 0;  ///< 0 without a test corpus
  double valid_accuracy = 0.0;     ///< of the saved model read back (weights in save_dtype)
  double test_accuracy = -1.0;     ///< same on the test corpus; -1 without one
  std::string created;             ///< UTC time written to training.json (ISO 8601)
  double cpu_seconds = 0.0;        ///< process CPU time of the training (all threads)
};

/// Runs the job. Throws Error, and leaves no output folder, for: a vocab file with a backbone,
/// a backbone that is not a BERT / RoBERTa directory, a missing vocab file
/// ("--vocab PATH: no such file ..."), an existing output without overwrite, an unreadable
/// corpus or a line without a label ("PATH:LINE: no label ..."), an example longer than
/// training.max_positions, and the errors of torch::train_encoder_classifier.
TrainClassifierReport train_classifier(const TrainClassifierOptions& options);

}  // namespace attnflow::pipeline
