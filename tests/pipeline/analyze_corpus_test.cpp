// analyze_corpus: same numbers as attnflow::analyze per example, for any
// thread count and output; bad examples stop the run cleanly; resume.
#include "attnflow/pipeline/analyze_corpus.hpp"

#include <hdf5.h>

#include <cstdio>
#include <cstdlib>

#include "../core/test_util.hpp"
#include "../io/store_test_util.hpp"
#include "attnflow/io/store.hpp"

namespace attnflow::pipeline {
namespace {

using namespace attnflow::io;  // the store types the tests build corpora with

std::string temp_path(const std::string& name) {
  const std::string p = testing::TempDir() + "attnflow_corpus_" + name;
  std::remove(p.c_str());
  std::remove((p + ".partial").c_str());
  return p;
}

StoreInfo corpus_info() {
  StoreInfo info;
  info.model = "m";
  info.tokenizer = "t";
  info.layers = 4;
  info.heads = 2;
  info.attention_precision = Precision::Float16;
  return info;
}

std::string make_corpus(const std::string& name, int examples, bool gradient = false) {
  const std::string path = temp_path(name);
  Store store = Store::create(path, corpus_info());
  for (int i = 0; i < examples; ++i)
    store.append(test::make_example(i, corpus_info(), 8, gradient));
  return path;
}

CorpusAnalysisOptions base_options() {
  CorpusAnalysisOptions o;
  o.analysis.methods = {Method::Raw, Method::Rollout, Method::Flow};
  o.analysis.target_rows = {0, -1};
  o.precision = Precision::Float64;
  return o;
}

AnalysisResult expected(const Store& store, std::int64_t i, const AnalysisOptions& options) {
  const Example e = store.read(i);
  AnalysisOptions o = options;
  o.target_rows = {0, e.tokens_count() - 1};
  return analyze(e.attention, e.gradient.empty() ? nullptr : &e.gradient, o);
}

void expect_same(const AnalysisResult& got, const AnalysisResult& want) {
  ASSERT_EQ(got.maps.size(), want.maps.size());
  for (const auto& [method, maps] : want.maps) {
    const LayerMaps& g = got.maps.at(method);
    EXPECT_EQ(g.layers, maps.layers);
    EXPECT_EQ(g.rows, maps.rows);
    ASSERT_EQ(g.maps.size(), maps.maps.size());
    for (std::size_t k = 0; k < maps.maps.size(); ++k)
      test::expect_near(g.maps[k], maps.maps[k], 0.0);
  }
}

TEST(CorpusAnalysis, InPlaceMatchesPerExampleAnalysisForAnyThreadCount) {
  for (int threads : {1, 3}) {
    const std::string path = make_corpus("inplace" + std::to_string(threads) + ".h5", 12);
    CorpusAnalysisOptions o = base_options();
    o.threads = threads;
    std::vector<std::int64_t> order, progress;
    o.on_result = [&](const CorpusItem& item) {
      order.push_back(item.index);
      EXPECT_FALSE(item.resumed);
      EXPECT_FALSE(item.example->tokens.empty());
      EXPECT_EQ(item.result->maps.size(), 3u);
    };
    o.on_progress = [&](std::int64_t done, std::int64_t total) {
      EXPECT_EQ(total, 12);
      progress.push_back(done);
    };
    const CorpusAnalysisStats stats = analyze_corpus(path, o);
    EXPECT_EQ(stats.examples, 12);
    EXPECT_EQ(stats.computed, 12);
    EXPECT_EQ(stats.resumed, 0);
    EXPECT_EQ(stats.threads, threads);
    EXPECT_GT(stats.read_seconds, 0.0);
    EXPECT_GT(stats.compute_seconds, 0.0);
    for (std::int64_t i = 0; i < 12; ++i) {
      EXPECT_EQ(order[static_cast<std::size_t>(i)], i);
      EXPECT_EQ(progress[static_cast<std::size_t>(i)], i + 1);
    }
    const Store store = Store::open(path);
    const RunInfo run = run_info(store, "analyze");
    EXPECT_EQ(run.status, RunStatus::Complete);
    EXPECT_EQ(run.size, 12);
    EXPECT_EQ(describe_options(run)[2], "target_rows=0,-1");
    for (std::int64_t i = 0; i < 12; ++i) {
      expect_same(read_derived(store, "analyze", i), expected(store, i, o.analysis));
    }
  }
}

TEST(CorpusAnalysis, SeparateOutputFileAndNoOutput) {
  const std::string path = make_corpus("source.h5", 5);
  const std::string out = temp_path("derived_out.h5");
  CorpusAnalysisOptions o = base_options();
  o.output = CorpusOutput::File;
  o.output_path = out;
  o.threads = 2;
  analyze_corpus(path, o);
  std::FILE* partial = std::fopen((out + ".partial").c_str(), "rb");
  EXPECT_EQ(partial, nullptr);
  if (partial) std::fclose(partial);
  const Store source = Store::open(path);
  EXPECT_FALSE(has_run(source, "analyze"));  // the input was not touched
  {
    const Store derived = Store::open(out);
    EXPECT_EQ(derived.info().mode, StoreMode::Derived);
    EXPECT_EQ(derived.info().layers, 4);
    ASSERT_EQ(derived.size(), 5);
    const RunInfo run = run_info(derived, "analyze");
    EXPECT_EQ(run.status, RunStatus::Complete);
    EXPECT_EQ(run.source, path + " (created " + source.info().created + ")");
    for (std::int64_t i = 0; i < 5; ++i) {
      const Example e = derived.read(i);
      EXPECT_EQ(e.tokens, source.read(i).tokens);
      EXPECT_EQ(e.label, source.read(i).label);
      expect_same(read_derived(derived, "analyze", i), expected(source, i, o.analysis));
    }
  }
  test::expect_error([&] { analyze_corpus(path, o); },
                     out + ": already exists; overwrite it or choose another file");
  // Resuming a complete output re-emits every stored result.
  o.start = RunStart::Resume;
  int seen = 0;
  o.on_result = [&](const CorpusItem& item) {
    EXPECT_TRUE(item.resumed);
    expect_same(*item.result, expected(source, item.index, o.analysis));
    ++seen;
  };
  const CorpusAnalysisStats stats = analyze_corpus(path, o);
  EXPECT_EQ(seen, 5);
  EXPECT_EQ(stats.resumed, 5);
  EXPECT_EQ(stats.computed, 0);

  CorpusAnalysisOptions none = base_options();
  none.output = CorpusOutput::None;
  seen = 0;
  none.on_result = [&](const CorpusItem& item) {
    expect_same(*item.result, expected(source, item.index, none.analysis));
    ++seen;
  };
  analyze_corpus(path, none);
  EXPECT_EQ(seen, 5);
}

void poison(const std::string& path, int example, const std::string& damage) {
  const std::string command = std::string(ATTNFLOW_STORE_TOOL) + " poison " + path + " " +
                              std::to_string(example) + " " + damage;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(CorpusAnalysis, BadExampleStopsAfterCommittingEarlierOnesThenResume) {
  const std::string path = make_corpus("bad.h5", 14);
  Example original;
  { original = Store::open(path).read(7); }
  poison(path, 7, "nan");
  CorpusAnalysisOptions o = base_options();
  o.threads = 3;
  std::vector<std::int64_t> seen;
  o.on_result = [&](const CorpusItem& item) { seen.push_back(item.index); };
  const std::string message = path + ": example 7: attention: layer ";
  try {
    analyze_corpus(path, o);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    // The middle value of the stack: layer 3 head 1 (of 4 x 2 heads).
    const std::string what = e.what();
    EXPECT_EQ(what.substr(0, message.size()), message) << what;
    EXPECT_NE(what.find(" is NaN"), std::string::npos) << what;
  }
  EXPECT_EQ(seen.size(), 7u);
  {
    const Store store = Store::open(path);
    const RunInfo run = run_info(store, "analyze");
    EXPECT_EQ(run.status, RunStatus::Failed);
    EXPECT_EQ(run.size, 7);
    EXPECT_EQ(run.error.substr(0, message.size()), message);
    for (std::int64_t i = 0; i < 7; ++i) {
      expect_same(read_derived(store, "analyze", i), expected(store, i, o.analysis));
    }
  }
  // Without resume or overwrite, the failed run is protected.
  test::expect_error([&] { analyze_corpus(path, o); },
                     path +
                         ": run 'analyze' already exists (failed, 7 of 14 examples); overwrite "
                         "it or choose another name");
  // Repair example 7 (write the original values back), then resume.
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    const hid_t d = H5Dopen2(f, "examples/000000007/attention", H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, original.attention.data().data());
    H5Dclose(d);
    H5Fclose(f);
  }
  o.start = RunStart::Resume;
  int resumed = 0, computed = 0;
  o.on_result = [&](const CorpusItem& item) { (item.resumed ? resumed : computed)++; };
  const CorpusAnalysisStats stats = analyze_corpus(path, o);
  EXPECT_EQ(resumed, 7);
  EXPECT_EQ(computed, 7);
  EXPECT_EQ(stats.resumed, 7);
  const Store store = Store::open(path);
  EXPECT_EQ(run_info(store, "analyze").status, RunStatus::Complete);
  for (std::int64_t i = 0; i < 14; ++i) {
    expect_same(read_derived(store, "analyze", i), expected(store, i, o.analysis));
  }
}

TEST(CorpusAnalysis, FailedSeparateOutputStaysPartial) {
  const std::string path = make_corpus("bad_out_src.h5", 4);
  poison(path, 2, "bad-utf8");
  const std::string out = temp_path("bad_out.h5");
  CorpusAnalysisOptions o = base_options();
  o.output = CorpusOutput::File;
  o.output_path = out;
  test::expect_error([&] { analyze_corpus(path, o); },
                     path + ": example 2: token 1 is not valid UTF-8 (byte 0xff at offset 2)");
  std::FILE* f = std::fopen(out.c_str(), "rb");
  EXPECT_EQ(f, nullptr);
  if (f) std::fclose(f);
  const Store partial = Store::open(out + ".partial");
  EXPECT_EQ(partial.size(), 2);
  EXPECT_EQ(run_info(partial, "analyze").status, RunStatus::Failed);
  EXPECT_EQ(run_info(partial, "analyze").size, 2);
  test::expect_error([&] { analyze_corpus(path, o); },
                     out + ".partial: an interrupted run is there; resume or overwrite it");
}

TEST(CorpusAnalysis, InputErrors) {
  const std::string path = make_corpus("errors.h5", 3);
  CorpusAnalysisOptions o = base_options();
  o.analysis.methods = {Method::GradRollout};
  o.output = CorpusOutput::None;
  test::expect_error([&] { analyze_corpus(path, o); },
                     path + ": example 0: grad-rollout needs a gradient, the example has none");
  o = base_options();
  o.analysis.target_rows = {-40};
  o.output = CorpusOutput::None;
  test::expect_error([&] { analyze_corpus(path, o); },
                     path +
                         ": example 0: target rows: token -40 out of range (sequence has 11 "
                         "tokens, valid 0..10 or -11..-1)");
  o.analysis.target_rows = {10};
  test::expect_error([&] { analyze_corpus(path, o); },
                     path +
                         ": example 1: target rows: token 10 out of range (sequence has 5 "
                         "tokens, valid 0..4 or -5..-1)");
  o.analysis.target_rows = {0};
  o.analysis.layers = {5};
  test::expect_error([&] { analyze_corpus(path, o); },
                     path +
                         ": example 0: layers: layer 5 out of range (model has 4 layers, valid "
                         "1..4)");
  StoreInfo fused = corpus_info();
  fused.mode = StoreMode::Fused;
  const std::string fused_path = temp_path("fused_corpus.h5");
  Store::create(fused_path, fused).append(test::make_example(0, fused, 1, false));
  o = base_options();
  o.analysis.methods = {Method::GradRollout};
  test::expect_error([&] { analyze_corpus(fused_path, o); },
                     fused_path +
                         ": grad-rollout needs per-head attention and gradients; this "
                         "store is fused");
  StoreInfo derived = corpus_info();
  derived.mode = StoreMode::Derived;
  const std::string derived_path = temp_path("derived_corpus.h5");
  Store::create(derived_path, derived);
  test::expect_error([&] { analyze_corpus(derived_path, base_options()); },
                     derived_path + ": a derived-mode store holds no attention to analyze");
}

TEST(CorpusAnalysis, GradientRolloutFromStoredGradients) {
  const std::string path = make_corpus("grad.h5", 4, true);
  CorpusAnalysisOptions o = base_options();
  o.analysis.methods = {Method::GradRollout, Method::Rollout};
  o.threads = 2;
  analyze_corpus(path, o);
  const Store store = Store::open(path);
  for (std::int64_t i = 0; i < 4; ++i) {
    expect_same(read_derived(store, "analyze", i), expected(store, i, o.analysis));
  }
}

}  // namespace
}  // namespace attnflow::pipeline
