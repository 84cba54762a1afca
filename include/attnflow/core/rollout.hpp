// Attention rollout (Abnar & Zuidema 2020, "joint attention"):
// R^(s) = A_hat^(s); R^(l) = A_hat^(l) R^(l-1) (later layers on the LEFT).
// With target rows, only vector-matrix products are done: r^T = e_p^T A^(L)...
#pragma once

#include <vector>

#include "attnflow/core/types.hpp"

namespace attnflow {

struct RolloutOptions {
  /// First layer of the product (1-based); layers below are ignored.
  int start_layer = 1;
  /// true: return R^(l) for every l = start..L; false: only R^(L).
  bool all_prefixes = true;
  /// Token rows to return; empty = all n rows (full n x n products).
  /// Non-empty uses the vector-matrix fast path.
  std::vector<int> target_rows;
};

/// Rollout of the prepared matrices A_hat (see prepare_layers), or any
/// per-layer square matrices (gradient rollout reuses it).
LayerMaps rollout(const LayerMatrices& layers, const RolloutOptions& options = {});

}  // namespace attnflow
