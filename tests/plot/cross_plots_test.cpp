// Encoder-decoder and comparison figures: the cross-attention heatmap (decoder tokens x
// encoder tokens; fused, and every head in a grid) and side-by-side panels of several
// models, each checked for its size, labels and the cells of its data blocks.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "attnflow/plot/head_grid.hpp"
#include "attnflow/plot/heatmap.hpp"
#include "attnflow/plot/side_by_side.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using test::mat;

const std::vector<std::string> kDecoder = {"<pad>", "Le", "chat", "</s>"};
const std::vector<std::string> kEncoder = {"translate", "The", "cat", "sat", "</s>"};

// 4 x 5 cross-attention with distinct values 0.01 * (10 i + j + 1), i.e. 0.01 .. 0.35.
Matrix cross_matrix() {
  Matrix m(4, 5);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 5; ++j) m(i, j) = 0.01 * (10 * i + j + 1);
  }
  return m;
}

// Lines "x y value" of the data blocks of a kept gnuplot script.
std::vector<std::string> data_lines(const std::string& script) {
  std::vector<std::string> lines;
  std::istringstream in(script);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && (std::isdigit(static_cast<unsigned char>(line[0])) != 0)) {
      lines.push_back(line);
    }
  }
  return lines;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

bool has_line(const std::vector<std::string>& lines, const std::string& want) {
  return std::find(lines.begin(), lines.end(), want) != lines.end();
}

TEST(CrossPlots, RectangularHeatmapDecoderRowsEncoderColumns) {
  plot::HeatmapOptions o = test::sized<plot::HeatmapOptions>(720, 480);
  o.figure.keep_script = true;
  o.x_label = "encoder token";
  o.y_label = "decoder token";
  const std::string svg = test::plot_out("cross_heatmap.svg");
  plot::plot_heatmap(cross_matrix(), kDecoder, kEncoder, svg, o);
  const std::string text = test::expect_svg(svg, 720, 480);
  for (const char* s : {"translate", "chat", "encoder token", "decoder token", "0.35"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
  // 20 cells (x = encoder column, y = decoder row), each with its value, no others.
  const std::vector<std::string> lines = data_lines(test::read_file(svg + ".gp"));
  EXPECT_TRUE(has_line(lines, "4 0 0.05")) << "row 0, column 4";
  EXPECT_TRUE(has_line(lines, "0 3 0.31")) << "row 3, column 0";
  EXPECT_FALSE(has_line(lines, "0 4 0.41"));  // there is no decoder row 4
  int boxes = 0;
  for (const std::string& l : lines) boxes += std::count(l.begin(), l.end(), ' ') == 2;
  EXPECT_EQ(boxes, 20);
}

TEST(CrossPlots, RectangularHeatmapPngAndHiddenTokens) {
  const std::string png = test::plot_out("cross_heatmap.png");
  plot::plot_heatmap(cross_matrix(), kDecoder, kEncoder, png,
                     test::sized<plot::HeatmapOptions>(640, 420));
  test::expect_png(png, 640, 420);
  plot::HeatmapOptions o;
  o.hide_tokens = plot::special_tokens();  // <pad> and </s> on both axes
  o.figure.keep_script = true;
  const std::string svg = test::plot_out("cross_heatmap_hidden.svg");
  plot::plot_heatmap(cross_matrix(), kDecoder, kEncoder, svg, o);
  const std::string text = test::read_file(svg);
  EXPECT_EQ(text.find("&lt;/s&gt;"), std::string::npos);
  EXPECT_EQ(text.find("&lt;pad&gt;"), std::string::npos);
  const std::vector<std::string> lines = data_lines(test::read_file(svg + ".gp"));
  // Rows Le, chat (1, 2) and columns translate, The, cat, sat (0..3) remain: 8 cells.
  EXPECT_TRUE(has_line(lines, "0 0 0.11"));
  EXPECT_TRUE(has_line(lines, "3 1 0.24"));
  EXPECT_FALSE(has_line(lines, "4 1 0.25"));
}

TEST(CrossPlots, EveryHeadOfACrossLayer) {
  CrossAttentionStack cross(2, 3, 4, 5);
  for (int h = 0; h < 3; ++h) cross.head(1, h) = ((h + 1) * cross_matrix()).cast<float>();
  plot::HeadGridOptions o = test::sized<plot::HeadGridOptions>(900, 400);
  o.figure.keep_script = true;
  o.columns = 3;
  const std::string svg = test::plot_out("cross_heads.svg");
  plot::plot_head_grid(cross, 2, kDecoder, kEncoder, svg, o);
  const std::string text = test::expect_svg(svg, 900, 400);
  for (const char* s : {"head 1", "head 3", "Layer 2: cross-attention of each head",
                        "encoder token", "decoder token", "translate", "chat"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
  const std::vector<std::string> lines = data_lines(test::read_file(svg + ".gp"));
  EXPECT_EQ(lines.size(), 60u);  // 3 heads x 4 x 5 cells, no values
  // float32 heads: 0.35f and head 3 = 3 x the matrix (1.05f)
  EXPECT_TRUE(has_line(lines, "4 3 0.349999994"));
  EXPECT_TRUE(has_line(lines, "4 3 1.049999952"));
  const std::string png = test::plot_out("cross_heads.png");
  plot::plot_head_grid(cross, 2, kDecoder, kEncoder, png,
                       test::sized<plot::HeadGridOptions>(900, 400));
  test::expect_png(png, 900, 400);
  const std::string p = test::plot_out("bad_cross_heads.png");
  test::expect_error([&] { plot::plot_head_grid(cross, 3, kDecoder, kEncoder, p); },
                     p + ": layer 3 out of range 1..2");
  test::expect_error([&] { plot::plot_head_grid(cross, 1, kEncoder, kEncoder, p); },
                     p + ": 5 token labels for 4 tokens");
  EXPECT_FALSE(test::file_exists(p));
}

// Three "models" with different tokenizations of one sentence: 4, 6 and 5 tokens.
std::vector<plot::SidePanel> three_models() {
  std::vector<plot::SidePanel> panels(3);
  panels[0] = {"bert-tiny",
               test::random_stack(1, 1, 4, 1, false).head(0, 0).cast<double>(),
               {"[CLS]", "the", "cat", "[SEP]"},
               {}};
  panels[1] = {"gpt2-tiny",
               test::random_stack(1, 1, 6, 2, true).head(0, 0).cast<double>(),
               {"The", "Ġc", "at", "Ġsat", "Ġon", "."},
               {}};
  panels[2] = {"t5-tiny",
               test::random_stack(1, 1, 5, 3, false).head(0, 0).cast<double>(),
               {"▁The", "▁cat", "▁sat", ".", "</s>"},
               {}};
  panels[2].matrix(4, 0) = 0.999;  // the largest value of all panels
  return panels;
}

TEST(CrossPlots, SideBySideModelsWithTheirOwnTokens) {
  plot::SideBySideOptions o = test::sized<plot::SideBySideOptions>(1200, 460);
  o.figure.keep_script = true;
  const std::string svg = test::plot_out("side_by_side.svg");
  plot::plot_side_by_side(three_models(), svg, o);
  const std::string text = test::expect_svg(svg, 1200, 460);
  for (const char* s :
       {"bert-tiny", "gpt2-tiny", "t5-tiny", "Attention in each model", "Ġsat", "▁cat", "[CLS]"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
  const std::string script = test::read_file(svg + ".gp");
  const std::vector<std::string> lines = data_lines(script);
  EXPECT_EQ(lines.size(), 16u + 36u + 25u);
  EXPECT_TRUE(has_line(lines, "0 4 0.999"));
  // One shared scale, one colour bar.
  EXPECT_EQ(count(script, "set colorbox user"), 1u);
  const std::string png = test::plot_out("side_by_side.png");
  plot::plot_side_by_side(three_models(), png, test::sized<plot::SideBySideOptions>(1000, 400));
  test::expect_png(png, 1000, 400);
}

TEST(CrossPlots, SideBySideOwnScalesHiddenTokensAndAutomaticSize) {
  plot::SideBySideOptions o;
  o.shared_scale = false;
  o.hide_tokens = plot::special_tokens();
  o.figure.keep_script = true;
  const std::string svg = test::plot_out("side_by_side_own.svg");
  plot::plot_side_by_side(three_models(), svg, o);
  const std::string text = test::read_file(svg);
  EXPECT_EQ(text.find("[CLS]"), std::string::npos);
  EXPECT_EQ(text.find("&lt;/s&gt;"), std::string::npos);
  const std::string script = test::read_file(svg + ".gp");
  EXPECT_EQ(data_lines(script).size(), 4u + 36u + 16u);
  EXPECT_EQ(count(script, "set colorbox user"), 3u);
}

TEST(CrossPlots, SideBySideErrors) {
  const std::string p = test::plot_out("bad_side.png");
  test::expect_error([&] { plot::plot_side_by_side({}, p); }, p + ": no panels to draw");
  std::vector<plot::SidePanel> panels = three_models();
  panels[1].row_tokens.pop_back();
  test::expect_error([&] { plot::plot_side_by_side(panels, p); },
                     p + ": panel 'gpt2-tiny' rows: 5 token labels for 6 tokens");
  panels = three_models();
  panels[0].matrix(1, 1) = std::nan("");
  test::expect_error([&] { plot::plot_side_by_side(panels, p); },
                     p + ": panel 'bert-tiny' value at (1, 1) is NaN");
  panels = three_models();
  panels[2].matrix = Matrix();
  test::expect_error([&] { plot::plot_side_by_side(panels, p); },
                     p + ": panel 't5-tiny' has an empty matrix");
  EXPECT_FALSE(test::file_exists(p));
}

}  // namespace
}  // namespace attnflow
