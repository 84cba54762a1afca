// Grouped bar chart of token relevance per method.
#include "attnflow/plot/relevance_bars.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cmath>
#include <tuple>

#include "attnflow/core/error.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "heatmap_cells.hpp"
#include "render.hpp"

namespace attnflow::plot {

std::vector<NamedValues> relevance_at(const std::vector<NamedMaps>& methods, int target_row,
                                      int layer, const std::string& what) {
  std::vector<NamedValues> out;
  for (const NamedMaps& m : methods) {
    const auto row = std::find(m.maps.rows.begin(), m.maps.rows.end(), target_row);
    if (row == m.maps.rows.end()) {
      throw Error(what + ": " + m.name + " has no target row " + std::to_string(target_row));
    }
    if (m.maps.maps.empty() || m.maps.layers.size() != m.maps.maps.size()) {
      throw Error(what + ": " + m.name + " has no maps");
    }
    std::size_t k = m.maps.maps.size() - 1;
    if (layer != 0) {
      const auto it = std::find(m.maps.layers.begin(), m.maps.layers.end(), layer);
      if (it == m.maps.layers.end()) {
        throw Error(what + ": " + m.name + " has no layer " + std::to_string(layer));
      }
      k = static_cast<std::size_t>(it - m.maps.layers.begin());
    }
    const auto r = static_cast<Eigen::Index>(row - m.maps.rows.begin());
    const Matrix& a = m.maps.maps[k];
    if (r >= a.rows()) throw Error(what + ": " + m.name + " has fewer rows than target rows");
    NamedValues v{m.name, {}};
    for (Eigen::Index j = 0; j < a.cols(); ++j) v.values.push_back(a(r, j));
    if (layer == 0) v.name += " (L" + std::to_string(m.maps.layers[k]) + ")";
    out.push_back(std::move(v));
  }
  return out;
}

void plot_relevance_bars(const std::vector<NamedValues>& methods,
                         const std::vector<std::string>& tokens, const std::string& path,
                         const RelevanceBarsOptions& options) {
  if (methods.empty()) throw Error(path + ": no methods to draw");
  const std::size_t n = methods.front().values.size();
  if (n == 0) throw Error(path + ": " + methods.front().name + " has no values");
  for (const NamedValues& m : methods) {
    if (m.values.size() != n) {
      throw Error(path + ": " + m.name + " has " + std::to_string(m.values.size()) + " values, " +
                  methods.front().name + " has " + std::to_string(n));
    }
    for (std::size_t j = 0; j < n; ++j) {
      if (!std::isfinite(m.values[j])) {
        throw Error(path + ": " + m.name + " value of token " + std::to_string(j) + " is " +
                    detail::num(m.values[j]));
      }
    }
  }
  const std::vector<std::string> labels = token_labels(tokens, static_cast<int>(n), path);
  const std::vector<int> keep = visible_tokens(labels, options.hide_tokens, path);
  const int m = static_cast<int>(keep.size());
  std::vector<std::string> shown;
  for (int i : keep) shown.push_back(detail::shorten(labels[static_cast<std::size_t>(i)]));

  const std::size_t count = methods.size();
  const double group = 0.8;
  const double width = group / static_cast<double>(count);
  std::vector<std::vector<std::tuple<double, double, double>>> bars(count);
  double lo = 0.0;
  for (std::size_t k = 0; k < count; ++k) {
    double sum = 0.0;
    double big = 0.0;
    for (int i : keep) {
      const double v = methods[k].values[static_cast<std::size_t>(i)];
      sum += v;
      big = std::max(big, std::abs(v));
    }
    double div = 1.0;
    if (options.scaling == BarScaling::Sum && sum != 0.0) div = sum;
    if (options.scaling == BarScaling::Max && big != 0.0) div = big;
    for (int x = 0; x < m; ++x) {
      const double v =
          methods[k].values[static_cast<std::size_t>(keep[static_cast<std::size_t>(x)])] / div;
      lo = std::min(lo, v);
      bars[k].emplace_back(x - group / 2.0 + width * (static_cast<double>(k) + 0.5), v, width);
    }
  }

  const detail::Canvas c0 = detail::sizing_canvas(options.figure);
  const double fs = c0.font_size;
  std::vector<std::string> names;
  for (const NamedValues& v : methods) names.push_back(v.name);
  const double key_px = 0.8 * fs * detail::max_text_length(names) + 8.0 * fs;
  const double group_px =
      std::clamp(1600.0 / m, 0.8 * fs, std::max(4.0, 1.6 * static_cast<double>(count)) * fs);
  const int auto_w = static_cast<int>(std::max(40.0 * fs, m * group_px + 12.0 * fs) + key_px);
  const int auto_h =
      static_cast<int>(30.0 * fs + detail::x_tics(shown, group_px, c0).extent + 6.0 * fs);

  std::string y_label = options.y_label;
  if (options.scaling == BarScaling::Sum) y_label += " (share of the total)";
  if (options.scaling == BarScaling::Max) y_label += " (divided by the largest)";
  detail::render(path, options.figure, auto_w, auto_h, "Token relevance",
                 [&](Gnuplot& gp, const detail::Canvas& c) {
                   gp << detail::chart_title(c);
                   const double plot_w = c.width - key_px - 8.0 * fs;
                   gp << "set key outside right top vertical Left reverse noautotitle\n"
                      << "set tics scale 0.5\nset border 3 lc rgb '#606060'\n"
                      << "set grid ytics back lt 1 lc rgb '#e4e4e4' lw 1\n"
                      << detail::tic_command("x", detail::x_tics(shown, plot_w / (m + 0.2), c))
                      << "set ytics nomirror textcolor rgb 'black'\n"
                      << "set xrange [-0.6:" << detail::num(m - 0.4) << "]\n"
                      << (lo < 0.0 ? "set yrange [*:*]\nset offsets 0,0,graph 0.05,graph 0.05\n"
                                     "set xzeroaxis lt 1 lc rgb '#606060'\n"
                                   : "set yrange [0:*]\nset offsets 0,0,graph 0.05,0\n")
                      << "set ylabel " << detail::quote(y_label) << "\n"
                      << "set xlabel 'token'\n"
                      << "set style fill solid 1.0 noborder\n"
                      << "plot ";
                   for (std::size_t k = 0; k < count; ++k) {
                     gp << (k ? ", " : "") << "'-' using 1:2:3 with boxes lc rgb '"
                        << detail::series_color(k) << "' title " << detail::quote(methods[k].name);
                   }
                   gp << "\n";
                   for (const auto& b : bars) gp.send1d(b);
                 });
}

}  // namespace attnflow::plot
