// pipeline::evaluate as a library call on the shipped SVA classifier and a few held-out
// sentences (report shape, blank-out's own Spearman, files), the method table (names, errors,
// the seeded random baseline), layer_scores on matrices worked by hand (the hook for
// per-layer contribution methods), and clear errors.
#include "attnflow/pipeline/evaluate.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "attnflow/pipeline/evaluate_methods.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace pl = attnflow::pipeline;
namespace test = attnflow::test;

const std::string kSvaModel = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/models/sva";
const std::string kSvaTest = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/sva/test.jsonl";

pl::EvaluateOptions small(const std::string& output) {
  pl::EvaluateOptions o;
  o.model = kSvaModel;
  o.corpus = kSvaTest;
  o.output = output;
  o.examples = 3;
  o.threads = 1;
  o.plots = false;
  o.methods = {"rollout", "blank-out", "random"};
  return o;
}

TEST(Evaluate, SmallRun) {
  pl::EvaluateOptions o = small(test::temp_path("out"));
  std::int64_t done = 0;
  o.on_progress = [&](std::int64_t d, std::int64_t) { done = d; };
  const pl::EvaluateReport r = pl::evaluate(o);
  EXPECT_EQ(done, 3);
  EXPECT_EQ(r.examples, 3);
  ASSERT_EQ(r.methods.size(), 3u);
  EXPECT_EQ(r.methods[0].name, "rollout");
  EXPECT_EQ(r.methods[1].name, "blank-out");
  ASSERT_TRUE(r.methods[1].spearman_blank_out);
  EXPECT_DOUBLE_EQ(r.methods[1].spearman_blank_out->mean, 1.0);
  for (const pl::MethodResult& m : r.methods) {
    EXPECT_EQ(m.faithfulness.examples, 3);
    EXPECT_EQ(m.faithfulness.comprehensiveness_at.size(), 5u);
    EXPECT_EQ(m.faithfulness.deletion.size(), 11u);
    // 0% removed is the whole example; 100% kept is the whole example.
    EXPECT_NEAR(m.faithfulness.deletion.front(), m.faithfulness.insertion.back(), 1e-12);
  }
  EXPECT_EQ(r.files,
            (std::vector<std::string>{"table.txt", "table.csv", "curves.csv", "timing.csv"}));
  EXPECT_NE(r.text.find("clamped to [1, m]"), std::string::npos);
  EXPECT_GT(r.perturbed_inputs_mean, 0.0);
}

TEST(Evaluate, MethodTable) {
  std::vector<std::string> names;
  for (const pl::EvaluationMethod* m : pl::select_methods({})) names.push_back(m->name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "raw", "rollout", "flow", "grad-rollout", "blank-out", "input-x-gradient",
                       "norm", "norm-rollout", "norm-flow", "globenc", "globenc-flow", "alti",
                       "alti-rollout", "alti-flow", "value-zeroing", "value-zeroing-rollout",
                       "value-zeroing-flow", "random"}));
  test::expect_error(
      [] {
        pl::select_methods({"flow", "lrp"});
      },
      "--methods: unknown method 'lrp' (expected raw, rollout, flow, grad-rollout, "
      "blank-out, input-x-gradient, norm, norm-rollout, norm-flow, globenc, globenc-flow, alti, "
      "alti-rollout, alti-flow, value-zeroing, value-zeroing-rollout, value-zeroing-flow or "
      "random)");
  test::expect_error(
      [] {
        pl::select_methods({"flow", "flow"});
      },
      "--methods: 'flow' is given twice");
}

TEST(Evaluate, RandomBaselineIsSeededPerExample) {
  const auto model = attnflow::torch::Model::load(kSvaModel);
  const attnflow::torch::Input input{{2, 156, 65, 3}, {}, 0};
  const std::vector<std::uint8_t> special = {1, 0, 0, 1};
  const attnflow::torch::Output output;
  const pl::EvaluationMethod& random = *pl::select_methods({"random"}).front();
  const auto scores = [&](std::uint64_t seed, std::int64_t index) {
    const pl::ExampleContext c{*model, input, special, output, 0, 1, 0, seed, index, 1, 64};
    return random.scores(c);
  };
  EXPECT_EQ(scores(2020, 5), scores(2020, 5));
  EXPECT_NE(scores(2020, 5), scores(2020, 6));
  EXPECT_NE(scores(2020, 5), scores(7, 5));
  for (double v : scores(2020, 5)) {
    EXPECT_GE(v, 0.0);
    EXPECT_LT(v, 1.0);
  }
}

TEST(Evaluate, LayerScoresByHand) {
  attnflow::Matrix a1(2, 2), a2(2, 2);
  a1 << 0.5, 0.5, 0.0, 1.0;
  a2 << 0.9, 0.1, 0.1, 0.9;
  const attnflow::LayerMatrices layers = {a1, a2};
  using A = pl::LayerAggregation;
  EXPECT_EQ(pl::layer_scores(layers, A::Last, 0), (std::vector<double>{0.9, 0.1}));
  // Rollout row 0: (0.9, 0.1) A1 = (0.45, 0.55).
  const std::vector<double> r = pl::layer_scores(layers, A::Rollout, 0);
  EXPECT_NEAR(r[0], 0.45, 1e-12);
  EXPECT_NEAR(r[1], 0.55, 1e-12);
  // Flow from (2, 0): to input 0 min(0.9, 0.5) + min(0.1, 0) = 0.5; to input 1
  // min(0.9, 0.5) + min(0.1, 1) = 0.6; rows normalised: (0.5, 0.6) / 1.1.
  const std::vector<double> f = pl::layer_scores(layers, A::Flow, 0, 1);
  EXPECT_NEAR(f[0], 0.5 / 1.1, 1e-9);
  EXPECT_NEAR(f[1], 0.6 / 1.1, 1e-9);
  test::expect_error([&] { pl::layer_scores(layers, A::Last, 2); },
                     "layer scores: target row: token 2 out of range (sequence has 2 tokens, "
                     "valid 0..1)");
}

TEST(Evaluate, Errors) {
  pl::EvaluateOptions o = small(test::temp_path("out"));
  o.examples = -1;
  test::expect_error([&] { pl::evaluate(o); }, "--examples must be >= 0, got -1");
  o = small(test::temp_path("out"));
  o.model = std::string(ATTNFLOW_TEST_DATA) + "/models/bert_base";
  test::expect_error([&] { pl::evaluate(o); },
                     o.model + ": evaluate needs a sequence classifier, found BertModel");
  o = small(test::temp_path("out"));
  o.faithfulness.aopc_percents = {5, 101};
  test::expect_error([&] { pl::evaluate(o); },
                     "--aopc-percents: 101 is outside (0, 100] (percent of the tokens)");
  EXPECT_FALSE(std::filesystem::exists(o.output));
  EXPECT_FALSE(std::filesystem::exists(o.output + ".partial"));
}

}  // namespace
