// Schema version 2: per-example contribution matrices (contribution_<name>, [L, n, n]) in the
// HDF5 store: round trip in every store mode and precision, the root attribute, the checks of
// append and read, and version-1 files (tests/data/store_v1.h5) still read.
#include <gtest/gtest.h>

#include <string>

#include "attnflow/io/store.hpp"
#include "io/store_test_util.hpp"
#include "support/test_support.hpp"

namespace {

using attnflow::AttentionStack;
using attnflow::Contribution;
using attnflow::io::Example;
using attnflow::io::Precision;
using attnflow::io::Store;
using attnflow::io::StoreInfo;
using attnflow::io::StoreMode;
namespace test = attnflow::test;

StoreInfo info_with(StoreMode mode, Precision precision) {
  StoreInfo info;
  info.model = "m";
  info.layers = 2;
  info.heads = 3;
  info.mode = mode;
  info.attention_precision = precision;
  info.contributions = {Contribution::Alti, Contribution::ValueZeroing};
  return info;
}

// Contributions with values exact in float16 (multiples of 1/64).
AttentionStack contribution(int layers, int n, int salt) {
  AttentionStack s(layers, 1, n);
  for (std::size_t k = 0; k < s.data().size(); ++k) {
    s.data()[k] = static_cast<float>((k * 7 + static_cast<std::size_t>(salt)) % 64) / 64.0f;
  }
  return s;
}

Example example_with_contributions(std::int64_t i, const StoreInfo& info) {
  Example e = test::make_example(i, info, 5, false);
  for (Contribution c : info.contributions) {
    e.contributions[c] =
        contribution(info.layers, e.tokens_count(), static_cast<int>(c) + static_cast<int>(i));
  }
  return e;
}

TEST(StoreContributions, RoundTripInEveryModeAndPrecision) {
  for (StoreMode mode : {StoreMode::PerHead, StoreMode::Fused, StoreMode::Derived}) {
    for (Precision p : {Precision::Float32, Precision::Float16}) {
      SCOPED_TRACE(std::string(to_string(mode)) + " " + to_string(p));
      const std::string path = test::temp_path(std::string(to_string(mode)) + to_string(p));
      const StoreInfo info = info_with(mode, p);
      {
        Store s = Store::create(path, info);
        for (int i = 0; i < 3; ++i) s.append(example_with_contributions(i, info));
      }
      const Store s = Store::open(path);
      EXPECT_EQ(s.info().schema_version, 2);
      EXPECT_EQ(s.info().contributions, info.contributions);
      for (int i = 0; i < 3; ++i) {
        const Example want = example_with_contributions(i, info);
        const Example got = s.read(i);
        ASSERT_EQ(got.contributions.size(), 2u);
        for (Contribution c : info.contributions) {
          EXPECT_EQ(got.contributions.at(c).layers(), 2);
          EXPECT_EQ(got.contributions.at(c).heads(), 1);
          EXPECT_EQ(got.contributions.at(c).data(), want.contributions.at(c).data());
        }
        attnflow::io::ReadOptions none = attnflow::io::ReadOptions::metadata_only();
        EXPECT_TRUE(s.read(i, none).contributions.empty());
      }
    }
  }
}

TEST(StoreContributions, AppendChecksTheMatricesAgainstTheStore) {
  const std::string path = test::temp_path("checks.h5");
  const StoreInfo info = info_with(StoreMode::Fused, Precision::Float32);
  Store s = Store::create(path, info);
  const std::string where = path + ": example 0";
  Example e = example_with_contributions(0, info);
  const int n = e.tokens_count();
  Example missing = e;
  missing.contributions.erase(Contribution::ValueZeroing);
  test::expect_error([&] { s.append(missing); },
                     where +
                         ": no value-zeroing contributions (the store holds them for every "
                         "example)");
  Example extra = e;
  extra.contributions[Contribution::Norm] = contribution(2, n, 0);
  test::expect_error([&] { s.append(extra); },
                     where +
                         ": norm contributions given, but the store holds none "
                         "(StoreInfo::contributions)");
  Example wrong = e;
  wrong.contributions[Contribution::Alti] = contribution(3, n, 0);
  test::expect_error([&] { s.append(wrong); },
                     where + ": alti contributions are 3 layers x 1 heads x " + std::to_string(n) +
                         " x " + std::to_string(n) + ", the store expects 2 layers x 1 heads x " +
                         std::to_string(n) + " x " + std::to_string(n));
  Example negative = e;
  negative.contributions[Contribution::Alti].data()[4] = -0.5f;
  test::expect_error_prefix([&] { s.append(negative); }, where + ": alti contributions");
  EXPECT_EQ(s.size(), 0);
  s.append(e);
  EXPECT_EQ(s.size(), 1);
  StoreInfo twice = info;
  twice.contributions.push_back(Contribution::Alti);
  test::expect_error([&] { Store::create(test::temp_path("twice.h5"), twice); },
                     test::temp_path("twice.h5") + ": contributions: 'alti' appears twice");
}

TEST(StoreContributions, AStoreWithoutContributionsIsVersion2WithAnEmptyList) {
  const std::string path = test::temp_path("none.h5");
  StoreInfo info = info_with(StoreMode::PerHead, Precision::Float32);
  info.contributions.clear();
  {
    Store s = Store::create(path, info);
    s.append(test::make_example(0, info, 1, true));
  }
  const Store s = Store::open(path);
  EXPECT_EQ(s.info().schema_version, 2);
  EXPECT_TRUE(s.info().contributions.empty());
  EXPECT_TRUE(s.read(0).contributions.empty());
}

TEST(StoreContributions, Version1FixtureReadsWithoutContributions) {
  const Store s = Store::open(std::string(ATTNFLOW_TEST_DATA) + "/store_v1.h5");
  EXPECT_EQ(s.info().schema_version, 1);
  EXPECT_TRUE(s.info().contributions.empty());
  for (std::int64_t i = 0; i < s.size(); ++i) EXPECT_TRUE(s.read(i).contributions.empty());
}

}  // namespace
