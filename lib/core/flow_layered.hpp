// The "layered" exact max-flow solver of attention flow: push-relabel
// specialised to the layered graph (dense n x n capacity blocks between
// consecutive layers), on the same int64 capacities as Boost's push-relabel,
// warm-started from one sink of a source to the next. Private to lib/core.
#pragma once

#include <cstdint>
#include <vector>

#include "attnflow/core/types.hpp"

namespace attnflow::detail {

/// One source layer to solve: out.row(r) gets the raw flow values of source
/// (layer, rows[r]) to every input j with reach(r, j) != 0 (the others are 0).
/// How the solver starts each sink of a source (results are the same).
enum class LayeredStart {
  Auto,   ///< Fresh or Warm, whichever measured faster for the size (flow_layered.cpp)
  Fresh,  ///< from the zero flow: augmenting paths down the DAG, then push-relabel
  Warm,   ///< from the previous sink's preflow: push-relabel
};

struct LayeredJob {
  int layer = 0;                            ///< 1-based source layer
  double scale = 1.0;                       ///< capacities c become llround(c * scale)
  const Matrix* reach = nullptr;            ///< rows.size() x n, 0 = no path (flow 0)
  Matrix* out = nullptr;                    ///< rows.size() x n, filled here
  LayeredStart start = LayeredStart::Auto;  ///< for tests: Fresh or Warm everywhere
};

/// Solves every (layer, row) of `jobs` on `threads` workers (tasks over
/// layers and rows, largest layers first). Exact: each value is the maximum
/// flow of the integer network, so it equals Boost's push-relabel bit for bit.
void layered_flow(const LayerMatrices& a, const std::vector<int>& rows,
                  const std::vector<LayeredJob>& jobs, int threads);

/// The values the layer certificate proves for `job` without solving:
/// rows.size() x n, row-major, -1 where it proves nothing (then the solver
/// runs). Exposed for tests; layered_flow uses it for layers >= 5.
std::vector<std::int64_t> certified_values(const LayerMatrices& a, const std::vector<int>& rows,
                                           const LayeredJob& job);

/// The arc scan of the solver: index of the first a in [from, to) with
/// residual[a] > 0 and label[a] == want (`to` if none); *low becomes the
/// minimum of itself and label[a] over the residual arcs before that index.
/// `simd` picks the AVX2 kernel where the CPU has it (same result, tested).
int arc_scan(const std::int64_t* residual, const int* label, int from, int to, int want, int* low,
             bool simd);

/// Whether arc_scan(..., simd = true) runs the AVX2 kernel on this CPU.
bool arc_scan_has_simd();

}  // namespace attnflow::detail
