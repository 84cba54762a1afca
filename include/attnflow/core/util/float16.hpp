// IEEE 754 binary16 ("half", numpy float16) <-> float32, the one implementation used by
// the HDF5 store (float16 precision) and safetensors (F16). float32 -> float16 rounds to
// nearest, ties to even; values beyond kFloat16Max round to infinity; subnormals are
// exact; a NaN stays NaN and comes out quiet, with the top bits of its payload (as the x86
// F16C instructions do, which the bulk conversions use when the CPU has them).
#pragma once

#include <cstddef>
#include <cstdint>

namespace attnflow {

/// Largest finite float16 value.
inline constexpr float kFloat16Max = 65504.0f;

/// One value, float32 -> float16 bits.
std::uint16_t float_to_half(float value);
/// One value, float16 bits -> float32 (exact; a signalling NaN comes out quiet).
float half_to_float(std::uint16_t bits);

/// Converts `count` values, bit for bit as the scalar functions do. Callers that must not
/// overflow check the range first (the store writer rejects |x| > kFloat16Max).
void floats_to_halves(const float* in, std::uint16_t* out, std::size_t count);
void halves_to_floats(const std::uint16_t* in, float* out, std::size_t count);

}  // namespace attnflow
