// float16 conversion: exhaustive over all 65536 halves, rounding cases, and
// the vectorised path against the scalar one.
#include "attnflow/io/float16.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace attnflow::io {
namespace {

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

TEST(Float16, EveryHalfRoundTripsExactly) {
  std::vector<std::uint16_t> all(65536);
  for (std::uint32_t h = 0; h < 65536; ++h) all[h] = static_cast<std::uint16_t>(h);
  std::vector<float> floats(all.size());
  halves_to_floats(all.data(), floats.data(), all.size());
  std::vector<std::uint16_t> back(all.size());
  floats_to_halves(floats.data(), back.data(), all.size());
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const float scalar = half_to_float(static_cast<std::uint16_t>(h));
    ASSERT_EQ(bits(scalar), bits(floats[h])) << "half 0x" << std::hex << h;
    if (std::isnan(scalar)) {
      EXPECT_TRUE((back[h] & 0x7c00u) == 0x7c00u && (back[h] & 0x3ffu) != 0) << std::hex << h;
    } else {
      EXPECT_EQ(back[h], h) << "half 0x" << std::hex << h;
      EXPECT_EQ(float_to_half(scalar), h);
    }
  }
}

TEST(Float16, KnownValuesAndRounding) {
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  EXPECT_EQ(float_to_half(-2.0f), 0xc000);
  EXPECT_EQ(float_to_half(0.0f), 0x0000);
  EXPECT_EQ(float_to_half(-0.0f), 0x8000);
  EXPECT_EQ(float_to_half(65504.0f), 0x7bff);
  EXPECT_EQ(float_to_half(65519.0f), 0x7bff);  // below the halfway point to 65536
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // ties to even -> infinity
  EXPECT_EQ(float_to_half(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -24)), 0x0001);         // smallest subnormal
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -25)), 0x0000);         // tie -> even (zero)
  EXPECT_EQ(float_to_half(std::ldexp(3.0f, -26)), 0x0001);         // above the tie
  EXPECT_EQ(float_to_half(std::ldexp(1.0f, -14)), 0x0400);         // smallest normal
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie -> even
  EXPECT_EQ(float_to_half(1.0f + std::ldexp(3.0f, -11)), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(float_to_half(0.1f), 0x2e66);
  EXPECT_EQ(half_to_float(0x3555), 0.333251953125f);
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::nanf("")))));
}

TEST(Float16, VectorPathMatchesScalarOnRandomFloats) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint32_t> any;
  std::vector<float> v(100003);
  for (float& f : v) {
    std::uint32_t u = any(rng);
    // Mostly the range that matters (|x| < 2^17), plus any bit pattern.
    if (u % 4 != 0) u = (u & 0x80ffffffu) | (((u >> 24) % 50 + 95) << 23);
    std::memcpy(&f, &u, 4);
  }
  std::vector<std::uint16_t> fast(v.size());
  floats_to_halves(v.data(), fast.data(), v.size());
  for (std::size_t k = 0; k < v.size(); ++k) {
    const std::uint16_t slow = float_to_half(v[k]);
    if (std::isnan(v[k])) continue;  // payloads may differ; NaN-ness checked above
    ASSERT_EQ(fast[k], slow) << "value " << v[k] << " at " << k;
  }
}

}  // namespace
}  // namespace attnflow::io
