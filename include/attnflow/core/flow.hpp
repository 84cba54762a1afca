// Attention flow (Abnar & Zuidema 2020): F^(l)[i, j] = maximum flow from node
// (l, i) to input node (0, j) in the layered graph whose edge (l, i)->(l-1, m)
// has capacity A_hat^(l)[i, m]. Each pair is its own max-flow problem, solved
// by a push-relabel specialised to the layered graph (or, as references, by
// Boost.Graph); source rows are independent and run on `threads`.
#pragma once

#include <vector>

#include "attnflow/core/types.hpp"
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow {

enum class FlowAlgorithm {
  BoykovKolmogorov,  ///< boykov_kolmogorov_max_flow on double capacities
  PushRelabel,       ///< push_relabel_max_flow on capacities scaled to int64
  EdmondsKarp,       ///< edmonds_karp_max_flow on double capacities (slow)
  Layered,           ///< push-relabel specialised to the layered graph, int64 (default)
};

struct FlowOptions {
  /// Layers (1-based) whose nodes are sources; empty = all 1..L (reference).
  std::vector<int> layers;
  /// Token rows that are sources at each chosen layer; empty = all n.
  std::vector<int> target_rows;
  /// Divide each row F^(l)[i, :] by its sum (reference default). A row that
  /// sums to 0 (no path at all) is left at 0 instead of becoming NaN.
  bool normalize = true;
  /// Layered: push-relabel on the dense layer blocks, warm-started from one
  /// sink to the next, on the same int64 capacities as PushRelabel (so the two
  /// give identical values); the Boost solvers are kept as references.
  /// docs/methods.md has the measurements; all four agree to 1e-12.
  FlowAlgorithm algorithm = FlowAlgorithm::Layered;
  /// Layers 1 and 2 have closed forms (A^(1)[i,j] and
  /// sum_m min(A^(2)[i,m], A^(1)[m,j])); false forces the solver everywhere.
  bool closed_form_low_layers = true;
  /// Worker threads over source rows; 0 = all hardware threads. Results are
  /// bit-identical whatever the count (each pair is solved on its own).
  int threads = 0;
};

/// Flow on the prepared matrices A_hat (see prepare_layers). Validates them
/// (square, equal sizes, finite, non-negative) and the layer/row choices.
LayerMaps attention_flow(const LayerMatrices& layers, const FlowOptions& options = {});

/// Raw maximum flow value of one pair (layer, row) -> input token `input`,
/// always through the solver (no closed form); for tests and spot checks.
double max_flow_value(const LayerMatrices& layers, int layer, int row, int input,
                      FlowAlgorithm algorithm = FlowAlgorithm::Layered);

/// Integer scale used by PushRelabel and Layered: capacities c become llround(c * scale),
/// scale a power of two chosen so that the sum of all capacities stays below
/// 2^62. The absolute error of one flow value is at most (edges in a minimum
/// cut) * 0.5 / scale; see docs/methods.md.
double push_relabel_scale(const LayerMatrices& layers, int layer);

inline constexpr EnumName<FlowAlgorithm> kFlowAlgorithmNames[] = {
    {FlowAlgorithm::BoykovKolmogorov, "bk"},
    {FlowAlgorithm::PushRelabel, "push-relabel"},
    {FlowAlgorithm::EdmondsKarp, "edmonds-karp"},
    {FlowAlgorithm::Layered, "layered"},
};
/// A name of kFlowAlgorithmNames, or "boykov-kolmogorov" (= "bk"). Throws
/// Error("flow algorithm: unknown 'NAME' (expected bk, push-relabel, edmonds-karp or layered)").
FlowAlgorithm parse_flow_algorithm(const std::string& name);
const char* to_string(FlowAlgorithm algorithm);

}  // namespace attnflow
