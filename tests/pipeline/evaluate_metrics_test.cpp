// ERASER's metrics on a case small enough to work out by hand: a fake "model" whose
// probability is 0.1 plus a weight per word that is still present, two methods (the right
// order and the reverse), AOPC, curves, their areas and means; rounding of k% to tokens;
// ranking ties; and the option errors.
#include "attnflow/pipeline/evaluate_metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <vector>

#include "support/test_support.hpp"

namespace {

namespace pl = attnflow::pipeline;
namespace test = attnflow::test;
using Ids = std::vector<std::int64_t>;

// [CLS]=100 a=10 b=11 c=12 d=13 [SEP]=101; [UNK]=1.
const Ids kIds = {100, 10, 11, 12, 13, 101};
const std::vector<std::uint8_t> kSpecial = {1, 0, 0, 0, 0, 1};
const std::map<std::int64_t, double> kWeight = {{10, 0.4}, {11, 0.2}, {12, 0.1}, {13, 0.0}};

// p = 0.1 + the weights of the words present; p(x) = 0.8. Records the calls.
struct FakeModel {
  std::vector<std::vector<Ids>> calls;
  std::vector<double> operator()(const std::vector<Ids>& inputs) {
    calls.push_back(inputs);
    std::vector<double> p;
    for (const Ids& ids : inputs) {
      double v = 0.1;
      for (std::int64_t id : ids) v += kWeight.count(id) ? kWeight.at(id) : 0.0;
      p.push_back(v);
    }
    return p;
  }
};

pl::FaithfulnessOptions options(pl::Perturbation perturbation = pl::Perturbation::Unk) {
  pl::FaithfulnessOptions o;
  o.aopc_percents = {25, 50};       // 1 and 2 of the 4 words
  o.curve_percents = {0, 50, 100};  // 0, 2 and 4 words
  o.perturbation = perturbation;
  o.replacement_id = 1;
  return o;
}

// Method "right": a > b > c > d; method "reverse": d > c > b > a. Specials score highest and
// must still never be taken.
const std::vector<std::vector<double>> kScores = {{9, 0.9, 0.5, 0.3, 0.1, 9},
                                                  {9, 0.1, 0.3, 0.5, 0.9, 9}};

void expect_near_all(const std::vector<double>& got, const std::vector<double>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-12) << i;
}

TEST(EvaluateMetrics, AopcAndCurvesByHand) {
  for (const pl::Perturbation p : {pl::Perturbation::Unk, pl::Perturbation::Remove}) {
    FakeModel model;
    const auto f = pl::example_faithfulness(kIds, kSpecial, kScores, options(p), std::ref(model));
    ASSERT_EQ(f.size(), 2u);
    // right: without a -> 0.1+0.2+0.1+0 = 0.4 (comp 0.4); without a,b -> 0.2 (comp 0.6);
    //        a only -> 0.5 (suff 0.3); a,b only -> 0.7 (suff 0.1); curves at 0, 2, 4 words.
    // reverse: without d -> 0.8 (comp 0); without d,c -> 0.7 (0.1); d only -> 0.1 (suff 0.7);
    //          d,c only -> 0.2 (suff 0.6).
    struct Expected {
      std::vector<double> comp, suff;
      double aopc_comp, aopc_suff;
      std::vector<double> deletion, insertion;
    };
    const Expected expected[] = {
        {{0.4, 0.6}, {0.3, 0.1}, 0.5, 0.2, {0.8, 0.2, 0.1}, {0.1, 0.7, 0.8}},
        {{0.0, 0.1}, {0.7, 0.6}, 0.05, 0.65, {0.8, 0.7, 0.1}, {0.1, 0.2, 0.8}}};
    for (std::size_t m = 0; m < 2; ++m) {
      EXPECT_DOUBLE_EQ(f[m].full, 0.8);
      expect_near_all(f[m].comprehensiveness, expected[m].comp);
      expect_near_all(f[m].sufficiency, expected[m].suff);
      EXPECT_NEAR(f[m].aopc_comprehensiveness, expected[m].aopc_comp, 1e-12);
      EXPECT_NEAR(f[m].aopc_sufficiency, expected[m].aopc_suff, 1e-12);
      expect_near_all(f[m].deletion, expected[m].deletion);
      expect_near_all(f[m].insertion, expected[m].insertion);
    }

    // One call, the unchanged example first, every input distinct; specials always kept.
    ASSERT_EQ(model.calls.size(), 1u);
    const std::vector<Ids>& inputs = model.calls.front();
    EXPECT_EQ(inputs.front(), kIds);
    // right: -a, -ab, -abcd (= none of the words), a only, ab only (abcd only = x); reverse
    // adds -d and d only (its -dc is "ab only", its "dc only" is -ab).
    EXPECT_EQ(inputs.size(), 1u + 5u + 2u);
    for (const Ids& v : inputs) {
      EXPECT_EQ(v.front(), 100);
      EXPECT_EQ(v.back(), 101);
      if (p == pl::Perturbation::Unk) EXPECT_EQ(v.size(), kIds.size());
    }
  }
}

TEST(EvaluateMetrics, PerturbedInputs) {
  const pl::FaithfulnessOptions unk = options();
  EXPECT_EQ(pl::perturb(kIds, {2, 4}, unk), (Ids{100, 10, 1, 12, 1, 101}));
  const pl::FaithfulnessOptions removed = options(pl::Perturbation::Remove);
  EXPECT_EQ(pl::perturb(kIds, {2, 4}, removed), (Ids{100, 10, 12, 101}));
  pl::FaithfulnessOptions mask = options(pl::Perturbation::Mask);
  mask.replacement_id = 4;
  EXPECT_EQ(pl::perturb(kIds, {1}, mask), (Ids{100, 4, 11, 12, 13, 101}));
}

TEST(EvaluateMetrics, SummaryMeansAndAreas) {
  FakeModel model;
  const auto f = pl::example_faithfulness(kIds, kSpecial, kScores, options(), std::ref(model));
  // Two "examples": the right and the reverse order.
  const pl::FaithfulnessSummary s = pl::summarize_faithfulness({f[0], f[1]}, {0, 50, 100});
  EXPECT_EQ(s.examples, 2);
  EXPECT_NEAR(s.comprehensiveness.mean, 0.275, 1e-12);  // (0.5 + 0.05) / 2
  EXPECT_NEAR(s.comprehensiveness.std, 0.225, 1e-12);
  EXPECT_NEAR(s.sufficiency.mean, 0.425, 1e-12);  // (0.2 + 0.65) / 2
  expect_near_all(s.comprehensiveness_at, {0.2, 0.35});
  expect_near_all(s.deletion, {0.8, 0.45, 0.1});
  // Trapezoids over x = 0, 0.5, 1: 0.5 (0.8 + 0.45) / 2 + 0.5 (0.45 + 0.1) / 2 = 0.45.
  EXPECT_NEAR(s.deletion_area, 0.45, 1e-12);
  // Insertion mean (0.1, 0.45, 0.8): 0.5 (0.55) / 2 + 0.5 (1.25) / 2 = 0.45.
  EXPECT_NEAR(s.insertion_area, 0.45, 1e-12);
}

TEST(EvaluateMetrics, PercentToTokens) {
  using R = pl::PercentRounding;
  EXPECT_EQ(pl::top_count(0, 7, R::Ceil), 0);
  EXPECT_EQ(pl::top_count(1, 7, R::Ceil), 1);    // 0.07 -> 1
  EXPECT_EQ(pl::top_count(10, 30, R::Ceil), 3);  // exactly 3 (no float round-up to 4)
  EXPECT_EQ(pl::top_count(50, 7, R::Ceil), 4);   // 3.5 -> 4
  EXPECT_EQ(pl::top_count(100, 7, R::Ceil), 7);
  EXPECT_EQ(pl::top_count(50, 7, R::Round), 4);  // 3.5 -> 4
  EXPECT_EQ(pl::top_count(20, 7, R::Round), 1);  // 1.4 -> 1
  EXPECT_EQ(pl::top_count(5, 7, R::Round), 1);   // 0.35 -> 0, at least 1
  EXPECT_EQ(pl::top_count(50, 7, R::Floor), 3);
  EXPECT_EQ(pl::top_count(30, 10, R::Floor), 3);  // exactly 3 (no float round-down to 2)
  EXPECT_EQ(pl::top_count(50, 0, R::Ceil), 0);
}

TEST(EvaluateMetrics, RankingTiesAndSpecials) {
  const std::vector<double> scores = {5, 0.2, std::nan(""), 0.7, 0.2, 5};
  EXPECT_EQ(pl::rank_positions(scores, kSpecial), (std::vector<int>{3, 1, 4, 2}));
}

TEST(EvaluateMetrics, OptionErrors) {
  pl::FaithfulnessOptions o = options();
  o.aopc_percents = {1, 0};
  test::expect_error([&] { pl::check_faithfulness_options(o); },
                     "--aopc-percents: 0 is outside (0, 100] (percent of the tokens)");
  o = options();
  o.curve_percents = {0, 150};
  test::expect_error([&] { pl::check_faithfulness_options(o); },
                     "--curve-percents: 150 is outside [0, 100] (percent of the tokens)");
  o = options();
  o.curve_percents = {50, 10};
  test::expect_error([&] { pl::check_faithfulness_options(o); },
                     "--curve-percents: the points must be in increasing order");
  o = options(pl::Perturbation::Mask);
  o.replacement_id = -1;
  test::expect_error([&] { pl::check_faithfulness_options(o); },
                     "--perturbation mask: the tokenizer has no such token");
  FakeModel model;
  test::expect_error(
      [&] {
        pl::example_faithfulness({100, 101}, {1, 1}, {{0, 0}}, options(), std::ref(model));
      },
      "faithfulness: the example has only special tokens");
}

}  // namespace
