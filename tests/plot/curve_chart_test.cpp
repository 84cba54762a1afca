// plot_curves: a deletion-curve chart of the requested size, its key, and the errors.
#include "attnflow/plot/curve_chart.hpp"

#include <cmath>

#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using plot::CurveChartOptions;
using plot::CurveSeries;
using plot::plot_curves;

constexpr auto sized = &test::sized<CurveChartOptions>;

const std::vector<CurveSeries> kCurves = {
    {"rollout", {0, 10, 50, 100}, {0.99, 0.7, 0.6, 0.5}},
    {"random", {0, 10, 50, 100}, {0.99, 0.9, std::nan(""), 0.5}}};

TEST(CurveChart, WritesPngAndSvg) {
  CurveChartOptions o = sized(800, 400);
  o.x_label = "top k% removed";
  o.y_range = std::make_pair(0.0, 1.0);
  const std::string png = test::plot_out("curves.png");
  plot_curves(kCurves, png, o);
  test::expect_png(png, 800, 400);
  const std::string svg = test::plot_out("curves.svg");
  plot_curves(kCurves, svg, sized(700, 420));
  const std::string text = test::expect_svg(svg, 700, 420);
  EXPECT_NE(text.find("rollout"), std::string::npos);
  EXPECT_NE(text.find("random"), std::string::npos);
}

TEST(CurveChart, Errors) {
  const std::string p = test::plot_out("bad_curves.png");
  test::expect_error([&] { plot_curves({}, p); }, p + ": no curve to draw");
  test::expect_error([&] { plot_curves({{"a", {}, {}}}, p); }, p + ": curve 'a' has no points");
  test::expect_error(
      [&] {
        plot_curves({{"a", {0, 1}, {0.5}}}, p);
      },
      p + ": curve 'a' has 2 x values and 1 y values");
  test::expect_error(
      [&] {
        plot_curves({{"a", {1, 0}, {0.5, 0.5}}}, p);
      },
      p + ": curve 'a': x values are not increasing");
  test::expect_error(
      [&] {
        plot_curves({{"a", {0}, {HUGE_VAL}}}, p);
      },
      p + ": curve 'a': y value at x 0 is infinite");
  CurveChartOptions o;
  o.y_range = std::make_pair(1.0, 1.0);
  test::expect_error([&] { plot_curves(kCurves, p, o); }, p + ": y range [1, 1] is empty");
  EXPECT_FALSE(test::file_exists(p));
}

}  // namespace
}  // namespace attnflow
