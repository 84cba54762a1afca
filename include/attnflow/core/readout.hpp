// Raw-attention readouts: the target rows of the head-fused attention at each
// layer (optionally residual-augmented), the "raw" baseline of the paper.
#pragma once

#include <vector>

#include "attnflow/core/types.hpp"

namespace attnflow {

struct ReadoutOptions {
  std::vector<int> layers;       ///< 1-based; empty = all
  std::vector<int> target_rows;  ///< empty = all rows
};

/// Rows of the given per-layer matrices (fused, or prepared with residual).
LayerMaps raw_readout(const LayerMatrices& layers, const ReadoutOptions& options = {});

}  // namespace attnflow
