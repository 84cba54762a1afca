// pipeline::view_page and view_example: the page's data (hand-computed quantisation and
// base64 of a tiny example; the error bound of 8 and 16 bits on random stacks), escaping of
// titles and tokens, the methods' maps, and the errors. The page in a browser:
// tests/view/view_browser_test.py.
#include <boost/archive/iterators/binary_from_base64.hpp>
#include <boost/archive/iterators/transform_width.hpp>
#include <cstring>
#include <nlohmann/json.hpp>

#include "../core/test_util.hpp"
#include "attnflow/pipeline/view.hpp"

namespace attnflow::pipeline {
namespace {

// The JSON of the page's <script type="application/json" id="attnflow-data"> element.
nlohmann::json page_data(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"attnflow-data\">";
  const std::size_t start = page.find(open);
  EXPECT_NE(start, std::string::npos);
  const std::size_t from = start + open.size();
  return nlohmann::json::parse(page.substr(from, page.find("</script>", from) - from));
}

std::vector<unsigned char> unbase64(std::string text) {
  using namespace boost::archive::iterators;
  using Decoder = transform_width<binary_from_base64<std::string::const_iterator>, 8, 6>;
  const std::size_t pad = text.size() - text.find_last_not_of('=') - 1;
  std::replace(text.end() - static_cast<std::ptrdiff_t>(pad), text.end(), '=', 'A');
  std::vector<unsigned char> out(Decoder(text.cbegin()), Decoder(text.cend()));
  out.resize(out.size() - pad);
  return out;
}

std::vector<float> floats(const std::string& text) {
  const std::vector<unsigned char> bytes = unbase64(text);
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), bytes.size());  // little-endian, as this machine
  return out;
}

ViewExample tiny_example() {
  AttentionStack a(1, 1, 2);
  test::set_head(a, 0, 0, test::mat({{1.0, 0.0}, {0.25, 0.75}}));
  ViewExample e = view_example(std::move(a), nullptr, {"x", "y"}, 1, {}, false);
  e.name = "tiny";
  return e;
}

TEST(ViewPage, TinyExampleByHand) {
  if (!view_available()) GTEST_SKIP() << "built without d3";
  const nlohmann::json data = page_data(view_page({tiny_example()}));
  EXPECT_EQ(data["bits"], 8);
  const nlohmann::json& e = data["examples"][0];
  EXPECT_EQ(e["tokens"], (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(e["head_names"], (std::vector<std::string>{"head 1"}));
  EXPECT_EQ(e["target"], 1);
  // Row maxima 1 and 0.75 as float32 (00 00 80 3f, 00 00 40 3f); levels round(a / max * 255):
  // 255 0 | 85 255.
  EXPECT_EQ(e["attention"]["scale"], "AACAPwAAQD8=");
  EXPECT_EQ(e["attention"]["q"], "/wBV/w==");
  // raw, rollout, flow of row 1 at layer 1. raw = the row; rollout and flow = the residual
  // row 0.5 * (0.25, 0.75) + 0.5 * (0, 1) = (0.125, 0.875).
  ASSERT_EQ(e["methods"].size(), 3u);
  EXPECT_EQ(e["methods"][0]["name"], "raw");
  EXPECT_EQ(floats(e["methods"][0]["values"]), (std::vector<float>{0.25f, 0.75f}));
  for (int m : {1, 2}) {
    EXPECT_EQ(e["methods"][m]["layers"], std::vector<int>{1});
    EXPECT_EQ(floats(e["methods"][m]["values"]), (std::vector<float>{0.125f, 0.875f}));
  }
}

TEST(ViewPage, QuantisationErrorIsHalfAStep) {
  if (!view_available()) GTEST_SKIP() << "built without d3";
  const AttentionStack a = test::random_stack(3, 2, 9, 11, false);
  for (int bits : {8, 16}) {
    ViewPageOptions o;
    o.bits = bits;
    ViewExample e = view_example(a, nullptr, {}, 0, {}, false);
    const nlohmann::json data = page_data(view_page({e}, o));
    const std::vector<float> scale = floats(data["examples"][0]["attention"]["scale"]);
    const std::vector<unsigned char> q = unbase64(data["examples"][0]["attention"]["q"]);
    const double levels = bits == 8 ? 255.0 : 65535.0;
    ASSERT_EQ(q.size(), a.data().size() * static_cast<std::size_t>(bits / 8));
    double worst = 0.0;
    for (std::size_t k = 0; k < a.data().size(); ++k) {
      const double level = bits == 8 ? q[k] : q[2 * k] + 256.0 * q[2 * k + 1];
      const double step = scale[k / 9] / levels;
      worst = std::max(worst, std::abs(level * step - a.data()[k]) / step);
    }
    EXPECT_LE(worst, 0.5 + 1e-6) << bits << " bits";
    EXPECT_GT(worst, 0.3) << bits << " bits: the values are not rounded as expected";
  }
}

TEST(ViewPage, EscapesTitleAndTokens) {
  if (!view_available()) GTEST_SKIP() << "built without d3";
  ViewExample e = tiny_example();
  e.tokens = {"</script><b>", "a&b"};
  ViewPageOptions o;
  o.title = "<i>\"t\" & 'u'</i>";
  const std::string page = view_page({e}, o);
  EXPECT_NE(page.find("<title>&lt;i&gt;&quot;t&quot; &amp; &#39;u&#39;&lt;/i&gt;</title>"),
            std::string::npos);
  // Three script elements (data, d3, the view) and nothing that looks like one inside them.
  std::size_t count = 0;
  for (std::size_t p = page.find("</script"); p != std::string::npos;
       p = page.find("</script", p + 1)) {
    ++count;
  }
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(page.find("@ATTNFLOW_"), std::string::npos);
  EXPECT_EQ(page_data(page)["examples"][0]["tokens"][0], "</script><b>");
}

TEST(ViewPage, DefaultMethodsAndTargets) {
  const AttentionStack a = test::random_stack(2, 2, 5, 3, false);
  AttentionStack g = test::random_stack(2, 2, 5, 4, false);
  ViewExample e = view_example(a, &g, {}, -1, {}, false);
  EXPECT_EQ(e.target, 4);
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
  std::vector<std::string> names;
  for (const NamedMaps& m : e.maps) {
    names.push_back(m.name);
    EXPECT_EQ(m.maps.rows, std::vector<int>{4});
  }
  EXPECT_EQ(names, (std::vector<std::string>{"raw", "rollout", "flow", "grad-rollout"}));
  AnalysisSettings s;
  s.methods = {"flow"};
  e = view_example(a, &g, {}, 2, s, true);
  ASSERT_EQ(e.maps.size(), 1u);
  AnalysisOptions core;
  core.methods = {Method::Flow};
  core.target_rows = {2};
  test::expect_near(e.maps[0].maps.maps[1], analyze(a, nullptr, core).maps[Method::Flow].maps[1]);
}

TEST(ViewPage, Errors) {
  const AttentionStack a = test::random_stack(1, 1, 3, 5, false);
  test::expect_error(
      [&] {
        view_example(a, nullptr, {"a", "b"}, 0, {}, false);
      },
      "tokens: 2 labels for the 3 tokens of the attention");
  test::expect_error([&] { view_example(a, nullptr, {}, 3, {}, false); },
                     "target row: token 3 out of range (sequence has 3 tokens, valid 0..2 or "
                     "-3..-1)");
  if (!view_available()) GTEST_SKIP() << "built without d3";
  test::expect_error([] { view_page({}); }, "view: no examples to show");
  ViewPageOptions o;
  o.bits = 4;
  test::expect_error([&] { view_page({tiny_example()}, o); }, "--bits: 4 (expected 8 or 16)");
  o.bits = 8;
  o.min_weight = -0.5;
  test::expect_error([&] { view_page({tiny_example()}, o); }, "--min-weight: -0.5 (expected 0..1)");
  ViewExample e = tiny_example();
  e.maps[0].maps.rows = {0};
  test::expect_error([&] { view_page({e}); },
                     "view: example 0: maps 'raw' are not of the single target row 1");
  e = tiny_example();
  e.head_names.clear();
  test::expect_error([&] { view_page({e}); }, "view: example 0: 0 head names for 1 heads");
}

}  // namespace
}  // namespace attnflow::pipeline
