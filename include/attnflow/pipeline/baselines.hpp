// Token-importance baselines that attention-based relevance is compared with (Abnar & Zuidema
// 2020, Tables 1-2): blank-out (change of p_correct when a token becomes [UNK]) and input
// gradients (|sum_d dy/de| and |sum_d dy/de * e| with y = p(class 0) - p(class 1)).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnflow/torch/model.hpp"

namespace attnflow::pipeline {

/// One value per token of the example (positions in `skip` score 0 for blank-out).
struct BaselineScores {
  std::vector<double> blank_out;         ///< |p_label(x) - p_label(x with token k = [UNK])|
  std::vector<double> input_gradient;    ///< |sum_d dy/de_kd|
  std::vector<double> input_x_gradient;  ///< |sum_d dy/de_kd * e_kd|
};

/// The baseline names in table order: "blank-out", "input-gradient", "input-x-gradient".
const std::vector<std::string>& baseline_names();

/// The scores of baseline `name` (one of baseline_names()). Throws Error for another name.
const std::vector<double>& baseline(const BaselineScores& scores, const std::string& name);

struct BaselineOptions {
  std::vector<int> skip;     ///< positions not blanked out (e.g. [CLS] and [SEP])
  int blank_out_batch = 64;  ///< variants of the example run per batch
};

/// Both baselines for one labelled example of a classifier: a blank-out run per token with
/// `unk` as the replacement, and one gradient run with the probability-difference target.
/// Throws Error for an input without a label, or the errors of torch::blank_out_scores.
BaselineScores baseline_scores(torch::Model& model, const torch::Input& input, std::int64_t unk,
                               const BaselineOptions& options = {});

/// |sum_d g| and |sum_d g * e| per token from an Output run with input_gradients.
void input_gradient_scores(const torch::Output& output, std::vector<double>& gradient,
                           std::vector<double>& gradient_x_input);

}  // namespace attnflow::pipeline
