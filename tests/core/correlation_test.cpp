// Correlations with ties, worked by hand (scipy gives the same values).
#include "attnflow/core/correlation.hpp"

#include "test_util.hpp"

namespace attnflow {
namespace {

const std::vector<double> kX = {1, 2, 2, 3};
const std::vector<double> kY = {1, 3, 2, 4};

TEST(Correlation, AverageRanks) {
  EXPECT_EQ(average_ranks({3, 1, 2, 1}), (std::vector<double>{4, 1.5, 3, 1.5}));
}

TEST(Correlation, HandComputedWithTies) {
  EXPECT_NEAR(pearson(kX, kY), 3.0 / std::sqrt(10.0), 1e-15);
  EXPECT_NEAR(spearman(kX, kY), 4.5 / std::sqrt(22.5), 1e-15);  // ranks x: 1, 2.5, 2.5, 4
  EXPECT_NEAR(kendall(kX, kY), 5.0 / std::sqrt(30.0), 1e-15);   // tau-b: C=5, D=0
}

TEST(Correlation, PerfectAndReversedAndConstant) {
  const std::vector<double> x = {0.1, 0.5, 0.2, 0.9};
  const std::vector<double> rev = {-0.1, -0.5, -0.2, -0.9};
  EXPECT_DOUBLE_EQ(spearman(x, x), 1.0);
  EXPECT_DOUBLE_EQ(kendall(x, rev), -1.0);
  EXPECT_DOUBLE_EQ(pearson(x, rev), -1.0);
  EXPECT_TRUE(std::isnan(spearman(x, {1, 1, 1, 1})));
  EXPECT_TRUE(std::isnan(kendall({2, 2, 2, 2}, x)));
}

TEST(Correlation, BadInputs) {
  test::expect_error(
      [] {
        spearman({1, 2}, {1, 2, 3});
      },
      "spearman: inputs differ in length (2 vs 3)");
  test::expect_error([] { pearson({1}, {1}); }, "pearson: need at least 2 values, got 1");
  test::expect_error([] { kendall({1, std::nan("")}, {1, 2}); }, "kendall: value 1 is not finite");
}

TEST(Correlation, MethodCorrelationsPerSharedLayer) {
  const LayerMaps a{{1, 2},
                    {0, 3},
                    {test::mat({{0.1, 0.2, 0.3, 0.4}, {0.1, 0.2, 0.3, 0.4}}),
                     test::mat({{0.1, 0.2, 0.3, 0.4}, {0.4, 0.3, 0.2, 0.1}})}};
  const LayerMaps b{{2}, {3}, {test::mat({{0.1, 0.5, 0.2, 0.3}})}};
  const std::vector<NamedMaps> methods = {{"a", a}, {"b", b}};
  const auto all = method_correlations(methods, 3, {}, "ex");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].name, "a vs b");
  EXPECT_EQ(all[0].layers, (std::vector<int>{2}));
  EXPECT_DOUBLE_EQ(all[0].values[0], spearman({0.4, 0.3, 0.2, 0.1}, {0.1, 0.5, 0.2, 0.3}));
  const auto some = method_correlations(methods, 3, {1, 2, 3}, "ex");
  EXPECT_DOUBLE_EQ(some[0].values[0], spearman({0.3, 0.2, 0.1}, {0.5, 0.2, 0.3}));
  test::expect_error([&] { method_correlations(methods, 0, {}, "ex"); },
                     "ex: b has no target row 0");
  test::expect_error([&] { method_correlations(methods, 3, {0}, "ex"); },
                     "ex: correlations need at least 2 tokens");
  test::expect_error(
      [&] {
        method_correlations(methods, 3, {0, 4}, "ex");
      },
      "ex: token column 4 out of range (maps have 4 columns)");
  test::expect_error([&] { method_correlations({methods[0]}, 3, {}, "ex"); },
                     "ex: correlations need at least 2 methods");
}

}  // namespace
}  // namespace attnflow
