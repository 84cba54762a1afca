// Blank-out and input-gradient baselines per token of a classifier's example.
#include "attnflow/pipeline/baselines.hpp"

#include <cmath>
#include <optional>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow::pipeline {
namespace {

// Each baseline's name and its scores in BaselineScores.
using Scores = std::vector<double> BaselineScores::*;
constexpr EnumName<Scores> kBaselineNames[] = {
    {&BaselineScores::blank_out, "blank-out"},
    {&BaselineScores::input_gradient, "input-gradient"},
    {&BaselineScores::input_x_gradient, "input-x-gradient"},
};

}  // namespace

const std::vector<std::string>& baseline_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const EnumName<Scores>& n : kBaselineNames) out.emplace_back(n.name);
    return out;
  }();
  return names;
}

const std::vector<double>& baseline(const BaselineScores& scores, const std::string& name) {
  if (const std::optional<Scores> member = find_enum(kBaselineNames, name)) {
    return scores.*(*member);
  }
  throw Error("baseline '" + name + "': expected " + enum_choices(kBaselineNames));
}

void input_gradient_scores(const torch::Output& output, std::vector<double>& gradient,
                           std::vector<double>& gradient_x_input) {
  const auto n = static_cast<std::size_t>(output.n);
  if (n == 0 || output.input_gradient.size() % n != 0 ||
      output.input_embedding.size() != output.input_gradient.size()) {
    throw Error("input gradients: the output has no [n, d] input gradient and embedding");
  }
  const std::size_t d = output.input_gradient.size() / n;
  gradient.assign(n, 0.0);
  gradient_x_input.assign(n, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    double s = 0, t = 0;
    for (std::size_t j = 0; j < d; ++j) {
      s += output.input_gradient[k * d + j];
      t +=
          static_cast<double>(output.input_gradient[k * d + j]) * output.input_embedding[k * d + j];
    }
    gradient[k] = std::fabs(s);
    gradient_x_input[k] = std::fabs(t);
  }
}

BaselineScores baseline_scores(torch::Model& model, const torch::Input& input, std::int64_t unk,
                               const BaselineOptions& options) {
  if (!input.label) throw Error("baselines: the example has no label");
  torch::RunOptions gi;
  gi.attention = false;
  gi.attention_gradients = false;
  gi.input_gradients = true;
  gi.target.kind = torch::TargetKind::ProbabilityDifference;
  const torch::Output g = model.run({input}, gi).front();
  BaselineScores out;
  out.blank_out = torch::blank_out_scores(model, input, *input.label, unk, options.skip,
                                          options.blank_out_batch);
  input_gradient_scores(g, out.input_gradient, out.input_x_gradient);
  return out;
}

}  // namespace attnflow::pipeline
