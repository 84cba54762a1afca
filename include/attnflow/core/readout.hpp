// Raw-attention readouts: the target rows of the head-fused attention at each
// layer (optionally residual-augmented), the "raw" baseline of the paper; and the
// raw cross-attention readouts of an encoder-decoder (decoder rows x encoder columns).
#pragma once

#include <string>
#include <vector>

#include "attnflow/core/cross_stack.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/core/types.hpp"

namespace attnflow {

struct ReadoutOptions {
  std::vector<int> layers;       ///< 1-based; empty = all
  std::vector<int> target_rows;  ///< empty = all rows
};

/// Rows of the given per-layer matrices (fused, or prepared with residual).
LayerMaps raw_readout(const LayerMatrices& layers, const ReadoutOptions& options = {});

/// The same rows of per-layer matrices of any one shape (e.g. m x n cross maps), without
/// value checks; `what` names them in errors (layers or rows out of range).
LayerMaps readout_rows(const LayerMatrices& layers, const ReadoutOptions& options,
                       const std::string& what);

struct CrossReadoutOptions {
  FusionOptions fusion;    ///< how the heads of each decoder layer are fused (default mean)
  ReadoutOptions readout;  ///< decoder layers (e.g. {L_dec} = the last) and decoder rows
};

/// Head-fused cross-attention rows (decoder tokens) over the encoder tokens, per decoder
/// layer. Throws Error on invalid attention ("cross attention: ...") or options.
LayerMaps cross_attention_readout(const CrossAttentionStack& cross,
                                  const CrossReadoutOptions& options = {});

/// The mean over all decoder layers of the head-fused cross-attention, m x n.
Matrix mean_cross_attention(const CrossAttentionStack& cross, const FusionOptions& fusion = {});

}  // namespace attnflow
