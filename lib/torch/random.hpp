// Internal to attnflow::torch: platform-independent draws from a std::mt19937_64 (the standard
// distributions differ between standard libraries), for training and sampling.
#pragma once

#include <cstdint>
#include <random>

namespace attnflow::torch::detail {

/// Uniform in 0..bound-1 (bound > 0): rejection sampling on 64-bit words.
inline std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t x = rng();
  while (x >= limit) x = rng();
  return x % bound;
}

/// Uniform in [0, 1) with 53 random bits.
inline double draw_unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

}  // namespace attnflow::torch::detail
