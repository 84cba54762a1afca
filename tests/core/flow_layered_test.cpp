// The layered max-flow solver (FlowAlgorithm::Layered) against the Boost
// references: randomized property tests over stack shapes (n = 1..64,
// L = 1..12), causal and non-causal, discarded/sparse weights, zero rows and
// bottleneck layers; plus hand cases, threads and the sink warm start.
#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <sstream>

#include "../../lib/core/flow_layered.hpp"
#include "attnflow/core/flow.hpp"
#include "attnflow/core/residual.hpp"
#include "test_util.hpp"

namespace attnflow {
namespace {

using test::mat;

FlowOptions raw(FlowAlgorithm algorithm) {
  FlowOptions o;
  o.normalize = false;
  o.algorithm = algorithm;
  o.threads = 1;
  return o;
}

// Max |a - b| over all maps; also checks the shapes agree.
double max_difference(const LayerMaps& a, const LayerMaps& b) {
  EXPECT_EQ(a.layers, b.layers);
  EXPECT_EQ(a.rows, b.rows);
  double worst = 0.0;
  for (std::size_t k = 0; k < a.maps.size(); ++k) {
    EXPECT_EQ(a.maps[k].rows(), b.maps[k].rows());
    worst = std::max(worst, (a.maps[k] - b.maps[k]).cwiseAbs().maxCoeff());
  }
  return worst;
}

bool bit_identical(const LayerMaps& a, const LayerMaps& b) {
  for (std::size_t k = 0; k < a.maps.size(); ++k) {
    if (!(a.maps[k] == b.maps[k])) return false;
  }
  return a.maps.size() == b.maps.size();
}

// One random case: a prepared stack with optional discarding, no residual,
// zero rows, a bottleneck layer or arbitrary (not row-stochastic) weights.
struct Case {
  LayerMatrices layers;
  std::string label;
};

Case random_case(std::mt19937& rng, int n, int l) {
  std::uniform_int_distribution<int> coin(0, 1), heads(1, 3), pick(0, 9);
  const bool causal = coin(rng) == 1;
  const auto seed = static_cast<unsigned>(rng());
  PrepareOptions p;
  const double ratios[] = {0.0, 0.0, 0.3, 0.7, 0.95};
  p.discard.ratio = ratios[std::uniform_int_distribution<int>(0, 4)(rng)];
  p.discard.scope = coin(rng) ? DiscardScope::Global : DiscardScope::PerRow;
  p.residual.enabled = pick(rng) >= 3;
  Case c{prepare_layers(test::random_stack(l, heads(rng), n, seed, causal), p), {}};
  std::ostringstream s;
  s << "n=" << n << " L=" << l << (causal ? " causal" : "") << " discard=" << p.discard.ratio
    << (p.residual.enabled ? "" : " no-residual");
  std::uniform_int_distribution<int> token(0, n - 1), layer(0, l - 1);
  if (pick(rng) < 3) {  // zero rows: dead nodes
    for (int z = 0; z < 1 + n / 4; ++z) c.layers[layer(rng)].row(token(rng)).setZero();
    s << " zero-rows";
  }
  if (pick(rng) < 2 && l >= 3) {  // bottleneck: one middle layer mostly into two tokens
    Matrix& m =
        c.layers[static_cast<std::size_t>(std::uniform_int_distribution<int>(1, l - 2)(rng))];
    for (Eigen::Index j = 2; j < m.cols(); ++j) m.col(j) *= 0.01;
    s << " bottleneck";
  }
  if (pick(rng) < 2) {  // arbitrary non-negative capacities, some rows summing far above 1
    std::uniform_real_distribution<double> scale(0.0, 3.0);
    for (Matrix& m : c.layers) {
      for (Eigen::Index i = 0; i < m.rows(); ++i) m.row(i) *= scale(rng);
    }
    s << " rescaled";
  }
  c.label = s.str();
  return c;
}

TEST(FlowLayered, AgreesWithBoostOnRandomStacks) {
  std::mt19937 rng(20261201);
  std::uniform_int_distribution<int> size(1, 64), depth(1, 12), coin(0, 1);
  for (int trial = 0; trial < 60; ++trial) {
    // small cases more often: they exercise the degenerate paths
    const int n = trial < 20 ? 1 + trial % 8 : size(rng);
    const int l = trial < 20 ? 1 + trial % 12 : depth(rng);
    const Case c = random_case(rng, n, l);
    SCOPED_TRACE(c.label);
    FlowOptions layered = raw(FlowAlgorithm::Layered);
    layered.closed_form_low_layers = coin(rng) == 1;
    if (n > 24) {  // keep the references' time bounded: a few rows, a few layers
      std::uniform_int_distribution<int> token(0, n - 1);
      layered.target_rows = {0, token(rng), token(rng)};
      layered.layers = {l};
      if (l > 3) layered.layers.push_back(3 + trial % (l - 3));  // 3..l-1
    }
    const LayerMaps mine = attention_flow(c.layers, layered);
    FlowOptions pr = layered;
    pr.algorithm = FlowAlgorithm::PushRelabel;
    // same int64 network, unique max-flow value: identical to the last bit
    EXPECT_TRUE(bit_identical(mine, attention_flow(c.layers, pr)));
    FlowOptions bk = layered;
    bk.algorithm = FlowAlgorithm::BoykovKolmogorov;
    EXPECT_LE(max_difference(mine, attention_flow(c.layers, bk)), 1e-9);
  }
}

// Every pair of every layer (all rows, all sinks, no closed forms), n = 1..16,
// on random_case's degenerate stacks too (zero rows, bottlenecks, causal
// masks, discarding, rescaled rows), with each way of starting a sink forced
// everywhere (Auto picks by size, so the other way would go untested on
// small stacks): Fresh (from the zero flow, augmenting paths down the DAG,
// then push-relabel), Warm (from the previous sink's preflow) and Auto each
// equal Boost's push-relabel bit for bit.
TEST(FlowLayered, EveryStartAgreesWithPushRelabel) {
  std::mt19937 rng(1413);
  for (int trial = 0; trial < 120; ++trial) {
    const int n = 1 + trial % 16;
    const int l = 2 + (trial / 2) % 7;
    const Case c = random_case(rng, n, l);
    SCOPED_TRACE(c.label);
    FlowOptions pr = raw(FlowAlgorithm::PushRelabel);
    pr.closed_form_low_layers = false;
    const LayerMaps want = attention_flow(c.layers, pr);
    std::vector<int> rows(static_cast<std::size_t>(n));
    std::iota(rows.begin(), rows.end(), 0);
    for (const detail::LayeredStart start :
         {detail::LayeredStart::Fresh, detail::LayeredStart::Warm, detail::LayeredStart::Auto}) {
      // reach = 1 everywhere: a pair without a path must come out 0 from the solver itself
      const Matrix reach = Matrix::Ones(n, n);
      std::vector<Matrix> out(static_cast<std::size_t>(l), Matrix::Zero(n, n));
      std::vector<detail::LayeredJob> jobs;
      for (int layer = 1; layer <= l; ++layer) {
        jobs.push_back({layer, push_relabel_scale(c.layers, layer), &reach,
                        &out[static_cast<std::size_t>(layer - 1)], start});
      }
      detail::layered_flow(c.layers, rows, jobs, 1 + trial % 2);
      for (int layer = 1; layer <= l; ++layer) {
        ASSERT_TRUE(out[static_cast<std::size_t>(layer - 1)] ==
                    want.maps[static_cast<std::size_t>(layer - 1)])
            << "trial " << trial << " layer " << layer << " start " << static_cast<int>(start);
      }
    }
  }
}

// Arbitrary non-negative capacities (not row-stochastic): log-uniform weights,
// 0-90% zeros, optional causal mask and a +1 diagonal. Small graphs, many of
// them: the warm start from sink to sink meets every kind of leftover
// preflow here.
LayerMatrices arbitrary_layers(std::mt19937& rng, int l, int n) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double sparsity = u(rng) * 0.9;
  const bool causal = u(rng) < 0.2, diagonal = u(rng) < 0.5, stochastic = u(rng) < 0.5;
  LayerMatrices a;
  for (int k = 0; k < l; ++k) {
    Matrix m(n, n);
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = 0; j < n; ++j) {
        const bool zero = u(rng) < sparsity || (causal && j > i);
        m(i, j) = zero ? 0.0 : std::exp(6.0 * (u(rng) - 0.5));
      }
      if (stochastic && m.row(i).sum() > 0.0) m.row(i) /= m.row(i).sum();
    }
    if (diagonal) m.diagonal().array() += 1.0;
    a.push_back(m);
  }
  return a;
}

TEST(FlowLayered, AgreesWithPushRelabelOnArbitraryCapacities) {
  std::mt19937 rng(468);
  for (int trial = 0; trial < 1500; ++trial) {
    const int l = 3 + trial % 4, n = 2 + (trial / 4) % 7;
    const LayerMatrices a = arbitrary_layers(rng, l, n);
    FlowOptions o = raw(FlowAlgorithm::Layered);
    o.layers = {l};
    const LayerMaps mine = attention_flow(a, o);
    o.algorithm = FlowAlgorithm::PushRelabel;
    ASSERT_TRUE(bit_identical(mine, attention_flow(a, o))) << "trial " << trial;
  }
}

TEST(FlowLayered, WarmStartRegression) {
  // Found by the randomized comparison while trying an eager layer-1 variant:
  // a queued node that passed its excess on and was queued again under a new
  // label cut the bucket list, and the last sink came out 1.128 instead of 2.
  const LayerMatrices a = {
      mat({{0.38084662488884036, 0.13289037303347101, 0.48626300207768858, 0},
           {0.37287950818337456, 0, 0, 0.62712049181662544},
           {0.10165935361034478, 0, 0, 0.89834064638965516},
           {0.15401692067692554, 0.036648771452114828, 0, 0.80933430787095972}}),
      mat({{1.528756030010332, 0, 0.471243969989668, 0},
           {0, 1, 1, 0},
           {0.12796980494889085, 0.87203019505110912, 1, 0},
           {0.11217638903553248, 0, 0.70245507426972509, 1.1853685366947424}}),
      mat({{1.6354891655822024, 0.11024754015085436, 0, 0.25426329426694311},
           {0, 1, 1, 0},
           {0, 0, 1.1624563492462601, 0.83754365075373993},
           {0, 0.408666495806005, 0, 1.5913335041939951}})};
  FlowOptions o = raw(FlowAlgorithm::Layered);
  o.layers = {3};
  const LayerMaps mine = attention_flow(a, o);
  EXPECT_NEAR(mine.maps[0](2, 3), 2.0, 1e-12);
  o.algorithm = FlowAlgorithm::BoykovKolmogorov;
  EXPECT_LE(max_difference(mine, attention_flow(a, o)), 1e-9);
}

TEST(FlowLayered, AgreesWithEdmondsKarpOnSmallStacks) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 12; ++trial) {
    const Case c = random_case(rng, 2 + trial % 7, 3 + trial % 6);
    SCOPED_TRACE(c.label);
    FlowOptions ek = raw(FlowAlgorithm::EdmondsKarp);
    EXPECT_LE(max_difference(attention_flow(c.layers, raw(FlowAlgorithm::Layered)),
                             attention_flow(c.layers, ek)),
              1e-9);
  }
}

// The AVX2 arc scan against the scalar one: the same index and lowest label
// on random residuals (zero, negative, positive) and labels, every range.
TEST(FlowLayered, SimdArcScanEqualsScalar) {
  if (!detail::arc_scan_has_simd()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(14);
  std::uniform_int_distribution<int> size(0, 70), label(0, 6), sign(-1, 3);
  for (int trial = 0; trial < 4000; ++trial) {
    const int n = size(rng);
    std::vector<std::int64_t> r(static_cast<std::size_t>(n));
    std::vector<int> lab(static_cast<std::size_t>(n));
    for (int a = 0; a < n; ++a) {
      r[static_cast<std::size_t>(a)] = sign(rng) <= 0 ? sign(rng) : std::int64_t{1} << 40;
      lab[static_cast<std::size_t>(a)] = label(rng);
    }
    const int from = n == 0 ? 0 : std::uniform_int_distribution<int>(0, n)(rng);
    const int want = trial % 5 == 0 ? -1 : label(rng), start_low = label(rng) + 3;
    int low_scalar = start_low, low_simd = start_low;
    const int scalar = detail::arc_scan(r.data(), lab.data(), from, n, want, &low_scalar, false);
    const int simd = detail::arc_scan(r.data(), lab.data(), from, n, want, &low_simd, true);
    ASSERT_EQ(scalar, simd) << "n=" << n << " from=" << from << " want=" << want;
    ASSERT_EQ(low_scalar, low_simd) << "n=" << n << " from=" << from << " want=" << want;
  }
}

// The layer certificate (layers >= 5: one bottom run per sink and supply
// vector proves min(source, sink capacity) for many sources at once) against
// Boost's push-relabel, bit for bit: on deep residual stacks, where it proves
// most pairs of the top layers, and on random_case stacks (bottlenecks, zero
// rows, discarded or rescaled weights), where the bound is often not attained
// and nothing may be claimed.
TEST(FlowLayered, LayerCertificateIsExact) {
  std::mt19937 rng(1405);
  long proved = 0, open = 0;
  for (int trial = 0; trial < 18; ++trial) {
    const int n = 3 + trial % 14, l = 6 + trial % 7;
    const Case c =
        trial % 3 == 2
            ? random_case(rng, n, l)
            : Case{prepare_layers(test::random_stack(l, 1 + trial % 3, n,
                                                     static_cast<unsigned>(rng()), trial % 4 == 1)),
                   "deep residual"};
    SCOPED_TRACE(c.label + " n=" + std::to_string(n) + " L=" + std::to_string(l));
    std::vector<int> rows(static_cast<std::size_t>(n));
    std::iota(rows.begin(), rows.end(), 0);
    FlowOptions pr = raw(FlowAlgorithm::PushRelabel);
    pr.closed_form_low_layers = false;
    for (int layer = 5; layer <= l; ++layer) {
      pr.layers = {layer};
      const Matrix want = attention_flow(c.layers, pr).maps.front();
      const double scale = push_relabel_scale(c.layers, layer);
      const Matrix reach = Matrix::Ones(n, n);
      const std::vector<std::int64_t> got =
          detail::certified_values(c.layers, rows, {layer, scale, &reach, nullptr});
      ASSERT_EQ(got.size(), static_cast<std::size_t>(n * n));
      for (int r = 0; r < n; ++r) {
        for (int j = 0; j < n; ++j) {
          const std::int64_t v = got[static_cast<std::size_t>(r * n + j)];
          if (v < 0) {
            ++open;
            continue;
          }
          ++proved;
          EXPECT_EQ(static_cast<double>(v) / scale, want(r, j))
              << "layer " << layer << " row " << r << " input " << j;
        }
      }
    }
  }
  EXPECT_GT(proved, 500);  // the certificate is exercised ...
  EXPECT_GT(open, 500);    // ... and so is the solver behind it
}

// The CLS row (and a few rows) at every layer of deep stacks: the layers of
// one scale share one certificate; bit for bit against push-relabel.
TEST(FlowLayered, FewRowsAllLayersAgreeWithPushRelabel) {
  std::mt19937 rng(1406);
  for (int trial = 0; trial < 8; ++trial) {
    const int n = 6 + 5 * trial, l = 12;
    const LayerMatrices layers =
        prepare_layers(test::random_stack(l, 2, n, static_cast<unsigned>(rng()), trial % 4 == 3));
    SCOPED_TRACE("n=" + std::to_string(n));
    FlowOptions o = raw(FlowAlgorithm::Layered);
    o.target_rows = trial % 2 == 0 ? std::vector<int>{0} : std::vector<int>{0, n / 2, n - 1};
    const LayerMaps mine = attention_flow(layers, o);
    o.algorithm = FlowAlgorithm::PushRelabel;
    EXPECT_TRUE(bit_identical(mine, attention_flow(layers, o)));
  }
}

TEST(FlowLayered, IsTheDefault) {
  EXPECT_EQ(FlowOptions{}.algorithm, FlowAlgorithm::Layered);
  EXPECT_EQ(parse_flow_algorithm("layered"), FlowAlgorithm::Layered);
  EXPECT_STREQ(to_string(FlowAlgorithm::Layered), "layered");
}

TEST(FlowLayered, HandCases) {
  // Three layers, two tokens (flow_test.cpp works the min cuts out by hand).
  const LayerMatrices three = {mat({{0.9, 0.1}, {0.2, 0.8}}), mat({{0.5, 0.5}, {0.3, 0.7}}),
                               mat({{0.6, 0.4}, {1.0, 0.0}})};
  FlowOptions o = raw(FlowAlgorithm::Layered);
  o.layers = {3};
  test::expect_near(attention_flow(three, o).maps[0], mat({{1.0, 0.9}, {0.7, 0.6}}), 1e-12);
  EXPECT_NEAR(max_flow_value(three, 3, 0, 1), 0.9, 1e-12);
  // sum_m min(A2[1, m], A1[m, 0]) = min(0.3, 0.9) + min(0.7, 0.2)
  EXPECT_NEAR(max_flow_value(three, 2, 1, 0), 0.5, 1e-12);
  EXPECT_NEAR(max_flow_value(three, 1, 1, 0), 0.2, 1e-12);
  // One token: a chain; the flow is the smallest capacity.
  const LayerMatrices chain = {mat({{0.5}}), mat({{0.25}}), mat({{0.75}}), mat({{1.0}})};
  EXPECT_NEAR(max_flow_value(chain, 4, 0, 0), 0.25, 1e-12);
  // A middle layer of zeros cuts everything.
  LayerMatrices cut = three;
  cut[1].setZero();
  EXPECT_TRUE(attention_flow(cut, o).maps[0].isZero(0.0));
}

TEST(FlowLayered, ManyThreadsAreBitIdenticalToOne) {
  const LayerMatrices l = prepare_layers(test::random_stack(8, 2, 20, 5, false));
  FlowOptions o = raw(FlowAlgorithm::Layered);
  const LayerMaps one = attention_flow(l, o);
  o.threads = 3;
  EXPECT_TRUE(bit_identical(one, attention_flow(l, o)));
  o.target_rows = {0};  // CLS row: tasks over layers
  o.threads = 4;
  const LayerMaps cls = attention_flow(l, o);
  for (std::size_t k = 0; k < cls.maps.size(); ++k) {
    EXPECT_TRUE(cls.maps[k].row(0) == one.maps[k].row(0)) << "layer " << k + 1;
  }
}

TEST(FlowLayered, SinkOrderDoesNotMatter) {
  // The warm start carries the preflow of one sink to the next; a pair solved
  // alone (max_flow_value) must give the same value as in the sweep.
  const LayerMatrices l = prepare_layers(test::random_stack(7, 3, 12, 31, true));
  FlowOptions o = raw(FlowAlgorithm::Layered);
  o.layers = {7, 5};
  const LayerMaps sweep = attention_flow(l, o);
  for (int i : {0, 5, 11}) {
    for (int j = 11; j >= 0; --j) {
      EXPECT_EQ(max_flow_value(l, 7, i, j), sweep.maps[0](i, j)) << i << "," << j;
      EXPECT_EQ(max_flow_value(l, 5, i, j), sweep.maps[1](i, j)) << i << "," << j;
    }
  }
}

TEST(FlowLayered, NormalisedRowsAndBounds) {
  const LayerMatrices l = prepare_layers(test::random_stack(6, 2, 9, 3, false));
  const LayerMaps f = attention_flow(l);  // defaults: layered, normalised
  for (const Matrix& m : f.maps) {
    for (Eigen::Index i = 0; i < m.rows(); ++i) EXPECT_NEAR(m.row(i).sum(), 1.0, 1e-12);
  }
  const LayerMaps r = attention_flow(l, raw(FlowAlgorithm::Layered));
  const Vector sink_in = l[0].colwise().sum().transpose();
  for (const Matrix& m : r.maps) {
    EXPECT_LE(m.maxCoeff(), 1.0 + 1e-12);
    EXPECT_GE(m.minCoeff(), 0.0);
    for (Eigen::Index j = 0; j < 9; ++j) EXPECT_LE(m.col(j).maxCoeff(), sink_in(j) + 1e-12);
  }
}

}  // namespace
}  // namespace attnflow
