// Element types of safetensors files ("F32", "BF16", ...) and the conversion
// between float32 and bfloat16 (IEEE half is in attnflow/core/util/float16.hpp).
// All multi-byte values in safetensors are little-endian, like the hosts we build for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "attnflow/core/util/float16.hpp"

namespace attnflow::hf {

enum class Dtype {
  Bool,
  U8,
  I8,
  F8_E5M2,
  F8_E4M3,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  I64,
  U64,
  F64,
};

/// The safetensors name: "F32", "BF16", "BOOL", ...
std::string_view dtype_name(Dtype dtype);

/// Parses a safetensors dtype name; nullopt for names we do not support
/// (e.g. the packed "F4"/"F6_*" types or complex "C64").
std::optional<Dtype> parse_dtype(std::string_view name);

/// Bytes per element.
std::size_t dtype_size(Dtype dtype);

/// True for F16, BF16, F32 and F64 (the types to_float32 converts).
bool is_float_dtype(Dtype dtype);

/// True for BOOL and the signed/unsigned integer types (the types to_int64 converts).
bool is_integer_dtype(Dtype dtype);

// IEEE half (F16): attnflow::float_to_half / half_to_float (attnflow/core/util/float16.hpp).
float bfloat16_to_float(std::uint16_t bits);
std::uint16_t float_to_bfloat16(float value);  ///< round to nearest even; NaN stays NaN

}  // namespace attnflow::hf
