// pipeline::reproduce as a library call on the shipped SVA classifier and a handful of held-out
// sentences: the tables (shape, range, the paper's numbers), the blank-out invariant, the
// files, the input-gradient baseline on numbers worked by hand, and clear errors.
#include "attnflow/pipeline/reproduce.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "attnflow/pipeline/baselines.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace pl = attnflow::pipeline;
namespace test = attnflow::test;

const std::string kSvaModel = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/models/sva";
const std::string kSvaTest = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/sva/test.jsonl";

pl::ReproduceOptions small(const std::string& output) {
  pl::ReproduceOptions o;
  o.output = output;
  o.model_dir = kSvaModel;
  o.test_path = kSvaTest;
  o.examples = 4;
  o.threads = 2;
  return o;
}

TEST(Reproduce, TablesInvariantAndFigures) {
  pl::ReproduceOptions o = small(test::temp_path("out"));
  std::int64_t last_done = 0, last_total = 0;
  o.on_progress = [&](std::int64_t done, std::int64_t total) {
    last_done = done;
    last_total = total;
  };
  const pl::ReproduceReport r = pl::reproduce(o);
  EXPECT_EQ(last_done, 4);
  EXPECT_EQ(last_total, 4);
  EXPECT_EQ(r.examples, 4);
  EXPECT_GE(r.accuracy, 0.0);
  EXPECT_LE(r.accuracy, 1.0);
  EXPECT_LT(r.blank_out_invariant, 1e-6);

  ASSERT_EQ(r.tables.size(), 3u);
  const std::vector<std::string> ids = {"1", "2", "2b"};
  const std::vector<std::string> baselines = pl::baseline_names();
  int with_paper = 0;
  for (std::size_t t = 0; t < 3; ++t) {
    const pl::CorrelationTable& table = r.tables[t];
    EXPECT_EQ(table.id, ids[t]);
    EXPECT_EQ(table.baseline, baselines[t]);
    EXPECT_EQ(table.methods, (std::vector<std::string>{"raw", "rollout", "flow", "grad-rollout"}));
    ASSERT_EQ(table.cells.size(), 4u);
    for (const auto& row : table.cells) {
      ASSERT_EQ(row.size(), 6u);
      for (const pl::CorrelationCell& c : row) {
        EXPECT_EQ(c.examples, 4);
        EXPECT_GE(c.mean, -1.0);
        EXPECT_LE(c.mean, 1.0);
        EXPECT_GE(c.std, 0.0);
        with_paper += c.paper ? 1 : 0;
      }
    }
  }
  EXPECT_EQ(with_paper, 36);  // raw, rollout, flow x 6 layers x Tables 1 and 2
  EXPECT_DOUBLE_EQ(*r.tables[0].cells[2][2].paper, 0.70);  // Table 1, flow, layer 3

  EXPECT_NE(r.text.find("[4 held-out examples]"), std::string::npos) << r.text;
  EXPECT_NE(r.text.find("paper flow"), std::string::npos);
  EXPECT_NE(r.text.find("ours flow [paper]"), std::string::npos);
  EXPECT_NE(r.text.find("ours flow [attnflow]"), std::string::npos);

  // The paper's convention by default, the other one beside it, from the same runs.
  EXPECT_EQ(r.convention, pl::Convention::Paper);
  ASSERT_EQ(r.other_tables.size(), 3u);
  for (std::size_t t = 0; t < 3; ++t) {
    EXPECT_EQ(r.tables[t].convention, "paper");
    EXPECT_EQ(r.other_tables[t].convention, "attnflow");
    EXPECT_EQ(r.other_tables[t].baseline, r.tables[t].baseline);
    EXPECT_EQ(r.other_tables[t].cells.size(), 4u);
  }
  // At layer 1 rollout and flow are the same matrix; under the attnflow convention raw is too
  // (the residual only moves weight onto [CLS], which that convention leaves out) — under the
  // paper's it is not: [CLS] keeps the residual's weight.
  for (std::size_t t = 0; t < 3; ++t) {
    const auto& ours = r.other_tables[t].cells;
    EXPECT_NEAR(ours[0][0].mean, ours[1][0].mean, 1e-12);
    EXPECT_NEAR(ours[1][0].mean, ours[2][0].mean, 1e-12);
    EXPECT_NEAR(r.tables[t].cells[1][0].mean, r.tables[t].cells[2][0].mean, 1e-12);
  }
  EXPECT_NE(r.text.find("(must be < 1e-6: ok)"), std::string::npos);
  EXPECT_FALSE(r.figures.empty());
  for (const char* f :
       {"tables.txt", "tables.csv", "table_blank-out.png", "table_input-gradient.png",
        "table_input-x-gradient.png", "figure1_graph.png", "figure2_1.png", "figure3_1.png"}) {
    EXPECT_TRUE(fs::is_regular_file(o.output + "/" + f)) << f;
  }
  EXPECT_FALSE(fs::exists(o.output + ".partial"));
}

TEST(Reproduce, ClearErrors) {
  pl::ReproduceOptions o = small(test::temp_path("bad"));
  o.paper = "vaswani2017";
  test::expect_error([&] { pl::reproduce(o); },
                     "reproduce: unknown paper 'vaswani2017' (available: abnar2020)");
  o = small(o.output);
  o.examples = 0;
  test::expect_error([&] { pl::reproduce(o); }, "--examples must be positive, got 0");
  o = small(o.output);
  o.model_dir = std::string(ATTNFLOW_TEST_DATA) + "/models/bert_cls";
  const std::string m = test::error_message([&] { pl::reproduce(o); });
  EXPECT_NE(m.find(": needs the non-causal 2-class encoder classifier (attnflow train), found"),
            std::string::npos)
      << m;
  EXPECT_FALSE(fs::exists(o.output));
  EXPECT_FALSE(fs::exists(o.output + ".partial"));
}

// [CLS] w1 w2 w3 [SEP]: scores and a baseline whose sentence tokens rank in opposite orders
// (attnflow convention: rho = -1) while [CLS] and [SEP] agree (paper convention: ranks
// s = 5 2 3 4 1, b = 5 4 3 2 1, sum d^2 = 8, rho = 1 - 6*8/(5*24) = 0.6).
TEST(Reproduce, ConventionsByHand) {
  const std::vector<double> s = {0.5, 0.1, 0.2, 0.3, 0.0};
  const std::vector<double> b = {0.5, 0.3, 0.2, 0.1, 0.0};
  EXPECT_NEAR(pl::convention_spearman(s, b, pl::Convention::Paper), 0.6, 1e-12);
  EXPECT_NEAR(pl::convention_spearman(s, b, pl::Convention::Attnflow), -1.0, 1e-12);
  // A constant sentence part: NaN under attnflow, a number under the paper's convention.
  const std::vector<double> flat = {0.9, 0.2, 0.2, 0.2, 0.1};
  EXPECT_TRUE(std::isnan(pl::convention_spearman(flat, b, pl::Convention::Attnflow)));
  // ranks 5 3 3 3 1 vs 5 4 3 2 1: r = 8 / sqrt(8 * 10)
  EXPECT_NEAR(pl::convention_spearman(flat, b, pl::Convention::Paper), 8.0 / std::sqrt(80.0),
              1e-12);
  EXPECT_EQ(pl::parse_convention("paper"), pl::Convention::Paper);
  EXPECT_EQ(pl::parse_convention("attnflow"), pl::Convention::Attnflow);
  EXPECT_EQ(pl::convention_name(pl::Convention::Attnflow), "attnflow");
  test::expect_error([] { pl::parse_convention("linzen"); },
                     "reproduce: unknown convention 'linzen' (paper or attnflow)");
  test::expect_error(
      [&] {
        pl::convention_spearman(s, {1.0, 2.0}, pl::Convention::Paper);
      },
      "reproduce: 5 scores against 2 baseline values");
  test::expect_error(
      [] {
        pl::convention_spearman({1, 2, 3}, {3, 2, 1}, pl::Convention::Attnflow);
      },
      "reproduce: the attnflow convention needs at least 2 tokens between [CLS] and [SEP], got "
      "3 positions");
}

TEST(Baselines, InputGradientScoresByHand) {
  attnflow::torch::Output out;
  out.n = 2;
  out.input_gradient = {1.0f, -3.0f, 0.5f, 0.25f};  // [2, 2]
  out.input_embedding = {2.0f, 1.0f, -4.0f, 4.0f};
  std::vector<double> g, gx;
  pl::input_gradient_scores(out, g, gx);
  EXPECT_EQ(g, (std::vector<double>{2.0, 0.75}));  // |1 - 3|, |0.5 + 0.25|
  EXPECT_EQ(gx, (std::vector<double>{1.0, 1.0}));  // |2 - 3|, |-2 + 1|
  out.input_embedding.pop_back();
  test::expect_error([&] { pl::input_gradient_scores(out, g, gx); },
                     "input gradients: the output has no [n, d] input gradient and embedding");
  test::expect_error([] { pl::baseline(pl::BaselineScores{}, "lime"); },
                     "baseline 'lime': expected blank-out, input-gradient or input-x-gradient");
}

}  // namespace
