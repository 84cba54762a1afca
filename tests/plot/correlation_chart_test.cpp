// method_correlations and plot_layer_correlations.
#include "attnflow/plot/correlation_chart.hpp"

#include "attnflow/core/correlation.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using plot::CorrelationChartOptions;
using plot::CorrelationSeries;
using plot::plot_layer_correlations;

constexpr auto sized = &test::sized<CorrelationChartOptions>;

TEST(CorrelationChart, MethodCorrelationsPerLayer) {
  const auto all = plot::named_maps(test::sample_analysis());
  const auto series = plot::method_correlations({all[0], all[2], all[3]}, 0, test::sample_tokens(),
                                                plot::special_tokens(), "x");
  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].name, "raw vs rollout");
  EXPECT_EQ(series[1].name, "raw vs flow");
  EXPECT_EQ(series[2].name, "rollout vs flow");
  ASSERT_EQ(series[2].layers, (std::vector<int>{1, 2, 3, 4, 5, 6}));
  std::vector<double> a, b;
  for (int j = 1; j <= 6; ++j) {  // tokens 0 and 7 are [CLS] and [SEP]
    a.push_back(all[2].maps.maps[3](0, j));
    b.push_back(all[3].maps.maps[3](0, j));
  }
  EXPECT_DOUBLE_EQ(series[2].values[3], spearman(a, b));
  test::expect_error([&] { plot::method_correlations({all[0]}, 0, {}, {}, "ex"); },
                     "ex: correlations need at least 2 methods");
  test::expect_error(
      [&] {
        plot::method_correlations({all[0], all[2]}, 0, {"a", "b", "c", "d", "e", "f", "g", "h"},
                                  {"a", "b", "c", "d", "e", "f", "g"}, "ex");
      },
      "ex: correlations need at least 2 visible tokens");
}

TEST(CorrelationChart, WritesPngAndSvgOfTheRequestedSize) {
  const auto all = plot::named_maps(test::sample_analysis());
  const auto series = plot::method_correlations({all[0], all[2], all[3]}, 0, test::sample_tokens(),
                                                plot::special_tokens(), "x");
  const std::string png = test::plot_out("correlations.png");
  plot_layer_correlations(series, png, sized(800, 480));
  test::expect_png(png, 800, 480);
  const std::string svg = test::plot_out("correlations.svg");
  plot_layer_correlations(series, svg, sized(760, 460));
  const std::string text = test::expect_svg(svg, 760, 460);
  EXPECT_NE(text.find("rollout vs flow"), std::string::npos);
  EXPECT_NE(text.find(">L6<"), std::string::npos);
}

TEST(CorrelationChart, PaperTableOneWithSpreadAndMissingValues) {
  // Abnar & Zuidema (2020) Table 1: Spearman with blank-out, per layer.
  const std::vector<CorrelationSeries> table = {
      {"raw",
       {1, 2, 3, 4, 5, 6},
       {0.69, 0.10, -0.11, -0.09, 0.20, 0.29},
       {0.1, 0.1, 0.1, 0.1, 0.1, 0.1}},
      {"rollout", {1, 2, 3, 4, 5, 6}, {0.32, 0.38, 0.51, 0.62, 0.70, 0.71}, {}},
      {"flow", {1, 2, 3, 4, 5, 6}, {0.32, 0.44, 0.70, 0.70, 0.71, std::nan("")}, {}},
      {"nothing", {1}, {std::nan("")}, {}}};
  const std::string png = test::plot_out("correlations_table1.png");
  plot_layer_correlations(table, png, sized(800, 480));
  test::expect_png(png, 800, 480);
}

TEST(CorrelationChart, Errors) {
  const std::string p = test::plot_out("bad_corr.png");
  test::expect_error([&] { plot_layer_correlations({}, p); },
                     p + ": no correlation series to draw");
  test::expect_error(
      [&] {
        plot_layer_correlations({{"a", {1, 2}, {0.5}, {}}}, p);
      },
      p + ": a has 2 layers and 1 values");
  test::expect_error(
      [&] {
        plot_layer_correlations({{"a", {1, 2}, {0.5, 1.5}, {}}}, p);
      },
      p + ": a value 1.5 at layer 2 is outside [-1, 1]");
  test::expect_error(
      [&] {
        plot_layer_correlations({{"a", {0}, {0.5}, {}}}, p);
      },
      p + ": a: layer number 0 (layers are 1-based)");
  test::expect_error(
      [&] {
        plot_layer_correlations({{"a", {1}, {0.5}, {0.1, 0.2}}}, p);
      },
      p + ": a has 2 spreads for 1 values");
  test::expect_error(
      [&] {
        plot_layer_correlations({{"a", {}, {}, {}}}, p);
      },
      p + ": the correlation series have no layers");
  EXPECT_FALSE(test::file_exists(p));
}

}  // namespace
}  // namespace attnflow
