// The layered attention graph of Abnar & Zuidema's Figure 1: a node per token
// at every layer 0..L (inputs at the bottom), an edge (l, i) -> (l-1, j) for
// each weight A^(l)[i, j], drawn with width proportional to the weight.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "attnflow/core/types.hpp"
#include "attnflow/plot/figure.hpp"

namespace attnflow::plot {

struct AttentionGraphOptions {
  FigureOptions figure;  ///< automatic title: "Attention graph"
  /// Edges with a weight below this are not drawn.
  double min_weight = 0.05;
  /// Line width (gnuplot units, ~1 px at 800 px wide) of an edge of weight
  /// `max_weight`; a weight w gets max_line_width * w / max_weight.
  double max_line_width = 6.0;
  /// Weight drawn with the full width; NaN = the largest weight drawn.
  double max_weight = 1.0;
  std::set<std::string> hide_tokens;  ///< nodes (and their edges) left out
};

/// Draws the graph of `layers` (the per-layer n x n matrices, e.g. the
/// residual-augmented A_hat that rollout and flow use, or fused raw
/// attention). Throws Error naming `path` on invalid matrices (empty, not
/// square, different sizes, negative or non-finite).
void plot_attention_graph(const LayerMatrices& layers, const std::vector<std::string>& tokens,
                          const std::string& path, const AttentionGraphOptions& options = {});

}  // namespace attnflow::plot
