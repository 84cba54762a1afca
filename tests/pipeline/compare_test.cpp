// pipeline::compare on hand-made stores: JS divergence and entropy of hand-computed rows, a
// store compared with itself gives exactly 0 everywhere, a store compared with one whose
// head 2 of layer 1 is a one-hot map gives that head's numbers and leaves the others 0, and
// mismatched stores give clear errors. (The numpy reference on real stores: compare_cli.py.)
#include "attnflow/pipeline/compare.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "../core/test_util.hpp"
#include "../io/store_test_util.hpp"
#include "attnflow/io/store.hpp"

namespace {

namespace io = attnflow::io;
namespace pl = attnflow::pipeline;
namespace test = attnflow::test;

io::StoreInfo info() {
  io::StoreInfo i;
  i.model = "m";
  i.tokenizer = "t";
  i.layers = 2;
  i.heads = 3;
  return i;
}

// Examples 0..count-1 of make_example; with `one_hot`, layer 1 head 2 attends to key 0 only.
std::string store(const std::string& name, int count, bool one_hot) {
  const std::string path = test::temp_path(name);
  io::Store s = io::Store::create(path, info());
  for (int e = 0; e < count; ++e) {
    io::Example x = test::make_example(e, info(), 3, false);
    if (one_hot) {
      auto m = x.attention.head(0, 1);
      m.setZero();
      m.col(0).setOnes();
    }
    s.append(x);
  }
  return path;
}

TEST(Compare, DivergenceAndEntropyOfHandComputedRows) {
  const double p[] = {1, 0}, q[] = {0, 1}, u[] = {0.25, 0.25, 0.25, 0.25}, r[] = {0.5, 0.5};
  EXPECT_NEAR(pl::js_divergence(p, q, 2), std::log(2.0), 1e-15);
  EXPECT_EQ(pl::js_divergence(u, u, 4), 0.0);
  // JS([1,0], [.5,.5]): m = [.75, .25]; 1/2 log(1/.75) + 1/2 (.5 log(.5/.75) + .5 log(.5/.25))
  const double want =
      0.5 * std::log(1 / 0.75) + 0.5 * (0.5 * std::log(0.5 / 0.75) + 0.5 * std::log(0.5 / 0.25));
  EXPECT_NEAR(pl::js_divergence(p, r, 2), want, 1e-15);
  EXPECT_NEAR(pl::entropy(u, 4), std::log(4.0), 1e-15);
  EXPECT_EQ(pl::entropy(p, 2), 0.0);
}

TEST(Compare, ItselfIsExactlyZeroAndOneChangedHeadIsSeen) {
  const std::string a = store("a.h5", 4, false), b = store("b.h5", 4, true);
  pl::CompareOptions o;
  o.before = a;
  o.after = a;
  o.output = test::temp_path("same");
  o.figures = false;
  const pl::CompareReport same = pl::compare(o);
  ASSERT_EQ(same.heads_changed.size(), 6u);
  for (const pl::HeadChange& c : same.heads_changed) {
    EXPECT_EQ(c.js, 0.0);
    EXPECT_EQ(c.js_max, 0.0);
    EXPECT_EQ(c.entropy_change(), 0.0);
  }
  for (const pl::ReadoutChange& c : same.readout) EXPECT_EQ(c.cls_l1 + c.mean_l1, 0.0);

  o.after = b;
  o.output = test::temp_path("changed");
  const pl::CompareReport r = pl::compare(o);
  const io::Store sa = io::Store::open(a);
  double js = 0, entropy = 0;
  for (int e = 0; e < 4; ++e) {
    const io::Example x = sa.read(e);
    const int n = x.tokens_count();
    double js_e = 0, h_e = 0;
    for (int i = 0; i < n; ++i) {
      // JS(p, e_0) = 1/2 sum_j p_j log(2 p_j / (p_j + [j = 0])) + 1/2 log(2 / (1 + p_0))
      const auto row = x.attention.head(0, 1).row(i);
      double d = 0.5 * std::log(2.0 / (1.0 + row(0)));
      for (int j = 0; j < n; ++j) {
        const double pj = row(j);
        if (pj > 0) d += 0.5 * pj * std::log(2 * pj / (pj + (j == 0 ? 1.0 : 0.0)));
        if (pj > 0) h_e -= pj * std::log(pj);
      }
      js_e += d;
    }
    js += js_e / n;
    entropy += h_e / n;
  }
  const pl::HeadChange& c = r.heads_changed[1];
  EXPECT_EQ(c.layer, 1);
  EXPECT_EQ(c.head, 2);
  EXPECT_NEAR(c.js, js / 4, 1e-6);
  EXPECT_NEAR(c.entropy_before, entropy / 4, 1e-6);
  EXPECT_EQ(c.entropy_after, 0.0);
  for (std::size_t k = 0; k < r.heads_changed.size(); ++k) {
    if (k != 1) {
      EXPECT_EQ(r.heads_changed[k].js, 0.0) << k;
    }
  }
  EXPECT_GT(r.readout[0].cls_l1, 0.0);
  std::ifstream csv(o.output + "/compare.csv");
  std::string header, first, second;
  std::getline(csv, header);
  std::getline(csv, first);
  std::getline(csv, second);
  EXPECT_EQ(header, "layer,head,js_mean,js_max,entropy_before,entropy_after,entropy_change");
  EXPECT_EQ(first.rfind("1,1,0,0,", 0), 0u) << first;
  EXPECT_EQ(second.rfind("1,2,", 0), 0u) << second;
}

TEST(Compare, MismatchedStoresGiveClearErrors) {
  const std::string a = store("a.h5", 3, false), shorter = store("short.h5", 2, false);
  pl::CompareOptions o;
  o.before = a;
  o.after = shorter;
  o.output = test::temp_path("out");
  o.figures = false;
  test::expect_error(
      [&] { pl::compare(o); },
      a + " and " + shorter + ": 3 and 2 examples (use --limit to compare the first N)");
  o.limit = 2;
  EXPECT_EQ(pl::compare(o).examples, 2);
  o.limit = 3;
  test::expect_error([&] { pl::compare(o); },
                     a + " and " + shorter + ": fewer than --limit 3 examples (3 and 2)");

  const std::string other = test::temp_path("other.h5");
  {
    io::Store s = io::Store::create(other, info());
    for (int e = 0; e < 3; ++e) {
      io::Example x = test::make_example(e, info(), 3, false);
      if (e == 1) x.tokens[1] = "different";
      s.append(x);
    }
  }
  o.after = other;
  o.limit = 0;
  const io::Example e1 = io::Store::open(a).read(1);
  test::expect_error([&] { pl::compare(o); },
                     a + " and " + other + ": example 1 differs at token 1 ('" + e1.tokens[1] +
                         "' vs 'different'): compare needs the same examples, tokenized alike, "
                         "in both");
  o.after = a;
  o.figures = true;
  o.grid_layer = 3;
  test::expect_error([&] { pl::compare(o); }, "compare: --layer 3 outside 1..2");
}

}  // namespace
