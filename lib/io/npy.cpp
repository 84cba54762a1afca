// .npy reader/writer (NumPy format versions 1.0, 2.0 and 3.0).
#include "attnflow/io/npy.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/atomic_file.hpp"

namespace attnflow::io {
namespace {

std::size_t read_le(const unsigned char* p, int bytes) {
  std::size_t v = 0;
  for (int b = bytes - 1; b >= 0; --b) v = (v << 8) | p[b];
  return v;
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
  const std::size_t header_len = read_le(len_bytes, len_size);
  if (header_len > (1u << 20))
    throw Error(path + ": header length " + std::to_string(header_len) + " is implausible");
  std::string header(header_len, '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(header_len))) {
    throw Error(path + ": truncated header");
  }
  std::smatch m;
  if (!std::regex_search(header, m, std::regex("'descr'\\s*:\\s*'([^']*)'"))) {
    throw Error(path + ": header has no 'descr'");
  }
  const std::string descr = m[1];
  int item = 0;
  if (descr == "<f4" || descr == "=f4")
    item = 4;
  else if (descr == "<f8" || descr == "=f8")
    item = 8;
  else
    throw Error(path + ": dtype '" + descr +
                "' unsupported (need little-endian float32 or float64)");
  if (std::regex_search(header, std::regex("'fortran_order'\\s*:\\s*True"))) {
    throw Error(path + ": Fortran-ordered arrays are unsupported (save with C order)");
  }
  if (!std::regex_search(header, m, std::regex("'shape'\\s*:\\s*\\(([^)]*)\\)"))) {
    throw Error(path + ": header has no 'shape'");
  }
  NpyArray out;
  std::size_t count = 1;
  {
    std::string dims = m[1];
    std::stringstream ss(dims);
    std::string tok;
    while (std::getline(ss, tok, ',')) {
      const auto first = tok.find_first_not_of(" \t");
      if (first == std::string::npos) continue;
      std::size_t pos = 0;
      unsigned long long d = 0;
      try {
        d = std::stoull(tok.substr(first), &pos);
      } catch (const std::exception&) {
        throw Error(path + ": bad shape entry '" + tok + "'");
      }
      if (d != 0 && count > (std::size_t{1} << 40) / d) {
        throw Error(path + ": shape (" + dims + ") is implausibly large");
      }
      out.shape.push_back(static_cast<std::size_t>(d));
      count *= static_cast<std::size_t>(d);
    }
  }
  std::vector<char> raw(count * static_cast<std::size_t>(item));
  if (!in.read(raw.data(), static_cast<std::streamsize>(raw.size()))) {
    throw Error(path + ": data truncated (expected " + std::to_string(count) + " values of " +
                std::to_string(item) + " bytes)");
  }
  out.data.resize(count);
  if (item == 4) {
    std::memcpy(out.data.data(), raw.data(), raw.size());
  } else {
    for (std::size_t k = 0; k < count; ++k) {
      double v;
      std::memcpy(&v, raw.data() + k * 8, 8);
      out.data[k] = static_cast<float>(v);
    }
  }
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

AttentionStack read_attention_npy(const std::string& path) {
  NpyArray a = read_npy(path);
  const auto& s = a.shape;
  if (s.size() != 3 && s.size() != 4) {
    throw Error(path +
                ": attention must have 3 (layers, n, n) or 4 (layers, heads, n, n) "
                "dimensions, got " +
                std::to_string(s.size()));
  }
  const std::size_t n = s.back(), rows = s[s.size() - 2];
  if (n != rows) {
    throw Error(path + ": attention maps are " + std::to_string(rows) + " x " + std::to_string(n) +
                ", not square");
  }
  const int layers = static_cast<int>(s[0]);
  const int heads = s.size() == 4 ? static_cast<int>(s[1]) : 1;
  if (layers == 0 || heads == 0 || n == 0) throw Error(path + ": empty attention stack");
  return AttentionStack(std::move(a.data), layers, heads, static_cast<int>(n));
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
