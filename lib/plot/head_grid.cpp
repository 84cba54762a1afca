// All heads of one layer in a grid of heatmaps with one colour bar.
#include "attnflow/plot/head_grid.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cmath>

#include "attnflow/core/error.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "heatmap_cells.hpp"
#include "render.hpp"

namespace attnflow::plot {

void plot_head_grid(const AttentionStack& stack, int layer, const std::vector<std::string>& tokens,
                    const std::string& path, const HeadGridOptions& options) {
  validate(stack, AttentionCheck::any_sign(path));
  if (layer < 1 || layer > stack.layers()) {
    throw Error(path + ": layer " + std::to_string(layer) + " out of range 1.." +
                std::to_string(stack.layers()));
  }
  if (options.columns < 0) {
    throw Error(path + ": columns must be >= 0, got " + std::to_string(options.columns));
  }
  const int n = stack.tokens();
  const int heads = stack.heads();
  const std::vector<std::string> labels = token_labels(tokens, n, path);
  const std::vector<int> keep = visible_tokens(labels, options.hide_tokens, path);
  const int m = static_cast<int>(keep.size());
  std::vector<std::string> shown;
  for (int i : keep) shown.push_back(detail::shorten(labels[static_cast<std::size_t>(i)]));

  std::vector<std::vector<detail::Cell>> panels(static_cast<std::size_t>(heads));
  std::vector<detail::Cell> all;
  for (int h = 0; h < heads; ++h) {
    const auto a = stack.head(layer - 1, h);
    for (int r = 0; r < m; ++r) {
      for (int k = 0; k < m; ++k) {
        const detail::Cell cell{
            k, r, a(keep[static_cast<std::size_t>(r)], keep[static_cast<std::size_t>(k)])};
        panels[static_cast<std::size_t>(h)].push_back(cell);
        all.push_back(cell);
      }
    }
  }
  const auto [lo, hi] = detail::value_range(all);
  const detail::ResolvedScale scale = detail::resolve_scale(options.colors, lo, hi, path);

  const int cols = options.columns > 0
                       ? std::min(options.columns, heads)
                       : static_cast<int>(std::ceil(std::sqrt(static_cast<double>(heads))));
  const int rows = (heads + cols - 1) / cols;
  const detail::Canvas c0 = detail::sizing_canvas(options.figure);
  const double fs = c0.font_size;
  const double gap_x = 1.5 * fs;
  const double band = 2.2 * fs;  // panel title above each row
  const double right = 10.0 * fs;
  const double left = detail::y_tics(shown, 1e9, c0).extent + 3.0 * fs;
  const double bottom_worst = detail::x_tics_extent_upright(shown, c0) + 3.0 * fs;
  const double auto_side = std::clamp(m * 2.2 * fs, 16.0 * fs, 36.0 * fs);
  const double auto_w = left + right + cols * auto_side + (cols - 1) * gap_x;
  const double auto_h = 3.5 * fs + rows * (band + auto_side) + bottom_worst;

  detail::render(
      path, options.figure, static_cast<int>(auto_w), static_cast<int>(auto_h),
      "Layer " + std::to_string(layer) + ": attention of each head",
      [&](Gnuplot& gp, const detail::Canvas& c) {
        const double top = c.title.empty() ? 0.5 * fs : 3.0 * fs;
        const double side =
            std::max(8.0, std::min((c.width - left - right - (cols - 1) * gap_x) / cols,
                                   (c.height - top - rows * band - bottom_worst) / rows));
        const detail::Tics xt = detail::x_tics(shown, side / m, c);
        const detail::Tics yt = detail::y_tics(shown, side / m, c);
        const double block_w = cols * side + (cols - 1) * gap_x;
        const double block_h = rows * (band + side);
        const double x0 = left + std::max(0.0, (c.width - left - right - block_w) / 2.0);
        const double y0 =
            top + std::max(0.0, (c.height - top - block_h - xt.extent - 3.0 * fs) / 2.0);
        gp << "set multiplot\n"
           << detail::palette_commands(scale) << "set xrange [-0.5:" << detail::num(m - 0.5)
           << "]\n"
           << "set yrange [" << detail::num(m - 0.5) << ":-0.5]\n";
        for (int h = 0; h < heads; ++h) {
          const int row = h / cols;
          const int col = h % cols;
          const detail::Panel p{x0 + col * (side + gap_x), y0 + band + row * (side + band), side,
                                side};
          const bool left_col = col == 0;
          const bool bottom_of_column = h + cols >= heads;
          gp << detail::panel_commands(
              c, p, bottom_of_column ? xt : detail::Tics{}, left_col ? yt : detail::Tics{},
              bottom_of_column ? "key token" : "", left_col ? "query token" : "",
              "head " + std::to_string(h + 1));
          if (h == 0) {
            gp << detail::colorbox_at(c, x0 + block_w + 1.5 * fs, y0 + band, 1.2 * fs,
                                      block_h - band)
               << detail::title_label(c);
          } else {
            gp << "unset colorbox\n";
          }
          detail::plot_cells(gp, panels[static_cast<std::size_t>(h)], scale, false, "%g", fs);
        }
        gp << "unset multiplot\n";
      });
}

}  // namespace attnflow::plot
