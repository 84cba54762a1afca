// AttentionStack construction and validation messages.
#include "attnflow/core/stack.hpp"

#include "test_util.hpp"

namespace attnflow {
namespace {

TEST(Stack, LayoutIsLayerHeadQueryKey) {
  std::vector<float> v(2 * 2 * 2 * 2);
  for (std::size_t k = 0; k < v.size(); ++k) v[k] = static_cast<float>(k);
  const AttentionStack s(v, 2, 2, 2);
  EXPECT_EQ(s.head(1, 0)(0, 1), 9.0f);  // ((1*2 + 0)*2 + 0)*2 + 1
  EXPECT_EQ(s.head(0, 1)(1, 0), 6.0f);
}

TEST(Stack, BadShapes) {
  test::expect_error([] { AttentionStack(0, 2, 3); },
                     "attention stack: every dimension must be positive, got 0 layers x 2 heads "
                     "x 3 x 3");
  test::expect_error([] { AttentionStack(std::vector<float>(7), 1, 2, 2); },
                     "attention stack: 7 values do not fill 1 layers x 2 heads x 2 x 2 (8 values)");
  test::expect_error([] { validate(AttentionStack{}); },
                     "attention: empty stack (no layers, heads or tokens)");
}

TEST(Stack, BadValues) {
  AttentionStack s = test::random_stack(2, 2, 3, 1, false);
  AttentionCheck sums_to_one = AttentionCheck::weights("x.npy");
  sums_to_one.row_sum_tolerance = 1e-5;
  validate(s, sums_to_one);  // valid
  s.head(1, 1)(0, 2) = std::nanf("");
  test::expect_error([&] { validate(s, AttentionCheck{"x.npy"}); },
                     "x.npy: layer 2 head 2 row 0 column 2 is NaN");
  s.head(1, 1)(0, 2) = -0.25f;
  test::expect_error([&] { validate(s, AttentionCheck{"x.npy"}); },
                     "x.npy: layer 2 head 2 row 0 column 2 is negative (-0.250000); attention "
                     "weights must be >= 0");
  validate(s, AttentionCheck::any_sign("grad"));  // gradients may be negative
  s.head(1, 1)(0, 2) = 2.0f;
  sums_to_one.row_sum_tolerance = 1e-3;
  EXPECT_THROW(validate(s, sums_to_one), Error);
}

TEST(Stack, LayerAndRowResolution) {
  EXPECT_EQ(resolve_layers({}, 3, "l"), (std::vector<int>{1, 2, 3}));
  test::expect_error([] { resolve_layers({2, 2}, 3, "layers"); }, "layers: layer 2 given twice");
  test::expect_error([] { resolve_layers({0}, 3, "layers"); },
                     "layers: layer 0 out of range (model has 3 layers, valid 1..3)");
  EXPECT_EQ(resolve_rows({}, 2, "r"), (std::vector<int>{0, 1}));
}

TEST(Stack, NonSquareLayerMatrices) {
  test::expect_error([] { validate(LayerMatrices{Matrix::Zero(2, 3)}, "in"); },
                     "in: layer 1 is 2 x 3, not square");
}

}  // namespace
}  // namespace attnflow
