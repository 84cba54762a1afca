// Private to attnflow::plot: the cell grids shared by the heatmap figures
// (single heatmap, head grid, target-row maps): validation, value range,
// tic labels sized to the cells, panel placement, and the plot command.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "attnflow/core/types.hpp"
#include "render.hpp"

namespace attnflow::plot::detail {

struct Cell {
  int x = 0;         ///< column (key token / token)
  int y = 0;         ///< row (query token / layer)
  double value = 0;  ///< NaN cells are not drawn
};

/// Throws Error("<what> value at (i, j) is <v>") for the first NaN/Inf.
void require_finite(const Matrix& matrix, const std::string& what);

/// Smallest and largest non-NaN value (0, 0 when there is none).
std::pair<double, double> value_range(const std::vector<Cell>& cells);

/// How the tic labels of one axis fit cells of `cell_px` pixels: x labels
/// are turned upright when they are wider than a cell; when labels are
/// taller than a cell only every `step`-th is drawn.
struct Tics {
  std::vector<std::string> labels;  ///< empty: no tics on this axis
  bool rotate = false;
  int step = 1;
  double extent = 0;  ///< pixels the labels take away from the panel
};
Tics x_tics(const std::vector<std::string>& labels, double cell_px, const Canvas& canvas);
Tics y_tics(const std::vector<std::string>& labels, double cell_px, const Canvas& canvas);
/// "set <axis>tics (...)" for `t` (every step-th label), or "unset <axis>tics".
std::string tic_command(const char* axis, const Tics& t);
/// Space the x labels need in the worst case (upright), for sizing.
double x_tics_extent_upright(const std::vector<std::string>& labels, const Canvas& canvas);

/// A panel in pixels (from the left and from the top of the figure).
struct Panel {
  double left = 0, top = 0, width = 0, height = 0;
};

/// Commands for one panel of cells: margins, tics, axis titles (as screen
/// labels at known places, "" = none), panel title above it.
std::string panel_commands(const Canvas& canvas, const Panel& panel, const Tics& x, const Tics& y,
                           const std::string& x_title, const std::string& y_title,
                           const std::string& panel_title);

/// "plot" of filled unit cells coloured by the palette, and optionally the
/// value printed in each (in a colour readable on the cell), with the data.
void plot_cells(Gnuplot& gp, const std::vector<Cell>& cells, const ResolvedScale& scale,
                bool values, const std::string& value_format, double value_font_size);

}  // namespace attnflow::plot::detail
