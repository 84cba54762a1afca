// HDF5 store: round trip for every mode x precision, random access, append,
// partial reads, and the on-disk layout (chunks per example, filters).
#include "attnflow/io/store.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "../core/test_util.hpp"
#include "attnflow/version.hpp"
#include "store_test_util.hpp"

namespace attnflow::io {
namespace {

StoreInfo make_info(StoreMode mode, Precision precision, bool causal = false) {
  StoreInfo info;
  info.model = "test-model ☃";
  info.tokenizer = "wordpiece";
  info.layers = 3;
  info.heads = 4;
  info.causal = causal;
  info.mode = mode;
  info.attention_precision = precision;
  info.gradient_precision = precision;
  info.fusion = mode == StoreMode::Fused ? "max" : "mean";
  return info;
}

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
  const StoreInfo info = make_info(c.mode, c.precision, c.mode == StoreMode::Fused);
  std::vector<Example> written;
  {
    Store store = Store::create(path, info);
    EXPECT_EQ(store.size(), 0);
    for (int i = 0; i < 7; ++i) {
      written.push_back(test::make_example(i, info, 5, /*gradient=*/i % 2 == 0));
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
  StoreInfo info = make_info(StoreMode::PerHead, Precision::Float16);
  info.gradient_precision = Precision::Float32;
  WriteOptions w;
  w.compression = 0;
  const Example e = test::make_example(0, info, 9, true);
  Store::create(path, info, w).append(e);
  expect_example(Store::open(path).read(0), e, info);
}

TEST(Store, RandomAccessInAnyOrder) {
  const std::string path = test::temp_path("random.h5");
  const StoreInfo info = make_info(StoreMode::PerHead, Precision::Float16);
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
  const StoreInfo info = make_info(StoreMode::PerHead, Precision::Float32);
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
  const StoreInfo info = make_info(StoreMode::PerHead, Precision::Float32);
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
  StoreInfo info = make_info(StoreMode::PerHead, Precision::Float16);
  info.layers = 2;
  info.heads = 12;
  Example e = test::make_example(0, info, 1, false, 1);  // 3 tokens
  e.tokens.resize(64, "t");
  e.token_ids.resize(64, 0);
  e.attention = AttentionStack(2, 12, 64);
  Store::create(path, info).append(e);
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

}  // namespace
}  // namespace attnflow::io
