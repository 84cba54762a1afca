// plot_relevance_bars and relevance_at: grouped bars per token and method.
#include "attnflow/plot/relevance_bars.hpp"

#include "attnflow/plot/token_labels.hpp"
#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using plot::NamedValues;
using plot::plot_relevance_bars;
using plot::RelevanceBarsOptions;

constexpr auto sized = &test::sized<RelevanceBarsOptions>;

TEST(RelevanceBars, RelevanceAtTakesTheRowOfALayer) {
  const auto all = plot::named_maps(test::sample_analysis());
  const auto last = plot::relevance_at(all, 0, 0, "x");
  ASSERT_EQ(last.size(), 5u);
  EXPECT_EQ(last[2].name, "rollout (L6)");
  EXPECT_EQ(last[2].values.size(), 8u);
  EXPECT_DOUBLE_EQ(last[2].values[3], all[2].maps.maps[5](0, 3));
  const auto l2 = plot::relevance_at(all, 0, 2, "x");
  EXPECT_EQ(l2[3].name, "flow");
  EXPECT_DOUBLE_EQ(l2[3].values[1], all[3].maps.maps[1](0, 1));
  test::expect_error([&] { plot::relevance_at(all, 0, 9, "ex"); }, "ex: raw has no layer 9");
  test::expect_error([&] { plot::relevance_at(all, 4, 0, "ex"); }, "ex: raw has no target row 4");
}

TEST(RelevanceBars, WritesPngAndSvgOfTheRequestedSize) {
  const auto all = plot::named_maps(test::sample_analysis());
  const auto values = plot::relevance_at({all[0], all[2], all[3]}, 0, 0, "x");
  const std::string png = test::plot_out("bars.png");
  plot_relevance_bars(values, test::sample_tokens(), png, sized(900, 500));
  test::expect_png(png, 900, 500);
  RelevanceBarsOptions o = sized(860, 480);
  o.hide_tokens = plot::special_tokens();
  o.scaling = plot::BarScaling::Max;
  const std::string svg = test::plot_out("bars_hidden.svg");
  plot_relevance_bars(values, test::sample_tokens(), svg, o);
  const std::string text = test::expect_svg(svg, 860, 480);
  EXPECT_NE(text.find("Кот"), std::string::npos);
  EXPECT_NE(text.find("flow (L6)"), std::string::npos);
  EXPECT_EQ(text.find("[CLS]"), std::string::npos);
  EXPECT_EQ(text.find("[SEP]"), std::string::npos);
}

TEST(RelevanceBars, NegativeValuesAndSumScaling) {
  RelevanceBarsOptions o = sized(700, 420);
  o.scaling = plot::BarScaling::Sum;
  const std::string png = test::plot_out("bars_signed.png");
  plot_relevance_bars({{"signed", {0.5, -0.25, 1.0}}, {"other", {0.2, 0.3, 0.5}}}, {"a", "b", "c"},
                      png, o);
  test::expect_png(png, 700, 420);
}

TEST(RelevanceBars, Errors) {
  const std::string p = test::plot_out("bad_bars.png");
  test::expect_error([&] { plot_relevance_bars({}, {}, p); }, p + ": no methods to draw");
  test::expect_error([&] { plot_relevance_bars({{"raw", {}}}, {}, p); }, p + ": raw has no values");
  test::expect_error(
      [&] {
        plot_relevance_bars({{"raw", {1, 2}}, {"flow", {1}}}, {}, p);
      },
      p + ": flow has 1 values, raw has 2");
  test::expect_error(
      [&] {
        plot_relevance_bars({{"raw", {1, std::nan("")}}}, {}, p);
      },
      p + ": raw value of token 1 is NaN");
  test::expect_error(
      [&] {
        plot_relevance_bars({{"raw", {1, 2}}}, {"a"}, p);
      },
      p + ": 1 token labels for 2 tokens");
  EXPECT_FALSE(test::file_exists(p));
}

}  // namespace
}  // namespace attnflow
