// Attention flow: hand-computed cases (closed forms and a 3-layer min-cut),
// algorithm agreement, bounds, normalisation, causal stacks, threads.
#include "attnflow/core/flow.hpp"

#include "attnflow/core/residual.hpp"
#include "attnflow/core/rollout.hpp"
#include "test_util.hpp"

namespace attnflow {
namespace {

using test::mat;

const FlowAlgorithm kAlgorithms[] = {FlowAlgorithm::BoykovKolmogorov, FlowAlgorithm::PushRelabel,
                                     FlowAlgorithm::EdmondsKarp, FlowAlgorithm::Layered};

LayerMatrices hand_layers() {  // the residual matrices of rollout_test.cpp
  return {mat({{1, 0, 0}, {0.25, 0.75, 0}, {0.1, 0.15, 0.75}}),
          mat({{0.5, 0.25, 0.25}, {0.25, 0.5, 0.25}, {0.25, 0.25, 0.5}})};
}

// Raw flows of the 2-layer case: F2[i,j] = sum_m min(A2[i,m], A1[m,j]),
// worked out by hand; F1 = A1.
const Matrix kHandRawF2 = mat({{0.85, 0.4, 0.25}, {0.6, 0.65, 0.25}, {0.6, 0.4, 0.5}});

TEST(Flow, TwoLayersClosedFormAndEverySolverAgreeWithHand) {
  for (bool closed : {true, false}) {
    for (FlowAlgorithm a : kAlgorithms) {
      FlowOptions o;
      o.normalize = false;
      o.closed_form_low_layers = closed;
      o.algorithm = a;
      const LayerMaps f = attention_flow(hand_layers(), o);
      SCOPED_TRACE(std::string(to_string(a)) + (closed ? " closed form" : " solver"));
      test::expect_near(f.maps[0], hand_layers()[0], 1e-12);
      test::expect_near(f.maps[1], kHandRawF2, 1e-12);
    }
  }
}

TEST(Flow, NormalisedRowsSumToOne) {
  const LayerMaps f = attention_flow(hand_layers());
  Matrix want = kHandRawF2;
  for (Eigen::Index i = 0; i < 3; ++i) want.row(i) /= 1.5;  // each raw row sums to 1.5
  test::expect_near(f.maps[1], want, 1e-12);
}

// Three layers, two tokens, capacities given directly (no residual). Worked
// by hand (see docs/methods.md): from (3,0) the source edges {0.6, 0.4} are
// the minimum cut to input 0 (value 1.0); to input 1 the sink edges
// {0.1, 0.8} are (0.9). From (3,1) only node (2,0) is reachable: 0.7, 0.6.
LayerMatrices three_layers() {
  return {mat({{0.9, 0.1}, {0.2, 0.8}}), mat({{0.5, 0.5}, {0.3, 0.7}}),
          mat({{0.6, 0.4}, {1.0, 0.0}})};
}

TEST(Flow, ThreeLayerMinCutByHand) {
  for (FlowAlgorithm a : kAlgorithms) {
    SCOPED_TRACE(to_string(a));
    FlowOptions o;
    o.layers = {3};
    o.normalize = false;
    o.algorithm = a;
    test::expect_near(attention_flow(three_layers(), o).maps[0], mat({{1.0, 0.9}, {0.7, 0.6}}),
                      1e-12);
    EXPECT_NEAR(max_flow_value(three_layers(), 3, 0, 1, a), 0.9, 1e-12);
  }
}

TEST(Flow, SingleLayerFlowIsTheEdge) {
  // One layer: the only (source, sink) cut is the edge itself.
  const LayerMatrices l = {mat({{0.7, 0.3}, {0.4, 0.6}})};
  for (FlowAlgorithm a : kAlgorithms) {
    EXPECT_NEAR(max_flow_value(l, 1, 1, 0, a), 0.4, 1e-12) << to_string(a);
  }
}

TEST(Flow, RandomStacksAllAlgorithmsAgreeAndStayBounded) {
  for (bool causal : {false, true}) {
    const LayerMatrices l = prepare_layers(test::random_stack(5, 3, 7, causal ? 21 : 22, causal));
    FlowOptions o;
    o.normalize = false;
    const LayerMaps bk = attention_flow(l, o);  // default: layered
    for (FlowAlgorithm a : {FlowAlgorithm::BoykovKolmogorov, FlowAlgorithm::EdmondsKarp,
                            FlowAlgorithm::PushRelabel}) {
      o.algorithm = a;
      const LayerMaps other = attention_flow(l, o);
      for (std::size_t k = 0; k < bk.maps.size(); ++k) {
        test::expect_near(other.maps[k], bk.maps[k], 1e-12);
      }
    }
    o.algorithm = FlowAlgorithm::PushRelabel;
    o.closed_form_low_layers = false;
    const LayerMaps solver = attention_flow(l, o);
    for (std::size_t k = 0; k < bk.maps.size(); ++k) {
      test::expect_near(solver.maps[k], bk.maps[k], 1e-12);
      // raw flow <= 1 when rows sum to 1; causal: nothing flows to later tokens
      EXPECT_LE(bk.maps[k].maxCoeff(), 1.0 + 1e-12);
      EXPECT_GE(bk.maps[k].minCoeff(), 0.0);
      if (causal) {
        for (Eigen::Index i = 0; i < 7; ++i) {
          for (Eigen::Index j = i + 1; j < 7; ++j) EXPECT_EQ(bk.maps[k](i, j), 0.0);
        }
      }
    }
    const LayerMaps norm = attention_flow(l);
    for (const Matrix& m : norm.maps) {
      for (Eigen::Index i = 0; i < m.rows(); ++i) EXPECT_NEAR(m.row(i).sum(), 1.0, 1e-12);
    }
  }
}

TEST(Flow, FlowIsAtMostTheRolloutCapacityBound) {
  // Flow to input j is bounded by the sink's in-capacity sum_m A1[m, j]
  // and by the source row sum (1).
  const LayerMatrices l = prepare_layers(test::random_stack(4, 2, 6, 9, false));
  FlowOptions o;
  o.normalize = false;
  const LayerMaps f = attention_flow(l, o);
  const Vector sink_in = l[0].colwise().sum().transpose();
  for (const Matrix& m : f.maps) {
    for (Eigen::Index j = 0; j < 6; ++j) EXPECT_LE(m.col(j).maxCoeff(), sink_in(j) + 1e-12);
  }
}

TEST(Flow, TargetRowsAndLayersSelectTheSameValues) {
  const LayerMatrices l = prepare_layers(test::random_stack(6, 2, 6, 4, false));
  const LayerMaps all = attention_flow(l);
  FlowOptions o;
  o.layers = {6, 3};
  o.target_rows = {5, 0};
  const LayerMaps some = attention_flow(l, o);
  ASSERT_EQ(some.layers, (std::vector<int>{6, 3}));
  ASSERT_EQ(some.rows, (std::vector<int>{5, 0}));
  test::expect_near(some.maps[0].row(0), all.maps[5].row(5), 0.0);
  test::expect_near(some.maps[1].row(1), all.maps[2].row(0), 0.0);
}

TEST(Flow, OneThreadAndManyThreadsAreBitIdentical) {
  const LayerMatrices l = prepare_layers(test::random_stack(5, 2, 10, 17, false));
  for (FlowAlgorithm a : kAlgorithms) {
    FlowOptions o;
    o.algorithm = a;
    o.threads = 1;
    const LayerMaps one = attention_flow(l, o);
    o.threads = 4;
    const LayerMaps four = attention_flow(l, o);
    for (std::size_t k = 0; k < one.maps.size(); ++k) {
      EXPECT_TRUE(one.maps[k] == four.maps[k]) << to_string(a) << " layer " << k + 1;
    }
  }
}

TEST(Flow, PushRelabelIntegerScalingErrorIsWithinTheStatedBound) {
  // Capacities that are not dyadic (1/3, 1/7, ...) so that rounding to
  // multiples of 1/scale really happens; the bound is
  // (edges in a min cut) * 0.5 / scale <= (forward edges) * 0.5 / scale.
  LayerMatrices l;
  for (int k = 0; k < 4; ++k) {
    Matrix m(3, 3);
    for (Eigen::Index i = 0; i < 3; ++i) {
      for (Eigen::Index j = 0; j < 3; ++j) m(i, j) = 1.0 / double(3 + i + 2 * j + k);
    }
    l.push_back(m);
  }
  // plus the double-precision rounding of the BK reference itself (a few
  // additions of values <= 1)
  const double bound = (2 * 9 + 2 * 3) * 0.5 / push_relabel_scale(l, 4) + 8 * 2.2e-16;
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      const double exact = max_flow_value(l, 4, i, j, FlowAlgorithm::BoykovKolmogorov);
      const double scaled = max_flow_value(l, 4, i, j, FlowAlgorithm::PushRelabel);
      EXPECT_LE(std::abs(scaled - exact), bound) << i << "," << j;
      EXPECT_NE(exact, 0.0);
    }
  }
}

TEST(Flow, PushRelabelScaleKeepsTotalsInInt64) {
  const LayerMatrices l = prepare_layers(test::random_stack(12, 2, 16, 2, false));
  const double scale = push_relabel_scale(l, 12);
  // total capacity <= 12 layers * 16 rows of sum 1 = 192 < 2^8
  EXPECT_GE(scale, std::ldexp(1.0, 52));
  EXPECT_LE(192.0 * scale, std::ldexp(1.0, 62));
}

TEST(Flow, BadInputs) {
  const LayerMatrices l = hand_layers();
  FlowOptions o;
  o.layers = {3};
  test::expect_error([&] { attention_flow(l, o); },
                     "flow layers: layer 3 out of range (model has 2 layers, valid 1..2)");
  o.layers = {};
  o.target_rows = {-1};
  test::expect_error([&] { attention_flow(l, o); },
                     "flow target rows: token -1 out of range (sequence has 3 tokens, valid 0..2)");
  LayerMatrices bad = l;
  bad[1](2, 0) = -0.5;
  test::expect_error([&] { attention_flow(bad); },
                     "flow input: layer 2 row 2 column 0 is negative (-0.500000)");
  bad[1](2, 0) = std::nan("");
  test::expect_error([&] { attention_flow(bad); }, "flow input: layer 2 row 2 column 0 is NaN");
  bad = l;
  bad[0] = Matrix::Zero(2, 2);
  test::expect_error([&] { attention_flow(bad); },
                     "flow input: layer 2 has 3 tokens, layer 1 has 2");
  test::expect_error([&] { attention_flow({}); }, "flow input: no layers");
  test::expect_error(
      [] { parse_flow_algorithm("dinic"); },
      "flow algorithm: unknown 'dinic' (expected bk, push-relabel, edmonds-karp or layered)");
}

}  // namespace
}  // namespace attnflow
