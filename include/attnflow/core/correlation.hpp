// Rank and linear correlations for comparing relevance maps of two methods:
// Spearman (average ranks for ties), Pearson and Kendall tau-b, and the
// per-layer Spearman correlations between the methods of one analysis.
#pragma once

#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"

namespace attnflow {

/// Pearson's r. NaN when either input is constant. Throws Error on size
/// mismatch, fewer than 2 values, or NaN/Inf input.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
/// Spearman's rho: Pearson on average ranks (ties share their mean rank).
double spearman(const std::vector<double>& x, const std::vector<double>& y);
/// Kendall's tau-b (tie-corrected), O(n^2).
double kendall(const std::vector<double>& x, const std::vector<double>& y);

/// Average ranks (1-based; ties get the mean of their positions).
std::vector<double> average_ranks(const std::vector<double>& values);

/// Per-layer Spearman correlations between two methods of one example.
struct LayerCorrelation {
  std::string name;            ///< "<a> vs <b>"
  std::vector<int> layers;     ///< 1-based layers both methods report (in a's order)
  std::vector<double> values;  ///< Spearman rho per layer (NaN when a row is constant)
};

/// Spearman correlation of token row `target_row` between every pair of
/// `methods` (a before b in the given order) at each layer both report, over
/// the token columns `columns` (empty = all). Throws Error naming `what` on
/// fewer than 2 methods, a method without the row, maps of different sizes,
/// a column out of range, or fewer than 2 columns.
std::vector<LayerCorrelation> method_correlations(const std::vector<NamedMaps>& methods,
                                                  int target_row, const std::vector<int>& columns,
                                                  const std::string& what);

}  // namespace attnflow
