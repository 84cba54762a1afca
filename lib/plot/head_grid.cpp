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
namespace {

// The heads of one layer, square (self-attention) or not (cross-attention).
struct Grid {
  std::vector<Matrix> heads;
  std::vector<std::string> row_labels, column_labels;  ///< all tokens, resolved
  std::string row_axis, column_axis, title;
};

void draw_grid(const Grid& g, const std::string& path, const HeadGridOptions& options) {
  if (options.columns < 0) {
    throw Error(path + ": columns must be >= 0, got " + std::to_string(options.columns));
  }
  const int heads = static_cast<int>(g.heads.size());
  const std::vector<int> keep_rows = visible_tokens(g.row_labels, options.hide_tokens, path);
  const std::vector<int> keep_columns = visible_tokens(g.column_labels, options.hide_tokens, path);
  const int nr = static_cast<int>(keep_rows.size());
  const int nc = static_cast<int>(keep_columns.size());
  const int most = std::max(nr, nc);
  std::vector<std::string> rows, columns;
  for (int i : keep_rows)
    rows.push_back(detail::shorten(g.row_labels[static_cast<std::size_t>(i)]));
  for (int i : keep_columns) {
    columns.push_back(detail::shorten(g.column_labels[static_cast<std::size_t>(i)]));
  }

  std::vector<std::vector<detail::Cell>> panels(static_cast<std::size_t>(heads));
  std::vector<detail::Cell> all;
  for (int h = 0; h < heads; ++h) {
    const Matrix& a = g.heads[static_cast<std::size_t>(h)];
    for (int r = 0; r < nr; ++r) {
      for (int k = 0; k < nc; ++k) {
        const detail::Cell cell{
            k, r,
            a(keep_rows[static_cast<std::size_t>(r)], keep_columns[static_cast<std::size_t>(k)])};
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
  const int grid_rows = (heads + cols - 1) / cols;
  // A panel's longer side is `side`; the shorter one is side * its share of the tokens.
  const double wide = static_cast<double>(nc) / most;
  const double tall = static_cast<double>(nr) / most;
  const detail::Canvas c0 = detail::sizing_canvas(options.figure);
  const double fs = c0.font_size;
  const double gap_x = 1.5 * fs;
  const double band = 2.2 * fs;  // panel title above each row
  const double right = 10.0 * fs;
  const double left = detail::y_tics(rows, 1e9, c0).extent + 3.0 * fs;
  const double bottom_worst = detail::x_tics_extent_upright(columns, c0) + 3.0 * fs;
  const double auto_side = std::clamp(most * 2.2 * fs, 16.0 * fs, 36.0 * fs);
  const double auto_w = left + right + cols * auto_side * wide + (cols - 1) * gap_x;
  const double auto_h = 3.5 * fs + grid_rows * (band + auto_side * tall) + bottom_worst;

  detail::render(
      path, options.figure, static_cast<int>(auto_w), static_cast<int>(auto_h), g.title,
      [&](Gnuplot& gp, const detail::Canvas& c) {
        const double top = c.title.empty() ? 0.5 * fs : 3.0 * fs;
        const double side = std::max(
            8.0, std::min((c.width - left - right - (cols - 1) * gap_x) / (cols * wide),
                          (c.height - top - grid_rows * band - bottom_worst) / (grid_rows * tall)));
        const double panel_w = side * wide;
        const double panel_h = side * tall;
        const detail::Tics xt = detail::x_tics(columns, side / most, c);
        const detail::Tics yt = detail::y_tics(rows, side / most, c);
        const double block_w = cols * panel_w + (cols - 1) * gap_x;
        const double block_h = grid_rows * (band + panel_h);
        const double x0 = left + std::max(0.0, (c.width - left - right - block_w) / 2.0);
        const double y0 =
            top + std::max(0.0, (c.height - top - block_h - xt.extent - 3.0 * fs) / 2.0);
        gp << "set multiplot\n"
           << detail::palette_commands(scale) << "set xrange [-0.5:" << detail::num(nc - 0.5)
           << "]\n"
           << "set yrange [" << detail::num(nr - 0.5) << ":-0.5]\n";
        for (int h = 0; h < heads; ++h) {
          const int row = h / cols;
          const int col = h % cols;
          const detail::Panel p{x0 + col * (panel_w + gap_x), y0 + band + row * (panel_h + band),
                                panel_w, panel_h};
          const bool left_col = col == 0;
          const bool bottom_of_column = h + cols >= heads;
          gp << detail::panel_commands(c, p, bottom_of_column ? xt : detail::Tics{},
                                       left_col ? yt : detail::Tics{},
                                       bottom_of_column ? g.column_axis : "",
                                       left_col ? g.row_axis : "", "head " + std::to_string(h + 1));
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

// Every head of layer `layer` (1-based) of a square or cross stack, after the checks.
template <class Stack>
std::vector<Matrix> layer_heads(const Stack& stack, int layer, const std::string& path) {
  if (layer < 1 || layer > stack.layers()) {
    throw Error(path + ": layer " + std::to_string(layer) + " out of range 1.." +
                std::to_string(stack.layers()));
  }
  std::vector<Matrix> heads;
  for (int h = 0; h < stack.heads(); ++h) {
    heads.push_back(stack.head(layer - 1, h).template cast<double>());
  }
  return heads;
}

}  // namespace

void plot_head_grid(const AttentionStack& stack, int layer, const std::vector<std::string>& tokens,
                    const std::string& path, const HeadGridOptions& options) {
  validate(stack, AttentionCheck::any_sign(path));
  Grid g;
  g.heads = layer_heads(stack, layer, path);
  g.row_labels = g.column_labels = token_labels(tokens, stack.tokens(), path);
  g.row_axis = "query token";
  g.column_axis = "key token";
  g.title = "Layer " + std::to_string(layer) + ": attention of each head";
  draw_grid(g, path, options);
}

void plot_head_grid(const CrossAttentionStack& stack, int layer,
                    const std::vector<std::string>& decoder_tokens,
                    const std::vector<std::string>& encoder_tokens, const std::string& path,
                    const HeadGridOptions& options) {
  validate(stack, AttentionCheck::any_sign(path));
  Grid g;
  g.heads = layer_heads(stack, layer, path);
  g.row_labels = token_labels(decoder_tokens, stack.queries(), path);
  g.column_labels = token_labels(encoder_tokens, stack.keys(), path);
  g.row_axis = "decoder token";
  g.column_axis = "encoder token";
  g.title = "Layer " + std::to_string(layer) + ": cross-attention of each head";
  draw_grid(g, path, options);
}

}  // namespace attnflow::plot
