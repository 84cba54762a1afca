// Head fusion, discard and residual options, by hand.
#include "attnflow/core/fusion.hpp"

#include "attnflow/core/residual.hpp"
#include "test_util.hpp"

namespace attnflow {
namespace {

using test::mat;

AttentionStack two_heads() {
  AttentionStack s(1, 2, 2);
  test::set_head(s, 0, 0, mat({{1, 0}, {0.5, 0.5}}));
  test::set_head(s, 0, 1, mat({{0.5, 0.5}, {0, 1}}));
  return s;
}

TEST(Fusion, MeanMaxMinWeighted) {
  const AttentionStack s = two_heads();
  test::expect_near(fuse_heads(s, 1), mat({{0.75, 0.25}, {0.25, 0.75}}));
  test::expect_near(fuse_heads(s, 1, {HeadFusion::Max, {}}), mat({{1, 0.5}, {0.5, 1}}));
  test::expect_near(fuse_heads(s, 1, {HeadFusion::Min, {}}), mat({{0.5, 0}, {0, 0.5}}));
  // weights 3:1 -> 0.75 * head1 + 0.25 * head2
  test::expect_near(fuse_heads(s, 1, {HeadFusion::WeightedMean, {3, 1}}),
                    mat({{0.875, 0.125}, {0.375, 0.625}}));
  // per layer and head form gives the same for one layer
  test::expect_near(fuse_heads(s, {HeadFusion::WeightedMean, {3, 1}})[0],
                    fuse_heads(s, 1, {HeadFusion::WeightedMean, {0.75, 0.25}}));
}

TEST(Fusion, BadWeightsAndNames) {
  const AttentionStack s = two_heads();
  test::expect_error(
      [&] {
        fuse_heads(s, 1, {HeadFusion::WeightedMean, {1}});
      },
      "head weights: 1 weights given, need 2 (one per head) or 2 (one per layer "
      "and head)");
  test::expect_error(
      [&] {
        fuse_heads(s, 1, {HeadFusion::WeightedMean, {1, -1}});
      },
      "head weights: weight of layer 1 head 2 is -1.000000; weights must be "
      "finite and >= 0");
  test::expect_error(
      [&] {
        fuse_heads(s, 1, {HeadFusion::WeightedMean, {0, 0}});
      },
      "head weights: all weights of layer 1 are zero");
  test::expect_error([&] { fuse_heads(s, 2); }, "head fusion: layer 2 out of range 1..1");
  test::expect_error([] { parse_head_fusion("median"); },
                     "head fusion: unknown 'median' (expected mean, max, min or weighted)");
}

TEST(Residual, AlphaAndRenormalisation) {
  const Matrix maxed = mat({{1, 0.5}, {0.5, 1}});  // max fusion: rows sum to 1.5
  // paper form without renormalisation: 0.5 A + 0.5 I
  test::expect_near(add_residual(maxed, {true, 0.5, false}), mat({{1, 0.25}, {0.25, 1}}));
  // reference form: rownorm(A + I) == rownorm(0.5 A + 0.5 I)
  test::expect_near(add_residual(maxed), mat({{0.8, 0.2}, {0.2, 0.8}}));
  // alpha = 0.2: 0.8 A + 0.2 I
  test::expect_near(add_residual(mat({{0.5, 0.5}, {0, 1}}), {true, 0.2, false}),
                    mat({{0.6, 0.4}, {0, 1}}));
  // disabled: renormalisation only
  test::expect_near(add_residual(maxed, {false, 0.5, true}),
                    mat({{2.0 / 3, 1.0 / 3}, {1.0 / 3, 2.0 / 3}}));
  // a zero row stays zero (no NaN)
  test::expect_near(add_residual(mat({{0, 0}, {0.5, 0.5}}), {false, 0.5, true}),
                    mat({{0, 0}, {0.5, 0.5}}));
  test::expect_error(
      [&] {
        add_residual(maxed, {true, 1.5, true});
      },
      "residual weight alpha: 1.500000 outside [0, 1]");
}

TEST(Discard, GlobalSkipsClsAndPerRow) {
  // 9 entries, ratio 0.34 -> floor(3.06) = 3 smallest: 0.01 (CLS->CLS, kept),
  // 0.02, 0.03.
  Matrix m = mat({{0.01, 0.5, 0.49}, {0.02, 0.9, 0.08}, {0.03, 0.47, 0.5}});
  discard_smallest(m, {0.34, DiscardScope::Global, true});
  test::expect_near(m, mat({{0.01, 0.5, 0.49}, {0, 0.9, 0.08}, {0, 0.47, 0.5}}));
  Matrix k = mat({{0.01, 0.5, 0.49}, {0.02, 0.9, 0.08}, {0.03, 0.47, 0.5}});
  discard_smallest(k, {0.34, DiscardScope::Global, false});
  test::expect_near(k, mat({{0, 0.5, 0.49}, {0, 0.9, 0.08}, {0, 0.47, 0.5}}));
  Matrix r = mat({{0.01, 0.5, 0.49}, {0.02, 0.9, 0.08}, {0.03, 0.47, 0.5}});
  discard_smallest(r, {0.34, DiscardScope::PerRow, true});  // 1 per row, CLS kept in row 0
  test::expect_near(r, mat({{0.01, 0.5, 0.49}, {0, 0.9, 0.08}, {0, 0.47, 0.5}}));
  Matrix t = mat({{0.2, 0.2, 0.6}, {0.1, 0.1, 0.8}, {0.3, 0.3, 0.4}});  // ties: first wins
  discard_smallest(t, {0.5, DiscardScope::PerRow, false});
  test::expect_near(t, mat({{0, 0.2, 0.6}, {0, 0.1, 0.8}, {0, 0.3, 0.4}}));
  test::expect_error(
      [&] {
        discard_smallest(t, {1.0, DiscardScope::Global, true});
      },
      "discard ratio: 1.000000 outside [0, 1)");
}

TEST(Prepare, FuseDiscardResidualInOrder) {
  AttentionStack s(1, 1, 2);
  test::set_head(s, 0, 0, mat({{0.9, 0.1}, {0.3, 0.7}}));
  PrepareOptions p;
  p.discard = {0.25, DiscardScope::Global, false};  // zeroes 0.1
  // [[0.9, 0], [0.3, 0.7]] -> 0.5 A + 0.5 I = [[0.95, 0], [0.15, 0.85]] -> row 0 / 0.95
  test::expect_near(prepare_layers(s, p)[0], mat({{1, 0}, {0.15, 0.85}}), 1e-7);  // float32 input
}

}  // namespace
}  // namespace attnflow
