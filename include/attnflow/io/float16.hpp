// IEEE 754 binary16 ("half", numpy float16) conversion for the float16
// storage precision of the HDF5 store: float32 -> float16 rounds to nearest
// even; float16 -> float32 is exact. Uses F16C instructions when the CPU has them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace attnflow::io {

/// Largest finite float16 value.
inline constexpr float kFloat16Max = 65504.0f;

/// One value, float32 -> float16 bits (round to nearest even; values beyond
/// kFloat16Max become infinity, NaN stays NaN).
std::uint16_t float_to_half(float value);
/// One value, float16 bits -> float32 (exact).
float half_to_float(std::uint16_t bits);

/// Converts `count` values. Callers that must not overflow check the range
/// first (see the store writer, which rejects |x| > kFloat16Max).
void floats_to_halves(const float* in, std::uint16_t* out, std::size_t count);
void halves_to_floats(const std::uint16_t* in, float* out, std::size_t count);

}  // namespace attnflow::io
