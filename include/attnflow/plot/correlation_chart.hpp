// Per-layer correlations between methods as lines (one per method pair or
// per method-vs-baseline), y in [-1, 1] with optional error bars — the shape
// of Abnar & Zuidema's Tables 1 and 2.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "attnflow/plot/figure.hpp"
#include "attnflow/plot/target_maps.hpp"

namespace attnflow::plot {

struct CorrelationSeries {
  std::string name;            ///< e.g. "rollout vs flow"
  std::vector<int> layers;     ///< 1-based layer of each value
  std::vector<double> values;  ///< correlation in [-1, 1] (NaN = no point)
  std::vector<double> spread;  ///< empty, or a standard deviation per value
};

/// attnflow::method_correlations (core) of row `target_row` between every
/// pair of methods at each layer both report, over the tokens whose label is
/// not in `hide_tokens` (NaN when a row is constant). Series are named "a vs b".
std::vector<CorrelationSeries> method_correlations(const std::vector<NamedMaps>& methods,
                                                   int target_row,
                                                   const std::vector<std::string>& tokens,
                                                   const std::set<std::string>& hide_tokens,
                                                   const std::string& what);

struct CorrelationChartOptions {
  FigureOptions figure;  ///< automatic title: "Correlation per layer"
  std::string y_label = "Spearman correlation";
};

/// Draws one line per series over the layers. Throws Error naming `path` on
/// no series, mismatched lengths, or values outside [-1, 1].
void plot_layer_correlations(const std::vector<CorrelationSeries>& series, const std::string& path,
                             const CorrelationChartOptions& options = {});

}  // namespace attnflow::plot
