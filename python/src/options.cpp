// Keyword arguments -> core Options (options.hpp).
#include "options.hpp"

#include <thread>

#include "arrays.hpp"
#include "attnflow/core/analysis.hpp"
#include "attnflow/core/fusion.hpp"

namespace attnflow::python {

PrepareOptions PrepareArgs::options() const {
  PrepareOptions o;
  o.fusion.method = parse_head_fusion(fusion);
  if (!head_weights.is_none()) o.fusion.head_weights = to_vector(head_weights, "head weights");
  o.discard.ratio = discard;
  o.discard.scope = parse_discard_scope(discard_scope);
  o.residual.enabled = residual;
  o.residual.alpha = alpha;
  o.residual.renormalize = renormalize;
  return o;
}

LayerMatrices prepared_layers(py::handle attention, bool prepared, const PrepareArgs& args) {
  if (prepared) return to_layer_matrices(attention, "attention");
  const PrepareOptions o = args.options();
  const AttentionStack stack = to_stack(attention, "attention");
  py::gil_scoped_release release;
  return prepare_layers(stack, o);
}

std::vector<int> resolve_rows_arg(py::handle rows, int tokens) {
  return resolve_target_rows(to_int_list(rows), tokens, "target rows");
}

int effective_threads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

}  // namespace attnflow::python
