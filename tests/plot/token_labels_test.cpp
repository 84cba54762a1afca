// token_labels, visible_tokens, special_tokens.
#include "attnflow/plot/token_labels.hpp"

#include "plot_test_util.hpp"

namespace attnflow {
namespace {

TEST(TokenLabels, DefaultsToIndicesAndChecksTheCount) {
  EXPECT_EQ(plot::token_labels({}, 3, "x"), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(plot::token_labels({"a", "b"}, 2, "x"), (std::vector<std::string>{"a", "b"}));
  test::expect_error([] { plot::token_labels({"a"}, 2, "f.png"); },
                     "f.png: 1 token labels for 2 tokens");
}

TEST(TokenLabels, HidesByLabel) {
  const auto& special = plot::special_tokens();
  EXPECT_TRUE(special.count("[CLS]"));
  EXPECT_TRUE(special.count("<|endoftext|>"));
  EXPECT_EQ(plot::visible_tokens(test::sample_tokens(), special, "x"),
            (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(plot::visible_tokens({"a", "b"}, {}, "x"), (std::vector<int>{0, 1}));
  test::expect_error([] { plot::visible_tokens({"[CLS]"}, plot::special_tokens(), "f.png"); },
                     "f.png: every token is hidden");
}

}  // namespace
}  // namespace attnflow
