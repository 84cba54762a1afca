// Runs the chosen methods on one example with shared preparation.
#include "attnflow/core/analysis.hpp"

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
  if (options.methods.empty()) throw Error("analysis: no method chosen");
  validate(attention, AttentionCheck::weights("attention"));
  const LayerMatrices fused = fuse_heads(attention, options.prepare.fusion);
  const LayerMatrices prepared = prepare_fused(fused, options.prepare);
  const std::vector<int> rows =
      resolve_target_rows(options.target_rows, attention.tokens(), "target rows");
  const std::vector<int> layers = resolve_layers(options.layers, attention.layers(), "layers");
  RolloutOptions rollout_options;
  rollout_options.start_layer = options.start_layer;
  rollout_options.all_prefixes = true;
  rollout_options.target_rows = rows;

  AnalysisResult result;
  for (Method method : options.methods) {
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
        if (gradient == nullptr) {
          throw Error("grad-rollout: needs a gradient stack (dy/dA), none was given");
        }
        GradRolloutOptions o = options.grad;
        o.rollout = rollout_options;
        result.maps[method] = grad_rollout(attention, *gradient, o);
        break;
      }
    }
  }
  return result;
}

}  // namespace attnflow
