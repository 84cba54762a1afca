// Runs the chosen methods on one example with shared preparation.
#include "attnflow/core/analysis.hpp"

#include <algorithm>

#include "attnflow/core/error.hpp"
#include "attnflow/core/readout.hpp"
#include "attnflow/core/rollout.hpp"

namespace attnflow {

Method parse_method(const std::string& name) {
  return parse_enum(kMethodNames, name, "method");
}

const char* to_string(Method method) {
  return enum_name(kMethodNames, method);
}

namespace {

/// How a value-aware method turns its per-layer matrices into maps.
enum class Aggregation { Layer, Rollout, Flow };

struct ContributionMethod {
  Method method;
  Contribution source;
  Aggregation aggregation;
};

constexpr ContributionMethod kContributionMethods[] = {
    {Method::Norm, Contribution::Norm, Aggregation::Layer},
    {Method::NormRollout, Contribution::Norm, Aggregation::Rollout},
    {Method::NormFlow, Contribution::Norm, Aggregation::Flow},
    {Method::GlobEnc, Contribution::GlobEnc, Aggregation::Rollout},
    {Method::GlobEncFlow, Contribution::GlobEnc, Aggregation::Flow},
    {Method::Alti, Contribution::Alti, Aggregation::Layer},
    {Method::AltiRollout, Contribution::Alti, Aggregation::Rollout},
    {Method::AltiFlow, Contribution::Alti, Aggregation::Flow},
    {Method::ValueZeroing, Contribution::ValueZeroing, Aggregation::Layer},
    {Method::ValueZeroingRollout, Contribution::ValueZeroing, Aggregation::Rollout},
    {Method::ValueZeroingFlow, Contribution::ValueZeroing, Aggregation::Flow},
};

const ContributionMethod* find_contribution_method(Method method) {
  for (const ContributionMethod& c : kContributionMethods) {
    if (c.method == method) return &c;
  }
  return nullptr;
}

/// The per-layer matrices of `source` for this example, checked against the attention (when
/// there is one) and against each other.
const AttentionStack& contribution_stack(const ContributionStacks* contributions, Method method,
                                         Contribution source, const AttentionStack& attention) {
  const auto found =
      contributions == nullptr ? ContributionStacks::const_iterator{} : contributions->find(source);
  if (contributions == nullptr || found == contributions->end()) {
    throw Error(std::string(to_string(method)) + ": needs the " + to_string(source) +
                " contribution matrices (attnflow extract --contributions " + to_string(source) +
                "), none were given");
  }
  const AttentionStack& s = found->second;
  const std::string what = std::string(to_string(source)) + " contributions";
  validate(s, AttentionCheck::weights(what));
  if (s.heads() != 1) {
    throw Error(what + ": " + std::to_string(s.heads()) +
                " matrices per layer, expected 1 (layers x 1 x tokens x tokens)");
  }
  if (!attention.empty() &&
      (s.layers() != attention.layers() || s.tokens() != attention.tokens())) {
    throw Error(what + ": " + std::to_string(s.layers()) + " layers x " +
                std::to_string(s.tokens()) + " tokens, but the attention has " +
                std::to_string(attention.layers()) + " x " + std::to_string(attention.tokens()));
  }
  return s;
}

/// The matrices rollout and flow run on: rows normalised; norm (which has no residual of its
/// own) also residual-augmented and discarded as attention is (options.prepare).
LayerMatrices prepared_contributions(const LayerMatrices& per_layer, Contribution source,
                                     const PrepareOptions& prepare) {
  LayerMatrices out = per_layer;
  for (Matrix& m : out) normalize_rows(m);
  if (source == Contribution::Norm) out = prepare_fused(std::move(out), prepare);
  return out;
}

}  // namespace

std::optional<Contribution> contribution_of(Method method) {
  if (const ContributionMethod* c = find_contribution_method(method)) return c->source;
  return std::nullopt;
}

std::vector<Contribution> contributions_of(const std::vector<Method>& methods) {
  std::vector<Contribution> out;
  for (const EnumName<Contribution>& c : kContributionNames) {
    for (Method m : methods) {
      if (contribution_of(m) == c.value) {
        out.push_back(c.value);
        break;
      }
    }
  }
  return out;
}

std::vector<NamedMaps> named_maps(const AnalysisResult& result) {
  std::vector<NamedMaps> out;
  for (const auto& [method, maps] : result.maps) out.push_back({to_string(method), maps});
  return out;
}

int resolve_target_row(int row, int tokens, const std::string& what) {
  if (row >= tokens || row < -tokens) {
    const std::string n = std::to_string(tokens);
    throw Error(what + ": token " + std::to_string(row) + " out of range (sequence has " + n +
                " tokens, valid 0.." + std::to_string(tokens - 1) + " or -" + n + "..-1)");
  }
  return row < 0 ? tokens + row : row;
}

std::vector<int> resolve_target_rows(const std::vector<int>& rows, int tokens,
                                     const std::string& what) {
  if (rows.empty()) return resolve_rows(rows, tokens, what);
  std::vector<int> out;
  out.reserve(rows.size());
  for (int r : rows) out.push_back(resolve_target_row(r, tokens, what));
  return out;
}

AnalysisResult analyze(const AttentionStack& attention, const AttentionStack* gradient,
                       const AnalysisOptions& options) {
  return analyze(attention, gradient, nullptr, options);
}

namespace {

/// analyze() on `attention` (fused here), or with `given` fused matrices (attention empty);
/// grad-rollout from `gradient` with `attention`, or from `gradient_means` (non-null with
/// `given` only).
AnalysisResult analyze_example(const AttentionStack& attention, LayerMatrices* given,
                               LayerMatrices* gradient_means, const AttentionStack* gradient,
                               const ContributionStacks* contributions,
                               const AnalysisOptions& options) {
  if (options.methods.empty()) throw Error("analysis: no method chosen");
  const bool attention_methods = std::any_of(options.methods.begin(), options.methods.end(),
                                             [](Method m) { return !find_contribution_method(m); });
  LayerMatrices fused, prepared;
  // The shape every method reports on: the attention's, or the first contributions asked for.
  int tokens = 0, num_layers = 0;
  const AttentionStack* shape = &attention;  // contributions are checked against it
  if (given != nullptr) {
    validate(*given, "fused attention");
    fused = std::move(*given);
    tokens = static_cast<int>(fused.front().rows());
    num_layers = static_cast<int>(fused.size());
  } else if (attention_methods || !attention.empty()) {
    validate(attention, AttentionCheck::weights("attention"));
    tokens = attention.tokens();
    num_layers = attention.layers();
    if (attention_methods) fused = fuse_heads(attention, options.prepare.fusion);
  } else {
    const ContributionMethod* first = find_contribution_method(options.methods.front());
    shape = &contribution_stack(contributions, first->method, first->source, attention);
    tokens = shape->tokens();
    num_layers = shape->layers();
  }
  if (attention_methods) prepared = prepare_fused(fused, options.prepare);
  const std::vector<int> rows = resolve_target_rows(options.target_rows, tokens, "target rows");
  const std::vector<int> layers = resolve_layers(options.layers, num_layers, "layers");
  RolloutOptions rollout_options;
  rollout_options.start_layer = options.start_layer;
  rollout_options.all_prefixes = true;
  rollout_options.target_rows = rows;

  AnalysisResult result;
  std::map<Contribution, std::pair<LayerMatrices, LayerMatrices>> cache;  // per layer, prepared
  for (Method method : options.methods) {
    if (const ContributionMethod* c = find_contribution_method(method)) {
      auto it = cache.find(c->source);
      if (it == cache.end()) {
        const AttentionStack& s = contribution_stack(contributions, method, c->source, *shape);
        LayerMatrices per_layer = fuse_heads(s);
        LayerMatrices ready = prepared_contributions(per_layer, c->source, options.prepare);
        it = cache.emplace(c->source, std::make_pair(std::move(per_layer), std::move(ready))).first;
      }
      switch (c->aggregation) {
        case Aggregation::Layer:
          result.maps[method] = raw_readout(it->second.first, ReadoutOptions{layers, rows});
          break;
        case Aggregation::Rollout:
          result.maps[method] = rollout(it->second.second, rollout_options);
          break;
        case Aggregation::Flow: {
          FlowOptions o = options.flow;
          o.layers = layers;
          o.target_rows = rows;
          result.maps[method] = attention_flow(it->second.second, o);
          break;
        }
      }
      continue;
    }
    switch (method) {
      case Method::Raw: {
        ReadoutOptions o{layers, rows};
        result.maps[method] = raw_readout(fused, o);
        break;
      }
      case Method::Residual:
        result.maps[method] = raw_readout(prepared, ReadoutOptions{layers, rows});
        break;
      case Method::Rollout: result.maps[method] = rollout(prepared, rollout_options); break;
      case Method::Flow: {
        FlowOptions o = options.flow;
        o.layers = layers;
        o.target_rows = rows;
        result.maps[method] = attention_flow(prepared, o);
        break;
      }
      case Method::GradRollout: {
        GradRolloutOptions o = options.grad;
        o.rollout = rollout_options;
        if (gradient_means != nullptr) {
          result.maps[method] = grad_rollout(std::move(*gradient_means), o);
          break;
        }
        if (gradient == nullptr) {
          throw Error("grad-rollout: needs a gradient stack (dy/dA), none was given");
        }
        result.maps[method] = grad_rollout(attention, *gradient, o);
        break;
      }
      default: break;  // the value-aware methods, above
    }
  }
  return result;
}

}  // namespace

AnalysisResult analyze(const AttentionStack& attention, const AttentionStack* gradient,
                       const ContributionStacks* contributions, const AnalysisOptions& options) {
  return analyze_example(attention, nullptr, nullptr, gradient, contributions, options);
}

AnalysisResult analyze_fused(LayerMatrices fused, const AnalysisOptions& options) {
  return analyze_fused(std::move(fused), LayerMatrices{}, options);
}

AnalysisResult analyze_fused(LayerMatrices fused, LayerMatrices gradient_means,
                             const AnalysisOptions& options) {
  const bool means = !gradient_means.empty();
  for (Method m : options.methods) {
    if ((m == Method::GradRollout && !means) || contribution_of(m)) {
      throw Error(std::string(to_string(m)) + ": needs " +
                  (m == Method::GradRollout ? "per-head attention and gradients"
                                            : "its contribution matrices") +
                  ", not head-fused attention (methods on fused maps: raw, residual, rollout, "
                  "flow; grad-rollout with gradient-weighted head means)");
    }
  }
  if (fused.empty()) throw Error("fused attention: no layers");
  if (means && (gradient_means.size() != fused.size() ||
                gradient_means.front().rows() != fused.front().rows())) {
    throw Error("gradient-weighted head means: " + std::to_string(gradient_means.size()) +
                " layers x " + std::to_string(gradient_means.front().rows()) +
                " tokens, but the fused attention has " + std::to_string(fused.size()) + " x " +
                std::to_string(fused.front().rows()));
  }
  return analyze_example(AttentionStack(), &fused, means ? &gradient_means : nullptr, nullptr,
                         nullptr, options);
}

}  // namespace attnflow
