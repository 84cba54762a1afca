// Rollout: a hand-computed 2-layer / 3-token case, fast path == full path,
// row sums, start layer, causal stacks.
#include "attnflow/core/rollout.hpp"

#include "attnflow/core/residual.hpp"
#include "test_util.hpp"

namespace attnflow {
namespace {

using test::mat;

// Fused A1, A2 (rows sum to 1) and their residual versions by hand.
LayerMatrices hand_layers() {
  const Matrix a1 = mat({{1, 0, 0}, {0.5, 0.5, 0}, {0.2, 0.3, 0.5}});
  const Matrix a2 = mat({{0, 0.5, 0.5}, {0.5, 0, 0.5}, {0.5, 0.5, 0}});
  return {add_residual(a1), add_residual(a2)};
}

// Rollout from layer `start` on: every prefix, or only the last product.
RolloutOptions prefixes_from(int start, std::vector<int> rows = {}) {
  RolloutOptions o;
  o.start_layer = start;
  o.target_rows = std::move(rows);
  return o;
}
RolloutOptions last_only_from(int start) {
  RolloutOptions o = prefixes_from(start);
  o.all_prefixes = false;
  return o;
}

TEST(Residual, HandComputed) {
  const auto l = hand_layers();
  test::expect_near(l[0], mat({{1, 0, 0}, {0.25, 0.75, 0}, {0.1, 0.15, 0.75}}));
  test::expect_near(l[1], mat({{0.5, 0.25, 0.25}, {0.25, 0.5, 0.25}, {0.25, 0.25, 0.5}}));
}

TEST(Rollout, HandComputedTwoLayers) {
  const LayerMaps r = rollout(hand_layers());
  ASSERT_EQ(r.layers, (std::vector<int>{1, 2}));
  test::expect_near(r.maps[0], hand_layers()[0]);
  // R2 = A2 * A1, worked out by hand.
  test::expect_near(r.maps[1],
                    mat({{0.5875, 0.225, 0.1875}, {0.4, 0.4125, 0.1875}, {0.3625, 0.2625, 0.375}}));
}

TEST(Rollout, ProductOrderIsLaterLayerOnTheLeft) {
  // With A1 = swap and A2 = "everyone reads token 0", R2 = A2*A1 sends all
  // mass to token 1 (A1*A2 would send it to token 0).
  const LayerMatrices l = {mat({{0, 1}, {1, 0}}), mat({{1, 0}, {1, 0}})};
  const LayerMaps r = rollout(l, last_only_from(1));
  test::expect_near(r.maps[0], mat({{0, 1}, {0, 1}}));
}

TEST(Rollout, TargetRowsFastPathMatchesFullProducts) {
  const AttentionStack s = test::random_stack(6, 3, 9, 11, false);
  const LayerMatrices l = prepare_layers(s);
  const LayerMaps full = rollout(l);
  RolloutOptions o;
  o.target_rows = {0, 4, 8};
  const LayerMaps fast = rollout(l, o);
  ASSERT_EQ(fast.layers, full.layers);
  for (std::size_t k = 0; k < full.layers.size(); ++k) {
    for (std::size_t r = 0; r < o.target_rows.size(); ++r) {
      test::expect_near(fast.maps[k].row(static_cast<Eigen::Index>(r)),
                        full.maps[k].row(o.target_rows[r]), 1e-13);
    }
  }
}

TEST(Rollout, RowsSumToOneWithRenormalisation) {
  for (bool causal : {false, true}) {
    PrepareOptions p;
    p.fusion.method = HeadFusion::Max;  // rows of the fused matrix no longer sum to 1
    const LayerMatrices l = prepare_layers(test::random_stack(12, 4, 16, 5, causal), p);
    for (const Matrix& m : rollout(l).maps) {
      for (Eigen::Index i = 0; i < m.rows(); ++i) EXPECT_NEAR(m.row(i).sum(), 1.0, 1e-12);
    }
  }
}

TEST(Rollout, CausalStaysLowerTriangular) {
  const LayerMatrices l = prepare_layers(test::random_stack(6, 2, 8, 3, true));
  for (const Matrix& m : rollout(l).maps) {
    for (Eigen::Index i = 0; i < 8; ++i) {
      for (Eigen::Index j = i + 1; j < 8; ++j) EXPECT_EQ(m(i, j), 0.0);
    }
  }
}

TEST(Rollout, StartLayerAndLastOnly) {
  const LayerMatrices l = prepare_layers(test::random_stack(4, 2, 5, 8, false));
  const LayerMaps r = rollout(l, last_only_from(3));
  ASSERT_EQ(r.layers, std::vector<int>{4});
  test::expect_near(r.maps[0], l[3] * l[2], 1e-14);
  const LayerMaps all = rollout(l, prefixes_from(2, {1}));
  ASSERT_EQ(all.layers, (std::vector<int>{2, 3, 4}));
  test::expect_near(all.maps[2], (l[3] * l[2] * l[1]).row(1), 1e-14);
}

TEST(Rollout, BadInputs) {
  const LayerMatrices l = hand_layers();
  test::expect_error([&] { rollout(l, prefixes_from(3)); },
                     "rollout: start layer 3 out of range 1..2");
  test::expect_error(
      [&] { rollout(l, prefixes_from(1, {3})); },
      "rollout target rows: token 3 out of range (sequence has 3 tokens, valid 0..2)");
  test::expect_error([&] { rollout({}); }, "rollout: no layers");
  LayerMatrices bad = l;
  bad[1] = Matrix::Zero(3, 2);
  test::expect_error([&] { rollout(bad); }, "rollout: layer 2 is 3 x 2, expected 3 x 3");
}

}  // namespace
}  // namespace attnflow
