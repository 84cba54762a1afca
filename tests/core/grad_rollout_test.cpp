// Gradient-weighted rollout: hand-computed Chefer, vit-explain and signed
// cases; zero gradient gives the identity; target-row fast path.
#include "attnflow/core/grad_rollout.hpp"

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
