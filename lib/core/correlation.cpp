// Pearson, Spearman (average ranks) and Kendall tau-b correlations; Spearman
// between methods per layer.
#include "attnflow/core/correlation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "attnflow/core/error.hpp"

namespace attnflow {
namespace {

void check_inputs(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  if (x.size() != y.size()) {
    throw Error(std::string(what) + ": inputs differ in length (" + std::to_string(x.size()) +
                " vs " + std::to_string(y.size()) + ")");
  }
  if (x.size() < 2) {
    throw Error(std::string(what) + ": need at least 2 values, got " + std::to_string(x.size()));
  }
  for (std::size_t k = 0; k < x.size(); ++k) {
    if (!std::isfinite(x[k]) || !std::isfinite(y[k])) {
      throw Error(std::string(what) + ": value " + std::to_string(k) + " is not finite");
    }
  }
}

double pearson_unchecked(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0.0, sxx = 0.0, syy = 0.0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    const double dx = x[k] - mx, dy = y[k] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0.0 || syy == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

// Index of token row `target_row` in each method's maps, after checking that
// every method has it and that all maps are `n` columns wide; returns n.
Eigen::Index check_methods(const std::vector<NamedMaps>& methods, int target_row,
                           std::vector<Eigen::Index>& rows, const std::string& what) {
  if (methods.size() < 2) throw Error(what + ": correlations need at least 2 methods");
  Eigen::Index n = -1;
  for (const NamedMaps& m : methods) {
    const auto it = std::find(m.maps.rows.begin(), m.maps.rows.end(), target_row);
    if (it == m.maps.rows.end()) {
      throw Error(what + ": " + m.name + " has no target row " + std::to_string(target_row));
    }
    rows.push_back(static_cast<Eigen::Index>(it - m.maps.rows.begin()));
    if (m.maps.layers.size() != m.maps.maps.size()) {
      throw Error(what + ": " + m.name + " has " + std::to_string(m.maps.layers.size()) +
                  " layer numbers for " + std::to_string(m.maps.maps.size()) + " maps");
    }
    for (const Matrix& a : m.maps.maps) {
      if (n < 0) n = a.cols();
      if (a.cols() != n || a.rows() <= rows.back()) {
        throw Error(what + ": " + m.name + " maps do not match " + methods.front().name +
                    " in size");
      }
    }
  }
  if (n < 0) throw Error(what + ": no maps");
  return n;
}

// Row `ra` of a and row `rb` of b over `columns` at every layer both report.
LayerCorrelation correlate(const NamedMaps& a, Eigen::Index ra, const NamedMaps& b, Eigen::Index rb,
                           const std::vector<int>& columns) {
  LayerCorrelation s{a.name + " vs " + b.name, {}, {}};
  for (std::size_t ka = 0; ka < a.maps.layers.size(); ++ka) {
    const auto it = std::find(b.maps.layers.begin(), b.maps.layers.end(), a.maps.layers[ka]);
    if (it == b.maps.layers.end()) continue;
    const auto kb = static_cast<std::size_t>(it - b.maps.layers.begin());
    std::vector<double> x, y;
    for (int j : columns) {
      x.push_back(a.maps.maps[ka](ra, j));
      y.push_back(b.maps.maps[kb](rb, j));
    }
    s.layers.push_back(a.maps.layers[ka]);
    s.values.push_back(spearman(x, y));
  }
  return s;
}

}  // namespace

std::vector<LayerCorrelation> method_correlations(const std::vector<NamedMaps>& methods,
                                                  int target_row, const std::vector<int>& columns,
                                                  const std::string& what) {
  std::vector<Eigen::Index> rows;
  const Eigen::Index n = check_methods(methods, target_row, rows, what);
  std::vector<int> keep = columns;
  if (keep.empty()) {
    for (int j = 0; j < static_cast<int>(n); ++j) keep.push_back(j);
  }
  for (int j : keep) {
    if (j < 0 || j >= n) {
      throw Error(what + ": token column " + std::to_string(j) + " out of range (maps have " +
                  std::to_string(n) + " columns)");
    }
  }
  if (keep.size() < 2) throw Error(what + ": correlations need at least 2 tokens");
  std::vector<LayerCorrelation> out;
  for (std::size_t a = 0; a < methods.size(); ++a) {
    for (std::size_t b = a + 1; b < methods.size(); ++b) {
      out.push_back(correlate(methods[a], rows[a], methods[b], rows[b], keep));
    }
  }
  return out;
}

std::vector<double> average_ranks(const std::vector<double>& values) {
  std::vector<std::size_t> order(values.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (std::size_t start = 0; start < order.size();) {
    std::size_t end = start + 1;
    while (end < order.size() && values[order[end]] == values[order[start]]) ++end;
    const double rank = 0.5 * static_cast<double>(start + end - 1) + 1.0;  // mean of start+1..end
    for (std::size_t k = start; k < end; ++k) ranks[order[k]] = rank;
    start = end;
  }
  return ranks;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  check_inputs(x, y, "pearson");
  return pearson_unchecked(x, y);
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  check_inputs(x, y, "spearman");
  return pearson_unchecked(average_ranks(x), average_ranks(y));
}

double kendall(const std::vector<double>& x, const std::vector<double>& y) {
  check_inputs(x, y, "kendall");
  // tau-b = (C - D) / sqrt((n0 - n1)(n0 - n2)), counted over all pairs.
  double concordant_minus_discordant = 0.0, untied_x = 0.0, untied_y = 0.0;
  for (std::size_t a = 0; a < x.size(); ++a) {
    for (std::size_t b = a + 1; b < x.size(); ++b) {
      const double dx = x[a] - x[b], dy = y[a] - y[b];
      if (dx != 0.0) untied_x += 1.0;
      if (dy != 0.0) untied_y += 1.0;
      if (dx != 0.0 && dy != 0.0) concordant_minus_discordant += (dx > 0) == (dy > 0) ? 1.0 : -1.0;
    }
  }
  if (untied_x == 0.0 || untied_y == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return concordant_minus_discordant / std::sqrt(untied_x * untied_y);
}

}  // namespace attnflow
