// Token x token heatmap of one attention matrix (one head, or a fused or
// prepared layer): query tokens on y (first token at the top), key tokens on
// x, an optional value in every cell, and a colour bar.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "attnflow/core/types.hpp"
#include "attnflow/plot/color_scale.hpp"
#include "attnflow/plot/figure.hpp"

namespace attnflow::plot {

struct HeatmapOptions {
  FigureOptions figure;  ///< size, font, title (automatic: "Attention")
  ColorScale colors;
  /// Print the value in each cell (automatic for up to 16 visible tokens).
  enum class Values { Auto, Show, Hide } values = Values::Auto;
  std::string value_format = "%.2f";  ///< printf format of the cell values
  /// Labels of tokens whose rows and columns are left out (e.g. special_tokens()).
  std::set<std::string> hide_tokens;
  std::string x_label = "key token";
  std::string y_label = "query token";
};

/// Draws `matrix` (n x n, finite values) with `tokens` (n labels, or empty
/// for indices) into `path` (.png, .svg or .pdf). Throws Error naming `path`
/// on bad input or when gnuplot fails.
void plot_heatmap(const Matrix& matrix, const std::vector<std::string>& tokens,
                  const std::string& path, const HeatmapOptions& options = {});

/// The same for an m x n matrix with its own row and column labels (e.g. cross-attention:
/// decoder tokens as rows, encoder tokens as columns; set x_label / y_label to say so);
/// hide_tokens applies to both. Square cells; values shown automatically for up to 16
/// visible tokens on the longer side.
void plot_heatmap(const Matrix& matrix, const std::vector<std::string>& row_tokens,
                  const std::vector<std::string>& column_tokens, const std::string& path,
                  const HeatmapOptions& options = {});

/// Draws a table `values` (rows x cols, finite; e.g. layer x head) as a heatmap with square
/// cells: `row_labels` on y (first row at the top), `col_labels` on x, the values printed in
/// the cells (Values::Auto: up to 16 columns and rows). options.hide_tokens is not used.
/// Throws Error naming `path` on an empty table, label counts that do not match, or when
/// gnuplot fails.
void plot_table_heatmap(const Matrix& values, const std::vector<std::string>& row_labels,
                        const std::vector<std::string>& col_labels, const std::string& path,
                        const HeatmapOptions& options = {});

}  // namespace attnflow::plot
