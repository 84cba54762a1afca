// Grouped bar chart of token relevance: for each token one bar per method
// (e.g. the target row of raw, rollout and flow at the last layer).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "attnflow/plot/figure.hpp"
#include "attnflow/plot/target_maps.hpp"

namespace attnflow::plot {

/// One method's relevance of every token.
struct NamedValues {
  std::string name;
  std::vector<double> values;
};

enum class BarScaling {
  None,  ///< values as they are
  Sum,   ///< each method divided by the sum of its visible values
  Max,   ///< each method divided by its largest |value|
};

struct RelevanceBarsOptions {
  FigureOptions figure;  ///< automatic title: "Token relevance"
  BarScaling scaling = BarScaling::None;
  std::set<std::string> hide_tokens;  ///< tokens left out (before scaling)
  std::string y_label = "relevance";
};

/// Row `target_row` of each method at `layer` (1-based; 0 = each method's
/// last reported layer). Throws Error naming `what` when a method lacks the
/// row or the layer.
std::vector<NamedValues> relevance_at(const std::vector<NamedMaps>& methods, int target_row,
                                      int layer, const std::string& what);

/// Draws the grouped bars. Every method must have one finite value per
/// token. Throws Error naming `path` otherwise.
void plot_relevance_bars(const std::vector<NamedValues>& methods,
                         const std::vector<std::string>& tokens, const std::string& path,
                         const RelevanceBarsOptions& options = {});

}  // namespace attnflow::plot
