// .npy round trip and every malformed-file error.
#include "attnflow/io/npy.hpp"

#include <cstdio>
#include <fstream>

#include "../core/test_util.hpp"

namespace attnflow {
namespace {

std::string temp_path(const std::string& name) {
  return testing::TempDir() + "attnflow_npy_" + name;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string npy_header(const std::string& dict) {
  std::string h = dict;
  const std::size_t total = 10 + h.size() + 1;
  h.append((64 - total % 64) % 64, ' ');
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(h.size() & 0xff);
  out += static_cast<char>(h.size() >> 8);
  return out + h;
}

TEST(Npy, RoundTripAndAttention) {
  const std::string p = temp_path("ok.npy");
  std::vector<float> v(2 * 3 * 4 * 4);
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>(k) * 0.5f;
  io::write_npy(p, {2, 3, 4, 4}, v);
  const io::NpyArray a = io::read_npy(p);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{2, 3, 4, 4}));
  EXPECT_EQ(a.data, v);
  const AttentionStack s = io::read_attention_npy(p);
  EXPECT_EQ(s.layers(), 2);
  EXPECT_EQ(s.heads(), 3);
  EXPECT_EQ(s.tokens(), 4);
  EXPECT_EQ(s.head(1, 2)(3, 1), v[((1 * 3 + 2) * 4 + 3) * 4 + 1]);
}

TEST(Npy, Float64AndThreeDimensions) {
  const std::string p = temp_path("f8.npy");
  std::string bytes = npy_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 2), }");
  const double d[4] = {0.25, 0.75, 1.0, 0.0};
  bytes.append(reinterpret_cast<const char*>(d), sizeof d);
  write_bytes(p, bytes);
  const AttentionStack s = io::read_attention_npy(p);
  EXPECT_EQ(s.heads(), 1);
  EXPECT_EQ(s.head(0, 0)(0, 1), 0.75f);
}

TEST(Npy, MalformedFiles) {
  const std::string p = temp_path("bad.npy");
  test::expect_error([] { io::read_npy("/nonexistent/x.npy"); },
                     "/nonexistent/x.npy: cannot open (No such file or directory)");
  write_bytes(p, "hello world");
  test::expect_error([&] { io::read_npy(p); }, p + ": not a .npy file (bad magic)");
  write_bytes(p, npy_header("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }"));
  test::expect_error([&] { io::read_npy(p); },
                     p + ": dtype '>f4' unsupported (need little-endian float32 or float64)");
  write_bytes(p, npy_header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"));
  test::expect_error([&] { io::read_npy(p); },
                     p + ": Fortran-ordered arrays are unsupported (save with C order)");
  write_bytes(p, npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }") + "abc");
  test::expect_error([&] { io::read_npy(p); },
                     p + ": data truncated (expected 4 values of 4 bytes)");
  io::write_npy(p, {2, 2, 3}, std::vector<float>(12));
  test::expect_error([&] { io::read_attention_npy(p); },
                     p + ": attention maps are 2 x 3, not square");
  io::write_npy(p, {4, 4}, std::vector<float>(16));
  test::expect_error([&] { io::read_attention_npy(p); },
                     p + ": attention must have 3 (layers, n, n) or 4 (layers, heads, n, n) "
                         "dimensions, got 2");
  std::remove(p.c_str());
}

}  // namespace
}  // namespace attnflow
