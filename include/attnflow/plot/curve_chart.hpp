// Curves y(x) as lines, one per series, on shared axes — e.g. the deletion and insertion
// curves of `attnflow evaluate` (mean probability of the explained class against the share
// of tokens removed or kept).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "attnflow/plot/figure.hpp"

namespace attnflow::plot {

struct CurveSeries {
  std::string name;       ///< key entry
  std::vector<double> x;  ///< increasing
  std::vector<double> y;  ///< one per x (NaN = no point)
};

struct CurveChartOptions {
  FigureOptions figure;  ///< automatic title: "Curves"
  std::string x_label = "x";
  std::string y_label = "y";
  /// Fixed y range; unset = gnuplot's automatic range.
  std::optional<std::pair<double, double>> y_range;
};

/// Draws one line with points per series. Throws Error naming `path` on no series, a series
/// without points, x and y of different lengths, non-finite or decreasing x, infinite y, or an
/// empty or reversed y range.
void plot_curves(const std::vector<CurveSeries>& series, const std::string& path,
                 const CurveChartOptions& options = {});

}  // namespace attnflow::plot
