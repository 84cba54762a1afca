// The header of a .npy file: the Python dict literal {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), } parsed by a bounded, non-recursive scanner (no std::regex on untrusted
// input). Private to attnflow::io.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace attnflow::io::detail {

struct NpyHeader {
  std::string descr;  ///< e.g. "<f4"
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;  ///< () is a scalar
};

/// Most dimensions a header may give (NumPy's own limit, NPY_MAXDIMS, is 32 or 64).
inline constexpr std::size_t kNpyMaxDims = 64;

/// Longest header read_npy accepts (NumPy's own writer stays far below; its reader allows 10^4).
inline constexpr std::size_t kNpyMaxHeaderBytes = std::size_t{1} << 20;

/// Parses `text`. Exactly the keys descr, fortran_order and shape, each once; descr a string,
/// fortran_order True or False, shape a tuple of decimal integers below 2^63. Throws Error
/// "<path>: header: <what is wrong>" naming the character offset.
NpyHeader parse_npy_header(std::string_view text, const std::string& path);

}  // namespace attnflow::io::detail
