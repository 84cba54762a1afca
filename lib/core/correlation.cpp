// Pearson, Spearman (average ranks) and Kendall tau-b correlations.
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

}  // namespace

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
