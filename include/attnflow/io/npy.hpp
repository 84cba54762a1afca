// Reading and writing NumPy .npy files (format 1.0-3.0, little-endian
// float32/float64, C order): the simple input of `attnflow analyze`.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "attnflow/core/cross_stack.hpp"
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

/// A cross-attention stack from a (L, H, m, n) or (L, m, n) array (H = 1): rows = decoder
/// tokens, columns = encoder tokens. Not validated (see validate(CrossAttentionStack)).
CrossAttentionStack read_cross_attention_npy(const std::string& path);

/// Token labels, one per line (UTF-8). Throws Error when unreadable.
std::vector<std::string> read_token_lines(const std::string& path);

/// One example given as .npy files: the attention stack (validated:
/// finite, non-negative), an optional gradient stack of the same shape
/// (finite) and optional token labels (one per token).
struct NpyExample {
  AttentionStack attention;
  std::unique_ptr<AttentionStack> gradient;  ///< null when no gradient file
  std::vector<std::string> tokens;           ///< empty when no token file
};

/// Reads and validates an NpyExample; empty paths mean "not given". Errors
/// name the file that is wrong.
NpyExample read_npy_example(const std::string& attention_path, const std::string& gradient_path,
                            const std::string& tokens_path);

}  // namespace attnflow::io
