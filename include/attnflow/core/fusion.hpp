// Head fusion: one n x n matrix per layer from the heads of an attention
// stack (METHODS.md "Head fusion"). Default: mean over heads.
#pragma once

#include <vector>

#include "attnflow/core/cross_stack.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/core/types.hpp"
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow {

enum class HeadFusion {
  Mean,          ///< mean_h A_h (default, the papers' choice)
  Max,           ///< elementwise max over heads
  Min,           ///< elementwise min over heads
  WeightedMean,  ///< sum_h w_h A_h / sum_h w_h, weights in FusionOptions
};

struct FusionOptions {
  HeadFusion method = HeadFusion::Mean;
  /// WeightedMean only: one non-negative weight per head (e.g. head
  /// importance), not all zero. Either heads() weights (same for every
  /// layer) or layers()*heads() weights ([layer][head]).
  std::vector<double> head_weights;
};

/// Fuses the heads of layer `layer` (1-based).
Matrix fuse_heads(const AttentionStack& stack, int layer, const FusionOptions& options = {});

/// Fuses every layer; element k is layer k+1.
LayerMatrices fuse_heads(const AttentionStack& stack, const FusionOptions& options = {});

/// The same for cross-attention: m x n matrices (decoder rows, encoder columns).
Matrix fuse_heads(const CrossAttentionStack& stack, int layer, const FusionOptions& options = {});
LayerMatrices fuse_heads(const CrossAttentionStack& stack, const FusionOptions& options = {});

inline constexpr EnumName<HeadFusion> kHeadFusionNames[] = {
    {HeadFusion::Mean, "mean"},
    {HeadFusion::Max, "max"},
    {HeadFusion::Min, "min"},
    {HeadFusion::WeightedMean, "weighted"},
};
/// Throws Error("head fusion: unknown 'NAME' (expected mean, max, min or weighted)").
HeadFusion parse_head_fusion(const std::string& name);
const char* to_string(HeadFusion fusion);

}  // namespace attnflow
