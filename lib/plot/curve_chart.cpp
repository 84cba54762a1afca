// Curves y(x) as a line chart.
#include "attnflow/plot/curve_chart.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cmath>
#include <tuple>

#include "attnflow/core/error.hpp"
#include "render.hpp"

namespace attnflow::plot {
namespace {

void check_series(const std::vector<CurveSeries>& series, const std::string& path) {
  if (series.empty()) throw Error(path + ": no curve to draw");
  for (const CurveSeries& s : series) {
    const std::string where = path + ": curve '" + s.name + "'";
    if (s.x.empty()) throw Error(where + " has no points");
    if (s.x.size() != s.y.size()) {
      throw Error(where + " has " + std::to_string(s.x.size()) + " x values and " +
                  std::to_string(s.y.size()) + " y values");
    }
    for (std::size_t k = 0; k < s.x.size(); ++k) {
      if (!std::isfinite(s.x[k])) throw Error(where + ": x value " + detail::num(s.x[k]));
      if (k > 0 && s.x[k] < s.x[k - 1]) throw Error(where + ": x values are not increasing");
      if (std::isinf(s.y[k]))
        throw Error(where + ": y value at x " + detail::num(s.x[k]) + " is infinite");
    }
  }
}

}  // namespace

void plot_curves(const std::vector<CurveSeries>& series, const std::string& path,
                 const CurveChartOptions& options) {
  check_series(series, path);
  if (options.y_range && !(options.y_range->first < options.y_range->second)) {
    throw Error(path + ": y range [" + detail::num(options.y_range->first) + ", " +
                detail::num(options.y_range->second) + "] is empty");
  }
  const double fs = options.figure.font_size;
  std::vector<std::string> names;
  for (const CurveSeries& s : series) names.push_back(s.name);
  const double key_px = 0.8 * fs * detail::max_text_length(names) + 8.0 * fs;
  const int auto_w = static_cast<int>(64.0 * fs + key_px);
  const int auto_h = static_cast<int>(40.0 * fs);
  detail::render(path, options.figure, auto_w, auto_h, "Curves",
                 [&](detail::Gnuplot& gp, const detail::Canvas& c) {
                   gp << detail::chart_title(c)
                      << "set key outside right top vertical Left reverse\n"
                      << "set border 3 lc rgb '#606060'\n"
                      << "set tics nomirror scale 0.5 textcolor rgb 'black'\n"
                      << "set grid back lt 1 lc rgb '#e4e4e4' lw 1\n"
                      << "set xlabel " << detail::quote(options.x_label) << "\n"
                      << "set ylabel " << detail::quote(options.y_label) << "\n";
                   if (options.y_range) {
                     gp << "set yrange [" << detail::num(options.y_range->first) << ":"
                        << detail::num(options.y_range->second) << "]\n";
                   }
                   gp << "plot ";
                   for (std::size_t k = 0; k < series.size(); ++k) {
                     gp << (k ? ", " : "")
                        << "'-' using 1:2 with linespoints lw 2 pt 7 ps 1 lc rgb '"
                        << detail::series_color(k) << "' title " << detail::quote(series[k].name);
                   }
                   gp << "\n";
                   for (const CurveSeries& s : series) {
                     std::vector<std::tuple<double, double>> points;
                     for (std::size_t k = 0; k < s.x.size(); ++k)
                       points.emplace_back(s.x[k], s.y[k]);
                     gp.send1d(points);
                   }
                 });
}

}  // namespace attnflow::plot
