// The score providers of `attnflow evaluate`, one entry per method.
#include "attnflow/pipeline/evaluate_methods.hpp"

#include <algorithm>
#include <optional>
#include <random>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/contribution.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/flow.hpp"
#include "attnflow/core/rollout.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/pipeline/baselines.hpp"

namespace attnflow::pipeline {
namespace {

std::vector<double> row_of(const Matrix& map, Eigen::Index row) {
  std::vector<double> out(static_cast<std::size_t>(map.cols()));
  for (Eigen::Index c = 0; c < map.cols(); ++c) out[static_cast<std::size_t>(c)] = map(row, c);
  return out;
}

// A core method on the shared run (attention, dy/dA or a value-aware method's per-layer
// contributions, as contribution_of(method) says): the target row at the last layer.
ScoreProvider attention_method(Method method) {
  return [method](const ExampleContext& c) {
    const torch::ModelInfo& info = c.model.info();
    const auto n = static_cast<int>(c.output.n);
    const AttentionStack attention(c.output.attention, info.layers, info.heads, n);
    AnalysisOptions ao;
    ao.methods = {method};
    ao.target_rows = {c.target_row};
    ao.layers = {info.layers};
    ao.flow.threads = c.threads;
    AttentionStack gradient;
    if (method == Method::GradRollout) {
      gradient = AttentionStack(c.output.attention_gradient, info.layers, info.heads, n);
    }
    ContributionStacks contributions;
    if (const std::optional<Contribution> k = contribution_of(method)) {
      contributions[*k] = torch::contribution_stack(c.output, *k);
    }
    const AnalysisResult r =
        analyze(attention, method == Method::GradRollout ? &gradient : nullptr, &contributions, ao);
    return row_of(r.maps.at(method).maps.back(), 0);
  };
}

// A value-aware method reads its per-layer matrices (and the attention) from the shared run.
std::function<void(torch::RunOptions&)> needs_contribution(Contribution k) {
  return [k](torch::RunOptions& o) {
    o.attention = true;
    if (std::find(o.contributions.begin(), o.contributions.end(), k) == o.contributions.end()) {
      o.contributions.push_back(k);
    }
  };
}

void needs_attention(torch::RunOptions& o) {
  o.attention = true;
}
void needs_attention_gradients(torch::RunOptions& o) {
  o.attention = true;
  o.attention_gradients = true;
}
void needs_input_gradients(torch::RunOptions& o) {
  o.input_gradients = true;
}
void needs_nothing(torch::RunOptions&) {}

std::vector<double> blank_out(const ExampleContext& c) {
  std::vector<int> skip;
  for (std::size_t i = 0; i < c.special.size(); ++i) {
    if (c.special[i]) skip.push_back(static_cast<int>(i));
  }
  return torch::blank_out_scores(c.model, c.input, c.target_class, c.replacement_id, skip,
                                 c.batch_size);
}

std::vector<double> input_x_gradient(const ExampleContext& c) {
  std::vector<double> gradient, gradient_x_input;
  input_gradient_scores(c.output, gradient, gradient_x_input);
  return gradient_x_input;
}

// SplitMix64 (Steele et al. 2014): decorrelates the seeds of consecutive examples.
std::uint64_t mix(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// Uniform [0, 1) scores from mt19937_64 seeded by (seed, example index): the same on every
// platform (53 random bits, no standard-library distribution) and in any example order.
std::vector<double> random_scores(const ExampleContext& c) {
  std::mt19937_64 rng(mix(c.seed ^ mix(static_cast<std::uint64_t>(c.index))));
  std::vector<double> out(c.input.ids.size());
  for (double& v : out) v = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return out;
}

}  // namespace

const std::vector<EvaluationMethod>& evaluation_methods() {
  static const std::vector<EvaluationMethod> methods = {
      {"raw", "head-mean attention of the target row, last layer", needs_attention,
       attention_method(Method::Raw)},
      {"rollout", "attention rollout (residual 0.5), target row, last layer", needs_attention,
       attention_method(Method::Rollout)},
      {"flow", "attention flow (max-flow, residual 0.5), target row, last layer", needs_attention,
       attention_method(Method::Flow)},
      {"grad-rollout", "gradient-weighted rollout (Chefer et al. 2021) of the class logit",
       needs_attention_gradients, attention_method(Method::GradRollout)},
      {"blank-out", "|p(x) - p(x with the token replaced)| (Abnar & Zuidema 2020)", needs_nothing,
       blank_out},
      {"input-x-gradient", "|sum_d dy/de * e| with y the class logit", needs_input_gradients,
       input_x_gradient},
      {"norm", "attention norms (Kobayashi et al. 2020), target row, last layer",
       needs_contribution(Contribution::Norm), attention_method(Method::Norm)},
      {"norm-rollout", "rollout of the residual-augmented attention norms",
       needs_contribution(Contribution::Norm), attention_method(Method::NormRollout)},
      {"norm-flow", "flow of the residual-augmented attention norms",
       needs_contribution(Contribution::Norm), attention_method(Method::NormFlow)},
      {"globenc", "GlobEnc (Modarressi et al. 2022): rollout of its per-layer norms",
       needs_contribution(Contribution::GlobEnc), attention_method(Method::GlobEnc)},
      {"globenc-flow", "flow over GlobEnc's per-layer norms",
       needs_contribution(Contribution::GlobEnc), attention_method(Method::GlobEncFlow)},
      {"alti", "ALTI (Ferrando et al. 2022), target row, last layer",
       needs_contribution(Contribution::Alti), attention_method(Method::Alti)},
      {"alti-rollout", "ALTI-rollout", needs_contribution(Contribution::Alti),
       attention_method(Method::AltiRollout)},
      {"alti-flow", "flow over ALTI's per-layer contributions",
       needs_contribution(Contribution::Alti), attention_method(Method::AltiFlow)},
      {"value-zeroing", "value zeroing (Mohebbi et al. 2023), target row, last layer",
       needs_contribution(Contribution::ValueZeroing), attention_method(Method::ValueZeroing)},
      {"value-zeroing-rollout", "rollout of value zeroing",
       needs_contribution(Contribution::ValueZeroing),
       attention_method(Method::ValueZeroingRollout)},
      {"value-zeroing-flow", "flow over value zeroing",
       needs_contribution(Contribution::ValueZeroing), attention_method(Method::ValueZeroingFlow)},
      {"random", "uniform random scores (seeded per example)", needs_nothing, random_scores},
  };
  return methods;
}

std::vector<const EvaluationMethod*> select_methods(const std::vector<std::string>& names) {
  const std::vector<EvaluationMethod>& all = evaluation_methods();
  std::vector<const EvaluationMethod*> out;
  if (names.empty()) {
    for (const EvaluationMethod& m : all) out.push_back(&m);
    return out;
  }
  for (const std::string& name : names) {
    const auto it = std::find_if(all.begin(), all.end(),
                                 [&](const EvaluationMethod& m) { return m.name == name; });
    if (it == all.end()) {
      std::string choices;
      for (std::size_t i = 0; i < all.size(); ++i) {
        choices += (i == 0 ? "" : i + 1 == all.size() ? " or " : ", ") + all[i].name;
      }
      throw Error("--methods: unknown method '" + name + "' (expected " + choices + ")");
    }
    if (std::find(out.begin(), out.end(), &*it) != out.end()) {
      throw Error("--methods: '" + name + "' is given twice");
    }
    out.push_back(&*it);
  }
  return out;
}

std::vector<double> layer_scores(const LayerMatrices& layers, LayerAggregation aggregation,
                                 int target_row, int threads) {
  validate(layers, "layer scores");
  const auto n = static_cast<int>(layers.front().rows());
  check_token_index(target_row, n, "layer scores: target row");
  switch (aggregation) {
    case LayerAggregation::Last: return row_of(layers.back(), target_row);
    case LayerAggregation::Rollout: {
      RolloutOptions o;
      o.all_prefixes = false;
      o.target_rows = {target_row};
      return row_of(rollout(layers, o).maps.back(), 0);
    }
    case LayerAggregation::Flow: {
      FlowOptions o;
      o.layers = {static_cast<int>(layers.size())};
      o.target_rows = {target_row};
      o.threads = threads;
      return row_of(attention_flow(layers, o).maps.back(), 0);
    }
  }
  throw Error("layer scores: unknown aggregation");
}

}  // namespace attnflow::pipeline
