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
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow {

enum class Method {
  Raw,          ///< head-fused attention rows per layer (no residual)
  Residual,     ///< rows of the prepared A_hat per layer
  Rollout,      ///< attention rollout
  Flow,         ///< attention flow
  GradRollout,  ///< gradient-weighted rollout (needs a gradient stack)
};

/// The names of the methods (CLI, stores, CSV): raw, residual, rollout, flow, grad-rollout.
inline constexpr EnumName<Method> kMethodNames[] = {
    {Method::Raw, "raw"},   {Method::Residual, "residual"},        {Method::Rollout, "rollout"},
    {Method::Flow, "flow"}, {Method::GradRollout, "grad-rollout"},
};
/// Throws Error("method: unknown 'NAME' (expected raw, residual, ...)").
Method parse_method(const std::string& name);
const char* to_string(Method method);

struct AnalysisOptions {
  std::vector<Method> methods = {Method::Raw, Method::Rollout, Method::Flow};
  /// Token rows to explain (0 = CLS for BERT-style models); empty = all rows.
  /// A negative row r means token n + r (-1 = last token): resolve_target_rows.
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
  std::map<Method, LayerMaps> maps;  ///< rows as resolved (negative rows counted from the end)
};

/// One method's per-layer maps under a name (to_string(Method) for an analysis).
struct NamedMaps {
  std::string name;
  LayerMaps maps;
};

/// The maps of an analysis in method order (raw, residual, rollout, flow,
/// grad-rollout), named by to_string(Method).
std::vector<NamedMaps> named_maps(const AnalysisResult& result);

/// A target row as users give it: 0..n-1, or negative counting from the end
/// (-1 = token n-1). Throws Error("<what>: token <row> out of range (sequence
/// has <n> tokens, valid 0..<n-1> or -<n>..-1)") otherwise.
int resolve_target_row(int row, int tokens, const std::string& what);
/// resolve_target_row for each row; empty `rows` means all 0..n-1.
std::vector<int> resolve_target_rows(const std::vector<int>& rows, int tokens,
                                     const std::string& what);

/// Runs every requested method on one example. `gradient` may be null unless
/// GradRollout is requested. Throws Error on any invalid input or option.
AnalysisResult analyze(const AttentionStack& attention, const AttentionStack* gradient,
                       const AnalysisOptions& options = {});

}  // namespace attnflow
