// The value-aware methods through analyze(): their names (one table), rollout and flow over the
// stored per-layer contribution matrices (rows normalised; norm residual-augmented), per-layer
// readouts, and the errors for missing or mismatched matrices.
#include "attnflow/core/analysis.hpp"
#include "attnflow/core/readout.hpp"
#include "attnflow/core/rollout.hpp"
#include "test_util.hpp"

namespace attnflow {
namespace {

// A non-negative stack with rows that do not sum to 1 (raw norms): L x 1 x n x n.
AttentionStack unnormalised(int layers, int n, unsigned seed) {
  AttentionStack s = test::random_stack(layers, 1, n, seed, false);
  for (std::size_t k = 0; k < s.data().size(); ++k) {
    s.data()[k] *= 1.0f + 0.25f * static_cast<float>(k % 5);
  }
  return s;
}

TEST(ContributionAnalysis, NamesParseAndMapToTheirMatrices) {
  EXPECT_EQ(parse_method("alti-rollout"), Method::AltiRollout);
  EXPECT_EQ(parse_method("value-zeroing-flow"), Method::ValueZeroingFlow);
  EXPECT_STREQ(to_string(Method::GlobEncFlow), "globenc-flow");
  EXPECT_EQ(contribution_of(Method::NormFlow), Contribution::Norm);
  EXPECT_EQ(contribution_of(Method::GlobEnc), Contribution::GlobEnc);
  EXPECT_EQ(contribution_of(Method::Rollout), std::nullopt);
  EXPECT_EQ(contributions_of({Method::ValueZeroing, Method::Raw, Method::AltiFlow, Method::Alti}),
            (std::vector<Contribution>{Contribution::Alti, Contribution::ValueZeroing}));
  EXPECT_EQ(parse_contribution("value-zeroing"), Contribution::ValueZeroing);
  test::expect_error([] { parse_contribution("lrp"); },
                     "contribution: unknown 'lrp' (expected norm, globenc, alti or value-zeroing)");
  EXPECT_EQ(contribution_list({Contribution::Alti, Contribution::Norm}), "alti,norm");
  EXPECT_EQ(parse_contribution_list("alti,norm", "x"),
            (std::vector<Contribution>{Contribution::Alti, Contribution::Norm}));
  EXPECT_TRUE(parse_contribution_list("", "x").empty());
  test::expect_error([] { parse_contribution_list("alti,alti", "--contributions"); },
                     "--contributions: 'alti' appears twice");
}

TEST(ContributionAnalysis, RolloutFlowAndReadoutsOverTheMatrices) {
  const int L = 3, n = 5;
  ContributionStacks c;
  c[Contribution::Norm] = unnormalised(L, n, 1);
  c[Contribution::GlobEnc] = unnormalised(L, n, 2);
  c[Contribution::Alti] = test::random_stack(L, 1, n, 3, false);
  const AttentionStack attention = test::random_stack(L, 2, n, 4, false);
  AnalysisOptions o;
  o.methods = {Method::Rollout,  Method::Norm,        Method::NormRollout,
               Method::NormFlow, Method::GlobEnc,     Method::GlobEncFlow,
               Method::Alti,     Method::AltiRollout, Method::AltiFlow};
  o.target_rows = {0, -1};
  const AnalysisResult r = analyze(attention, nullptr, &c, o);
  ASSERT_EQ(r.maps.size(), o.methods.size());
  const auto normalised = [&](Contribution m) {
    LayerMatrices out = fuse_heads(c.at(m));
    for (Matrix& x : out) normalize_rows(x);
    return out;
  };
  const LayerMatrices norm_ready = prepare_fused(normalised(Contribution::Norm), PrepareOptions{});
  const LayerMaps norm_rollout = rollout(norm_ready);
  const LayerMaps norm_flow = attention_flow(norm_ready);
  const LayerMaps globenc = rollout(normalised(Contribution::GlobEnc));
  const LayerMaps globenc_flow = attention_flow(normalised(Contribution::GlobEnc));
  const LayerMaps alti_rollout = rollout(normalised(Contribution::Alti));
  const LayerMaps alti_flow = attention_flow(normalised(Contribution::Alti));
  const LayerMatrices raw_norm = fuse_heads(c.at(Contribution::Norm));
  for (int l = 1; l <= L; ++l) {
    const auto k = static_cast<std::size_t>(l - 1);
    for (int r_index : {0, 1}) {
      const int row = r_index == 0 ? 0 : n - 1;
      const auto& m = r.maps;
      test::expect_near(m.at(Method::Norm).maps[k].row(r_index), raw_norm[k].row(row));
      test::expect_near(m.at(Method::NormRollout).maps[k].row(r_index),
                        norm_rollout.maps[k].row(row), 1e-13);
      test::expect_near(m.at(Method::NormFlow).maps[k].row(r_index), norm_flow.maps[k].row(row),
                        1e-12);
      test::expect_near(m.at(Method::GlobEnc).maps[k].row(r_index), globenc.maps[k].row(row),
                        1e-13);
      test::expect_near(m.at(Method::GlobEncFlow).maps[k].row(r_index),
                        globenc_flow.maps[k].row(row), 1e-12);
      test::expect_near(m.at(Method::AltiRollout).maps[k].row(r_index),
                        alti_rollout.maps[k].row(row), 1e-13);
      test::expect_near(m.at(Method::AltiFlow).maps[k].row(r_index), alti_flow.maps[k].row(row),
                        1e-12);
    }
  }
  // Only value-aware methods: no attention needed.
  AnalysisOptions only = o;
  only.methods = {Method::AltiRollout};
  const AnalysisResult alone = analyze(AttentionStack(), nullptr, &c, only);
  test::expect_near(alone.maps.at(Method::AltiRollout).maps.back(),
                    r.maps.at(Method::AltiRollout).maps.back(), 0.0);
}

TEST(ContributionAnalysis, MissingOrMismatchedMatricesAreErrors) {
  const AttentionStack attention = test::random_stack(2, 2, 4, 4, false);
  AnalysisOptions o;
  o.methods = {Method::AltiRollout};
  test::expect_error([&] { analyze(attention, nullptr, nullptr, o); },
                     "alti-rollout: needs the alti contribution matrices (attnflow extract "
                     "--contributions alti), none were given");
  ContributionStacks c;
  c[Contribution::Norm] = unnormalised(2, 4, 1);
  test::expect_error([&] { analyze(attention, nullptr, &c, o); },
                     "alti-rollout: needs the alti contribution matrices (attnflow extract "
                     "--contributions alti), none were given");
  c[Contribution::Alti] = unnormalised(3, 4, 1);
  test::expect_error([&] { analyze(attention, nullptr, &c, o); },
                     "alti contributions: 3 layers x 4 tokens, but the attention has 2 x 4");
  c[Contribution::Alti] = test::random_stack(2, 2, 4, 1, false);
  test::expect_error(
      [&] { analyze(attention, nullptr, &c, o); },
      "alti contributions: 2 matrices per layer, expected 1 (layers x 1 x tokens x tokens)");
  c[Contribution::Alti] = unnormalised(2, 4, 1);
  c[Contribution::Alti].data()[3] = -1.0f;
  test::expect_error_prefix([&] { analyze(attention, nullptr, &c, o); }, "alti contributions");
}

}  // namespace
}  // namespace attnflow
