// Per-layer correlations between methods as a line chart.
#include "attnflow/plot/correlation_chart.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "attnflow/core/correlation.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "render.hpp"

namespace attnflow::plot {

std::vector<CorrelationSeries> method_correlations(const std::vector<NamedMaps>& methods,
                                                   int target_row,
                                                   const std::vector<std::string>& tokens,
                                                   const std::set<std::string>& hide_tokens,
                                                   const std::string& what) {
  // The numbers come from core; here only the columns drawn (visible labels).
  std::vector<int> keep;
  if (methods.size() >= 2 && !methods.front().maps.maps.empty()) {
    const auto n = static_cast<int>(methods.front().maps.maps.front().cols());
    keep = visible_tokens(token_labels(tokens, n, what), hide_tokens, what);
    if (keep.size() < 2) throw Error(what + ": correlations need at least 2 visible tokens");
  }
  std::vector<CorrelationSeries> out;
  for (LayerCorrelation& c : attnflow::method_correlations(methods, target_row, keep, what)) {
    out.push_back({std::move(c.name), std::move(c.layers), std::move(c.values), {}});
  }
  return out;
}

void plot_layer_correlations(const std::vector<CorrelationSeries>& series, const std::string& path,
                             const CorrelationChartOptions& options) {
  if (series.empty()) throw Error(path + ": no correlation series to draw");
  std::set<int> layer_set;
  for (const CorrelationSeries& s : series) {
    const std::string where = path + ": " + s.name;
    if (s.values.size() != s.layers.size()) {
      throw Error(where + " has " + std::to_string(s.layers.size()) + " layers and " +
                  std::to_string(s.values.size()) + " values");
    }
    if (!s.spread.empty() && s.spread.size() != s.values.size()) {
      throw Error(where + " has " + std::to_string(s.spread.size()) + " spreads for " +
                  std::to_string(s.values.size()) + " values");
    }
    for (std::size_t k = 0; k < s.values.size(); ++k) {
      const double v = s.values[k];
      if (s.layers[k] < 1) {
        throw Error(where + ": layer number " + std::to_string(s.layers[k]) +
                    " (layers are 1-based)");
      }
      if (!std::isnan(v) && !(v >= -1.0 - 1e-9 && v <= 1.0 + 1e-9)) {
        throw Error(where + " value " + detail::num(v) + " at layer " +
                    std::to_string(s.layers[k]) + " is outside [-1, 1]");
      }
      if (!s.spread.empty() && !(std::isnan(s.spread[k]) || s.spread[k] >= 0.0)) {
        throw Error(where + " spread " + detail::num(s.spread[k]) + " at layer " +
                    std::to_string(s.layers[k]) + " is negative");
      }
      layer_set.insert(s.layers[k]);
    }
  }
  if (layer_set.empty()) throw Error(path + ": the correlation series have no layers");
  const int first = *layer_set.begin();
  const int last = *layer_set.rbegin();
  std::string tics = "(";
  for (int l = first; l <= last; ++l) {
    tics +=
        (l > first ? ", " : "") + detail::quote("L" + std::to_string(l)) + " " + std::to_string(l);
  }
  tics += ")";

  const double fs = options.figure.font_size;
  std::vector<std::string> names;
  for (const CorrelationSeries& s : series) names.push_back(s.name);
  const double key_px = 0.8 * fs * detail::max_text_length(names) + 8.0 * fs;
  const int auto_w =
      static_cast<int>(std::max(48.0 * fs, (last - first + 1) * 6.0 * fs + 12.0 * fs) + key_px);
  const int auto_h = static_cast<int>(40.0 * fs);
  detail::render(
      path, options.figure, auto_w, auto_h, "Correlation between methods per layer",
      [&](Gnuplot& gp, const detail::Canvas& c) {
        gp << detail::chart_title(c);
        gp << "set key outside right top vertical Left reverse\n"
           << "set border 3 lc rgb '#606060'\nset tics nomirror scale 0.5 textcolor rgb 'black'\n"
           << "set grid back lt 1 lc rgb '#e4e4e4' lw 1\n"
           << "set xtics " << tics << "\n"
           << "set ytics -1,0.25,1\n"
           << "set xrange [" << detail::num(first - 0.3) << ":" << detail::num(last + 0.3) << "]\n"
           << "set yrange [-1.05:1.05]\n"
           << "set xzeroaxis lt 1 lw 1 lc rgb '#808080'\n"
           << "set xlabel 'layer'\nset ylabel " << detail::quote(options.y_label) << "\n"
           << "plot ";
        for (std::size_t k = 0; k < series.size(); ++k) {
          const bool bars = !series[k].spread.empty();
          gp << (k ? ", " : "") << "'-' using 1:2"
             << (bars ? ":3 with yerrorlines" : " with linespoints") << " lw 2 pt 7 ps 1.2 lc rgb '"
             << detail::series_color(k) << "' title " << detail::quote(series[k].name);
        }
        gp << "\n";
        for (const CorrelationSeries& s : series) {
          std::vector<std::tuple<int, double, double>> points;
          for (std::size_t k = 0; k < s.values.size(); ++k) {
            if (std::isnan(s.values[k])) continue;
            const double spread = s.spread.empty() || std::isnan(s.spread[k]) ? 0.0 : s.spread[k];
            points.emplace_back(s.layers[k], s.values[k], spread);
          }
          if (points.empty()) points.emplace_back(first, std::nan(""), 0.0);
          gp.send1d(points);
        }
      });
}

}  // namespace attnflow::plot
