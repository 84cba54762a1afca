// Gradient-weighted rollout: hand-computed Chefer, vit-explain and signed
// cases; zero gradient gives the identity; target-row fast path; the per-layer
// head means (streaming extraction) give the maps of the stacks.
#include "attnflow/core/grad_rollout.hpp"

#include <algorithm>

#include "test_util.hpp"

namespace attnflow {
namespace {

using test::mat;

// Layer 1 has two heads whose grad*A products differ in sign, so the clamp
// order matters; layer 2 has grad*A = [[1, 0], [0, 0]] in both heads.
void hand_case(AttentionStack& a, AttentionStack& g) {
  a = AttentionStack(2, 2, 2);
  g = AttentionStack(2, 2, 2);
  test::set_head(a, 0, 0, mat({{1, 0}, {0.5, 0.5}}));
  test::set_head(a, 0, 1, mat({{0.5, 0.5}, {0, 1}}));
  test::set_head(g, 0, 0, mat({{1, 2}, {-2, 2}}));  // g*A = [[1, 0], [-1, 1]]
  test::set_head(g, 0, 1, mat({{-2, 1}, {1, 1}}));  // g*A = [[-1, .5], [0, 1]]
  for (int h = 0; h < 2; ++h) {
    test::set_head(a, 1, h, mat({{0.5, 0.5}, {0.5, 0.5}}));
    test::set_head(g, 1, h, mat({{2, 0}, {0, 0}}));
  }
}

TEST(GradRollout, CheferClampThenMean) {
  AttentionStack a, g;
  hand_case(a, g);
  // M1 = I + mean(clamp) = I + [[.5, .25], [0, 1]]; M2 = I + [[1, 0], [0, 0]]
  const LayerMaps r = grad_rollout(a, g);
  ASSERT_EQ(r.layers, (std::vector<int>{1, 2}));
  test::expect_near(r.maps[0], mat({{1.5, 0.25}, {0, 2}}));
  test::expect_near(r.maps[1], mat({{3, 0.5}, {0, 2}}));  // M2 * M1
}

TEST(GradRollout, VitExplainMeanThenClampWithRowNormalisation) {
  AttentionStack a, g;
  hand_case(a, g);
  GradRolloutOptions o;
  o.rule = GradRolloutRule::VitExplain;
  // mean = [[0, .25], [-.5, 1]] -> clamp [[0, .25], [0, 1]] -> rownorm(A+I)
  const LayerMaps r = grad_rollout(a, g, o);
  test::expect_near(r.maps[0], mat({{0.8, 0.2}, {0, 1}}));
  test::expect_near(r.maps[1], mat({{0.8, 0.2}, {0, 1}}));  // M2 = rownorm([[2,0],[0,1]]) = I
}

TEST(GradRollout, SignedKeepsNegativeRelevance) {
  AttentionStack a, g;
  hand_case(a, g);
  GradRolloutOptions o;
  o.signed_relevance = true;
  const LayerMaps r = grad_rollout(a, g, o);
  test::expect_near(r.maps[1], mat({{2, 0.5}, {-0.5, 2}}));
}

TEST(GradRollout, RenormalisedChefer) {
  AttentionStack a, g;
  hand_case(a, g);
  GradRolloutOptions o;
  o.renormalize = true;
  const LayerMaps r = grad_rollout(a, g, o);
  // rownorm(M1) = [[6/7, 1/7], [0, 1]]; rownorm(M2) = I
  test::expect_near(r.maps[1], mat({{6.0 / 7, 1.0 / 7}, {0, 1}}), 1e-12);
}

TEST(GradRollout, ZeroGradientIsIdentity) {
  const AttentionStack a = test::random_stack(4, 3, 6, 1, false);
  const AttentionStack g(4, 3, 6);
  for (const Matrix& m : grad_rollout(a, g).maps) {
    test::expect_near(m, Matrix::Identity(6, 6), 0.0);
  }
}

TEST(GradRollout, TargetRowsAndStartLayer) {
  const AttentionStack a = test::random_stack(5, 2, 7, 3, true);
  AttentionStack g = test::random_stack(5, 2, 7, 4, false);
  for (float& v : g.data()) v -= 0.1f;  // signed gradients
  GradRolloutOptions o;
  o.rollout.start_layer = 2;
  const LayerMaps full = grad_rollout(a, g, o);
  o.rollout.target_rows = {0, 6};
  const LayerMaps fast = grad_rollout(a, g, o);
  ASSERT_EQ(fast.layers, (std::vector<int>{2, 3, 4, 5}));
  test::expect_near(fast.maps.back().row(1), full.maps.back().row(6), 1e-13);
  const LayerMatrices m = grad_rollout_layers(a, g, o);
  test::expect_near(full.maps.back(), m[4] * m[3] * m[2] * m[1], 1e-13);
}

/// mean_h g_h ⊙ A_h per layer, each product clamped at 0 first when `clamp`, written out here.
LayerMatrices head_means(const AttentionStack& a, const AttentionStack& g, bool clamp) {
  LayerMatrices out;
  for (int l = 0; l < a.layers(); ++l) {
    Matrix sum = Matrix::Zero(a.tokens(), a.tokens());
    for (int h = 0; h < a.heads(); ++h)
      for (int i = 0; i < a.tokens(); ++i)
        for (int j = 0; j < a.tokens(); ++j) {
          const double v = static_cast<double>(g.head(l, h)(i, j)) * a.head(l, h)(i, j);
          sum(i, j) += clamp ? std::max(v, 0.0) : v;
        }
    out.push_back(sum / a.heads());
  }
  return out;
}

// Streaming extraction hands over only each layer's head mean: every rule gives from it the
// maps of the per-head stacks, with the reduction gradient_head_mean names.
TEST(GradRollout, HeadMeansGiveTheMapsOfTheStacks) {
  const AttentionStack a = test::random_stack(4, 3, 6, 5, true);
  AttentionStack g = test::random_stack(4, 3, 6, 6, false);
  for (float& v : g.data()) v -= 0.15f;  // signed gradients
  struct Case {
    GradRolloutRule rule;
    bool signed_relevance, renormalize;
    double discard;
    GradientHeadMean mean;
  };
  const Case cases[] = {
      {GradRolloutRule::Chefer, false, false, 0.0, GradientHeadMean::Clamped},
      {GradRolloutRule::Chefer, true, false, 0.0, GradientHeadMean::Signed},
      {GradRolloutRule::Chefer, false, true, 0.0, GradientHeadMean::Clamped},
      {GradRolloutRule::Chefer, true, true, 0.0, GradientHeadMean::Signed},
      {GradRolloutRule::VitExplain, false, false, 0.0, GradientHeadMean::Signed},
      {GradRolloutRule::VitExplain, false, false, 0.3, GradientHeadMean::Signed},
  };
  for (const Case& c : cases) {
    GradRolloutOptions o;
    o.rule = c.rule;
    o.signed_relevance = c.signed_relevance;
    o.renormalize = c.renormalize;
    o.discard.ratio = c.discard;
    o.rollout.start_layer = 2;
    EXPECT_EQ(gradient_head_mean(o), c.mean);
    const LayerMaps want = grad_rollout(a, g, o);
    const LayerMaps got = grad_rollout(head_means(a, g, c.mean == GradientHeadMean::Clamped), o);
    ASSERT_EQ(got.layers, want.layers);
    for (std::size_t k = 0; k < want.maps.size(); ++k) {
      test::expect_near(got.maps[k], want.maps[k], 1e-12);
    }
  }
  // the two reductions differ here (so the cases above tell them apart)
  const LayerMatrices clamped = head_means(a, g, true), signed_means = head_means(a, g, false);
  EXPECT_GT((clamped[0] - signed_means[0]).cwiseAbs().maxCoeff(), 1e-3);
}

TEST(GradRollout, BadHeadMeans) {
  const AttentionStack a = test::random_stack(2, 2, 3, 1, false);
  AttentionStack g = test::random_stack(2, 2, 3, 2, false);
  for (float& v : g.data()) v -= 0.5f;
  GradRolloutOptions o;
  LayerMatrices signed_means = head_means(a, g, false);
  test::expect_error_prefix([&] { grad_rollout(signed_means, o); },
                            "gradient-weighted head means: layer ");
  o.signed_relevance = true;
  EXPECT_EQ(grad_rollout(signed_means, o).maps.size(), 2u);
  signed_means[1] = Matrix::Zero(2, 2);
  test::expect_error([&] { grad_rollout(signed_means, o); },
                     "gradient-weighted head means: layer 2 has 2 tokens, layer 1 has 3");
  test::expect_error([&] { grad_rollout(LayerMatrices{}, o); },
                     "gradient-weighted head means: no layers");
  o.rule = GradRolloutRule::VitExplain;
  test::expect_error([&] { gradient_head_mean(o); },
                     "gradient rollout: signed relevance is defined for the chefer rule only");
}

TEST(GradRollout, BadInputs) {
  const AttentionStack a = test::random_stack(2, 2, 3, 1, false);
  test::expect_error([&] { grad_rollout(a, AttentionStack(2, 1, 3)); },
                     "gradient: shape 2 layers x 1 heads x 3 x 3 does not match attention shape "
                     "2 layers x 2 heads x 3 x 3");
  AttentionStack g(2, 2, 3);
  g.head(1, 0)(2, 1) = std::numeric_limits<float>::infinity();
  test::expect_error([&] { grad_rollout(a, g); },
                     "gradient: layer 2 head 1 row 2 column 1 is infinite");
  GradRolloutOptions o;
  o.rule = GradRolloutRule::VitExplain;
  o.signed_relevance = true;
  test::expect_error([&] { grad_rollout(a, AttentionStack(2, 2, 3), o); },
                     "gradient rollout: signed relevance is defined for the chefer rule only");
}

}  // namespace
}  // namespace attnflow
