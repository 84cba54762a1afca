// Side-by-side heatmaps, one per panel, each with its own labels and size.
#include "attnflow/plot/side_by_side.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <numeric>

#include "attnflow/core/error.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "heatmap_cells.hpp"
#include "render.hpp"

namespace attnflow::plot {
namespace {

// One panel after the checks: visible labels, its cells and its shape.
struct Prepared {
  std::vector<std::string> rows, columns;
  std::vector<detail::Cell> cells;
  double wide = 1, tall = 1;  ///< panel width and height over its longer side
};

Prepared prepare(const SidePanel& p, const std::string& path, const SideBySideOptions& o) {
  const std::string what = path + ": panel '" + p.title + "'";
  if (p.matrix.size() == 0) throw Error(what + " has an empty matrix");
  detail::require_finite(p.matrix, what);
  const std::vector<std::string> row_labels =
      token_labels(p.row_tokens, static_cast<int>(p.matrix.rows()), what + " rows");
  const std::vector<std::string> column_labels =
      p.column_tokens.empty() && p.matrix.rows() == p.matrix.cols()
          ? row_labels
          : token_labels(p.column_tokens, static_cast<int>(p.matrix.cols()), what + " columns");
  const std::vector<int> keep_rows = visible_tokens(row_labels, o.hide_tokens, what);
  const std::vector<int> keep_columns = visible_tokens(column_labels, o.hide_tokens, what);
  Prepared out;
  for (int i : keep_rows)
    out.rows.push_back(detail::shorten(row_labels[static_cast<std::size_t>(i)]));
  for (int i : keep_columns) {
    out.columns.push_back(detail::shorten(column_labels[static_cast<std::size_t>(i)]));
  }
  const int nr = static_cast<int>(keep_rows.size());
  const int nc = static_cast<int>(keep_columns.size());
  for (int r = 0; r < nr; ++r) {
    for (int k = 0; k < nc; ++k) {
      out.cells.push_back({k, r,
                           p.matrix(keep_rows[static_cast<std::size_t>(r)],
                                    keep_columns[static_cast<std::size_t>(k)])});
    }
  }
  const double most = std::max(nr, nc);
  out.wide = nc / most;
  out.tall = nr / most;
  return out;
}

}  // namespace

void plot_side_by_side(const std::vector<SidePanel>& panels, const std::string& path,
                       const SideBySideOptions& options) {
  if (panels.empty()) throw Error(path + ": no panels to draw");
  std::vector<Prepared> prepared;
  std::vector<detail::Cell> all;
  int most = 1;
  for (const SidePanel& p : panels) {
    prepared.push_back(prepare(p, path, options));
    const Prepared& q = prepared.back();
    all.insert(all.end(), q.cells.begin(), q.cells.end());
    most = std::max({most, static_cast<int>(q.rows.size()), static_cast<int>(q.columns.size())});
  }
  std::vector<detail::ResolvedScale> scales;
  if (options.shared_scale) {
    const auto [lo, hi] = detail::value_range(all);
    scales.assign(panels.size(), detail::resolve_scale(options.colors, lo, hi, path));
  } else {
    for (const Prepared& q : prepared) {
      const auto [lo, hi] = detail::value_range(q.cells);
      scales.push_back(detail::resolve_scale(options.colors, lo, hi, path));
    }
  }

  const detail::Canvas c0 = detail::sizing_canvas(options.figure);
  const double fs = c0.font_size;
  const double kd = static_cast<double>(panels.size());
  const double bar = 10.0 * fs;  // colour bar with its tic labels
  const double gap = options.shared_scale ? 2.0 * fs : bar;
  const double right = bar;      // the last panel always has a colour bar (own or shared)
  const double band = 2.2 * fs;  // panel title
  std::vector<double> lefts;     // room for each panel's own y labels
  double bottom_worst = 0, wide_sum = 0, tall_max = 0;
  for (const Prepared& q : prepared) {
    lefts.push_back(detail::y_tics(q.rows, 1e9, c0).extent + 3.0 * fs);
    bottom_worst = std::max(bottom_worst, detail::x_tics_extent_upright(q.columns, c0) + 3.0 * fs);
    wide_sum += q.wide;
    tall_max = std::max(tall_max, q.tall);
  }
  const double left_sum = std::accumulate(lefts.begin(), lefts.end(), 0.0);
  const double auto_side = std::clamp(most * 2.2 * fs, 16.0 * fs, 36.0 * fs);
  const double auto_w = left_sum + right + auto_side * wide_sum + (kd - 1) * gap;
  const double auto_h = 3.5 * fs + band + auto_side * tall_max + bottom_worst;

  detail::render(path, options.figure, static_cast<int>(auto_w), static_cast<int>(auto_h),
                 "Attention in each model", [&](Gnuplot& gp, const detail::Canvas& c) {
                   const double top = (c.title.empty() ? 0.5 * fs : 3.0 * fs) + band;
                   const double side = std::max(
                       8.0, std::min((c.width - left_sum - right - (kd - 1) * gap) / wide_sum,
                                     (c.height - top - bottom_worst) / tall_max));
                   gp << "set multiplot\n";
                   double x = 0;
                   for (std::size_t k = 0; k < panels.size(); ++k) {
                     const Prepared& q = prepared[k];
                     const int nr = static_cast<int>(q.rows.size());
                     const int nc = static_cast<int>(q.columns.size());
                     const double cell = side / std::max(nr, nc);
                     x += lefts[k];
                     const detail::Panel panel{x, top, side * q.wide, side * q.tall};
                     gp << detail::palette_commands(scales[k])
                        << detail::panel_commands(c, panel, detail::x_tics(q.columns, cell, c),
                                                  detail::y_tics(q.rows, cell, c), options.x_label,
                                                  k == 0 ? options.y_label : "", panels[k].title)
                        << "set xrange [-0.5:" << detail::num(nc - 0.5) << "]\n"
                        << "set yrange [" << detail::num(nr - 0.5) << ":-0.5]\n";
                     if (!options.shared_scale || k + 1 == panels.size()) {
                       gp << detail::colorbox_at(c, panel.left + panel.width + 1.0 * fs, top,
                                                 1.2 * fs, side * tall_max);
                     } else {
                       gp << "unset colorbox\n";
                     }
                     if (k == 0) gp << detail::title_label(c);
                     detail::plot_cells(gp, q.cells, scales[k], false, "%g", fs);
                     x += panel.width + gap;
                   }
                   gp << "unset multiplot\n";
                 });
}

}  // namespace attnflow::plot
