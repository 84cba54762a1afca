// analyze(): every method through one call equals the direct calls.
#include "attnflow/core/analysis.hpp"

#include "attnflow/core/readout.hpp"
#include "attnflow/core/rollout.hpp"
#include "test_util.hpp"

namespace attnflow {
namespace {

TEST(Analysis, MatchesDirectCalls) {
  const AttentionStack a = test::random_stack(4, 2, 6, 7, false);
  AttentionStack g = test::random_stack(4, 2, 6, 8, false);
  AnalysisOptions o;
  o.methods = {Method::Raw, Method::Residual, Method::Rollout, Method::Flow, Method::GradRollout};
  o.target_rows = {0, 3};
  const AnalysisResult r = analyze(a, &g, o);
  ASSERT_EQ(r.maps.size(), 5u);
  const LayerMatrices prepared = prepare_layers(a);
  const LayerMaps full_rollout = rollout(prepared);
  const LayerMaps full_flow = attention_flow(prepared);
  const LayerMaps full_grad = grad_rollout(a, g);
  const LayerMatrices fused = fuse_heads(a);
  for (int l = 1; l <= 4; ++l) {
    const auto k = static_cast<std::size_t>(l - 1);
    test::expect_near(r.maps.at(Method::Raw).maps[k].row(1), fused[k].row(3));
    test::expect_near(r.maps.at(Method::Residual).maps[k].row(0), prepared[k].row(0));
    test::expect_near(r.maps.at(Method::Rollout).maps[k].row(1), full_rollout.maps[k].row(3),
                      1e-13);
    test::expect_near(r.maps.at(Method::Flow).maps[k].row(0), full_flow.maps[k].row(0), 0.0);
    test::expect_near(r.maps.at(Method::GradRollout).maps[k].row(1), full_grad.maps[k].row(3),
                      1e-13);
  }
}

// analyze_fused (streaming extraction): the fused layers alone give analyze's maps exactly.
TEST(Analysis, FusedLayersGiveTheSameMaps) {
  const AttentionStack a = test::random_stack(3, 4, 6, 11, false);
  AnalysisOptions o;
  o.methods = {Method::Raw, Method::Residual, Method::Rollout, Method::Flow};
  o.target_rows = {0, -1};
  o.prepare.fusion.method = HeadFusion::Max;
  o.prepare.discard.ratio = 0.2;
  const AnalysisResult want = analyze(a, nullptr, o);
  const AnalysisResult got = analyze_fused(fuse_heads(a, o.prepare.fusion), o);
  ASSERT_EQ(got.maps.size(), 4u);
  for (const auto& [method, maps] : want.maps) {
    const LayerMaps& g = got.maps.at(method);
    EXPECT_EQ(g.layers, maps.layers);
    EXPECT_EQ(g.rows, maps.rows);
    for (std::size_t k = 0; k < maps.maps.size(); ++k) {
      test::expect_near(g.maps[k], maps.maps[k], 0.0);
    }
  }
  o.methods = {Method::Rollout, Method::GradRollout};
  test::expect_error([&] { analyze_fused(fuse_heads(a), o); },
                     "grad-rollout: needs per-head attention and gradients, not head-fused "
                     "attention (methods on fused maps: raw, residual, rollout, flow; "
                     "grad-rollout with gradient-weighted head means)");
  o.methods = {Method::AltiRollout};
  test::expect_error([&] { analyze_fused(fuse_heads(a), o); },
                     "alti-rollout: needs its contribution matrices, not head-fused attention "
                     "(methods on fused maps: raw, residual, rollout, flow; grad-rollout with "
                     "gradient-weighted head means)");
  o.methods = {Method::Rollout};
  LayerMatrices bad = fuse_heads(a);
  bad[1](0, 0) = -1.0;
  test::expect_error_prefix([&] { analyze_fused(bad, o); }, "fused attention");
}

// analyze_fused with each layer's gradient-weighted head mean: grad-rollout as analyze gives it
// from the per-head stacks, next to the fused methods.
TEST(Analysis, FusedLayersWithGradientMeansGiveGradRollout) {
  const AttentionStack a = test::random_stack(3, 4, 6, 12, true);
  AttentionStack g = test::random_stack(3, 4, 6, 13, false);
  for (float& v : g.data()) v -= 0.2f;
  AnalysisOptions o;
  o.methods = {Method::Rollout, Method::GradRollout};
  o.target_rows = {-1, 2};
  o.start_layer = 2;
  for (const bool vit : {false, true}) {
    o.grad.rule = vit ? GradRolloutRule::VitExplain : GradRolloutRule::Chefer;
    const bool clamp = gradient_head_mean(o.grad) == GradientHeadMean::Clamped;
    LayerMatrices means;
    for (int l = 0; l < 3; ++l) {
      Matrix m = Matrix::Zero(6, 6);
      for (int h = 0; h < 4; ++h) {
        const Matrix p = g.head(l, h).cast<double>().cwiseProduct(a.head(l, h).cast<double>());
        m += clamp ? Matrix(p.cwiseMax(0.0)) : p;
      }
      means.push_back(m / 4.0);
    }
    const AnalysisResult want = analyze(a, &g, o);
    const AnalysisResult got = analyze_fused(fuse_heads(a), means, o);
    for (const auto& [method, maps] : want.maps) {
      const LayerMaps& r = got.maps.at(method);
      EXPECT_EQ(r.layers, maps.layers);
      EXPECT_EQ(r.rows, maps.rows);
      for (std::size_t k = 0; k < maps.maps.size(); ++k) {
        test::expect_near(r.maps[k], maps.maps[k], 1e-12);
      }
    }
    means.pop_back();
    test::expect_error([&] { analyze_fused(fuse_heads(a), means, o); },
                       "gradient-weighted head means: 2 layers x 6 tokens, but the fused "
                       "attention has 3 x 6");
  }
}

TEST(Analysis, Errors) {
  const AttentionStack a = test::random_stack(2, 1, 3, 7, false);
  AnalysisOptions o;
  o.methods = {Method::GradRollout};
  test::expect_error([&] { analyze(a, nullptr, o); },
                     "grad-rollout: needs a gradient stack (dy/dA), none was given");
  o.methods = {Method::Flow};
  o.target_rows = {5};
  test::expect_error(
      [&] { analyze(a, nullptr, o); },
      "target rows: token 5 out of range (sequence has 3 tokens, valid 0..2 or -3..-1)");
  o.target_rows = {-4};
  test::expect_error(
      [&] { analyze(a, nullptr, o); },
      "target rows: token -4 out of range (sequence has 3 tokens, valid 0..2 or -3..-1)");
  test::expect_error(
      [] { parse_method("lrp"); },
      "method: unknown 'lrp' (expected raw, residual, rollout, flow, grad-rollout, norm, "
      "norm-rollout, norm-flow, globenc, globenc-flow, alti, alti-rollout, alti-flow, "
      "value-zeroing, value-zeroing-rollout or value-zeroing-flow)");
}

TEST(Analysis, NegativeTargetRowsCountFromTheEnd) {
  EXPECT_EQ(resolve_target_row(-1, 5, "t"), 4);
  EXPECT_EQ(resolve_target_row(-5, 5, "t"), 0);
  EXPECT_EQ(resolve_target_row(4, 5, "t"), 4);
  EXPECT_EQ(resolve_target_rows({}, 3, "t"), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(resolve_target_rows({0, -1}, 3, "t"), (std::vector<int>{0, 2}));
  test::expect_error([] { resolve_target_row(-6, 5, "ex 3"); },
                     "ex 3: token -6 out of range (sequence has 5 tokens, valid 0..4 or -5..-1)");
  const AttentionStack a = test::random_stack(2, 1, 4, 7, false);
  AnalysisOptions o;
  o.methods = {Method::Raw, Method::Flow};
  o.target_rows = {-1};
  const AnalysisResult negative = analyze(a, nullptr, o);
  o.target_rows = {3};
  const AnalysisResult positive = analyze(a, nullptr, o);
  EXPECT_EQ(negative.maps.at(Method::Flow).rows, (std::vector<int>{3}));
  test::expect_near(negative.maps.at(Method::Flow).maps[1], positive.maps.at(Method::Flow).maps[1],
                    0.0);
}

}  // namespace
}  // namespace attnflow
