// Rank and linear correlations for comparing relevance maps of two methods:
// Spearman (average ranks for ties), Pearson and Kendall tau-b.
#pragma once

#include <vector>

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

}  // namespace attnflow
