// tests/data/store_v1.h5 was written by attnflow 0.1.0 (schema version 1)
// with `attnflow_store_tool fixture`. Every later version must read it back
// exactly; it is never regenerated (see tests/data/README.md).
#include <cstdio>

#include "../core/test_util.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "store_test_util.hpp"

namespace attnflow::io {
namespace {

void expect_fixture(const Store& store, int schema_version) {
  const StoreInfo& info = store.info();
  EXPECT_EQ(info.schema_version, schema_version);
  EXPECT_EQ(info.model, "attnflow-fixture");
  EXPECT_EQ(info.tokenizer, "whitespace");
  EXPECT_EQ(info.layers, 2);
  EXPECT_EQ(info.heads, 2);
  EXPECT_FALSE(info.causal);
  EXPECT_EQ(info.mode, StoreMode::PerHead);
  EXPECT_EQ(info.attention_precision, Precision::Float16);
  EXPECT_EQ(info.gradient_precision, Precision::Float32);
  EXPECT_EQ(info.fusion, "mean");
  ASSERT_EQ(store.size(), test::kFixtureExamples);
  for (int i = 0; i < test::kFixtureExamples; ++i) {
    const Example got = store.read(i);
    const Example want = test::fixture_example(i);
    EXPECT_EQ(got.tokens, want.tokens) << i;
    EXPECT_EQ(got.token_ids, want.token_ids) << i;
    EXPECT_EQ(got.label, want.label) << i;
    EXPECT_EQ(got.target, want.target) << i;
    EXPECT_EQ(got.prediction, want.prediction) << i;
    EXPECT_EQ(got.attention.data(), want.attention.data()) << i;  // exact: multiples of 1/64
    EXPECT_EQ(got.gradient.data(), want.gradient.data()) << i;
  }
  const RunInfo run = run_info(store, "fixture");
  EXPECT_EQ(run.status, RunStatus::Complete);
  EXPECT_EQ(run.size, test::kFixtureExamples);
  EXPECT_EQ(run.precision, Precision::Float64);
  RunInfo want_run;
  want_run.options = test::fixture_run_options();
  want_run.precision = Precision::Float64;
  EXPECT_EQ(describe_options(run), describe_options(want_run));
  for (int i = 0; i < test::kFixtureExamples; ++i) {
    const Example e = test::fixture_example(i);
    const AnalysisResult want = analyze(e.attention, nullptr, want_run.options);
    const AnalysisResult got = read_derived(store, "fixture", i);
    ASSERT_EQ(got.maps.size(), 3u);
    for (const auto& [method, maps] : want.maps) {
      EXPECT_EQ(got.maps.at(method).layers, maps.layers);
      EXPECT_EQ(got.maps.at(method).rows, maps.rows);
      for (std::size_t k = 0; k < maps.maps.size(); ++k) {
        test::expect_near(got.maps.at(method).maps[k], maps.maps[k], 1e-12);
      }
    }
  }
}

TEST(StoreFixture, ReadsTheCommittedSchemaVersion1File) {
  const Store store = Store::open(std::string(ATTNFLOW_TEST_DATA) + "/store_v1.h5");
  EXPECT_EQ(store.info().tool_version, "0.1.0");
  EXPECT_EQ(store.info().created, "2026-11-25T13:07:29Z");
  expect_fixture(store, 1);
}

// tests/data/store_v2.h5: the same content plus contributions, written by attnflow 0.1.0 with
// schema version 2 (`attnflow_store_tool fixture-v2`); never regenerated.
TEST(StoreFixture, ReadsTheCommittedSchemaVersion2File) {
  const Store store = Store::open(std::string(ATTNFLOW_TEST_DATA) + "/store_v2.h5");
  expect_fixture(store, 2);
  EXPECT_EQ(store.info().contributions, test::fixture_v2_info().contributions);
  for (int i = 0; i < test::kFixtureExamples; ++i) {
    const Example got = store.read(i);
    const Example want = test::fixture_v2_example(i);
    ASSERT_EQ(got.contributions.size(), want.contributions.size());
    for (const auto& [c, stack] : want.contributions) {
      EXPECT_EQ(got.contributions.at(c).data(), stack.data()) << i;  // exact: multiples of 1/64
    }
  }
}

TEST(StoreFixture, TodaysWriterProducesTheSameContent) {
  const std::string path = test::temp_path("now.h5");
  const std::string command = std::string(ATTNFLOW_STORE_TOOL) + " fixture " + path;
  ASSERT_EQ(std::system(command.c_str()), 0);
  expect_fixture(Store::open(path), kSchemaVersion);
}

}  // namespace
}  // namespace attnflow::io
