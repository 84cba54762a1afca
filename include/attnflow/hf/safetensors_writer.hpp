// Writing safetensors files, for our own trained models and for tests. The header is padded
// to 8 bytes and tensors are laid out by element size, then name, so every tensor is aligned.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "attnflow/hf/dtype.hpp"

namespace attnflow::hf {

/// A tensor to write: its little-endian bytes, shape x dtype_size(dtype) of them.
struct TensorData {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;
};

/// Converts float32 values to `dtype` (F16, BF16, F32 or F64; F16/BF16 round to nearest even).
/// Throws Error when values.size() does not match the shape or dtype is not a float type.
TensorData float_tensor(std::string name, std::vector<std::int64_t> shape,
                        const std::vector<float>& values, Dtype dtype = Dtype::F32);

/// Converts int64 values to an integer `dtype` (BOOL, I8...U64). Throws Error when a value does
/// not fit the dtype or the count does not match the shape.
TensorData int_tensor(std::string name, std::vector<std::int64_t> shape,
                      const std::vector<std::int64_t>& values, Dtype dtype = Dtype::I64);

struct SafetensorsWriteOptions {
  std::map<std::string, std::string> metadata = {{"format", "pt"}};  ///< "__metadata__"
};

/// Writes `tensors` to `path` through "<path>.partial", renamed when complete. Throws Error
/// for duplicate or empty names, "__metadata__" as a name, negative dimensions, or a byte
/// count that does not match shape x dtype.
void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const SafetensorsWriteOptions& options = {});

}  // namespace attnflow::hf
