// Cell grids for the heatmap figures.
#include "heatmap_cells.hpp"

#include <gnuplot-iostream.h>
#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

#include "attnflow/core/error.hpp"

namespace attnflow::plot::detail {

std::string tic_command(const char* axis, const Tics& t) {
  if (t.labels.empty()) return std::string("unset ") + axis + "tics\n";
  std::string list = "(";
  for (std::size_t k = 0; k < t.labels.size(); k += static_cast<std::size_t>(t.step)) {
    if (k) list += ", ";
    list += quote_tic(t.labels[k]) + " " + std::to_string(k);
  }
  list += ")";
  return std::string("set ") + axis + "tics " + list +
         (t.rotate ? " rotate by 90 right" : " norotate") + " nomirror textcolor rgb 'black'\n";
}

void require_finite(const Matrix& matrix, const std::string& what) {
  for (Eigen::Index i = 0; i < matrix.rows(); ++i) {
    for (Eigen::Index j = 0; j < matrix.cols(); ++j) {
      if (!std::isfinite(matrix(i, j))) {
        throw Error(what + " value at (" + std::to_string(i) + ", " + std::to_string(j) + ") is " +
                    num(matrix(i, j)));
      }
    }
  }
}

std::pair<double, double> value_range(const std::vector<Cell>& cells) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (const Cell& c : cells) {
    if (std::isnan(c.value)) continue;
    lo = std::min(lo, c.value);
    hi = std::max(hi, c.value);
  }
  if (lo > hi) return {0.0, 0.0};
  return {lo, hi};
}

double x_tics_extent_upright(const std::vector<std::string>& labels, const Canvas& c) {
  if (labels.empty()) return 0.0;
  return std::max(c.char_width() * max_text_length(labels), c.line_height()) + 1.0 * c.font_size;
}

Tics x_tics(const std::vector<std::string>& labels, double cell_px, const Canvas& c) {
  Tics t;
  t.labels = labels;
  if (labels.empty()) return t;
  const double wide = c.char_width() * max_text_length(labels) + 0.4 * c.font_size;
  t.rotate = wide > cell_px;
  const double need = t.rotate ? 1.2 * c.font_size : wide;
  t.step = std::max(1, static_cast<int>(std::ceil(need / std::max(cell_px, 1.0))));
  t.extent = t.rotate ? x_tics_extent_upright(labels, c) : c.line_height() + 0.8 * c.font_size;
  return t;
}

Tics y_tics(const std::vector<std::string>& labels, double cell_px, const Canvas& c) {
  Tics t;
  t.labels = labels;
  if (labels.empty()) return t;
  t.step = std::max(1, static_cast<int>(std::ceil(1.2 * c.font_size / std::max(cell_px, 1.0))));
  t.extent = c.char_width() * max_text_length(labels) + 1.2 * c.font_size;
  return t;
}

std::string panel_commands(const Canvas& c, const Panel& p, const Tics& x, const Tics& y,
                           const std::string& x_title, const std::string& y_title,
                           const std::string& panel_title) {
  const auto sx = [&c](double px) { return num(px / c.width); };
  const auto sy = [&c](double py) { return num(1.0 - py / c.height); };
  std::string out = panel_margins(c, p.left, p.top, p.width, p.height);
  out += "unset key\nunset title\nunset xlabel\nunset ylabel\nunset label\n";
  out += "set tics scale 0\nset border lw 0.5 lc rgb '#808080'\nset cbtics textcolor rgb 'black'\n";
  out += tic_command("x", x) + tic_command("y", y);
  if (!x_title.empty()) {
    out += "set label 11 " + quote(x_title) + " at screen " + sx(p.left + p.width / 2) + "," +
           sy(p.top + p.height + x.extent + 0.5 * c.font_size + 0.5 * c.line_height()) +
           " center\n";
  }
  if (!y_title.empty()) {
    out += "set label 12 " + quote(y_title) + " at screen " +
           sx(p.left - y.extent - 0.5 * c.font_size - 0.5 * c.line_height()) + "," +
           sy(p.top + p.height / 2) + " center rotate by 90\n";
  }
  if (!panel_title.empty()) {
    out += "set label 13 " + quote(panel_title) + " at screen " + sx(p.left + p.width / 2) + "," +
           sy(p.top - 0.6 * c.line_height()) + " center font " +
           quote("," + num(c.font_size * 1.1)) + "\n";
  }
  return out;
}

void plot_cells(Gnuplot& gp, const std::vector<Cell>& cells, const ResolvedScale& scale,
                bool values, const std::string& value_format, double value_font_size) {
  std::vector<std::tuple<int, int, double>> boxes;
  std::vector<std::tuple<int, int, double, int>> texts;
  for (const Cell& c : cells) {
    if (std::isnan(c.value)) continue;
    boxes.emplace_back(c.x, c.y, c.value);
    texts.emplace_back(c.x, c.y, c.value, scale.text_color(c.value));
  }
  gp << "plot '-' using 1:2:(0.51):(0.51):3 with boxxyerror fs solid 1.0 noborder lc palette "
        "notitle";
  if (values) {
    gp << ", '-' using 1:2:(sprintf(" << quote(value_format)
       << ", $3)):4 with labels tc rgb variable font " << quote("," + num(value_font_size))
       << " notitle";
  }
  gp << "\n";
  gp.send1d(boxes);
  if (values) gp.send1d(texts);
}

}  // namespace attnflow::plot::detail
