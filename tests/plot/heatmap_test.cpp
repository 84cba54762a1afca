// plot_heatmap: PNG/SVG/PDF of the requested size, UTF-8 and special labels,
// hidden tokens, and exact error messages.
#include "attnflow/plot/heatmap.hpp"

#include "attnflow/core/fusion.hpp"
#include "attnflow/plot/token_labels.hpp"
#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using plot::HeatmapOptions;
using plot::plot_heatmap;

Matrix sample_layer() {
  return fuse_heads(test::sample_stack(), 2);
}

constexpr auto sized = &test::sized<HeatmapOptions>;

TEST(Heatmap, WritesPngSvgAndPdfOfTheRequestedSize) {
  const std::string png = test::plot_out("heatmap.png");
  plot_heatmap(sample_layer(), test::sample_tokens(), png, sized(640, 560));
  test::expect_png(png, 640, 560);
  const std::string svg = test::plot_out("heatmap.svg");
  plot_heatmap(sample_layer(), test::sample_tokens(), svg, sized(700, 600));
  test::expect_svg(svg, 700, 600);
  const std::string pdf = test::plot_out("heatmap.pdf");
  plot_heatmap(sample_layer(), test::sample_tokens(), pdf, sized(720, 540));
  test::expect_pdf(pdf, 720, 540);
}

TEST(Heatmap, AutomaticSizeGrowsWithTheTokens) {
  const std::string small = test::plot_out("heatmap_auto_small.png");
  plot_heatmap(sample_layer(), test::sample_tokens(), small);
  const AttentionStack big = test::random_stack(1, 1, 40, 3, false);
  const std::string large = test::plot_out("heatmap_auto_large.png");
  plot_heatmap(fuse_heads(big, 1), {}, large);
  const auto width = [](const std::string& p) {
    const std::string b = test::read_file(p);
    return (static_cast<unsigned char>(b[18]) << 8) | static_cast<unsigned char>(b[19]);
  };
  EXPECT_GT(width(small), 300);
  EXPECT_GT(width(large), width(small));
}

TEST(Heatmap, CyrillicAndAccentedLabelsReachTheSvg) {
  const std::string svg = test::plot_out("heatmap_utf8.svg");
  plot_heatmap(sample_layer(), test::sample_tokens(), svg, sized(640, 560));
  const std::string text = test::expect_svg(svg, 640, 560);
  for (const char* word :
       {"Кот", "сидит", "ковре", "café", "naïve", "[CLS]", "key token", "query token"}) {
    EXPECT_NE(text.find(word), std::string::npos) << word;
  }
}

TEST(Heatmap, HiddenSpecialTokensAreLeftOut) {
  HeatmapOptions o = sized(600, 520);
  o.hide_tokens = plot::special_tokens();
  const std::string svg = test::plot_out("heatmap_hidden.svg");
  plot_heatmap(sample_layer(), test::sample_tokens(), svg, o);
  const std::string text = test::expect_svg(svg, 600, 520);
  EXPECT_EQ(text.find("[CLS]"), std::string::npos);
  EXPECT_EQ(text.find("[SEP]"), std::string::npos);
  EXPECT_NE(text.find("Кот"), std::string::npos);
  const std::string png = test::plot_out("heatmap_hidden.png");
  plot_heatmap(sample_layer(), test::sample_tokens(), png, o);
  test::expect_png(png, 600, 520);
}

TEST(Heatmap, LabelsWithQuotesPercentBackslashesAndMarkupStayLiteral) {
  const std::vector<std::string> tokens = {"it's", "100%", "a_b^c", "back\\slash", "\"q\"", "<s>"};
  const std::string svg = test::plot_out("heatmap_escapes.svg");
  plot_heatmap(fuse_heads(test::random_stack(1, 1, 6, 5, false), 1), tokens, svg, sized(560, 520));
  const std::string text = test::expect_svg(svg, 560, 520);
  for (const char* label : {"it's", "100%", "a_b^c", "back\\slash", "\"q\"", "&lt;s>"}) {
    EXPECT_NE(text.find(label), std::string::npos) << label;
  }
}

TEST(Heatmap, SignedValuesUseTheDivergingScale) {
  Matrix m = sample_layer();
  m(1, 2) = -0.4;
  HeatmapOptions o = sized(640, 560);
  o.figure.title = "signed relevance";
  const std::string png = test::plot_out("heatmap_signed.png");
  plot_heatmap(m, test::sample_tokens(), png, o);
  test::expect_png(png, 640, 560);
}

TEST(Heatmap, ManyTokensWithoutValues) {
  const std::string png = test::plot_out("heatmap_32.png");
  plot_heatmap(fuse_heads(test::random_stack(1, 2, 32, 9, true), 1), {}, png, sized(800, 760));
  test::expect_png(png, 800, 760);
}

TEST(Heatmap, Errors) {
  const std::string p = test::plot_out("bad.png");
  test::expect_error([&] { plot_heatmap(Matrix(), {}, p); }, p + ": empty matrix");
  test::expect_error([&] { plot_heatmap(Matrix::Zero(2, 3), {}, p); },
                     p + ": matrix is 2x3, expected n x n (query x key)");
  Matrix nan = Matrix::Zero(2, 2);
  nan(0, 1) = std::nan("");
  test::expect_error([&] { plot_heatmap(nan, {}, p); }, p + ": matrix value at (0, 1) is NaN");
  test::expect_error(
      [&] {
        plot_heatmap(Matrix::Zero(4, 4), {"a", "b", "c"}, p);
      },
      p + ": 3 token labels for 4 tokens");
  HeatmapOptions hide_all;
  hide_all.hide_tokens = {"a", "b"};
  test::expect_error(
      [&] {
        plot_heatmap(Matrix::Zero(2, 2), {"a", "b"}, p, hide_all);
      },
      p + ": every token is hidden");
  HeatmapOptions fmt;
  fmt.value_format = "0.2f";
  test::expect_error([&] { plot_heatmap(Matrix::Zero(2, 2), {}, p, fmt); },
                     p + ": value format '0.2f' has no % conversion");
  HeatmapOptions range;
  range.colors.min = 1.0;
  range.colors.max = 1.0;
  test::expect_error([&] { plot_heatmap(Matrix::Zero(2, 2), {}, p, range); },
                     p + ": colour range [1, 1] is empty");
  EXPECT_FALSE(test::file_exists(p));
  EXPECT_FALSE(test::file_exists(p + ".partial"));
}

TEST(Heatmap, GnuplotErrorsBecomeErrorsAndKeepTheOldFile) {
  const std::string p = test::plot_out("heatmap_gnuplot_error.png");
  plot_heatmap(sample_layer(), test::sample_tokens(), p, sized(500, 450));
  const std::string before = test::read_file(p);
  HeatmapOptions o = sized(500, 450);
  o.values = HeatmapOptions::Values::Show;
  o.value_format = "%q";  // gnuplot's sprintf rejects it
  test::expect_error_prefix([&] { plot_heatmap(sample_layer(), {}, p, o); },
                            p + ": gnuplot reported: ");
  EXPECT_EQ(test::read_file(p), before);
  EXPECT_FALSE(test::file_exists(p + ".partial"));
}

}  // namespace
}  // namespace attnflow
