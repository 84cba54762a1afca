// Side-by-side heatmaps of one matrix per panel, each with its own token labels and
// size (e.g. the same sentence and method in BERT, GPT-2 and T5, whose tokenizers split it
// differently: seed 000's comparison), titled by panel, on one shared colour scale.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "attnflow/core/types.hpp"
#include "attnflow/plot/color_scale.hpp"
#include "attnflow/plot/figure.hpp"

namespace attnflow::plot {

struct SidePanel {
  std::string title;                       ///< drawn above the panel (e.g. the model name)
  Matrix matrix;                           ///< rows x columns (query x key), finite
  std::vector<std::string> row_tokens;     ///< one label per row; empty = indices
  std::vector<std::string> column_tokens;  ///< one per column; empty = row_tokens (square)
};

struct SideBySideOptions {
  FigureOptions figure;  ///< automatic title: "Attention in each model"
  /// One colour scale for every panel (default); false gives each panel its own range and
  /// colour bar.
  bool shared_scale = true;
  ColorScale colors;
  std::set<std::string> hide_tokens;  ///< rows and columns left out, in every panel
  std::string x_label = "key token";
  std::string y_label = "query token";
};

/// Draws the panels in one row, left to right in the order given. Throws Error naming
/// `path` (and the panel's title) on no panels, an empty or non-finite matrix, labels that
/// do not match the matrix, or a panel whose tokens are all hidden.
void plot_side_by_side(const std::vector<SidePanel>& panels, const std::string& path,
                       const SideBySideOptions& options = {});

}  // namespace attnflow::plot
