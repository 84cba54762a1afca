// The character-level GPT of seed 004, trained from scratch with libtorch (torch::nn modules):
// token + learned position embeddings, post-LayerNorm blocks
//     x = ln1(x + sa(x));  x = ln2(x + ffwd(x))
// where sa concatenates heads that each have their own bias-free key / query / value
// projections, followed by a projection (with bias), and ffwd is Linear(d, 4d), ReLU,
// Linear(4d, d); then a linear head (with bias) to the vocabulary. Attention is causal.
// Saved as config.json (architecture "AttnflowCharGPT") + model.safetensors, which Model::load
// reads like any other causal LM (docs/extract.md).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/torch/train.hpp"

namespace attnflow::torch {

class Model;

/// config.json's architecture of the model.
inline constexpr const char* kCharGptArchitecture = "AttnflowCharGPT";

/// The seed's configuration (its defaults) and the run's settings.
struct CharGptOptions {
  std::int64_t n_ctx = 32;  ///< block size: the longest context
  std::int64_t n_embd = 64;
  int n_head = 4;
  int n_layer = 4;
  double dropout = 0.0;  ///< on the attention weights, after the projection and the feed-forward
  double learning_rate = 1e-3;  ///< AdamW (libtorch's defaults otherwise: weight decay 0.01)
  int batch_size = 16;
  int max_iters = 5000;         ///< optimiser steps
  int eval_interval = 100;      ///< steps between two evaluations
  int eval_iters = 200;         ///< batches averaged per split in one evaluation
  double train_fraction = 0.9;  ///< the first 90% of the text trains, the rest validates
  std::uint64_t seed = 1337;
  SaveDtype save_dtype = SaveDtype::Float32;
  std::string device = "cpu";
  int threads = 0;  ///< CPU threads (0 = libtorch's default)
};

/// One evaluation: the losses averaged over eval_iters random batches of each split.
struct CharGptEvaluation {
  int step = 0;  ///< optimiser steps done (0 = before training)
  double train_loss = 0.0;
  double val_loss = 0.0;
};

struct CharGptResult {
  std::vector<CharGptEvaluation> curve;  ///< at step 0, every eval_interval steps and the end
  /// Mean loss over every position of the validation split cut into consecutive windows of
  /// n_ctx (deterministic: the measure a reloaded model reproduces, causal_lm_loss).
  double val_loss_windows = 0.0;
  std::int64_t parameters = 0;
  double seconds = 0.0;
};

/// Trains on the token ids `text` (ids 0..vocab_size-1; the first train_fraction trains, the
/// rest validates) and writes `dir`/config.json and `dir`/model.safetensors (the directory
/// must exist). `progress` is called after every evaluation. Deterministic for a seed on one
/// machine and thread count. Throws Error for bad options (naming the option) or a split
/// shorter than n_ctx + 1 tokens.
CharGptResult train_char_gpt(const std::vector<std::int64_t>& text, std::int64_t vocab_size,
                             const CharGptOptions& options, const std::string& dir,
                             const std::function<void(const CharGptEvaluation&)>& progress = {});

/// What the training module (torch::nn) computes for one sequence.
struct CharGptForward {
  std::vector<float> logits;     ///< [n, V]
  std::vector<float> attention;  ///< [L, H, n, n]
};

/// Builds the training module from `dir` (config.json + model.safetensors), copies the saved
/// weights into it and runs its forward (eval mode) on `ids`: the cross-check of Model::load's
/// inference implementation.
CharGptForward char_gpt_training_forward(const std::string& dir,
                                         const std::vector<std::int64_t>& ids);

/// Mean next-token cross-entropy of a causal LM over `ids` cut into consecutive windows of
/// `window` tokens (each predicting its successors; a shorter last window is dropped). Throws
/// Error for a model that is not a causal LM or fewer than window + 1 ids.
double causal_lm_loss(Model& model, const std::vector<std::int64_t>& ids, std::int64_t window,
                      int batch_size = 64);

struct SampleOptions {
  int count = 200;  ///< new tokens
  std::uint64_t seed = 1337;
  double temperature = 1.0;  ///< logits / temperature before the softmax (> 0)
};

/// Samples `count` tokens after `prompt` from a causal LM: each one drawn from the softmax of
/// the last position's logits, the context cropped to the model's last max_positions tokens.
/// The same seed gives the same tokens (our own generator, not libtorch's). Returns only the
/// new tokens. Throws Error for an empty prompt, a model that is not a causal LM or a
/// temperature <= 0.
std::vector<std::int64_t> sample_causal_lm(Model& model, const std::vector<std::int64_t>& prompt,
                                           const SampleOptions& options);

}  // namespace attnflow::torch
