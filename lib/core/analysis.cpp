// Runs the chosen methods on one example with shared preparation.
#include "attnflow/core/analysis.hpp"

#include "attnflow/core/error.hpp"
#include "attnflow/core/readout.hpp"
#include "attnflow/core/rollout.hpp"

namespace attnflow {

Method parse_method(const std::string& name) {
  if (name == "raw") return Method::Raw;
  if (name == "residual") return Method::Residual;
  if (name == "rollout") return Method::Rollout;
  if (name == "flow") return Method::Flow;
  if (name == "grad-rollout") return Method::GradRollout;
  throw Error("method: unknown '" + name +
              "' (expected raw, residual, rollout, flow or grad-rollout)");
}

const char* to_string(Method method) {
  switch (method) {
    case Method::Raw: return "raw";
    case Method::Residual: return "residual";
    case Method::Rollout: return "rollout";
    case Method::Flow: return "flow";
    case Method::GradRollout: return "grad-rollout";
  }
  return "?";
}

AnalysisResult analyze(const AttentionStack& attention, const AttentionStack* gradient,
                       const AnalysisOptions& options) {
  if (options.methods.empty()) throw Error("analysis: no method chosen");
  validate(attention, AttentionCheck{"attention", true, 0.0});
  const LayerMatrices fused = fuse_heads(attention, options.prepare.fusion);
  const LayerMatrices prepared = prepare_fused(fused, options.prepare);
  const std::vector<int> rows =
      resolve_rows(options.target_rows, attention.tokens(), "target rows");
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
