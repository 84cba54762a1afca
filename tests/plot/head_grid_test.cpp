// plot_head_grid: every head of a layer in one figure.
#include "attnflow/plot/head_grid.hpp"

#include "attnflow/plot/token_labels.hpp"
#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using plot::HeadGridOptions;
using plot::plot_head_grid;

constexpr auto sized = &test::sized<HeadGridOptions>;

TEST(HeadGrid, WritesPngAndSvgOfTheRequestedSize) {
  const std::string png = test::plot_out("heads.png");
  plot_head_grid(test::sample_stack(), 3, test::sample_tokens(), png, sized(900, 820));
  test::expect_png(png, 900, 820);
  const std::string svg = test::plot_out("heads.svg");
  plot_head_grid(test::sample_stack(), 3, test::sample_tokens(), svg, sized(880, 800));
  const std::string text = test::expect_svg(svg, 880, 800);
  for (const char* s : {"head 1", "head 4", "Layer 3: attention of each head", "Кот"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
  EXPECT_EQ(text.find("head 5"), std::string::npos);
}

TEST(HeadGrid, EightHeadsAutomaticSizeAndHiddenTokens) {
  HeadGridOptions o;
  o.hide_tokens = plot::special_tokens();
  const std::string svg = test::plot_out("heads8_hidden.svg");
  plot_head_grid(test::random_stack(2, 8, 8, 4, false), 2, test::sample_tokens(), svg, o);
  const std::string text = test::read_file(svg);
  EXPECT_NE(text.find("head 8"), std::string::npos);
  EXPECT_EQ(text.find("[CLS]"), std::string::npos);
  EXPECT_EQ(text.find("[SEP]"), std::string::npos);
  const std::string png = test::plot_out("heads8.png");
  o.columns = 4;
  plot_head_grid(test::random_stack(2, 8, 8, 4, false), 2, test::sample_tokens(), png, o);
  EXPECT_EQ(test::read_file(png).substr(1, 3), "PNG");
}

TEST(HeadGrid, Errors) {
  const std::string p = test::plot_out("bad_heads.png");
  test::expect_error([&] { plot_head_grid(test::sample_stack(), 7, {}, p); },
                     p + ": layer 7 out of range 1..6");
  test::expect_error([&] { plot_head_grid(test::sample_stack(), 0, {}, p); },
                     p + ": layer 0 out of range 1..6");
  test::expect_error([&] { plot_head_grid(AttentionStack(), 1, {}, p); },
                     p + ": empty stack (no layers, heads or tokens)");
  test::expect_error(
      [&] {
        plot_head_grid(test::sample_stack(), 1, {"a", "b"}, p);
      },
      p + ": 2 token labels for 8 tokens");
  HeadGridOptions o;
  o.columns = -1;
  test::expect_error([&] { plot_head_grid(test::sample_stack(), 1, {}, p, o); },
                     p + ": columns must be >= 0, got -1");
  EXPECT_FALSE(test::file_exists(p));
}

}  // namespace
}  // namespace attnflow
