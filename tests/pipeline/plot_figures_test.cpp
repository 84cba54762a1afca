// pipeline::plot_figures: plot kinds, --examples lists, the checks before
// the first figure, and one figure of a .npy stack (when gnuplot is there).
#include "attnflow/pipeline/plot_figures.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "../core/test_util.hpp"
#include "attnflow/core/fusion.hpp"
#include "attnflow/io/npy.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/plot/figure.hpp"

namespace attnflow::pipeline {
namespace {

TEST(PlotFigures, KindNames) {
  for (PlotKind k :
       {PlotKind::Heatmap, PlotKind::Heads, PlotKind::Maps, PlotKind::Graph, PlotKind::Bars,
        PlotKind::Corr, PlotKind::Cross, PlotKind::CrossHeads, PlotKind::Compare}) {
    EXPECT_EQ(parse_plot_kind(to_string(k)), k);
  }
  EXPECT_STREQ(to_string(PlotKind::Corr), "corr");
  test::expect_error([] { parse_plot_kind("pie"); },
                     "--kind: unknown 'pie' (expected heatmap, heads, maps, graph, bars, corr, "
                     "cross, cross-heads or compare)");
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

// Data lines "x y value" of a kept gnuplot script.
std::vector<std::string> data_lines(const std::string& script) {
  std::vector<std::string> lines;
  std::istringstream in(script);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && std::isdigit(static_cast<unsigned char>(line[0])) != 0) {
      lines.push_back(line);
    }
  }
  return lines;
}

// A (2 layers, 2 heads, 3 decoder, 4 encoder tokens) cross-attention .npy: layer 1 is 0.25
// everywhere; both heads of layer 2 hold `layer2` below, so its fused map is that matrix.
std::string write_cross_npy(const std::string& dir) {
  std::vector<float> data(2 * 2 * 3 * 4, 0.25f);
  const float layer2[3][4] = {
      {0.1f, 0.2f, 0.3f, 0.4f}, {0.4f, 0.3f, 0.2f, 0.1f}, {0.25f, 0.25f, 0.25f, 0.25f}};
  for (int h = 0; h < 2; ++h) {
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 4; ++j)
        data[static_cast<std::size_t>(((2 + h) * 3 + i) * 4 + j)] = layer2[i][j];
    }
  }
  const std::string path = dir + "/cross.npy";
  io::write_npy(path, {2, 2, 3, 4}, data);
  test::write_file(dir + "/decoder.txt", "<pad>\nDas\nHaus\n");
  test::write_file(dir + "/encoder.txt", "The\nhouse\nis\n</s>\n");
  return path;
}

TEST(PlotFigures, CrossAttentionOfANpyStack) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot not found";
  const std::string dir = test::temp_dir("cross");
  PlotOptions o;
  o.input = write_cross_npy(dir);
  o.tokens = dir + "/decoder.txt";
  o.encoder_tokens = dir + "/encoder.txt";
  o.kind = PlotKind::Cross;
  o.output = dir + "/cross.svg";
  o.figure.keep_script = true;
  EXPECT_EQ(plot_figures(o).figures, (std::vector<std::string>{o.output}));
  const std::string svg = test::read_file(o.output);
  for (const char* s : {"Cross-attention, layer 2, heads fused (mean)", "encoder token",
                        "decoder token", "Haus", "house"}) {
    EXPECT_NE(svg.find(s), std::string::npos) << s;
  }
  const std::vector<std::string> lines = data_lines(test::read_file(o.output + ".gp"));
  EXPECT_NE(std::find(lines.begin(), lines.end(), "3 0 0.400000006"), lines.end());
  EXPECT_NE(std::find(lines.begin(), lines.end(), "0 1 0.400000006"), lines.end());
  o.kind = PlotKind::CrossHeads;
  o.output = dir + "/heads.png";
  o.layer = 1;
  plot_figures(o);
  EXPECT_TRUE(test::file_exists(o.output));
  o.kind = PlotKind::Cross;
  o.layer = 3;
  test::expect_error([&] { plot_figures(o); },
                     "--layer: 3 out of range 1..2 (" + o.input + " has 2 layers)");
  o.layer = 0;
  o.head = 3;
  test::expect_error([&] { plot_figures(o); },
                     "--head: 3 out of range 1..2 (" + o.input + " has 2 heads)");
  o.head = 0;
  o.encoder_tokens = o.tokens;
  test::expect_error([&] { plot_figures(o); },
                     o.tokens + ": 3 token labels for 4 encoder tokens in " + o.input);
  o.kind = PlotKind::Maps;
  test::expect_error([&] { plot_figures(o); },
                     "--encoder-tokens is for -k cross and -k cross-heads");
}

// Runs the store tool; fails the test when it fails.
void store_tool(const std::string& args) {
  const std::string command = std::string(ATTNFLOW_STORE_TOOL) + " " + args;
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
}

TEST(PlotFigures, CompareStoresSideBySide) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot not found";
  const std::string dir = test::temp_dir("compare");
  store_tool("write " + dir + "/bert.h5 2 --layers 2 --heads 2 --model bert-tiny --spread 5");
  store_tool("write " + dir +
             "/gpt2.h5 2 --layers 3 --heads 2 --causal --seed 2 --spread 4 "
             "--model gpt2-tiny");
  store_tool("write " + dir + "/t5.h5 2 --layers 2 --heads 4 --seed 3 --spread 3 --model \"\"");
  PlotOptions o;
  o.input = dir + "/bert.h5";
  o.compare_with = {dir + "/gpt2.h5", dir + "/t5.h5"};
  o.kind = PlotKind::Compare;
  o.example_given = true;
  o.example = 1;
  o.output = dir + "/compare.svg";
  o.figure.keep_script = true;
  EXPECT_EQ(plot_figures(o).figures, (std::vector<std::string>{o.output}));
  const std::string svg = test::read_file(o.output);
  for (const char* s : {"raw at the last layer, example 1", "bert-tiny, layer 2",
                        "gpt2-tiny, layer 3", "t5.h5, layer 2"}) {
    EXPECT_NE(svg.find(s), std::string::npos) << s;
  }
  // Every panel is the store's fused last layer: n x n cells each.
  std::size_t cells = 0;
  std::vector<std::string> want;
  for (const char* name : {"bert", "gpt2", "t5"}) {
    const io::Store store = io::Store::open(dir + "/" + name + ".h5");
    const io::Example e = store.read(1);
    cells += static_cast<std::size_t>(e.tokens_count() * e.tokens_count());
    const Matrix fused = fuse_heads(e.attention, e.attention.layers());
    std::ostringstream line;
    line.precision(10);
    line << e.tokens_count() - 1 << " 0 " << fused(0, e.tokens_count() - 1);
    want.push_back(line.str());
  }
  const std::vector<std::string> lines = data_lines(test::read_file(o.output + ".gp"));
  EXPECT_EQ(lines.size(), cells);
  for (const std::string& w : want) {
    EXPECT_NE(std::find(lines.begin(), lines.end(), w), lines.end()) << w;
  }
  // Rollout at layer 2 with titles; then the errors.
  o.analysis.methods = {"rollout"};
  o.layer = 2;
  o.panel_titles = {"BERT", "GPT-2", "T5"};
  o.output = dir + "/compare_rollout.png";
  plot_figures(o);
  EXPECT_TRUE(test::file_exists(o.output));
  o.layer = 3;
  test::expect_error([&] { plot_figures(o); },
                     "--layer: 3 out of range 1..2 (" + dir + "/bert.h5 example 1 has 2 layers)");
  o.layer = 0;
  o.panel_titles = {"BERT"};
  test::expect_error([&] { plot_figures(o); }, "--titles: 1 titles for 3 stores");
  o.panel_titles.clear();
  o.analysis.methods = {"raw", "rollout"};
  o.methods_given = true;
  test::expect_error([&] { plot_figures(o); },
                     "-k compare draws one method in every panel: -m raw,rollout names 2 (e.g. "
                     "-m rollout)");
  o.analysis.methods = {"grad-rollout"};
  test::expect_error([&] { plot_figures(o); },
                     "grad-rollout: example 1 of " + dir + "/bert.h5 has no gradient stored");
  o.analysis.methods = {"raw"};
  o.example_given = false;
  test::expect_error([&] { plot_figures(o); },
                     "-k compare: choose the example of every store with --example I");
  o.example_given = true;
  o.compare_with = {std::string(ATTNFLOW_TEST_DATA) + "/plot_attention.npy"};
  test::expect_error([&] { plot_figures(o); },
                     "-k compare: " + o.compare_with[0] + " is not an HDF5 store (.h5/.hdf5)");
  o.compare_with.clear();
  test::expect_error([&] { plot_figures(o); },
                     "-k compare needs two or more HDF5 stores (one panel each), got " + o.input);
  o.kind = PlotKind::Maps;
  o.compare_with = {dir + "/gpt2.h5"};
  test::expect_error([&] { plot_figures(o); },
                     "2 inputs: several stores are for -k compare (one panel each); -k maps "
                     "draws one input");
  o.compare_with.clear();
  o.kind = PlotKind::Cross;
  test::expect_error_prefix(
      [&] { plot_figures(o); },
      "-k cross: " + o.input + " holds no cross-attention (not an encoder-decoder store)");
}

}  // namespace
}  // namespace attnflow::pipeline
