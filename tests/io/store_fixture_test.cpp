// tests/data/store_v1.h5 was written by attnflow 0.1.0 (schema version 1)
// with `attnflow_store_tool fixture`. Every later version must read it back
// exactly; it is never regenerated (see tests/data/README.md).
#include <cstdio>
#include <tuple>

#include "../core/test_util.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "store_fixture_v3.hpp"
#include "store_test_util.hpp"

namespace attnflow::io {
namespace {

// `created` of the committed tests/data/store_v3_*.h5 (all written by one command).
constexpr const char* kV3Created = "2026-12-01T16:23:34Z";

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

// --- schema version 3: tests/data/store_v3_*.h5 (test::V3Fixture), written by attnflow 0.1.0
// with `attnflow_store_tool fixture-v3 tests/data`; never regenerated.

void expect_same_stack(const AttentionStack& got, const AttentionStack& want,
                       const std::string& what) {
  EXPECT_EQ(got.layers(), want.layers()) << what;
  EXPECT_EQ(got.heads(), want.heads()) << what;
  EXPECT_EQ(got.tokens(), want.tokens()) << what;
  EXPECT_EQ(got.data(), want.data()) << what;  // exact: multiples of 1/64
}

void expect_same_cross(const CrossAttentionStack& got, const CrossAttentionStack& want,
                       const std::string& what) {
  EXPECT_EQ(got.layers(), want.layers()) << what;
  EXPECT_EQ(got.heads(), want.heads()) << what;
  EXPECT_EQ(got.queries(), want.queries()) << what;
  EXPECT_EQ(got.keys(), want.keys()) << what;
  EXPECT_EQ(got.data(), want.data()) << what;
}

// Every field of an example, arrays value for value.
void expect_same_example(const Example& got, const Example& want, const std::string& where) {
  EXPECT_EQ(got.tokens, want.tokens) << where;
  EXPECT_EQ(got.token_ids, want.token_ids) << where;
  EXPECT_EQ(got.label, want.label) << where;
  EXPECT_EQ(got.target, want.target) << where;
  EXPECT_EQ(got.prediction, want.prediction) << where;
  expect_same_stack(got.attention, want.attention, where + ": attention");
  expect_same_stack(got.gradient, want.gradient, where + ": gradient");
  ASSERT_EQ(got.contributions.size(), want.contributions.size()) << where;
  for (const auto& [c, stack] : want.contributions) {
    ASSERT_EQ(got.contributions.count(c), 1u) << where << ": " << to_string(c);
    expect_same_stack(got.contributions.at(c), stack, where + ": " + to_string(c));
  }
  EXPECT_EQ(got.decoder.tokens, want.decoder.tokens) << where;
  EXPECT_EQ(got.decoder.token_ids, want.decoder.token_ids) << where;
  expect_same_stack(got.decoder.attention, want.decoder.attention, where + ": decoder attention");
  expect_same_stack(got.decoder.gradient, want.decoder.gradient, where + ": decoder gradient");
  expect_same_cross(got.decoder.cross_attention, want.decoder.cross_attention,
                    where + ": cross-attention");
  expect_same_cross(got.decoder.cross_gradient, want.decoder.cross_gradient,
                    where + ": cross gradient");
}

// The fields a creator sets (StoreInfo without the ones filled on open), compared as one tuple
// (gtest prints both sides on a mismatch).
void expect_same_info(const StoreInfo& got, const StoreInfo& want, const std::string& where) {
  const auto fields = [](const StoreInfo& i) {
    return std::tie(i.model, i.tokenizer, i.layers, i.heads, i.causal, i.mode,
                    i.attention_precision, i.gradient_precision, i.fusion, i.extract_batch_size,
                    i.contributions, i.decoder_layers, i.layer_selection, i.model_layers,
                    i.head_selection, i.model_heads, i.derived_run);
  };
  const auto shard = [](const ShardRange& r) {
    return std::tie(r.index, r.count, r.first, r.end, r.total, r.source);
  };
  EXPECT_EQ(fields(got), fields(want)) << where;
  EXPECT_EQ(shard(got.shard), shard(want.shard)) << where;
}

// Stored maps of run `name` in `got` against `want(i)`: layers and rows exactly, values within
// `tol` (float32 runs hold the float32 rounding of the float64 maps).
template <class Want>
void expect_run_maps(const Store& got, const std::string& name, std::int64_t size, Want want,
                     double tol) {
  for (std::int64_t i = 0; i < size; ++i) {
    SCOPED_TRACE("run " + name + " example " + std::to_string(i));
    const AnalysisResult have = read_derived(got, name, i), expected = want(i);
    ASSERT_EQ(have.maps.size(), expected.maps.size());
    for (const auto& [method, maps] : expected.maps) {
      ASSERT_EQ(have.maps.count(method), 1u) << to_string(method);
      const LayerMaps& m = have.maps.at(method);
      EXPECT_EQ(m.layers, maps.layers) << to_string(method);
      EXPECT_EQ(m.rows, maps.rows) << to_string(method);
      ASSERT_EQ(m.maps.size(), maps.maps.size()) << to_string(method);
      for (std::size_t k = 0; k < maps.maps.size(); ++k) {
        test::expect_near(m.maps[k], maps.maps[k], tol);
      }
    }
  }
}

// A v3 file against its generator: every root attribute, example and derived result.
void expect_v3_fixture(const Store& store, test::V3Fixture f) {
  const std::string where = test::v3_file(f);
  SCOPED_TRACE(where);
  const StoreInfo& info = store.info();
  EXPECT_EQ(info.schema_version, 3);
  EXPECT_EQ(info.compression, test::v3_compression(f));
  expect_same_info(info, test::v3_info(f), where);
  ASSERT_EQ(store.size(), test::v3_examples(f));
  for (int i = 0; i < test::v3_examples(f); ++i) {
    const std::string at = where + ": example " + std::to_string(i);
    const Example want = test::v3_example(f, i);
    expect_same_example(store.read(i), want, at);
    const Example meta = store.read(i, ReadOptions::metadata_only());
    EXPECT_EQ(meta.tokens, want.tokens) << at;
    EXPECT_EQ(meta.label, want.label) << at;
    EXPECT_EQ(meta.decoder.tokens, want.decoder.tokens) << at;
    EXPECT_TRUE(meta.attention.empty() && meta.gradient.empty() && meta.contributions.empty() &&
                meta.decoder.attention.empty() && meta.decoder.cross_attention.empty())
        << at;
  }
  const std::vector<RunInfo> runs = list_runs(store);
  const std::optional<RunInfo> want_run = test::v3_run(f);
  ASSERT_EQ(runs.size(), want_run ? 1u : 0u);
  if (!want_run) return;
  const RunInfo run = run_info(store, want_run->name);
  EXPECT_EQ(runs[0].name, want_run->name);
  EXPECT_EQ(run.status, RunStatus::Complete);
  EXPECT_EQ(run.size, test::v3_examples(f));
  EXPECT_EQ(run.precision, want_run->precision);
  EXPECT_EQ(run.source, "");
  EXPECT_EQ(describe_options(run), describe_options(*want_run));
  expect_run_maps(
      store, run.name, run.size, [f](std::int64_t i) { return test::v3_run_result(f, int(i)); },
      1e-6);
}

TEST(StoreFixture, ReadsTheCommittedSchemaVersion3Files) {
  for (test::V3Fixture f : test::kV3Fixtures) {
    const Store store = Store::open(std::string(ATTNFLOW_TEST_DATA) + "/" + test::v3_file(f));
    EXPECT_EQ(store.info().tool_version, "0.1.0");
    EXPECT_EQ(store.info().created, kV3Created);
    expect_v3_fixture(store, f);
  }
}

TEST(StoreFixture, TodaysWriterProducesTheSameVersion3Content) {
  const std::string dir = test::temp_dir("v3");
  const std::string command = std::string(ATTNFLOW_STORE_TOOL) + " fixture-v3 " + dir;
  ASSERT_EQ(std::system(command.c_str()), 0);
  for (test::V3Fixture f : test::kV3Fixtures) {
    const Store now = Store::open(dir + "/" + test::v3_file(f));
    expect_v3_fixture(now, f);
    // and, directly, as the committed file reads
    const Store then = Store::open(std::string(ATTNFLOW_TEST_DATA) + "/" + test::v3_file(f));
    SCOPED_TRACE(test::v3_file(f));
    EXPECT_EQ(now.info().schema_version, then.info().schema_version);
    EXPECT_EQ(now.info().compression, then.info().compression);
    expect_same_info(now.info(), then.info(), test::v3_file(f));
    ASSERT_EQ(now.size(), then.size());
    for (std::int64_t i = 0; i < now.size(); ++i) {
      expect_same_example(now.read(i), then.read(i), "example " + std::to_string(i));
    }
    const std::vector<RunInfo> runs = list_runs(now), were = list_runs(then);
    ASSERT_EQ(runs.size(), were.size());
    for (std::size_t k = 0; k < runs.size(); ++k) {
      EXPECT_EQ(runs[k].name, were[k].name);
      EXPECT_EQ(describe_options(runs[k]), describe_options(were[k]));
      EXPECT_EQ(runs[k].size, were[k].size);
      expect_run_maps(
          now, runs[k].name, runs[k].size,
          [&](std::int64_t i) { return read_derived(then, were[k].name, i); }, 1e-6);
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
