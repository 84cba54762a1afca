// .npy round trip and every malformed-file error.
#include "attnflow/io/npy.hpp"

#include <chrono>
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
                     p + ": data truncated (the header's shape (2, 2) of float32 needs 16 bytes, "
                         "the file has 3)");
  io::write_npy(p, {2, 2, 3}, std::vector<float>(12));
  test::expect_error([&] { io::read_attention_npy(p); },
                     p + ": attention maps are 2 x 3, not square");
  io::write_npy(p, {4, 4}, std::vector<float>(16));
  test::expect_error([&] { io::read_attention_npy(p); },
                     p + ": attention must have 3 (layers, n, n) or 4 (layers, heads, n, n) "
                         "dimensions, got 2");
  std::remove(p.c_str());
}

// The crafted headers of issue 13 (kept as tests/fuzz/regressions/npy/ too).
std::string f4(const std::string& shape) {
  return npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }");
}

TEST(Npy, SizeIsCheckedAgainstTheFileBeforeAllocating) {
  const std::string p = temp_path("huge.npy");
  // 97 bytes declaring 4 TiB: fails at once (no allocation, no std::bad_alloc).
  write_bytes(p, f4("(1099511627776,)") + std::string(33, '\0'));
  test::expect_error([&] { io::read_npy(p); },
                     p + ": data truncated (the header's shape (1099511627776,) of float32 needs "
                         "4398046511104 bytes, the file has 33)");
  // 96 bytes declaring 3 GiB: no zero-filled 3 GiB buffer either.
  write_bytes(p, f4("(805306368,)") + std::string(32, '\0'));
  const auto start = std::chrono::steady_clock::now();
  test::expect_error([&] { io::read_npy(p); },
                     p + ": data truncated (the header's shape (805306368,) of float32 needs "
                         "3221225472 bytes, the file has 32)");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 1.0);
  // A shape whose byte count passes 2^64.
  write_bytes(p, f4("(4294967296, 4294967296)") + std::string(8, '\0'));
  test::expect_error([&] { io::read_npy(p); },
                     p + ": data truncated (the header's shape (4294967296, 4294967296) of float32 "
                         "needs over 2^64 bytes, the file has 8)");
  std::remove(p.c_str());
}

TEST(Npy, ZeroSizeDimensionsAndTrailingData) {
  const std::string p = temp_path("zero.npy");
  write_bytes(p, f4("(0, 3)"));
  const io::NpyArray a = io::read_npy(p);
  EXPECT_EQ(a.shape, (std::vector<std::size_t>{0, 3}));
  EXPECT_TRUE(a.data.empty());
  write_bytes(p, f4("(2, 0, 4294967296, 4294967296)"));  // zero elements: no overflow
  EXPECT_TRUE(io::read_npy(p).data.empty());
  write_bytes(p, f4("(3, 0, 0)"));
  test::expect_error([&] { io::read_attention_npy(p); }, p + ": empty attention stack");
  // NumPy writes nothing after the data; extra bytes mean a shape that does not match it.
  write_bytes(p, f4("(0, 3)") + "x");
  test::expect_error([&] { io::read_npy(p); },
                     p + ": 1 bytes after the array data (the header's shape (0, 3) of float32 "
                         "needs 0 bytes)");
  write_bytes(p, f4("(2,)") + std::string(12, '\0'));
  test::expect_error([&] { io::read_npy(p); },
                     p + ": 4 bytes after the array data (the header's shape (2,) of float32 "
                         "needs 8 bytes)");
  write_bytes(p, f4("(3000000000, 0, 0)"));
  test::expect_error([&] { io::read_attention_npy(p); },
                     p + ": attention dimension 3000000000 is implausibly large");
  std::remove(p.c_str());
}

TEST(Npy, HeaderSyntaxIsStrict) {
  const std::string p = temp_path("syntax.npy");
  const auto expect = [&](const std::string& dict, const std::string& message) {
    write_bytes(p, npy_header(dict) + std::string(16, '\0'));
    test::expect_error([&] { io::read_npy(p); }, p + ": header: " + message);
  };
  expect("{'descr': '<f4', 'fortran_order': False, 'shape': (0x2,), }",
         "expected ',' or ')' after a dimension at offset 52");
  expect("{'descr': '<f4', 'fortran_order': False, 'shape': (65*36,), }",
         "expected ',' or ')' after a dimension at offset 53");
  expect("{'descr': '<f4', 'fortan_order': False, 'shape': (4,), }",
         "unknown key 'fortan_order' (expected descr, fortran_order and shape) at offset 31");
  expect("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
         "key 'descr' given twice at offset 24");
  expect("{'descr': '<f4', 'fortran_order': Fals, 'shape': (4,), }",
         "expected True or False at offset 34");
  expect("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }",
         "expected a non-negative decimal integer at offset 51");
  expect("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775808,), }",
         "dimension too large at offset 69");
  expect("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), } x",
         "text after the closing '}' at offset 58");
  expect("{'descr': '<f4', 'fortran_order': False, 'shape': (4,)",
         "expected ',' or '}' after the value of 'shape' at offset 118");
  write_bytes(p, npy_header("{'descr': '<f4', 'shape': (4,), }") + std::string(16, '\0'));
  test::expect_error([&] { io::read_npy(p); }, p + ": header has no 'fortran_order'");
  std::remove(p.c_str());
}

TEST(Npy, LongHeadersNeitherRecurseNorOverflowTheStack) {
  // ~60,000 characters inside the descr quotes or the shape parentheses crashed std::regex.
  const std::string p = temp_path("long.npy");
  std::string descr(60000, 'f');
  write_bytes(p, npy_header("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (), }"));
  test::expect_error([&] { io::read_npy(p); },
                     p + ": dtype '" + std::string(40, 'f') +
                         "...' unsupported (need little-endian float32 or float64)");
  std::string dims;
  for (int i = 0; i < 30000; ++i) dims += "1,";
  write_bytes(p, npy_header("{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }"));
  test::expect_error([&] { io::read_npy(p); },
                     p + ": header: more than 64 dimensions at offset 179");
  std::string bytes = "\x93NUMPY";
  bytes += std::string("\x02\x00\x01\x00\x10\x00", 6);  // version 2, header length 2^20 + 1
  write_bytes(p, bytes);
  test::expect_error([&] { io::read_npy(p); },
                     p + ": header length 1048577 is implausible (the limit is 1048576 bytes)");
  std::remove(p.c_str());
}

}  // namespace
}  // namespace attnflow
