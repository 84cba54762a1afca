// float16 (core/util/float16): hand-computed bit patterns for rounding, subnormals,
// infinities and NaN; exhaustive over all 65536 halves; the vectorised path bit for bit
// against the scalar one.
#include "attnflow/core/util/float16.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace attnflow {
namespace {

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(Float16, HandComputedBitPatterns) {
  // float32 bits -> float16 bits, worked out by hand (sign | exponent + 15 | 10-bit mantissa).
  struct Case {
    std::uint32_t in;
    std::uint16_t out;
  };
  const Case cases[] = {
      {0x3f800000u, 0x3c00},  // 1
      {0xc0000000u, 0xc000},  // -2
      {0x00000000u, 0x0000},  // +0
      {0x80000000u, 0x8000},  // -0
      {0x477fe000u, 0x7bff},  // 65504, the largest finite half
      {0x477fefffu, 0x7bff},  // just below the halfway point to 65536
      {0x477ff000u, 0x7c00},  // 65520: tie, rounds to even = infinity
      {0x7f800000u, 0x7c00},  // +inf
      {0xff800000u, 0xfc00},  // -inf
      {0x7f7fffffu, 0x7c00},  // FLT_MAX overflows to inf
      {0x38800000u, 0x0400},  // 2^-14, the smallest normal half
      {0x387fc000u, 0x03ff},  // 2^-14 - 2^-24, the largest subnormal
      {0x33800000u, 0x0001},  // 2^-24, the smallest subnormal
      {0x33000000u, 0x0000},  // 2^-25: tie between 0 and 2^-24, to even (0)
      {0x33000001u, 0x0001},  // just above the tie
      {0x33c00000u, 0x0002},  // 1.5 * 2^-24: tie between 1 and 2, to even (2)
      {0x3f801000u, 0x3c00},  // 1 + 2^-11: tie, mantissa stays even
      {0x3f803000u, 0x3c02},  // 1 + 3 * 2^-11: tie, odd mantissa rounds up
      {0x3f801001u, 0x3c01},  // just above the tie
      {0x3dcccccdu, 0x2e66},  // 0.1
      {0x7fc00000u, 0x7e00},  // the default quiet NaN
      {0xffc00000u, 0xfe00},  // negative quiet NaN keeps its sign
      {0x7f800001u, 0x7e00},  // signalling NaN, payload below the kept bits: quiet NaN
      {0x7fa00000u, 0x7f00},  // signalling NaN 0x200000: quieted, top payload bit kept
      {0x7f802000u, 0x7e01},  // lowest kept payload bit
  };
  for (const Case& c : cases) {
    EXPECT_EQ(float_to_half(from_bits(c.in)), c.out) << std::hex << "float 0x" << c.in;
    std::uint16_t vec = 0;
    const float f = from_bits(c.in);
    floats_to_halves(&f, &vec, 1);
    EXPECT_EQ(vec, c.out) << std::hex << "float 0x" << c.in;
  }
  // float16 bits -> float32 bits.
  const Case back[] = {
      {0x3f800000u, 0x3c00}, {0x80000000u, 0x8000}, {0x477fe000u, 0x7bff},
      {0x7f800000u, 0x7c00}, {0xff800000u, 0xfc00}, {0x33800000u, 0x0001},
      {0x387fc000u, 0x03ff}, {0x3eaaa000u, 0x3555},  // 0.333251953125
      {0x7fc00000u, 0x7e00},                         // quiet NaN
      {0x7fc02000u, 0x7c01},                         // signalling NaN comes out quiet
      {0xffe00000u, 0xff00},
  };
  for (const Case& c : back) {
    EXPECT_EQ(bits(half_to_float(c.out)), c.in) << std::hex << "half 0x" << c.out;
  }
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
    // A NaN comes back quiet (bit 0x200 set), the rest of its payload kept.
    const bool nan = std::isnan(scalar);
    const std::uint16_t want = static_cast<std::uint16_t>(nan ? h | 0x200u : h);
    EXPECT_EQ(back[h], want) << "half 0x" << std::hex << h;
    EXPECT_EQ(float_to_half(scalar), want) << "half 0x" << std::hex << h;
  }
}

TEST(Float16, VectorPathMatchesScalarBitForBit) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint32_t> any;
  std::vector<float> v(100003);
  for (float& f : v) {
    std::uint32_t u = any(rng);
    // Mostly the range that matters (|x| < 2^17), plus any bit pattern (NaNs included).
    if (u % 4 != 0) u = (u & 0x80ffffffu) | (((u >> 24) % 50 + 95) << 23);
    std::memcpy(&f, &u, 4);
  }
  std::vector<std::uint16_t> fast(v.size());
  floats_to_halves(v.data(), fast.data(), v.size());
  for (std::size_t k = 0; k < v.size(); ++k) {
    ASSERT_EQ(fast[k], float_to_half(v[k])) << std::hex << "float 0x" << bits(v[k]) << " at " << k;
  }
}

TEST(Float16, LargestFiniteIsTheLimit) {
  EXPECT_EQ(half_to_float(0x7bff), kFloat16Max);
  EXPECT_TRUE(
      std::isinf(half_to_float(float_to_half(std::nextafter(kFloat16Max, INFINITY) + 16.0f))));
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::numeric_limits<float>::quiet_NaN()))));
}

}  // namespace
}  // namespace attnflow
