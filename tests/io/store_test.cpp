// HDF5 store: round trip for every mode x precision, random access, append,
// partial reads, and the on-disk layout (chunks per example, filters).
#include "attnflow/io/store.hpp"

#include <hdf5.h>

#include <H5PLpublic.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>

#include "../core/test_util.hpp"
#include "attnflow/version.hpp"
#include "store_test_util.hpp"

namespace attnflow::io {
namespace {

void expect_stack(const AttentionStack& got, const AttentionStack& want, Precision p) {
  ASSERT_EQ(got.layers(), want.layers());
  ASSERT_EQ(got.heads(), want.heads());
  ASSERT_EQ(got.tokens(), want.tokens());
  for (std::size_t k = 0; k < want.data().size(); ++k) {
    ASSERT_EQ(got.data()[k], test::stored_value(want.data()[k], p)) << "value " << k;
  }
}

void expect_example(const Example& got, const Example& want, const StoreInfo& info) {
  EXPECT_EQ(got.tokens, want.tokens);
  EXPECT_EQ(got.token_ids, want.token_ids);
  EXPECT_EQ(got.label, want.label);
  EXPECT_EQ(got.target, want.target);
  EXPECT_EQ(got.target_position, want.target_position);
  EXPECT_EQ(got.prediction, want.prediction);
  if (info.mode == StoreMode::Derived) {
    EXPECT_TRUE(got.attention.empty());
  } else {
    expect_stack(got.attention, want.attention, info.attention_precision);
  }
  EXPECT_EQ(got.gradient.empty(), want.gradient.empty());
  if (!want.gradient.empty()) expect_stack(got.gradient, want.gradient, info.gradient_precision);
}

struct Case {
  StoreMode mode;
  Precision precision;
};

class StoreRoundTrip : public testing::TestWithParam<Case> {};

TEST_P(StoreRoundTrip, EveryExampleReadsBackExactly) {
  const Case c = GetParam();
  const std::string path =
      test::temp_path(std::string(to_string(c.mode)) + "_" + to_string(c.precision) + ".h5");
  const StoreInfo info = test::store_info(c.mode, c.precision, c.mode == StoreMode::Fused);
  std::vector<Example> written;
  {
    Store store = Store::create(path, info);
    EXPECT_EQ(store.size(), 0);
    for (int i = 0; i < 7; ++i) {
      written.push_back(test::make_example(i, info, 5, /*gradient=*/i % 2 == 0));
      if (i % 3 != 0) written.back().target_position = 4 - i % 3;  // an LM target's position
      EXPECT_EQ(store.append(written.back()), i);
    }
    EXPECT_EQ(store.size(), 7);
  }
  const Store store = Store::open(path);
  const StoreInfo& got = store.info();
  EXPECT_EQ(got.model, info.model);
  EXPECT_EQ(got.tokenizer, info.tokenizer);
  EXPECT_EQ(got.layers, 3);
  EXPECT_EQ(got.heads, 4);
  EXPECT_EQ(got.causal, info.causal);
  EXPECT_EQ(got.mode, c.mode);
  EXPECT_EQ(got.attention_precision, c.precision);
  EXPECT_EQ(got.gradient_precision, c.precision);
  EXPECT_EQ(got.fusion, info.fusion);
  EXPECT_EQ(got.schema_version, 2);
  EXPECT_EQ(got.tool_version, ATTNFLOW_VERSION_STRING);
  EXPECT_EQ(got.created.size(), 20u);
  EXPECT_EQ(got.created.back(), 'Z');
  EXPECT_FALSE(store.writable());
  ASSERT_EQ(store.size(), 7);
  for (int i = 6; i >= 0; --i)
    expect_example(store.read(i), written[static_cast<std::size_t>(i)], info);
  std::remove(path.c_str());
}

INSTANTIATE_TEST_SUITE_P(ModesAndPrecisions, StoreRoundTrip,
                         testing::Values(Case{StoreMode::PerHead, Precision::Float32},
                                         Case{StoreMode::PerHead, Precision::Float16},
                                         Case{StoreMode::Fused, Precision::Float32},
                                         Case{StoreMode::Fused, Precision::Float16},
                                         Case{StoreMode::Derived, Precision::Float32}),
                         [](const testing::TestParamInfo<Case>& p) {
                           std::string name = std::string(to_string(p.param.mode)) + "_" +
                                              to_string(p.param.precision);
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST(Store, MixedGradientPrecisionAndUncompressed) {
  const std::string path = test::temp_path("mixed.h5");
  StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float16);
  info.gradient_precision = Precision::Float32;
  WriteOptions w;
  w.compression = 0;
  const Example e = test::make_example(0, info, 9, true);
  Store::create(path, info, w).append(e);
  expect_example(Store::open(path).read(0), e, info);
}

TEST(Store, RandomAccessInAnyOrder) {
  const std::string path = test::temp_path("random.h5");
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float16);
  {
    Store store = Store::create(path, info);
    for (int i = 0; i < 120; ++i) store.append(test::make_example(i, info, 2, false, 30));
  }
  const Store store = Store::open(path);
  std::vector<int> order(120);
  for (int i = 0; i < 120; ++i) order[static_cast<std::size_t>(i)] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  for (int i : order)
    expect_example(store.read(i), test::make_example(i, info, 2, false, 30), info);
  test::expect_error([&] { store.read(120); },
                     path + ": example 120 out of range (the store holds 120 examples)");
  test::expect_error([&] { store.read(-1); },
                     path + ": example -1 out of range (the store holds 120 examples)");
}

TEST(Store, AppendAcrossSessions) {
  const std::string path = test::temp_path("append.h5");
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float32);
  {
    Store store = Store::create(path, info);
    for (int i = 0; i < 3; ++i) store.append(test::make_example(i, info, 4, true));
  }
  {
    Store store = Store::open(path, Access::ReadWrite);
    EXPECT_TRUE(store.writable());
    EXPECT_EQ(store.size(), 3);
    for (int i = 3; i < 5; ++i) EXPECT_EQ(store.append(test::make_example(i, info, 4, true)), i);
  }
  const Store store = Store::open(path);
  ASSERT_EQ(store.size(), 5);
  for (int i = 0; i < 5; ++i)
    expect_example(store.read(i), test::make_example(i, info, 4, true), info);
}

TEST(Store, ReadOptionsSkipLargeArrays) {
  const std::string path = test::temp_path("partial.h5");
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float32);
  const Example e = test::make_example(0, info, 1, true);
  Store::create(path, info).append(e);
  const Example got = Store::open(path).read(0, ReadOptions::metadata_only());
  EXPECT_EQ(got.tokens, e.tokens);
  EXPECT_TRUE(got.attention.empty());
  EXPECT_TRUE(got.gradient.empty());
  const Example no_gradient = Store::open(path).read(0, ReadOptions::without_gradient());
  EXPECT_FALSE(no_gradient.attention.empty());
  EXPECT_TRUE(no_gradient.gradient.empty());
}

TEST(Store, LayoutIsChunkedPerExampleAndCompressed) {
  const std::string path = test::temp_path("layout.h5");
  StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float16);
  info.layers = 2;
  info.heads = 12;
  Example e = test::make_example(0, info, 1, false, 1);  // 3 tokens
  e.tokens.resize(64, "t");
  e.token_ids.resize(64, 0);
  e.attention = AttentionStack(2, 12, 64);
  WriteOptions w;
  set_compression(w, "gzip");  // shuffle + deflate 4, as before codecs
  Store::create(path, info, w).append(e);
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t d = H5Dopen2(file, "examples/000000000/attention", H5P_DEFAULT);
  const hid_t dcpl = H5Dget_create_plist(d);
  hsize_t chunk[4] = {0, 0, 0, 0};
  ASSERT_EQ(H5Pget_chunk(dcpl, 4, chunk), 4);
  EXPECT_EQ(chunk[0], 1u);  // one layer, all 12 heads: 12 * 64 * 64 * 2 B = 96 KiB
  EXPECT_EQ(chunk[1], 12u);
  EXPECT_EQ(chunk[2], 64u);
  EXPECT_EQ(chunk[3], 64u);
  ASSERT_EQ(H5Pget_nfilters(dcpl), 2);
  unsigned flags = 0, cd[4];
  std::size_t n_cd = 4;
  EXPECT_EQ(H5Pget_filter2(dcpl, 0, &flags, &n_cd, cd, 0, nullptr, nullptr), H5Z_FILTER_SHUFFLE);
  n_cd = 4;
  EXPECT_EQ(H5Pget_filter2(dcpl, 1, &flags, &n_cd, cd, 0, nullptr, nullptr), H5Z_FILTER_DEFLATE);
  const hid_t type = H5Dget_type(d);
  EXPECT_EQ(H5Tget_size(type), 2u);
  H5Tclose(type);
  H5Pclose(dcpl);
  H5Dclose(d);
  H5Fclose(file);
}

// ---- codecs ---------------------------------------------------------------------------

std::uint32_t bits(float v) {
  std::uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

/// Bit for bit (so -0 and +0 differ) what `want` reads back as at precision p.
void expect_bits(const AttentionStack& got, const AttentionStack& want, Precision p,
                 const std::string& what) {
  ASSERT_EQ(got.data().size(), want.data().size()) << what;
  for (std::size_t k = 0; k < want.data().size(); ++k) {
    ASSERT_EQ(bits(got.data()[k]), bits(test::stored_value(want.data()[k], p)))
        << what << ": value " << k;
  }
}

/// The filter ids of dataset `name` in `path`, in pipeline order.
std::vector<int> filters_of(const std::string& path, const std::string& name) {
  std::vector<int> ids;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  const hid_t dcpl = H5Dget_create_plist(d);
  for (int k = 0; k < H5Pget_nfilters(dcpl); ++k) {
    unsigned flags = 0, cd[8];
    std::size_t n_cd = 8;
    ids.push_back(
        H5Pget_filter2(dcpl, static_cast<unsigned>(k), &flags, &n_cd, cd, 0, nullptr, nullptr));
  }
  H5Pclose(dcpl);
  H5Dclose(d);
  H5Fclose(file);
  return ids;
}

std::string root_string(const std::string& path, const char* name) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t attribute = H5Aopen(file, name, H5P_DEFAULT);
  const hid_t type = H5Aget_type(attribute);
  char* value = nullptr;
  std::string out;
  if (H5Aread(attribute, type, &value) >= 0 && value != nullptr) out = value;
  H5free_memory(value);
  H5Tclose(type);
  H5Aclose(attribute);
  H5Fclose(file);
  return out;
}

struct CodecCase {
  const char* name;
  Precision precision;
  std::size_t chunk_bytes;   ///< small: row-block chunks (the chunk-by-chunk path)
  std::vector<int> filters;  ///< expected pipeline of the attention datasets
};

class StoreCodec : public testing::TestWithParam<CodecCase> {};

// Every codec writes a per-head store (ragged examples, gradients) that reads back bit for
// bit, with the codec in the root attribute and the expected filters on every dataset.
TEST_P(StoreCodec, ReadsBackBitIdentical) {
  const CodecCase& c = GetParam();
  WriteOptions w;
  set_compression(w, c.name);
  w.chunk_bytes = c.chunk_bytes;
  if (!codec_available(w.codec)) {
    GTEST_SKIP() << c.name << ": its HDF5 filter plugin is not available here (HDF5_PLUGIN_PATH)";
  }
  const std::string path = test::temp_path(std::string("codec_") + c.name + ".h5");
  StoreInfo info = test::store_info(StoreMode::PerHead, c.precision);
  std::vector<Example> written;
  {
    Store store = Store::create(path, info, w);
    for (int i = 0; i < 6; ++i) {
      written.push_back(test::make_example(i, info, 21, true, 40));
      if (i == 5) written.back().attention.data()[0] = -0.0f;  // a sign bit to keep
      store.append(written.back());
    }
  }
  EXPECT_EQ(root_string(path, "compression"), compression_name(w));
  EXPECT_EQ(filters_of(path, "examples/000000003/attention"), c.filters);
  EXPECT_EQ(filters_of(path, "examples/000000003/gradient"), c.filters);
  const Store store = Store::open(path);
  EXPECT_EQ(store.info().compression, compression_name(w));
  for (int i = 5; i >= 0; --i) {
    const Example got = store.read(i);
    const Example& want = written[static_cast<std::size_t>(i)];
    EXPECT_EQ(got.tokens, want.tokens);
    expect_bits(got.attention, want.attention, c.precision, "attention " + std::to_string(i));
    expect_bits(got.gradient, want.gradient, c.precision, "gradient " + std::to_string(i));
  }
}

const std::vector<int> kNoFilter = {};
const std::vector<int> kLz4 = {32004};
const std::vector<int> kBitshuffle = {32008};
const std::vector<int> kGzip = {H5Z_FILTER_SHUFFLE, H5Z_FILTER_DEFLATE};
constexpr std::size_t kWholeLayers = std::size_t{1} << 20, kRowBlocks = 1024;

INSTANTIATE_TEST_SUITE_P(
    Codecs, StoreCodec,
    testing::Values(CodecCase{"none", Precision::Float16, kWholeLayers, kNoFilter},
                    CodecCase{"none", Precision::Float32, kWholeLayers, kNoFilter},
                    CodecCase{"none", Precision::Float16, kRowBlocks, kNoFilter},
                    CodecCase{"lz4", Precision::Float16, kWholeLayers, kLz4},
                    CodecCase{"lz4", Precision::Float32, kRowBlocks, kLz4},
                    CodecCase{"bitshuffle", Precision::Float16, kWholeLayers, kBitshuffle},
                    CodecCase{"bitshuffle", Precision::Float32, kWholeLayers, kBitshuffle},
                    CodecCase{"gzip-1", Precision::Float16, kWholeLayers, kGzip},
                    CodecCase{"gzip", Precision::Float32, kWholeLayers, kGzip},
                    CodecCase{"gzip-9", Precision::Float16, kRowBlocks, kGzip}),
    [](const testing::TestParamInfo<CodecCase>& p) {
      std::string name = std::string(p.param.name) + "_" + to_string(p.param.precision) +
                         (p.param.chunk_bytes == kRowBlocks ? "_rows" : "");
      std::replace(name.begin(), name.end(), '-', '_');
      return name;
    });

TEST(StoreCodecs, NamesRoundTripAndBadNames) {
  for (const char* name : {"none", "lz4", "bitshuffle", "gzip-1", "gzip-4", "gzip-9"}) {
    WriteOptions w;
    set_compression(w, name);
    EXPECT_EQ(compression_name(w), name);
  }
  WriteOptions w;
  set_compression(w, "gzip");
  EXPECT_EQ(w.codec, Codec::Gzip);
  EXPECT_EQ(w.compression, 4);
  EXPECT_EQ(compression_name(WriteOptions{}), "none");  // the default
  WriteOptions old;  // what callers before codecs wrote: a gzip level, 0 = none
  old.codec = Codec::Gzip;
  old.compression = 0;
  EXPECT_EQ(compression_name(old), "none");
  for (const char* bad : {"gzip-0", "gzip-10", "zstd", "", "LZ4", "gzip4"}) {
    test::expect_error([&] { set_compression(w, bad, "--compression"); },
                       std::string("--compression: unknown '") + bad +
                           "' (expected none, lz4, bitshuffle, gzip or gzip-1..gzip-9)");
  }
}

// Appending to a reopened store keeps the codec the file records, whatever options say.
TEST(StoreCodecs, AppendsKeepTheFileCodec) {
  const std::string path = test::temp_path("codec_append.h5");
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float16);
  WriteOptions gzip1;
  set_compression(gzip1, "gzip-1");
  Store::create(path, info, gzip1).append(test::make_example(0, info, 3, false));
  {
    Store store = Store::open(path, Access::ReadWrite);  // default options: none
    store.append(test::make_example(1, info, 3, false));
  }
  EXPECT_EQ(filters_of(path, "examples/000000001/attention"), kGzip);
  expect_example(Store::open(path).read(1), test::make_example(1, info, 3, false), info);
}

// With the LZ4 plugin unloadable (as without hdf5-filter-plugin): writing and reading name
// the file, the filter and HDF5_PLUGIN_PATH; the other codecs go on working.
TEST(StoreCodecs, MissingPluginIsAClearError) {
  if (!codec_available(Codec::Lz4)) GTEST_SKIP() << "the LZ4 plugin is not available here";
  const std::string path = test::temp_path("codec_missing.h5");
  const StoreInfo info = test::store_info(StoreMode::PerHead, Precision::Float16);
  WriteOptions lz4;
  set_compression(lz4, "lz4");
  const Example e = test::make_example(0, info, 5, false);
  Store::create(path, info, lz4).append(e);
  const char* env = std::getenv("HDF5_PLUGIN_PATH");
  const std::string env_words = env != nullptr ? std::string("HDF5_PLUGIN_PATH is ") + env
                                               : std::string("HDF5_PLUGIN_PATH is not set");
  const std::string hint =
      "install Debian's hdf5-filter-plugin or set HDF5_PLUGIN_PATH to the folder holding the "
      "plugin, e.g. /usr/lib/x86_64-linux-gnu/hdf5/serial/plugins (" +
      env_words + ")";
  unsigned state = 0;
  ASSERT_GE(H5PLget_loading_state(&state), 0);
  ASSERT_GE(H5PLset_loading_state(0), 0);  // no plugins from now on
  ASSERT_GE(H5Zunregister(32004), 0);      // and forget the one loaded for writing
  {
    const Store store = Store::open(path);
    test::expect_error([&] { store.read(0); },
                       path +
                           ": example 0: dataset 'attention' is compressed with HDF5 filter "
                           "32004 (lz4), which HDF5 cannot load here; " +
                           hint);
    EXPECT_NO_THROW(store.read(0, ReadOptions::metadata_only()));
  }
  {
    test::expect_error([&] { Store::open(path, Access::ReadWrite); },
                       path +
                           ": cannot write with compression lz4: HDF5 filter 32004 (lz4) is "
                           "not available to HDF5 here; " +
                           hint + ", or choose --compression none or gzip");
    const std::string other = test::temp_path("codec_missing_new.h5");
    test::expect_error([&] { Store::create(other, info, lz4); },
                       other +
                           ": cannot write with compression lz4: HDF5 filter 32004 (lz4) is "
                           "not available to HDF5 here; " +
                           hint + ", or choose --compression none or gzip");
    EXPECT_FALSE(std::ifstream(other).good());  // nothing partial left
    WriteOptions gzip;
    set_compression(gzip, "gzip-1");
    Store::create(other, info, gzip).append(e);
    expect_example(Store::open(other).read(0), e, info);
  }
  ASSERT_GE(H5PLset_loading_state(state), 0);
  expect_example(Store::open(path).read(0), e, info);  // loads the plugin again
}

}  // namespace
}  // namespace attnflow::io
