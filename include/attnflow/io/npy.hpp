// Reading and writing NumPy .npy files (format 1.0-3.0, little-endian
// float32/float64, C order): the simple input of `attnflow analyze`.
#pragma once

#include <string>
#include <vector>

#include "attnflow/core/stack.hpp"

namespace attnflow::io {

struct NpyArray {
  std::vector<std::size_t> shape;
  std::vector<float> data;  ///< C order, converted to float32
};

/// Reads a float32/float64 array. Throws Error naming the file on a missing
/// file, bad magic or header, unsupported dtype, Fortran order or short data.
NpyArray read_npy(const std::string& path);

/// Writes a float32 array (C order) atomically: a temporary file renamed into
/// place, so a failed write never leaves a file that looks complete.
void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<float>& data);

/// An attention stack from a (L, H, n, n) or (L, n, n) array (H = 1).
AttentionStack read_attention_npy(const std::string& path);

/// Token labels, one per line (UTF-8). Throws Error when unreadable.
std::vector<std::string> read_token_lines(const std::string& path);

}  // namespace attnflow::io
