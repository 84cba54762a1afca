// Target-row maps: for one target token, a layers x tokens heatmap per method
// (raw, residual, rollout, flow, gradient rollout...) side by side on one
// shared colour scale — Figures 2 and 3 of Abnar & Zuidema (2020).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/types.hpp"
#include "attnflow/plot/color_scale.hpp"
#include "attnflow/plot/figure.hpp"

namespace attnflow::plot {

/// One method's per-layer maps under the name drawn above its panel, and the
/// maps of an analysis in method order (core/analysis.hpp).
using attnflow::named_maps;
using attnflow::NamedMaps;

struct TargetMapsOptions {
  FigureOptions figure;  ///< automatic title: "Target token <p> (<label>)"
  /// One colour scale for every panel (the paper's figures); false gives
  /// every panel its own automatic range and colour bar.
  bool shared_scale = true;
  ColorScale colors;
  std::set<std::string> hide_tokens;  ///< columns left out
};

/// Draws row `target_row` (a token index present in every method's
/// LayerMaps::rows) of each method: one row per layer (L1 at the top), one
/// column per token. Methods may report different layers; missing layers
/// stay blank. Throws Error naming `path` on empty input, a target row a
/// method lacks, or maps of different widths.
void plot_target_maps(const std::vector<NamedMaps>& methods, int target_row,
                      const std::vector<std::string>& tokens, const std::string& path,
                      const TargetMapsOptions& options = {});

}  // namespace attnflow::plot
