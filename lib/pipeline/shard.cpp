// Shard specs, cost-balanced contiguous ranges, shard file names.
#include "attnflow/pipeline/shard.hpp"

#include <cmath>
#include <cstdlib>

#include "attnflow/core/error.hpp"

namespace attnflow::pipeline {

namespace {

/// A non-negative decimal integer that fits an int, or -1.
long parse_count(const std::string& s) {
  if (s.empty() || s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) {
    return -1;
  }
  return std::strtol(s.c_str(), nullptr, 10);
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const std::size_t slash = text.find('/');
  const long k = slash == std::string::npos ? -1 : parse_count(text.substr(0, slash));
  const long n = slash == std::string::npos ? -1 : parse_count(text.substr(slash + 1));
  if (k < 0 || n < 0) {
    throw Error("--shard " + text + ": not K/N (shard K of N, 0 <= K < N, e.g. 0/4)");
  }
  if (n == 0) throw Error("--shard " + text + ": N must be at least 1");
  if (k >= n) {
    throw Error("--shard " + text + ": K must be less than N (shards are numbered 0 to " +
                std::to_string(n - 1) + ")");
  }
  return Shard{static_cast<int>(k), static_cast<int>(n)};
}

std::string to_string(const Shard& shard) {
  return std::to_string(shard.index) + "/" + std::to_string(shard.count);
}

std::vector<ExampleRange> balanced_ranges(const std::vector<double>& costs, int count) {
  if (count < 1) throw Error("shards: count is " + std::to_string(count) + " (expected >= 1)");
  const auto units = static_cast<std::int64_t>(costs.size());
  std::vector<double> prefix(costs.size() + 1, 0.0);  // prefix[i] = cost of units 0..i-1
  for (std::size_t i = 0; i < costs.size(); ++i) prefix[i + 1] = prefix[i] + costs[i];
  const double total = prefix.back();
  std::vector<ExampleRange> ranges(static_cast<std::size_t>(count));
  std::int64_t first = 0;
  for (int k = 0; k < count; ++k) {
    std::int64_t end = units;
    if (k + 1 < count) {
      const double goal = total * (k + 1) / count;
      end = first;  // the boundary whose prefix sum is nearest the goal (ties: the earlier)
      while (end < units && prefix[static_cast<std::size_t>(end + 1)] <= goal) ++end;
      if (end < units && std::fabs(prefix[static_cast<std::size_t>(end + 1)] - goal) <
                             std::fabs(goal - prefix[static_cast<std::size_t>(end)])) {
        ++end;
      }
    }
    ranges[static_cast<std::size_t>(k)] = ExampleRange{first, end};
    first = end;
  }
  return ranges;
}

double analysis_cost(std::int64_t tokens, bool flow) {
  const auto n = static_cast<double>(tokens);
  constexpr double kOverhead = 32.0;  // read, decode, commit: like the flow of 32 tokens
  return flow ? n * n * n + kOverhead * kOverhead * kOverhead : n * n + kOverhead * kOverhead;
}

std::string shard_path(const std::string& path, const Shard& shard) {
  const std::size_t slash = path.rfind('/');
  const std::size_t dot = path.rfind('.');
  const bool has_ext = dot != std::string::npos && (slash == std::string::npos || dot > slash + 1);
  const std::string stem = has_ext ? path.substr(0, dot) : path;
  const std::string ext = has_ext ? path.substr(dot) : std::string(".h5");
  return stem + ".shard-" + std::to_string(shard.index) + "-of-" + std::to_string(shard.count) +
         ext;
}

}  // namespace attnflow::pipeline
