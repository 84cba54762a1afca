// One call that runs the chosen methods on one example: the library entry
// point behind `attnflow analyze` (apps only parse options and print).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "attnflow/core/flow.hpp"
#include "attnflow/core/grad_rollout.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/core/stack.hpp"

namespace attnflow {

enum class Method {
  Raw,          ///< head-fused attention rows per layer (no residual)
  Residual,     ///< rows of the prepared A_hat per layer
  Rollout,      ///< attention rollout
  Flow,         ///< attention flow
  GradRollout,  ///< gradient-weighted rollout (needs a gradient stack)
};

Method parse_method(const std::string& name);  ///< raw, residual, rollout, flow, grad-rollout
const char* to_string(Method method);

struct AnalysisOptions {
  std::vector<Method> methods = {Method::Raw, Method::Rollout, Method::Flow};
  /// Token rows to explain (0 = CLS for BERT-style models); empty = all rows.
  std::vector<int> target_rows = {0};
  /// Layers (1-based) reported for raw, residual and flow; empty = all.
  /// Rollout and gradient rollout report every prefix from start_layer.
  std::vector<int> layers;
  int start_layer = 1;
  PrepareOptions prepare;   ///< fusion, discard, residual (rollout, flow)
  FlowOptions flow;         ///< algorithm, normalisation, threads (layers/rows set from above)
  GradRolloutOptions grad;  ///< rule, sign (rollout settings set from above)
};

struct AnalysisResult {
  std::map<Method, LayerMaps> maps;
};

/// Runs every requested method on one example. `gradient` may be null unless
/// GradRollout is requested. Throws Error on any invalid input or option.
AnalysisResult analyze(const AttentionStack& attention, const AttentionStack* gradient,
                       const AnalysisOptions& options = {});

}  // namespace attnflow
