// plot_target_maps: layers x tokens maps of several methods, one colour scale.
#include "attnflow/plot/target_maps.hpp"

#include "attnflow/plot/token_labels.hpp"
#include "plot_test_util.hpp"

namespace attnflow {
namespace {

using plot::NamedMaps;
using plot::plot_target_maps;
using plot::TargetMapsOptions;

constexpr auto sized = &test::sized<TargetMapsOptions>;

TEST(TargetMaps, NamedMapsFollowTheMethodOrder) {
  const std::vector<NamedMaps> m = plot::named_maps(test::sample_analysis());
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].name, "raw");
  EXPECT_EQ(m[1].name, "residual");
  EXPECT_EQ(m[2].name, "rollout");
  EXPECT_EQ(m[3].name, "flow");
  EXPECT_EQ(m[4].name, "grad-rollout");
}

TEST(TargetMaps, WritesPngAndSvgOfTheRequestedSize) {
  const auto methods = plot::named_maps(test::sample_analysis());
  const std::string png = test::plot_out("maps.png");
  plot_target_maps(methods, 0, test::sample_tokens(), png, sized(1200, 420));
  test::expect_png(png, 1200, 420);
  const std::string svg = test::plot_out("maps.svg");
  plot_target_maps(methods, 0, test::sample_tokens(), svg, sized(1100, 400));
  const std::string text = test::expect_svg(svg, 1100, 400);
  for (const char* s : {">raw<", ">rollout<", ">flow<", ">grad-rollout<", ">L1<", ">L6<", "Кот",
                        "Target token 0 ([CLS])"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
}

TEST(TargetMaps, PaperFigureThreeMethodsHiddenSpecialTokens) {
  auto all = plot::named_maps(test::sample_analysis());
  const std::vector<NamedMaps> methods = {all[0], all[2], all[3]};
  TargetMapsOptions o;
  o.hide_tokens = plot::special_tokens();
  const std::string svg = test::plot_out("maps_paper.svg");
  plot_target_maps(methods, 0, test::sample_tokens(), svg, o);
  const std::string text = test::read_file(svg);
  EXPECT_NE(text.find("Кот"), std::string::npos);
  EXPECT_EQ(text.find(">[SEP]<"), std::string::npos);
  // The title names the target token; no axis label is [CLS].
  EXPECT_EQ(text.find(">[CLS]<"), std::string::npos);
  const std::string png = test::plot_out("maps_paper.png");
  plot_target_maps(methods, 0, test::sample_tokens(), png, o);
  EXPECT_EQ(test::read_file(png).substr(1, 3), "PNG");
}

TEST(TargetMaps, DifferentLayersPerMethodAndOwnScales) {
  auto all = plot::named_maps(test::sample_analysis());
  NamedMaps flow = all[3];
  flow.maps.layers = {2, 4};
  flow.maps.maps = {all[3].maps.maps[1], all[3].maps.maps[3]};
  TargetMapsOptions o = sized(1000, 380);
  o.shared_scale = false;
  const std::string png = test::plot_out("maps_own_scales.png");
  plot_target_maps({all[0], flow, all[4]}, 0, test::sample_tokens(), png, o);
  test::expect_png(png, 1000, 380);
}

TEST(TargetMaps, Errors) {
  const std::string p = test::plot_out("bad_maps.png");
  auto all = plot::named_maps(test::sample_analysis());
  test::expect_error([&] { plot_target_maps({}, 0, {}, p); }, p + ": no methods to draw");
  test::expect_error([&] { plot_target_maps(all, 3, {}, p); },
                     p + ": raw has no target row 3 (rows: 0)");
  NamedMaps wide = all[2];
  wide.maps.maps[1] = Matrix::Zero(1, 9);
  test::expect_error(
      [&] {
        plot_target_maps({all[0], wide}, 0, {}, p);
      },
      p + ": rollout layer 2 has 9 tokens, raw has 8");
  NamedMaps empty{"empty", {}};
  test::expect_error([&] { plot_target_maps({empty}, 0, {}, p); }, p + ": empty has no maps");
  NamedMaps nan = all[0];
  nan.maps.maps[2](0, 5) = std::nan("");
  test::expect_error([&] { plot_target_maps({nan}, 0, {}, p); },
                     p + ": raw layer 3 value at (0, 5) is NaN");
  NamedMaps twice = all[0];
  twice.maps.layers[1] = 1;
  test::expect_error([&] { plot_target_maps({twice}, 0, {}, p); },
                     p + ": raw reports layer 1 twice");
  test::expect_error([&] { plot_target_maps(all, 0, {"x"}, p); },
                     p + ": 1 token labels for 8 tokens");
  EXPECT_FALSE(test::file_exists(p));
}

}  // namespace
}  // namespace attnflow
