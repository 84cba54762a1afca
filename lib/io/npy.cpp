// .npy reader/writer (NumPy format versions 1.0, 2.0 and 3.0).
#include "attnflow/io/npy.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "npy_header.hpp"

namespace attnflow::io {
namespace {

std::uint64_t read_le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int b = bytes - 1; b >= 0; --b) v = (v << 8) | p[b];
  return v;
}

/// "(2, 3)", "(2,)" or "()", as NumPy writes shapes.
std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

/// Bytes of a C-order array of `shape` with `item`-byte values; nullopt past 2^64.
std::optional<std::uint64_t> array_bytes(const std::vector<std::uint64_t>& shape, int item) {
  std::uint64_t n = static_cast<std::uint64_t>(item);
  bool overflow = false;
  for (std::uint64_t d : shape) {
    if (d == 0) return 0;
    overflow = __builtin_mul_overflow(n, d, &n) || overflow;
  }
  if (overflow) return std::nullopt;
  return n;
}

}  // namespace

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot open (" + std::strerror(errno) + ")");
  unsigned char magic[8];
  if (!in.read(reinterpret_cast<char*>(magic), 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    throw Error(path + ": not a .npy file (bad magic)");
  }
  const int major = magic[6];
  if (major < 1 || major > 3)
    throw Error(path + ": unsupported .npy version " + std::to_string(major));
  unsigned char len_bytes[4] = {0, 0, 0, 0};
  const int len_size = major == 1 ? 2 : 4;
  if (!in.read(reinterpret_cast<char*>(len_bytes), len_size))
    throw Error(path + ": truncated header");
  const std::uint64_t header_len = read_le(len_bytes, len_size);
  if (header_len > detail::kNpyMaxHeaderBytes) {
    throw Error(path + ": header length " + std::to_string(header_len) +
                " is implausible (the limit is " + std::to_string(detail::kNpyMaxHeaderBytes) +
                " bytes)");
  }
  std::string header(static_cast<std::size_t>(header_len), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_len))) {
    throw Error(path + ": truncated header");
  }
  const detail::NpyHeader h = detail::parse_npy_header(header, path);
  int item = 0;
  if (h.descr == "<f4" || h.descr == "=f4")
    item = 4;
  else if (h.descr == "<f8" || h.descr == "=f8")
    item = 8;
  else
    throw Error(path + ": dtype '" +
                (h.descr.size() > 40 ? h.descr.substr(0, 40) + "..." : h.descr) +
                "' unsupported (need little-endian float32 or float64)");
  if (h.fortran_order) {
    throw Error(path + ": Fortran-ordered arrays are unsupported (save with C order)");
  }

  // The data's size from the shape, checked against the file before anything is allocated.
  const std::uint64_t data_start = 8 + static_cast<std::uint64_t>(len_size) + header_len;
  in.seekg(0, std::ios::end);
  const auto end = static_cast<std::streamoff>(in.tellg());
  if (!in || end < static_cast<std::streamoff>(data_start)) {
    throw Error(path + ": cannot determine the file size");
  }
  const auto have = static_cast<std::uint64_t>(end) - data_start;
  const std::optional<std::uint64_t> need = array_bytes(h.shape, item);
  const std::string dtype = item == 4 ? "float32" : "float64";
  if (!need || *need > have) {
    throw Error(path + ": data truncated (the header's shape " + shape_text(h.shape) + " of " +
                dtype + " needs " + (need ? std::to_string(*need) : std::string("over 2^64")) +
                " bytes, the file has " + std::to_string(have) + ")");
  }
  if (*need < have) {
    throw Error(path + ": " + std::to_string(have - *need) +
                " bytes after the array data (the header's shape " + shape_text(h.shape) + " of " +
                dtype + " needs " + std::to_string(*need) + " bytes)");
  }
  in.seekg(static_cast<std::streamoff>(data_start));

  NpyArray out;
  out.shape.assign(h.shape.begin(), h.shape.end());
  const auto count = static_cast<std::size_t>(*need / static_cast<std::uint64_t>(item));
  out.data.resize(count);
  if (count == 0) return out;
  if (item == 4) {
    in.read(reinterpret_cast<char*>(out.data.data()), static_cast<std::streamsize>(count * 4));
  } else {
    // float64 in blocks, so the peak memory is the float32 result plus one block.
    constexpr std::size_t kBlock = 1 << 16;
    std::vector<double> block(std::min(count, kBlock));
    for (std::size_t done = 0; done < count && in;) {
      const std::size_t n = std::min(count - done, kBlock);
      in.read(reinterpret_cast<char*>(block.data()), static_cast<std::streamsize>(n * 8));
      for (std::size_t k = 0; k < n; ++k) out.data[done + k] = static_cast<float>(block[k]);
      done += n;
    }
  }
  if (!in) throw Error(path + ": read failed (" + std::strerror(errno) + ")");
  return out;
}

void write_npy(const std::string& path, const std::vector<std::size_t>& shape,
               const std::vector<float>& data) {
  std::string dims;
  std::size_t count = 1;
  for (std::size_t d : shape) {
    dims += std::to_string(d) + ",";
    count *= d;
  }
  if (count != data.size()) {
    throw Error(path + ": " + std::to_string(data.size()) + " values do not fill the shape");
  }
  if (shape.size() > 1) dims.pop_back();
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  const unsigned char prefix[10] = {0x93,
                                    'N',
                                    'U',
                                    'M',
                                    'P',
                                    'Y',
                                    1,
                                    0,
                                    static_cast<unsigned char>(header.size() & 0xff),
                                    static_cast<unsigned char>(header.size() >> 8)};
  AtomicFile file(path);
  std::ostream& out = file.stream();
  out.write(reinterpret_cast<const char*>(prefix), 10);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(data.data()),
            static_cast<std::streamsize>(data.size() * sizeof(float)));
  file.commit();
}

namespace {

// Shape of a (layers, rows, columns) or (layers, heads, rows, columns) stack in `a`.
struct StackShape {
  int layers = 0, heads = 0, rows = 0, columns = 0;
};

StackShape stack_shape(const NpyArray& a, const std::string& path, const std::string& what,
                       const std::string& axes) {
  const auto& s = a.shape;
  if (s.size() != 3 && s.size() != 4) {
    throw Error(path + ": " + what + " must have 3 (layers, " + axes + ") or 4 (layers, heads, " +
                axes + ") dimensions, got " + std::to_string(s.size()));
  }
  for (std::size_t d : s) {
    if (d > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
      throw Error(path + ": " + what + " dimension " + std::to_string(d) + " is implausibly large");
    }
  }
  StackShape out;
  out.layers = static_cast<int>(s[0]);
  out.heads = s.size() == 4 ? static_cast<int>(s[1]) : 1;
  out.rows = static_cast<int>(s[s.size() - 2]);
  out.columns = static_cast<int>(s.back());
  if (out.layers == 0 || out.heads == 0 || out.rows == 0 || out.columns == 0) {
    throw Error(path + ": empty " + what + " stack");
  }
  return out;
}

}  // namespace

AttentionStack read_attention_npy(const std::string& path) {
  NpyArray a = read_npy(path);
  const StackShape s = stack_shape(a, path, "attention", "n, n");
  if (s.rows != s.columns) {
    throw Error(path + ": attention maps are " + std::to_string(s.rows) + " x " +
                std::to_string(s.columns) + ", not square");
  }
  return AttentionStack(std::move(a.data), s.layers, s.heads, s.columns);
}

CrossAttentionStack read_cross_attention_npy(const std::string& path) {
  NpyArray a = read_npy(path);
  const StackShape s = stack_shape(a, path, "cross-attention", "m, n");
  return CrossAttentionStack(std::move(a.data), s.layers, s.heads, s.rows, s.columns);
}

std::vector<std::string> read_token_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(path + ": cannot open token file (" + std::strerror(errno) + ")");
  std::vector<std::string> tokens;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    tokens.push_back(line);
  }
  return tokens;
}

NpyExample read_npy_example(const std::string& attention_path, const std::string& gradient_path,
                            const std::string& tokens_path) {
  NpyExample e;
  e.attention = read_attention_npy(attention_path);
  validate(e.attention, AttentionCheck::weights(attention_path));
  if (!gradient_path.empty()) {
    e.gradient = std::make_unique<AttentionStack>(read_attention_npy(gradient_path));
    require_same_shape(e.attention, *e.gradient, attention_path, gradient_path);
    validate(*e.gradient, AttentionCheck::any_sign(gradient_path));
  }
  if (!tokens_path.empty()) {
    e.tokens = read_token_lines(tokens_path);
    if (static_cast<int>(e.tokens.size()) != e.attention.tokens()) {
      throw Error(tokens_path + ": " + std::to_string(e.tokens.size()) + " token labels for " +
                  std::to_string(e.attention.tokens()) + " tokens in " + attention_path);
    }
  }
  return e;
}

}  // namespace attnflow::io
