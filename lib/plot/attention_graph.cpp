// The layered attention graph (Abnar & Zuidema 2020, Figure 1).
#include "attnflow/plot/attention_graph.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

#include "attnflow/core/error.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "heatmap_cells.hpp"
#include "render.hpp"

namespace attnflow::plot {
namespace {

struct Edge {
  int from_x, from_y, to_x, to_y;
  double weight;
};

// '#AARRGGBB' (gnuplot: AA = transparency) of the edge colour for a weight
// share t in [0, 1]: light and translucent for weak edges, dark for strong.
std::string edge_color(double t) {
  const double opacity = 0.30 + 0.70 * t;
  const int alpha = static_cast<int>(std::lround(255.0 * (1.0 - opacity)));
  // from #6baed6 (weak) to #08306b (strong)
  const auto mix = [t](int a, int b) { return static_cast<int>(std::lround(a + (b - a) * t)); };
  char buf[16];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x%02x", alpha, mix(0x6b, 0x08), mix(0xae, 0x30),
                mix(0xd6, 0x6b));
  return buf;
}

}  // namespace

void plot_attention_graph(const LayerMatrices& layers, const std::vector<std::string>& tokens,
                          const std::string& path, const AttentionGraphOptions& options) {
  validate(layers, path);
  if (!(options.min_weight >= 0.0) || !std::isfinite(options.min_weight)) {
    throw Error(path + ": min_weight must be finite and >= 0, got " +
                detail::num(options.min_weight));
  }
  if (!(options.max_line_width > 0.0) || !std::isfinite(options.max_line_width)) {
    throw Error(path + ": max_line_width must be > 0, got " + detail::num(options.max_line_width));
  }
  const int n = static_cast<int>(layers.front().rows());
  const int num_layers = static_cast<int>(layers.size());
  const std::vector<std::string> labels = token_labels(tokens, n, path);
  const std::vector<int> keep = visible_tokens(labels, options.hide_tokens, path);
  const int m = static_cast<int>(keep.size());
  std::vector<std::string> shown;
  for (int i : keep) shown.push_back(detail::shorten(labels[static_cast<std::size_t>(i)]));

  std::vector<Edge> edges;
  double largest = 0.0;
  for (int l = 1; l <= num_layers; ++l) {
    const Matrix& a = layers[static_cast<std::size_t>(l - 1)];
    for (int xi = 0; xi < m; ++xi) {
      for (int xj = 0; xj < m; ++xj) {
        const double w = a(keep[static_cast<std::size_t>(xi)], keep[static_cast<std::size_t>(xj)]);
        if (w <= 0.0 || w < options.min_weight) continue;
        edges.push_back({xj, l - 1, xi, l, w});
        largest = std::max(largest, w);
      }
    }
  }
  const double full = std::isnan(options.max_weight) ? largest : options.max_weight;
  if (!(full > 0.0) && !edges.empty()) {
    throw Error(path + ": max_weight must be > 0, got " + detail::num(options.max_weight));
  }
  std::stable_sort(edges.begin(), edges.end(),
                   [](const Edge& a, const Edge& b) { return a.weight < b.weight; });

  std::vector<std::string> layer_labels = {"input"};
  for (int l = 1; l <= num_layers; ++l) layer_labels.push_back("L" + std::to_string(l));
  const detail::Canvas c0 = detail::sizing_canvas(options.figure);
  const double fs = c0.font_size;
  const double spacing = std::clamp(2000.0 / m, 1.5 * fs, 6.0 * fs);  // between tokens
  const int auto_w = static_cast<int>(std::max(48.0 * fs, m * spacing + 12.0 * fs));
  const int auto_h = static_cast<int>(num_layers * std::clamp(spacing, 4.0 * fs, 7.0 * fs) +
                                      detail::x_tics(shown, spacing, c0).extent + 12.0 * fs);
  std::string title = "Attention graph (edge width \xE2\x88\x9D weight";
  if (options.min_weight > 0.0)
    title += "; weights < " + detail::num(options.min_weight) + " hidden";
  title += ")";

  detail::render(
      path, options.figure, auto_w, auto_h, title, [&](Gnuplot& gp, const detail::Canvas& c) {
        gp << detail::chart_title(c);
        const double left = detail::y_tics(layer_labels, 1e9, c).extent + 2.0 * fs;
        const double gap = std::max(1.0, (c.width - left - 2.0 * fs) / (m + 0.2));
        const double row = (c.height - 12.0 * fs) / (num_layers + 0.5);
        gp << "unset key\nset tics scale 0\nunset border\n"
           << detail::tic_command("x", detail::x_tics(shown, gap, c))
           << detail::tic_command("y", detail::y_tics(layer_labels, row, c))
           << "set xrange [-0.6:" << detail::num(m - 0.4) << "]\n"
           << "set yrange [-0.25:" << detail::num(num_layers + 0.25) << "]\n"
           << "set xlabel 'token'\n";
        int tag = 1;
        for (const Edge& e : edges) {
          const double t = std::min(1.0, e.weight / full);
          gp << "set arrow " << tag++ << " from " << e.from_x << "," << e.from_y << " to " << e.to_x
             << "," << e.to_y << " nohead back lw "
             << detail::num(std::max(0.3, options.max_line_width * t)) << " lc rgb '"
             << edge_color(t) << "'\n";
        }
        std::vector<std::tuple<int, int>> nodes;
        for (int l = 0; l <= num_layers; ++l) {
          for (int x = 0; x < m; ++x) nodes.emplace_back(x, l);
        }
        gp << "plot '-' using 1:2 with points pt 7 ps "
           << detail::num(std::max(0.3, std::min(std::min(gap, row) / 30.0, c.font_size / 8.0)))
           << " lc rgb '#303030' notitle\n";
        gp.send1d(nodes);
      });
}

}  // namespace attnflow::plot
