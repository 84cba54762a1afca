// Token x token heatmap of one attention matrix.
#include "attnflow/plot/heatmap.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cmath>

#include "attnflow/core/error.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "heatmap_cells.hpp"
#include "render.hpp"

namespace attnflow::plot {
namespace {

// Pixel layout of the single panel: square cells, colour bar on the right.
struct Layout {
  detail::Panel panel;
  detail::Tics x, y;
};

Layout layout(const detail::Canvas& c, const std::vector<std::string>& rows,
              const std::vector<std::string>& columns, bool titled) {
  const double fs = c.font_size;
  const int nr = static_cast<int>(rows.size());
  const int nc = static_cast<int>(columns.size());
  const double top = titled ? 3.5 * fs : 1.5 * fs;
  const double right = 10.0 * fs;
  const double y_extent = detail::y_tics(rows, 1e9, c).extent;
  const double left = y_extent + 3.0 * fs;
  const double bottom_worst = detail::x_tics_extent_upright(columns, c) + 3.0 * fs;
  const double cell =
      std::max(8.0 / std::max(nr, nc),
               std::min((c.width - left - right) / nc, (c.height - top - bottom_worst) / nr));
  Layout l;
  l.x = detail::x_tics(columns, cell, c);
  l.y = detail::y_tics(rows, cell, c);
  const double bottom = l.x.extent + 3.0 * fs;
  l.panel.width = cell * nc;
  l.panel.height = cell * nr;
  l.panel.left = left + std::max(0.0, (c.width - left - right - l.panel.width) / 2.0);
  l.panel.top = top + std::max(0.0, (c.height - top - bottom - l.panel.height) / 2.0);
  return l;
}

// Labels of the visible tokens of one axis, shortened for the tics.
std::vector<std::string> shown_labels(const std::vector<std::string>& labels,
                                      const std::vector<int>& keep) {
  std::vector<std::string> shown;
  for (int i : keep) shown.push_back(detail::shorten(labels[static_cast<std::size_t>(i)]));
  return shown;
}

}  // namespace

void plot_heatmap(const Matrix& matrix, const std::vector<std::string>& tokens,
                  const std::string& path, const HeatmapOptions& options) {
  if (matrix.size() == 0) throw Error(path + ": empty matrix");
  if (matrix.rows() != matrix.cols()) {
    throw Error(path + ": matrix is " + std::to_string(matrix.rows()) + "x" +
                std::to_string(matrix.cols()) + ", expected n x n (query x key)");
  }
  plot_heatmap(matrix, tokens, tokens, path, options);
}

void plot_heatmap(const Matrix& matrix, const std::vector<std::string>& row_tokens,
                  const std::vector<std::string>& column_tokens, const std::string& path,
                  const HeatmapOptions& options) {
  if (matrix.size() == 0) throw Error(path + ": empty matrix");
  detail::require_finite(matrix, path + ": matrix");
  const std::vector<std::string> row_labels =
      token_labels(row_tokens, static_cast<int>(matrix.rows()), path);
  const std::vector<std::string> column_labels =
      token_labels(column_tokens, static_cast<int>(matrix.cols()), path);
  const std::vector<int> keep_rows = visible_tokens(row_labels, options.hide_tokens, path);
  const std::vector<int> keep_columns = visible_tokens(column_labels, options.hide_tokens, path);
  const int nr = static_cast<int>(keep_rows.size());
  const int nc = static_cast<int>(keep_columns.size());
  const int most = std::max(nr, nc);
  if (options.value_format.find('%') == std::string::npos) {
    throw Error(path + ": value format '" + options.value_format + "' has no % conversion");
  }

  const std::vector<std::string> rows = shown_labels(row_labels, keep_rows);
  const std::vector<std::string> columns = shown_labels(column_labels, keep_columns);
  std::vector<detail::Cell> cells;
  for (int r = 0; r < nr; ++r) {
    for (int k = 0; k < nc; ++k) {
      cells.push_back({k, r,
                       matrix(keep_rows[static_cast<std::size_t>(r)],
                              keep_columns[static_cast<std::size_t>(k)])});
    }
  }
  const auto [lo, hi] = detail::value_range(cells);
  const detail::ResolvedScale scale = detail::resolve_scale(options.colors, lo, hi, path);

  // Automatic size: square cells big enough for the values (up to 16 tokens a side).
  detail::Canvas c0 = detail::sizing_canvas(options.figure);
  const double fs = c0.font_size;
  const double cell0 = std::clamp(560.0 / most, most <= 16 ? 3.6 * fs : 1.3 * fs, 6.0 * fs);
  const double cell = std::max(cell0, 30.0 * fs / most);
  const double auto_w = detail::y_tics(rows, cell0, c0).extent + 3.0 * fs + cell * nc + 10.0 * fs;
  const double auto_h = 3.5 * fs + cell * nr + detail::x_tics(columns, cell0, c0).extent + 3.0 * fs;

  detail::render(
      path, options.figure, static_cast<int>(auto_w), static_cast<int>(auto_h), "Attention",
      [&](Gnuplot& gp, const detail::Canvas& c) {
        const Layout l = layout(c, rows, columns, !c.title.empty());
        const double cell_px = l.panel.width / nc;
        const bool values = options.values == HeatmapOptions::Values::Show ||
                            (options.values == HeatmapOptions::Values::Auto && most <= 16 &&
                             cell_px >= 2.6 * c.font_size);
        const double value_fs = std::max(5.0, std::min(cell_px / (0.7 * 4.6), c.font_size));
        gp << detail::palette_commands(scale)
           << detail::panel_commands(c, l.panel, l.x, l.y, options.x_label, options.y_label, "")
           << detail::title_label(c)
           << detail::colorbox_at(c, l.panel.left + l.panel.width + 1.5 * c.font_size, l.panel.top,
                                  1.2 * c.font_size, l.panel.height)
           << "set xrange [-0.5:" << detail::num(nc - 0.5) << "]\n"
           << "set yrange [" << detail::num(nr - 0.5) << ":-0.5]\n";
        detail::plot_cells(gp, cells, scale, values, options.value_format, value_fs);
      });
}

void plot_table_heatmap(const Matrix& values, const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels, const std::string& path,
                        const HeatmapOptions& options) {
  if (values.size() == 0) throw Error(path + ": empty table");
  const auto R = static_cast<int>(values.rows()), C = static_cast<int>(values.cols());
  if (static_cast<int>(row_labels.size()) != R || static_cast<int>(col_labels.size()) != C) {
    throw Error(path + ": " + std::to_string(row_labels.size()) + " row and " +
                std::to_string(col_labels.size()) + " column labels for a " + std::to_string(R) +
                "x" + std::to_string(C) + " table");
  }
  detail::require_finite(values, path + ": table");
  if (options.value_format.find('%') == std::string::npos) {
    throw Error(path + ": value format '" + options.value_format + "' has no % conversion");
  }
  std::vector<detail::Cell> cells;
  for (int r = 0; r < R; ++r) {
    for (int k = 0; k < C; ++k) cells.push_back({k, r, values(r, k)});
  }
  const auto [lo, hi] = detail::value_range(cells);
  const detail::ResolvedScale scale = detail::resolve_scale(options.colors, lo, hi, path);
  detail::Canvas c0 = detail::sizing_canvas(options.figure);
  const double fs = c0.font_size;
  const double cell = std::clamp(480.0 / std::max(R, C), 3.6 * fs, 6.0 * fs);
  const double auto_w =
      detail::y_tics(row_labels, cell, c0).extent + 3.0 * fs + cell * C + 12.0 * fs;
  const double auto_h =
      3.5 * fs + cell * R + detail::x_tics(col_labels, cell, c0).extent + 3.0 * fs;
  detail::render(
      path, options.figure, static_cast<int>(std::max(auto_w, 30.0 * fs)), static_cast<int>(auto_h),
      "Table", [&](Gnuplot& gp, const detail::Canvas& c) {
        const double top = !c.title.empty() ? 3.5 * c.font_size : 1.5 * c.font_size;
        const double left = detail::y_tics(row_labels, 1e9, c).extent + 3.0 * c.font_size;
        const double right = 10.0 * c.font_size;
        const double bottom = detail::x_tics_extent_upright(col_labels, c) + 3.0 * c.font_size;
        const double px =
            std::max(4.0, std::min((c.width - left - right) / C, (c.height - top - bottom) / R));
        detail::Panel panel;
        panel.width = px * C;
        panel.height = px * R;
        panel.left = left + std::max(0.0, (c.width - left - right - panel.width) / 2.0);
        panel.top = top;
        const detail::Tics x = detail::x_tics(col_labels, px, c),
                           y = detail::y_tics(row_labels, px, c);
        const bool shown = options.values == HeatmapOptions::Values::Show ||
                           (options.values == HeatmapOptions::Values::Auto && R <= 16 && C <= 16 &&
                            px >= 2.6 * c.font_size);
        const double value_fs = std::max(5.0, std::min(px / (0.7 * 4.6), c.font_size));
        gp << detail::palette_commands(scale)
           << detail::panel_commands(c, panel, x, y, options.x_label, options.y_label, "")
           << detail::title_label(c)
           << detail::colorbox_at(c, panel.left + panel.width + 1.5 * c.font_size, panel.top,
                                  1.2 * c.font_size, panel.height)
           << "set xrange [-0.5:" << detail::num(C - 0.5) << "]\n"
           << "set yrange [" << detail::num(R - 0.5) << ":-0.5]\n";
        detail::plot_cells(gp, cells, scale, shown, options.value_format, value_fs);
      });
}

}  // namespace attnflow::plot
