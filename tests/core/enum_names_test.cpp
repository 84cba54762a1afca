// Enum-name tables (core/util/enum_names) and the parse/to_string functions built on them.
#include "attnflow/core/util/enum_names.hpp"

#include "attnflow/core/analysis.hpp"
#include "test_util.hpp"

namespace attnflow {
namespace {

enum class Colour { Red, Green, Blue };
constexpr EnumName<Colour> kColours[] = {
    {Colour::Red, "red"}, {Colour::Green, "green"}, {Colour::Blue, "blue"}};
constexpr EnumName<Colour> kOne[] = {{Colour::Red, "red"}};
constexpr EnumName<Colour> kTwo[] = {{Colour::Red, "red"}, {Colour::Blue, "blue"}};

TEST(EnumNames, ParseNameAndChoices) {
  EXPECT_EQ(parse_enum(kColours, "green", "colour"), Colour::Green);
  EXPECT_EQ(find_enum(kColours, "Green"), std::nullopt);  // exact, case-sensitive
  EXPECT_STREQ(enum_name(kColours, Colour::Blue), "blue");
  EXPECT_STREQ(enum_name(kTwo, Colour::Green), "?");
  EXPECT_EQ(enum_choices(kOne), "red");
  EXPECT_EQ(enum_choices(kTwo), "red or blue");
  EXPECT_EQ(enum_choices(kColours), "red, green or blue");
  test::expect_error([] { parse_enum(kColours, "pink", "--colour"); },
                     "--colour: unknown 'pink' (expected red, green or blue)");
}

TEST(EnumNames, EveryTableRoundTrips) {
  for (const auto& n : kMethodNames) EXPECT_EQ(parse_method(to_string(n.value)), n.value);
  for (const auto& n : kHeadFusionNames) EXPECT_EQ(parse_head_fusion(to_string(n.value)), n.value);
  for (const auto& n : kFlowAlgorithmNames) {
    EXPECT_EQ(parse_flow_algorithm(to_string(n.value)), n.value);
  }
  for (const auto& n : kDiscardScopeNames) {
    EXPECT_EQ(parse_discard_scope(to_string(n.value)), n.value);
  }
  for (const auto& n : kGradRolloutRuleNames) {
    EXPECT_EQ(parse_grad_rollout_rule(to_string(n.value)), n.value);
  }
  EXPECT_EQ(parse_flow_algorithm("boykov-kolmogorov"), FlowAlgorithm::BoykovKolmogorov);
  test::expect_error([] { parse_discard_scope("col"); },
                     "discard scope: unknown 'col' (expected global or row)");
  test::expect_error([] { parse_grad_rollout_rule("lrp"); },
                     "grad-rollout rule: unknown 'lrp' (expected chefer or vit-explain)");
}

TEST(NormalizeRows, DividesByTheSumAndLeavesZeroRows) {
  Matrix m = test::mat({{1, 3}, {0, 0}, {2, -4}});
  normalize_rows(m);
  EXPECT_EQ(m, test::mat({{0.25, 0.75}, {0, 0}, {-1, 2}}));
}

}  // namespace
}  // namespace attnflow
