// plot_attention_graph: the layered graph with weighted edges.
#include "attnflow/plot/attention_graph.hpp"

#include "attnflow/core/residual.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using plot::AttentionGraphOptions;
using plot::plot_attention_graph;

constexpr auto sized = &test::sized<AttentionGraphOptions>;

TEST(AttentionGraph, WritesPngAndSvgOfTheRequestedSize) {
  const LayerMatrices layers = prepare_layers(test::sample_stack());
  const std::string png = test::plot_out("graph.png");
  plot_attention_graph(layers, test::sample_tokens(), png, sized(900, 700));
  test::expect_png(png, 900, 700);
  const std::string svg = test::plot_out("graph.svg");
  plot_attention_graph(layers, test::sample_tokens(), svg, sized(820, 640));
  const std::string text = test::expect_svg(svg, 820, 640);
  for (const char* s : {"Кот", ">input<", ">L6<", "Attention graph"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
}

TEST(AttentionGraph, ThresholdAndHiddenTokens) {
  const LayerMatrices layers = fuse_heads(test::sample_stack());
  AttentionGraphOptions o;
  o.hide_tokens = plot::special_tokens();
  o.min_weight = 0.1;
  const std::string svg = test::plot_out("graph_hidden.svg");
  plot_attention_graph(layers, test::sample_tokens(), svg, o);
  const std::string text = test::read_file(svg);
  EXPECT_EQ(text.find("[CLS]"), std::string::npos);
  EXPECT_EQ(text.find("[SEP]"), std::string::npos);
  EXPECT_NE(text.find("weights &lt; 0.1 hidden"), std::string::npos);
  const std::string png = test::plot_out("graph_no_edges.png");
  o.min_weight = 2.0;  // nothing left to draw but the nodes
  plot_attention_graph(layers, test::sample_tokens(), png, o);
  EXPECT_EQ(test::read_file(png).substr(1, 3), "PNG");
}

TEST(AttentionGraph, Errors) {
  const std::string p = test::plot_out("bad_graph.png");
  test::expect_error([&] { plot_attention_graph({}, {}, p); }, p + ": no layers");
  LayerMatrices bad = {Matrix::Identity(3, 3), Matrix::Identity(2, 2)};
  test::expect_error([&] { plot_attention_graph(bad, {}, p); },
                     p + ": layer 2 has 2 tokens, layer 1 has 3");
  AttentionGraphOptions o;
  o.min_weight = -1;
  test::expect_error([&] { plot_attention_graph({Matrix::Identity(2, 2)}, {}, p, o); },
                     p + ": min_weight must be finite and >= 0, got -1");
  o = {};
  o.max_line_width = 0;
  test::expect_error([&] { plot_attention_graph({Matrix::Identity(2, 2)}, {}, p, o); },
                     p + ": max_line_width must be > 0, got 0");
  EXPECT_FALSE(test::file_exists(p));
}

}  // namespace
}  // namespace attnflow
