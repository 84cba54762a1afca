// Safetensors: writer -> reader round trip for every dtype, prefix lookup, and the exact
// message for every kind of malformed header.
#include "attnflow/hf/safetensors.hpp"

#include <gmock/gmock.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "attnflow/hf/safetensors_writer.hpp"
#include "hf_test_util.hpp"

namespace attnflow::hf {
namespace {

using test::error_of;
using test::temp_path;

// A file from a header text and a data region, as a writer we do not control would make it.
std::string make_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string write_file(const std::string& name, const std::string& header,
                       const std::string& data) {
  const std::string p = temp_path(name);
  test::write_bytes(p, make_file(header, data));
  return p;
}

std::string open_error(const std::string& path) {
  return error_of([&] { SafetensorsFile f(path); });
}

TensorData raw_tensor(const std::string& name, Dtype dtype, std::vector<std::int64_t> shape,
                      std::vector<std::uint8_t> bytes) {
  return TensorData{name, dtype, std::move(shape), std::move(bytes)};
}

TEST(Safetensors, RoundTripEveryDtype) {
  const std::vector<float> values = {0.0f, -1.5f, 2.25f, 1024.0f, -0.0078125f, 3.0f};
  const std::vector<std::int64_t> small = {0, 1, 1, 0, 1, 0};
  const std::vector<std::int64_t> ints = {-128, -1, 0, 1, 77, 127};
  const std::vector<TensorData> tensors = {
      float_tensor("f16", {2, 3}, values, Dtype::F16),
      float_tensor("bf16", {3, 2}, values, Dtype::BF16),
      float_tensor("f32", {6}, values, Dtype::F32),
      float_tensor("f64", {1, 2, 3}, values, Dtype::F64),
      int_tensor("bool", {6}, small, Dtype::Bool),
      int_tensor("u8", {6}, {0, 1, 2, 3, 254, 255}, Dtype::U8),
      int_tensor("i8", {6}, ints, Dtype::I8),
      int_tensor("i16", {2, 3}, {-32768, -2, 0, 3, 4, 32767}, Dtype::I16),
      int_tensor("u16", {6}, {0, 1, 2, 3, 4, 65535}, Dtype::U16),
      int_tensor("i32", {6}, {-2147483648LL, -1, 0, 1, 2, 2147483647}, Dtype::I32),
      int_tensor("u32", {6}, {0, 1, 2, 3, 4, 4294967295LL}, Dtype::U32),
      int_tensor("i64", {6}, {INT64_MIN, -1, 0, 1, 2, INT64_MAX}, Dtype::I64),
      int_tensor("u64", {6}, {0, 1, 2, 3, 4, INT64_MAX}, Dtype::U64),
      raw_tensor("f8_e4m3", Dtype::F8_E4M3, {3}, {0x38, 0x40, 0xb8}),
      raw_tensor("f8_e5m2", Dtype::F8_E5M2, {3}, {0x3c, 0x40, 0xbc}),
      float_tensor("scalar", {}, {7.5f}),
      float_tensor("empty", {0, 4}, {}),
  };
  const std::string p = temp_path("all_dtypes.safetensors");
  write_safetensors(p, tensors, {{{"format", "pt"}, {"note", "round trip"}}});
  EXPECT_FALSE(std::filesystem::exists(p + ".partial"));
  for (const bool mmap : {true, false}) {
    SafetensorsOptions options;
    options.use_mmap = mmap;
    const SafetensorsFile f(p, options);
    EXPECT_EQ(f.metadata().at("note"), "round trip");
    ASSERT_EQ(f.tensors().size(), tensors.size());
    for (const TensorData& want : tensors) {
      const TensorInfo& got = f.at(want.name);
      EXPECT_EQ(got.dtype, want.dtype) << want.name;
      EXPECT_EQ(got.shape, want.shape) << want.name;
      EXPECT_EQ(got.begin % dtype_size(got.dtype), 0u) << want.name << " is not aligned";
      const ByteView b = f.bytes(got);
      ASSERT_EQ(b.size, want.bytes.size()) << want.name;
      EXPECT_TRUE(b.size == 0 || std::memcmp(b.data, want.bytes.data(), b.size) == 0) << want.name;
    }
    for (const char* name : {"f16", "bf16", "f32", "f64"}) {
      EXPECT_EQ(f.to_float32(f.at(name)), values) << name;
    }
    EXPECT_EQ(f.to_float32(f.at("scalar")), std::vector<float>{7.5f});
    EXPECT_TRUE(f.to_float32(f.at("empty")).empty());
    EXPECT_EQ(f.at("scalar").numel(), 1);
    EXPECT_EQ(f.to_int64(f.at("bool")), small);
    EXPECT_EQ(f.to_int64(f.at("i8")), ints);
    EXPECT_EQ(f.to_int64(f.at("u32")), (std::vector<std::int64_t>{0, 1, 2, 3, 4, 4294967295LL}));
    EXPECT_EQ(f.to_int64(f.at("i64"))[0], INT64_MIN);
    EXPECT_EQ(f.to_int64(f.at("u64"))[5], INT64_MAX);
  }
}

TEST(Safetensors, HeaderIsPaddedAndLaidOutBySize) {
  const std::string p = temp_path("layout.safetensors");
  write_safetensors(
      p, {float_tensor("b", {3}, {1, 2, 3}, Dtype::F16), float_tensor("a", {1}, {1}, Dtype::F64),
          int_tensor("c", {1}, {1}, Dtype::U8)});
  const SafetensorsFile f(p);
  const std::uintmax_t size = std::filesystem::file_size(p);
  EXPECT_EQ((size - 8 - 8 - 6 - 1) % 8, 0u);  // header length is a multiple of 8
  EXPECT_EQ(f.tensors()[0].name, "a");        // F64 first, then F16, then U8
  EXPECT_EQ(f.tensors()[1].name, "b");
  EXPECT_EQ(f.tensors()[2].name, "c");
}

TEST(Safetensors, FindWithModelPrefixes) {
  const std::string p = temp_path("prefix.safetensors");
  write_safetensors(p, {float_tensor("bert.embeddings.word_embeddings.weight", {1}, {1}),
                        float_tensor("cls.predictions.bias", {1}, {2}),
                        float_tensor("h.0.attn.c_attn.weight", {1}, {3})});
  const SafetensorsFile f(p);
  const std::vector<std::string> bert = {"bert."};
  EXPECT_EQ(f.find("embeddings.word_embeddings.weight", bert)->name,
            "bert.embeddings.word_embeddings.weight");
  EXPECT_EQ(f.find("bert.embeddings.word_embeddings.weight", bert)->name,
            "bert.embeddings.word_embeddings.weight");
  EXPECT_EQ(f.find("cls.predictions.bias", bert)->name, "cls.predictions.bias");
  EXPECT_EQ(f.find("transformer.h.0.attn.c_attn.weight", {"transformer."})->name,
            "h.0.attn.c_attn.weight");
  EXPECT_EQ(f.find("embeddings.word_embeddings.weight"), nullptr);
  EXPECT_EQ(f.find("pooler.dense.weight", bert), nullptr);
  EXPECT_EQ(error_of([&] { f.at("pooler.dense.weight", bert); }),
            p + ": no tensor 'pooler.dense.weight' (also tried 'bert.pooler.dense.weight')");
  EXPECT_EQ(error_of([&] { f.at("lm_head.weight"); }), p + ": no tensor 'lm_head.weight'");
}

TEST(Safetensors, ConversionErrorsNameTheTensor) {
  const std::string p = temp_path("convert.safetensors");
  write_safetensors(p, {int_tensor("ids", {2}, {1, 2}), float_tensor("w", {1}, {1}),
                        raw_tensor("big", Dtype::U64, {1}, {0, 0, 0, 0, 0, 0, 0, 0x80})});
  const SafetensorsFile f(p);
  EXPECT_EQ(error_of([&] { f.to_float32(f.at("ids")); }),
            p + ": tensor 'ids' has dtype I64, which does not convert to float32 (F16, BF16, F32 "
                "or F64 do)");
  EXPECT_EQ(error_of([&] { f.to_int64(f.at("w")); }),
            p + ": tensor 'w' has dtype F32, which does not convert to int64 (BOOL and integer "
                "dtypes do)");
  EXPECT_EQ(error_of([&] { f.to_int64(f.at("big")); }),
            p + ": tensor 'big' element 0 is 9223372036854775808, beyond int64");
}

TEST(Safetensors, FileLevelErrors) {
  const std::string missing = temp_path("missing.safetensors");
  EXPECT_EQ(open_error(missing), missing + ": cannot open (No such file or directory)");
  const std::string tiny = temp_path("tiny.safetensors");
  test::write_bytes(tiny, "abcde");
  EXPECT_EQ(open_error(tiny),
            tiny + ": file is 5 bytes, too short for a safetensors header (8-byte length + JSON)");
  const std::string empty = temp_path("empty.safetensors");
  test::write_bytes(empty, "");
  EXPECT_EQ(open_error(empty),
            empty + ": file is 0 bytes, too short for a safetensors header (8-byte length + JSON)");
  const std::string longer = temp_path("longer.safetensors");
  std::string bytes = make_file("{}", "");
  bytes[0] = static_cast<char>(0xe8);  // 1000
  bytes[1] = 0x03;
  test::write_bytes(longer, bytes);
  EXPECT_EQ(open_error(longer),
            longer + ": header length 1000 is larger than the 2 bytes that follow it");
  const std::string text = temp_path("text.safetensors");
  test::write_bytes(text, "this is a text file, not weights\n");
  EXPECT_EQ(open_error(text), text +
                                  ": header length 2338328219631577204 is larger than the 25 "
                                  "bytes that follow it");
  // A (sparse) file past the 100 MB header limit.
  const std::string huge = temp_path("huge.safetensors");
  const std::uint64_t n = 100'000'001;
  test::write_bytes(huge, make_file("{", ""));
  {
    std::string head = make_file("{", "");
    for (int i = 0; i < 8; ++i)
      head[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
    test::write_bytes(huge, head);
    std::filesystem::resize_file(huge, 8 + n);
  }
  EXPECT_EQ(open_error(huge), huge + ": header length 100000001 exceeds the 100000000-byte limit");
  std::filesystem::remove(huge);
}

TEST(Safetensors, MalformedHeaders) {
  const std::string ok = R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string data8(8, '\0');
  struct Case {
    std::string name, header, data, message;
  };
  const std::vector<Case> cases = {
      {"not_object", "[1, 2]", "", "header does not start with '{'"},
      {"leading_space", " {}", "", "header does not start with '{'"},
      {"duplicate", "{" + ok + "," + ok + "}", data8, "header: duplicate entry 'a'"},
      {"unknown_dtype", R"({"a":{"dtype":"F12","shape":[2],"data_offsets":[0,8]}})", data8,
       "tensor 'a': unknown dtype 'F12' (supported: BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, "
       "BF16, I32, U32, F32, I64, U64, F64)"},
      {"dtype_number", R"({"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}})", data8,
       "tensor 'a': dtype is 4, not a string"},
      {"negative_dim", R"({"a":{"dtype":"F32","shape":[2,-1],"data_offsets":[0,8]}})", data8,
       "tensor 'a': shape must be an array of non-negative integers, got [2,-1]"},
      {"float_dim", R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", data8,
       "tensor 'a': shape must be an array of non-negative integers, got [2.0]"},
      {"shape_string", R"({"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}})", data8,
       "tensor 'a': shape must be an array of non-negative integers, got \"2\""},
      {"missing_offsets", R"({"a":{"dtype":"F32","shape":[2]}})", data8,
       "tensor 'a': missing 'data_offsets'"},
      {"entry_number", R"({"a":3})", "", "tensor 'a': entry is an integer, not an object"},
      {"reversed_offsets", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", data8,
       "tensor 'a': data_offsets must be [begin, end] with 0 <= begin <= end, got [8,0]"},
      {"three_offsets", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}})", data8,
       "tensor 'a': data_offsets must be [begin, end] with 0 <= begin <= end, got [0,4,8]"},
      {"size_mismatch", R"({"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}})",
       std::string(20, '\0'),
       "tensor 'a': shape [2, 3] with dtype F32 needs 24 bytes but data_offsets [0, 20) hold 20"},
      {"overflow",
       R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,8]}})", data8,
       "tensor 'a': shape [4294967296, 4294967296, 16] with dtype F32 needs more than 2^64 bytes "
       "but data_offsets [0, 8) hold 8"},
      {"out_of_range", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8,
       "tensor 'a': data_offsets [0, 16) exceed the 8-byte data region"},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
       R"("b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})",
       std::string(24, '\0'), "tensors 'a' [0, 16) and 'b' [8, 24) overlap"},
      {"gap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})",
       std::string(24, '\0'),
       "bytes [8, 16) of the data region belong to no tensor (between 'a' and 'b')"},
      {"gap_first", R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
       std::string(16, '\0'), "bytes [0, 8) of the data region belong to no tensor (before 'b')"},
      {"trailing", "{" + ok + "}", std::string(16, '\0'),
       "bytes [8, 16) at the end of the data region belong to no tensor"},
      {"metadata_number", R"({"__metadata__":{"format":1}})", "",
       "__metadata__ value of 'format' is an integer, not a string"},
      {"metadata_list", R"({"__metadata__":[]})", "", "__metadata__ is an array, not an object"},
      // Numbers nlohmann cannot hold: its out_of_range, not a parse_error, with the JSON path.
      {"number_1e400", R"({"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,4]}})", data8,
       "header: invalid JSON at /a/shape/0 (number overflow parsing '1e400')"},
      {"offset_1e400", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8e999]}})", data8,
       "header: invalid JSON at /a/data_offsets/1 (number overflow parsing '8e999')"},
      {"metadata_1e400", R"({"__metadata__":{"x~/y":-1e400}})", "",
       "header: invalid JSON at /__metadata__/x~0~1y (number overflow parsing '-1e400')"},
      {"deep", R"({"a":)" + std::string(600, '['), "",
       "header: invalid JSON at /a" +
           [] {
             std::string p;  // 511 levels of /0, cut at 100 characters
             while (p.size() < 98) p += "/0";
             return p;
           }() +
           "... (nested deeper than 512 levels)"},
  };
  for (const Case& c : cases) {
    const std::string p = write_file(c.name + ".safetensors", c.header, c.data);
    EXPECT_EQ(open_error(p), p + ": " + c.message) << c.name;
  }
  const std::string bad_json = write_file("bad_json.safetensors", R"({"a": )", "");
  EXPECT_THAT(
      open_error(bad_json),
      ::testing::StartsWith(
          bad_json + ": header: invalid JSON (parse error at line 1, column 7: syntax error"));
  // Valid corner cases: an empty header, a zero-size tensor and trailing spaces.
  const std::string empty = write_file("empty_header.safetensors", "{}  ", "");
  EXPECT_TRUE(SafetensorsFile(empty).tensors().empty());
  const std::string zero =
      write_file("zero.safetensors",
                 R"({"z":{"dtype":"F16","shape":[0],"data_offsets":[0,0]},)" + ok + "}", data8);
  EXPECT_EQ(SafetensorsFile(zero).tensors().size(), 2u);
}

// A zero dimension makes the element count 0 however large the other dimensions are; products
// past int64 are errors, not a signed overflow.
TEST(Safetensors, ElementCountsDoNotOverflow) {
  const std::string p = write_file("zero_huge.safetensors",
                                   R"({"z":{"dtype":"F32","shape":[1099511627776,1099511627776,0],)"
                                   R"("data_offsets":[0,0]}})",
                                   "");
  const SafetensorsFile f(p);
  ASSERT_EQ(f.tensors().size(), 1u);
  EXPECT_EQ(f.tensors()[0].numel(), 0);
  EXPECT_TRUE(f.to_float32(f.tensors()[0]).empty());
  TensorInfo t;
  t.name = "big";
  t.shape = {std::int64_t{1} << 40, std::int64_t{1} << 40};
  EXPECT_EQ(error_of([&] { (void)t.numel(); }),
            "tensor 'big': shape [1099511627776, 1099511627776] has more than 2^63 - 1 elements");
  t.shape = {std::int64_t{1} << 31, std::int64_t{1} << 31, 1};
  EXPECT_EQ(t.numel(), std::int64_t{1} << 62);
  t.shape = {std::int64_t{1} << 31, std::int64_t{1} << 31, 2};  // 2^63
  EXPECT_EQ(error_of([&] { (void)t.numel(); }),
            "tensor 'big': shape [2147483648, 2147483648, 2] has more than 2^63 - 1 elements");
}

// The header is parsed in one linear pass: 50,000 tensors (about 41 s with the old callback
// parser, quadratic in the count) take well under a second; more than 300,000 are refused as
// soon as the parser reads the 300,001st name.
TEST(Safetensors, ManyTensorsParseInLinearTime) {
  const auto header = [](std::size_t n) {
    std::string h = "{";
    for (std::size_t i = 0; i < n; ++i) {
      h += (i ? ",\"t" : "\"t") + std::to_string(i) + R"(":{"dtype":"U8","shape":[1],)" +
           R"("data_offsets":[)" + std::to_string(i) + "," + std::to_string(i + 1) + "]}";
    }
    return h + "}";
  };
  const std::string many = write_file("many.safetensors", header(50'000), std::string(50'000, 'x'));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(SafetensorsFile(many).tensors().size(), 50'000u);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
  std::string keys = R"({"__metadata__":{})";
  for (std::size_t i = 0; i <= kSafetensorsMaxTensors; ++i)
    keys += ",\"" + std::to_string(i) + "\":0";
  const std::string too_many = write_file("too_many.safetensors", keys + "}", "");
  EXPECT_EQ(open_error(too_many), too_many + ": header: more than 300000 tensors (the limit)");
  std::filesystem::remove(many);
  std::filesystem::remove(too_many);
}

// Damaged files (random byte changes and truncations) either load or throw attnflow::Error,
// never another exception or a crash.
TEST(Safetensors, RandomDamageThrowsErrorOnly) {
  const std::string good = temp_path("fuzz_good.safetensors");
  write_safetensors(good, {float_tensor("bert.a", {2, 3}, {1, 2, 3, 4, 5, 6}, Dtype::F16),
                           int_tensor("b", {2}, {7, 8}), float_tensor("c", {}, {1.5f})});
  std::ifstream in(good, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::uint32_t state = 12345;
  const auto next = [&] { return state = state * 1664525u + 1013904223u; };
  const std::string p = temp_path("fuzz.safetensors");
  const std::string alphabet = "{}[]\\\",:0123456789-.eE \\\"xF";
  int loaded = 0, rejected = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string damaged = bytes;
    if (round % 5 == 4) {
      damaged.resize(next() % bytes.size());
    } else {
      for (int k = 0; k < 1 + static_cast<int>(next() % 3); ++k) {
        const std::size_t at = next() % std::min<std::size_t>(damaged.size(), 160);
        damaged[at] = alphabet[next() % alphabet.size()];
      }
    }
    test::write_bytes(p, damaged);
    try {
      const SafetensorsFile f(p);
      for (const TensorInfo& t : f.tensors()) {
        if (is_float_dtype(t.dtype)) f.to_float32(t);
      }
      ++loaded;
    } catch (const attnflow::Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 1000);
  EXPECT_EQ(loaded + rejected, 2000);
}

TEST(Safetensors, WriterErrors) {
  const std::string p = temp_path("writer_errors.safetensors");
  const auto write = [&](std::vector<TensorData> t) {
    return error_of([&] { write_safetensors(p, t); });
  };
  EXPECT_EQ(write({float_tensor("a", {1}, {1}), float_tensor("a", {1}, {2})}),
            p + ": duplicate tensor name 'a'");
  EXPECT_EQ(write({float_tensor("__metadata__", {1}, {1})}),
            p + ": '__metadata__' is reserved, not a tensor name");
  EXPECT_EQ(write({float_tensor("", {1}, {1})}), p + ": a tensor has an empty name");
  EXPECT_EQ(write({raw_tensor("a", Dtype::F32, {3}, {0, 0, 0, 0})}),
            p + ": tensor 'a' has 4 bytes but its shape and dtype F32 need 12");
  EXPECT_EQ(write({raw_tensor("a", Dtype::F32, {-1}, {})}),
            p + ": tensor 'a': negative dimension -1 in shape");
  EXPECT_FALSE(std::filesystem::exists(p));
  EXPECT_EQ(error_of([] {
              float_tensor("w", {2, 2}, {1, 2, 3});
            }),
            "tensor 'w': 3 values for a shape of 4 elements");
  EXPECT_EQ(error_of([] { float_tensor("w", {1}, {1}, Dtype::I32); }),
            "tensor 'w': float values cannot be stored as I32 (use F16, BF16, F32 or F64)");
  EXPECT_EQ(error_of([] { int_tensor("m", {1}, {300}, Dtype::U8); }),
            "tensor 'm': value 300 does not fit U8");
  EXPECT_EQ(error_of([] { int_tensor("m", {1}, {2}, Dtype::Bool); }),
            "tensor 'm': value 2 does not fit BOOL");
}

}  // namespace
}  // namespace attnflow::hf
