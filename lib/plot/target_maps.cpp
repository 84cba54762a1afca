// Target-row maps (layers x tokens) of several methods on one colour scale.
#include "attnflow/plot/target_maps.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "attnflow/core/error.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "heatmap_cells.hpp"
#include "render.hpp"

namespace attnflow::plot {
namespace {

// Row index of token `target` in `maps`, or Error naming the method.
std::size_t find_row(const NamedMaps& m, int target, const std::string& what) {
  const auto it = std::find(m.maps.rows.begin(), m.maps.rows.end(), target);
  if (it == m.maps.rows.end()) {
    std::string rows;
    for (int r : m.maps.rows) rows += (rows.empty() ? "" : ", ") + std::to_string(r);
    throw Error(what + ": " + m.name + " has no target row " + std::to_string(target) +
                " (rows: " + (rows.empty() ? "none" : rows) + ")");
  }
  return static_cast<std::size_t>(it - m.maps.rows.begin());
}

}  // namespace

void plot_target_maps(const std::vector<NamedMaps>& methods, int target_row,
                      const std::vector<std::string>& tokens, const std::string& path,
                      const TargetMapsOptions& options) {
  if (methods.empty()) throw Error(path + ": no methods to draw");
  Eigen::Index n = -1;
  std::set<int> layer_set;
  std::vector<std::size_t> rows;
  for (const NamedMaps& m : methods) {
    const std::string where = path + ": " + m.name;
    if (m.maps.maps.empty()) throw Error(where + " has no maps");
    if (m.maps.layers.size() != m.maps.maps.size()) {
      throw Error(where + " has " + std::to_string(m.maps.layers.size()) + " layer numbers for " +
                  std::to_string(m.maps.maps.size()) + " maps");
    }
    rows.push_back(find_row(m, target_row, path));
    for (std::size_t k = 0; k < m.maps.maps.size(); ++k) {
      const Matrix& a = m.maps.maps[k];
      if (a.rows() != static_cast<Eigen::Index>(m.maps.rows.size())) {
        throw Error(where + " layer " + std::to_string(m.maps.layers[k]) + " has " +
                    std::to_string(a.rows()) + " rows for " + std::to_string(m.maps.rows.size()) +
                    " target rows");
      }
      if (n < 0) n = a.cols();
      if (a.cols() != n || n == 0) {
        throw Error(where + " layer " + std::to_string(m.maps.layers[k]) + " has " +
                    std::to_string(a.cols()) + " tokens, " + methods.front().name + " has " +
                    std::to_string(n));
      }
      detail::require_finite(a, where + " layer " + std::to_string(m.maps.layers[k]));
      if (m.maps.layers[k] < 1) {
        throw Error(where + ": layer number " + std::to_string(m.maps.layers[k]) +
                    " (layers are 1-based)");
      }
      if (std::count(m.maps.layers.begin(), m.maps.layers.end(), m.maps.layers[k]) > 1) {
        throw Error(where + " reports layer " + std::to_string(m.maps.layers[k]) + " twice");
      }
      layer_set.insert(m.maps.layers[k]);
    }
  }
  check_token_index(target_row, static_cast<int>(n), path + ": target row");
  const std::vector<std::string> labels = token_labels(tokens, static_cast<int>(n), path);
  const std::vector<int> keep = visible_tokens(labels, options.hide_tokens, path);
  const int m = static_cast<int>(keep.size());
  std::vector<std::string> shown;
  for (int i : keep) shown.push_back(detail::shorten(labels[static_cast<std::size_t>(i)]));
  const std::vector<int> layers(layer_set.begin(), layer_set.end());
  std::vector<std::string> layer_labels;
  for (int l : layers) layer_labels.push_back("L" + std::to_string(l));
  const int nl = static_cast<int>(layers.size());

  const std::size_t k_count = methods.size();
  std::vector<std::vector<detail::Cell>> panels(k_count);
  std::vector<detail::Cell> all;
  for (std::size_t p = 0; p < k_count; ++p) {
    const LayerMaps& lm = methods[p].maps;
    for (std::size_t k = 0; k < lm.maps.size(); ++k) {
      const int y = static_cast<int>(std::lower_bound(layers.begin(), layers.end(), lm.layers[k]) -
                                     layers.begin());
      for (int x = 0; x < m; ++x) {
        const detail::Cell cell{
            x, y,
            lm.maps[k](static_cast<Eigen::Index>(rows[p]), keep[static_cast<std::size_t>(x)])};
        panels[p].push_back(cell);
        all.push_back(cell);
      }
    }
  }
  std::vector<detail::ResolvedScale> scales;
  if (options.shared_scale) {
    const auto [lo, hi] = detail::value_range(all);
    scales.assign(k_count, detail::resolve_scale(options.colors, lo, hi, path));
  } else {
    for (const auto& cells : panels) {
      const auto [lo, hi] = detail::value_range(cells);
      scales.push_back(detail::resolve_scale(options.colors, lo, hi, path));
    }
  }

  const detail::Canvas c0 = detail::sizing_canvas(options.figure);
  const double fs = c0.font_size;
  const double kd = static_cast<double>(k_count);
  const double bar = 10.0 * fs;  // colour bar with its tic labels
  const double gap = options.shared_scale ? 2.0 * fs : bar;
  const double right = bar;      // the last panel always has a colour bar (own or shared)
  const double band = 2.2 * fs;  // method name above each panel
  const double left = detail::y_tics(layer_labels, 1e9, c0).extent + 3.0 * fs;
  const double bottom_worst = detail::x_tics_extent_upright(shown, c0) + 3.0 * fs;
  const double auto_cell = std::clamp(1100.0 / (kd * m), 1.8 * fs, 4.0 * fs);
  const double auto_w = left + right + kd * m * auto_cell + (kd - 1) * gap;
  const double auto_h = 3.0 * fs + band + nl * auto_cell + bottom_worst;
  const std::string& target_label = labels[static_cast<std::size_t>(target_row)];

  detail::render(
      path, options.figure, static_cast<int>(auto_w), static_cast<int>(auto_h),
      "Target token " + std::to_string(target_row) + " (" + target_label +
          "): relevance of each token per layer",
      [&](Gnuplot& gp, const detail::Canvas& c) {
        const double top = (c.title.empty() ? 0.5 * fs : 3.0 * fs) + band;
        const double cell_w = std::max(2.0, (c.width - left - right - (kd - 1) * gap) / (kd * m));
        const double cell_h = std::max(2.0, (c.height - top - bottom_worst) / nl);
        const detail::Tics xt = detail::x_tics(shown, cell_w, c);
        const detail::Tics yt = detail::y_tics(layer_labels, cell_h, c);
        const double panel_w = cell_w * m;
        const double panel_h = cell_h * nl;
        gp << "set multiplot\n"
           << "set xrange [-0.5:" << detail::num(m - 0.5) << "]\n"
           << "set yrange [" << detail::num(nl - 0.5) << ":-0.5]\n";
        for (std::size_t p = 0; p < k_count; ++p) {
          const detail::Panel panel{left + static_cast<double>(p) * (panel_w + gap), top, panel_w,
                                    panel_h};
          gp << detail::palette_commands(scales[p])
             << detail::panel_commands(c, panel, xt, p == 0 ? yt : detail::Tics{}, "token",
                                       p == 0 ? "layer" : "", methods[p].name);
          if (!options.shared_scale || p + 1 == k_count) {
            gp << detail::colorbox_at(c, panel.left + panel_w + 1.0 * fs, top, 1.2 * fs, panel_h);
          } else {
            gp << "unset colorbox\n";
          }
          if (p == 0) gp << detail::title_label(c);
          detail::plot_cells(gp, panels[p], scales[p], false, "%g", fs);
        }
        gp << "unset multiplot\n";
      });
}

}  // namespace attnflow::plot
