// pipeline::plot_figures: plot kinds, --examples lists, the checks before
// the first figure, and one figure of a .npy stack (when gnuplot is there).
#include "attnflow/pipeline/plot_figures.hpp"

#include "../core/test_util.hpp"

namespace attnflow::pipeline {
namespace {

TEST(PlotFigures, KindNames) {
  for (PlotKind k : {PlotKind::Heatmap, PlotKind::Heads, PlotKind::Maps, PlotKind::Graph,
                     PlotKind::Bars, PlotKind::Corr}) {
    EXPECT_EQ(parse_plot_kind(to_string(k)), k);
  }
  EXPECT_STREQ(to_string(PlotKind::Corr), "corr");
  test::expect_error([] { parse_plot_kind("pie"); },
                     "--kind: unknown 'pie' (expected heatmap, heads, maps, graph, bars or corr)");
}

TEST(PlotFigures, ExampleLists) {
  EXPECT_EQ(parse_examples("3,0-2,1", "c.h5", 5), (std::vector<std::int64_t>{3, 0, 1, 2}));
  test::expect_error([] { parse_examples("0,7", "c.h5", 5); },
                     "--examples 0,7: c.h5 holds 5 examples (0..4)");
  test::expect_error([] { parse_examples("3-1", "c.h5", 5); },
                     "--examples: range 3-1 is empty (write 1-3)");
  test::expect_error([] { parse_examples("a", "c.h5", 5); },
                     "--examples: 'a' is not an index or a range A-B (e.g. 0,3,5 or 0-9)");
}

TEST(PlotFigures, NpyChecks) {
  PlotOptions o;
  o.input = std::string(ATTNFLOW_TEST_DATA) + "/plot_attention.npy";
  o.output = test::temp_path("fig.png");
  o.example_given = true;
  test::expect_error([&] { plot_figures(o); },
                     o.input +
                         ": --example, --examples and --format are for HDF5 corpora "
                         "(.h5/.hdf5)");
  o.example_given = false;
  o.output = "fig.bmp";
  EXPECT_THROW(plot_figures(o), Error);
}

bool have_gnuplot() {
  try {
    plot::find_gnuplot();
    return true;
  } catch (const Error&) {
    return false;
  }
}

TEST(PlotFigures, CorrelationsOfANegativeTargetRow) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot not found";
  PlotOptions o;
  o.input = std::string(ATTNFLOW_TEST_DATA) + "/plot_attention.npy";
  o.tokens = std::string(ATTNFLOW_TEST_DATA) + "/plot_tokens.txt";
  o.output = test::temp_path("corr.svg");
  o.kind = PlotKind::Corr;
  o.target = -1;
  o.target_given = true;
  std::vector<std::string> seen;
  o.on_figure = [&](const std::string& path) { seen.push_back(path); };
  const PlotReport report = plot_figures(o);
  EXPECT_EQ(report.figures, (std::vector<std::string>{o.output}));
  EXPECT_EQ(seen, report.figures);
  EXPECT_NE(
      test::read_file(o.output).find("Spearman correlation of target token 7 between methods"),
      std::string::npos);
  o.target = -9;
  test::expect_error([&] { plot_figures(o); },
                     "target rows: token -9 out of range (sequence has 8 tokens, valid 0..7 or "
                     "-8..-1)");
}

}  // namespace
}  // namespace attnflow::pipeline
