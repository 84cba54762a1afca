// pipeline::analyze: the .npy job (tables, long CSV) and the corpus job
// (derived run, summary CSV, report, what is kept after a failure).
#include "attnflow/pipeline/analyze.hpp"

#include <sstream>

#include "../core/test_util.hpp"
#include "../io/store_test_util.hpp"
#include "attnflow/io/npy.hpp"
#include "attnflow/io/store.hpp"

namespace attnflow::pipeline {
namespace {

std::string tiny() {
  return std::string(ATTNFLOW_TEST_DATA) + "/tiny_attention.npy";
}

TEST(Analyze, NpyTablesAndLongCsv) {
  AnalyzeOptions o;
  o.input = tiny();
  o.output = test::temp_path("long.csv");
  o.analysis.target_rows = {-1};
  const AnalyzeReport report = analyze(o);
  EXPECT_FALSE(report.corpus);
  EXPECT_EQ(report.csv, o.output);
  EXPECT_EQ(report.npy.layers, 2);
  EXPECT_EQ(report.npy.tokens, 3);
  const AttentionStack a = io::read_attention_npy(tiny());
  AnalysisOptions want;
  want.target_rows = {2};
  const AnalysisResult expected = attnflow::analyze(a, nullptr, want);
  for (const auto& [method, maps] : expected.maps) {
    EXPECT_EQ(report.npy.result.maps.at(method).rows, (std::vector<int>{2}));
    test::expect_near(report.npy.result.maps.at(method).maps[1], maps.maps[1], 0.0);
  }
  const std::string csv = test::read_file(o.output);
  EXPECT_EQ(csv.rfind("method,layer,row,column,token,value\nraw,1,2,0,\"0\",", 0), 0u);
  std::ostringstream out;
  print_report(report, out);
  EXPECT_EQ(
      out.str().rfind(tiny() + ": 2 layers, 2 heads, 3 tokens\n\nraw — target row 2 (2)\n", 0), 0u);
  EXPECT_NE(out.str().find("\nwrote " + o.output + "\n"), std::string::npos);
}

TEST(Analyze, NpyErrors) {
  AnalyzeOptions o;
  o.input = tiny();
  o.analysis.target_rows = {-4};
  test::expect_error([&] { analyze(o); },
                     "target rows: token -4 out of range (sequence has 3 tokens, valid 0..2 or "
                     "-3..-1)");
  o.analysis.target_rows = {0};
  o.corpus.resume = true;
  test::expect_error([&] { analyze(o); },
                     tiny() +
                         ": --output-h5, --run, --no-store, --overwrite, --resume, --precision, "
                         "--csv-values and --shard are for HDF5 corpora (.h5/.hdf5)");
  o.analysis.grad_rule = "x";  // analysis settings are checked first
  test::expect_error([&] { analyze(o); },
                     "--grad-rule: unknown 'x' (expected chefer or vit-explain)");
}

std::string make_corpus(const std::string& name, int examples) {
  const std::string path = test::temp_path(name);
  io::StoreInfo info;
  info.model = "m";
  info.tokenizer = "t";
  info.layers = 3;
  info.heads = 2;
  io::Store store = io::Store::create(path, info);
  for (int i = 0; i < examples; ++i) store.append(test::make_example(i, info, 5, false));
  return path;
}

TEST(Analyze, CorpusRunSummaryCsvAndReport) {
  AnalyzeOptions o;
  o.input = make_corpus("corpus.h5", 4);
  o.output = test::temp_path("summary.csv");
  o.analysis.target_rows = {0, -1};
  o.analysis.threads = 2;
  std::int64_t last = 0;
  o.on_progress = [&](std::int64_t done, std::int64_t total) {
    EXPECT_EQ(total, 4);
    last = done;
  };
  const AnalyzeReport report = analyze(o);
  EXPECT_EQ(last, 4);
  EXPECT_TRUE(report.corpus);
  EXPECT_EQ(report.corpus_run.stats.computed, 4);
  EXPECT_EQ(report.corpus_run.layers, 3);
  const std::string csv = test::read_file(o.output);
  EXPECT_EQ(csv.rfind("example,label,target,prediction,tokens,method,layer,row,row_token,sum,", 0),
            0u);
  std::size_t lines = 0;
  for (char c : csv) lines += c == '\n';
  EXPECT_EQ(lines, 1u + 4u * 3u * 2u * 3u);  // examples x methods x rows x layers
  std::ostringstream out;
  print_report(report, out);
  EXPECT_EQ(out.str().rfind(o.input + ": 4 examples (3 layers, 2 heads); methods raw,rollout,flow; "
                                      "target rows 0,-1\nanalysed 4 examples in ",
                            0),
            0u);
  EXPECT_NE(out.str().find("results: run 'analyze' in " + o.input +
                           " (/derived/analyze)\n"
                           "summary: " +
                           o.output + "\n"),
            std::string::npos);
  // Again: the run exists; the message says how to go on.
  const std::string note = "\n  run 'analyze' of " + o.input +
                           " is complete: --overwrite recomputes it, --resume re-emits its "
                           "results, --run NAME starts another";
  const std::string what = test::error_message([&] { analyze(o); });
  EXPECT_NE(what.find("already exists"), std::string::npos) << what;
  ASSERT_GE(what.size(), note.size());
  EXPECT_EQ(what.substr(what.size() - note.size()), note);
}

TEST(Analyze, CorpusOptionErrors) {
  AnalyzeOptions o;
  o.input = test::temp_path("missing.h5");
  o.corpus.no_store = true;
  o.corpus.output_h5 = "x.h5";
  test::expect_error([&] { analyze(o); }, "--no-store and --output-h5 exclude each other");
  o.corpus = CorpusSettings{};
  o.corpus.overwrite = o.corpus.resume = true;
  test::expect_error([&] { analyze(o); }, "--overwrite and --resume exclude each other");
  o.corpus = CorpusSettings{};
  o.corpus.precision = "float16";
  test::expect_error([&] { analyze(o); },
                     "--precision: unknown 'float16' (expected float32 or float64)");
  o.corpus = CorpusSettings{};
  o.tokens = "t.txt";
  test::expect_error([&] { analyze(o); },
                     "--gradient and --tokens are for .npy input; an HDF5 corpus stores "
                     "gradients and tokens per example");
}

}  // namespace
}  // namespace attnflow::pipeline
