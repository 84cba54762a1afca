// The methods `attnflow evaluate` ranks, by name: each is a provider of one score per token of
// an example for the class being explained. Attention methods read the target row (CLS) of the
// last layer from one model run shared by every method of the example; blank-out and the random
// baseline compute their own. A new method is one entry in evaluation_methods()
// (lib/pipeline/evaluate_methods.cpp): a name, what it needs from the shared run, the provider.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/core/types.hpp"
#include "attnflow/torch/model.hpp"

namespace attnflow::pipeline {

/// Everything a provider may use for one example.
struct ExampleContext {
  torch::Model& model;
  const torch::Input& input;                 ///< the tokenized example, special tokens included
  const std::vector<std::uint8_t>& special;  ///< 1 for [CLS], [SEP], ...: never scored or removed
  const torch::Output& output;               ///< the shared run (see EvaluationMethod::configure)
  std::int64_t target_class = 0;             ///< the class explained (predicted, or the label)
  std::int64_t replacement_id = 0;           ///< blank-out's replacement ([UNK] or [MASK])
  int target_row = 0;                        ///< attention methods: the row read (0 = [CLS])
  std::uint64_t seed = 0;                    ///< random baseline: mixed with `index`
  std::int64_t index = 0;                    ///< the example's index in the corpus
  int threads = 0;                           ///< flow threads (0 = all cores)
  int batch_size = 64;                       ///< model runs of a method's own (blank-out)
};

/// One score per token of the example (any scale; higher = more important).
using ScoreProvider = std::function<std::vector<double>(const ExampleContext&)>;

struct EvaluationMethod {
  std::string name;         ///< as typed after --methods
  std::string description;  ///< one line for --help and the docs
  /// Adds what the provider reads from the shared run (attention, gradients, ...) to its
  /// options; the run always has logits and the target class's logit as target.
  std::function<void(torch::RunOptions&)> configure;
  ScoreProvider scores;
};

/// Every method, in table order: raw, rollout, flow, grad-rollout, blank-out,
/// input-x-gradient, random.
const std::vector<EvaluationMethod>& evaluation_methods();

/// The methods named (all of them for an empty list), in the order given. Throws
/// Error("--methods: unknown method 'X' (expected raw, rollout, ...)") or for a repeated name.
std::vector<const EvaluationMethod*> select_methods(const std::vector<std::string>& names);

/// How per-layer token-to-token matrices become one score per token.
enum class LayerAggregation {
  Last,     ///< the target row of the last layer's matrix
  Rollout,  ///< the target row of their rollout (later layers on the left, no residual added)
  Flow,     ///< the target row of the max-flow from the last layer to the inputs
};

/// Scores of any method that gives one n x n matrix per layer (row = output token, column =
/// input token, rows summing to 1), e.g. value-aware contributions: the target row after
/// `aggregation`. Throws Error for no layers, non-square matrices, or a row out of range.
std::vector<double> layer_scores(const LayerMatrices& layers, LayerAggregation aggregation,
                                 int target_row, int threads = 0);

}  // namespace attnflow::pipeline
