// analysis_options: CLI-level settings -> core AnalysisOptions, with the CLI's
// defaults and error messages.
#include "attnflow/pipeline/analysis_settings.hpp"

#include "../core/test_util.hpp"

namespace attnflow::pipeline {
namespace {

TEST(AnalysisSettings, DefaultsAreTheCoreDefaults) {
  const AnalysisOptions got = analysis_options(AnalysisSettings{});
  const AnalysisOptions want;
  EXPECT_EQ(got.methods, want.methods);
  EXPECT_EQ(got.target_rows, want.target_rows);
  EXPECT_EQ(got.layers, want.layers);
  EXPECT_EQ(got.start_layer, want.start_layer);
  EXPECT_EQ(got.prepare.fusion.method, want.prepare.fusion.method);
  EXPECT_EQ(got.prepare.residual.enabled, want.prepare.residual.enabled);
  EXPECT_EQ(got.prepare.residual.alpha, want.prepare.residual.alpha);
  EXPECT_EQ(got.prepare.residual.renormalize, want.prepare.residual.renormalize);
  EXPECT_EQ(got.prepare.discard.ratio, want.prepare.discard.ratio);
  EXPECT_EQ(got.prepare.discard.scope, want.prepare.discard.scope);
  EXPECT_EQ(got.flow.normalize, want.flow.normalize);
  EXPECT_EQ(got.flow.algorithm, want.flow.algorithm);
  EXPECT_EQ(got.flow.threads, want.flow.threads);
  EXPECT_EQ(got.grad.rule, want.grad.rule);
  EXPECT_EQ(got.grad.signed_relevance, want.grad.signed_relevance);
}

TEST(AnalysisSettings, EverySettingReachesTheOptions) {
  AnalysisSettings s;
  s.methods = {"residual", "grad-rollout"};
  s.target_rows = {1, -1};
  s.layers = {2};
  s.start_layer = 2;
  s.fusion = "weighted";
  s.head_weights = {0.25, 0.75};
  s.alpha = 0.3;
  s.no_residual = true;
  s.no_renormalize = true;
  s.discard = 0.2;
  s.discard_scope = "row";
  s.no_flow_normalize = true;
  s.flow_algorithm = "bk";
  s.threads = 3;
  s.grad_rule = "vit-explain";
  s.grad_signed = true;
  AnalysisOptions o = analysis_options(s);
  EXPECT_EQ(o.methods, (std::vector<Method>{Method::Residual, Method::GradRollout}));
  EXPECT_EQ(o.target_rows, (std::vector<int>{1, -1}));
  EXPECT_EQ(o.layers, (std::vector<int>{2}));
  EXPECT_EQ(o.start_layer, 2);
  EXPECT_EQ(o.prepare.fusion.method, HeadFusion::WeightedMean);
  EXPECT_EQ(o.prepare.fusion.head_weights, (std::vector<double>{0.25, 0.75}));
  EXPECT_EQ(o.prepare.residual.alpha, 0.3);
  EXPECT_FALSE(o.prepare.residual.enabled);
  EXPECT_FALSE(o.prepare.residual.renormalize);
  EXPECT_EQ(o.prepare.discard.ratio, 0.2);
  EXPECT_EQ(o.prepare.discard.scope, DiscardScope::PerRow);
  EXPECT_FALSE(o.flow.normalize);
  EXPECT_EQ(o.flow.algorithm, FlowAlgorithm::BoykovKolmogorov);
  EXPECT_EQ(o.flow.threads, 3);
  EXPECT_EQ(o.grad.rule, GradRolloutRule::VitExplain);
  EXPECT_TRUE(o.grad.signed_relevance);
  EXPECT_TRUE(wants_gradient(s));
  s.all_rows = true;
  EXPECT_TRUE(analysis_options(s).target_rows.empty());
}

TEST(AnalysisSettings, Errors) {
  AnalysisSettings s;
  s.discard_scope = "column";
  test::expect_error([&] { analysis_options(s); },
                     "--discard-scope: unknown 'column' (expected global or row)");
  s = AnalysisSettings{};
  s.grad_rule = "lrp";
  test::expect_error([&] { analysis_options(s); },
                     "--grad-rule: unknown 'lrp' (expected chefer or vit-explain)");
  s = AnalysisSettings{};
  s.methods = {"raw", "lrp"};
  test::expect_error(
      [&] { analysis_options(s); },
      "method: unknown 'lrp' (expected raw, residual, rollout, flow, grad-rollout, norm, "
      "norm-rollout, norm-flow, globenc, globenc-flow, alti, alti-rollout, alti-flow, "
      "value-zeroing, value-zeroing-rollout or value-zeroing-flow)");
}

TEST(AnalysisSettings, CorpusPaths) {
  EXPECT_TRUE(is_corpus_path("a.h5"));
  EXPECT_TRUE(is_corpus_path("dir.x/A.HDF5"));
  EXPECT_FALSE(is_corpus_path("a.npy"));
  EXPECT_FALSE(is_corpus_path("h5"));
}

}  // namespace
}  // namespace attnflow::pipeline
