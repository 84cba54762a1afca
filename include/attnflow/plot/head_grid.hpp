// All heads of one layer as a grid of token x token heatmaps on one shared
// colour scale (query on y, key on x in every panel), the seeds' per-layer
// "all heads" view.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "attnflow/core/cross_stack.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/plot/color_scale.hpp"
#include "attnflow/plot/figure.hpp"

namespace attnflow::plot {

struct HeadGridOptions {
  FigureOptions figure;  ///< automatic title: "Layer <l>: attention of each head"
  ColorScale colors;     ///< one scale for all panels
  /// Panels per row; 0 = ceil(sqrt(heads)).
  int columns = 0;
  std::set<std::string> hide_tokens;
};

/// Draws every head of `layer` (1-based) of `stack`. Throws Error naming
/// `path` for a layer out of range, an empty stack or mismatched labels.
void plot_head_grid(const AttentionStack& stack, int layer, const std::vector<std::string>& tokens,
                    const std::string& path, const HeadGridOptions& options = {});

/// Every head of decoder layer `layer` (1-based) of a cross-attention stack: decoder tokens
/// on y, encoder tokens on x (automatic title "Layer <l>: cross-attention of each head");
/// hide_tokens applies to both. Errors as above.
void plot_head_grid(const CrossAttentionStack& stack, int layer,
                    const std::vector<std::string>& decoder_tokens,
                    const std::vector<std::string>& encoder_tokens, const std::string& path,
                    const HeadGridOptions& options = {});

}  // namespace attnflow::plot
