// The `token:POS:ID` target: its text form and errors, and on every kind of LM fixture (GPT-2,
// Llama, Mistral, Qwen2, the char GPT, BERT's masked LM, T5's decoder) the same y, dy/dA and
// target position as next:ID, last and mask:ID where they coincide, and a padded batch equal
// to each example run alone. Interior positions against the float64 reference:
// model_golden_test.cpp (TokenTargetGolden).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace at = attnflow::torch;
namespace test = attnflow::test;

const std::string kModels = std::string(ATTNFLOW_TEST_DATA) + "/models/";

TEST(TokenTarget, ParsesAndPrints) {
  for (const char* text : {"token:3:5", "token:0:0", "token:-1:7", "token:-12:63"}) {
    const at::Target t = at::parse_target(text);
    EXPECT_EQ(t.kind, at::TargetKind::Token) << text;
    EXPECT_EQ(at::to_string(t), text);
  }
  const at::Target t = at::parse_target("token:-2:41");
  EXPECT_EQ(t.position, -2);
  EXPECT_EQ(t.index, 41);
  EXPECT_EQ(at::resolve_position(t, 9), 7);
  EXPECT_EQ(at::resolve_position(at::parse_target("token:4:1"), 9), 4);
  EXPECT_EQ(at::resolve_position(at::parse_target("token:-10:1"), 9), -1);  // out of range
}

TEST(TokenTarget, MalformedTextIsOneError) {
  const std::string form =
      "expected token:POS:TOKEN_ID (an output position, negative from the end, and a token id)";
  const std::pair<const char*, std::string> cases[] = {
      {"token:3", form},
      {"token:x:5", "position 'x' is not an integer"},
      {"token::5", "position '' is not an integer"},
      {"token:1.5:2", "position '1.5' is not an integer"},
      {"token:3:-1", "token id '-1' is not a non-negative integer"},
      {"token:3:", "token id '' is not a non-negative integer"},
      {"token:3:5:7", "token id '5:7' is not a non-negative integer"},
  };
  for (const auto& [text, problem] : cases) {
    test::expect_error([&] { at::parse_target(text); },
                       "target '" + std::string(text) + "': " + problem);
  }
  test::expect_error_contains([] { at::parse_target("token"); },
                              "target 'token': expected none, class:K,");
  test::expect_error_contains([] { at::parse_target("token"); }, "token:POS:TOKEN_ID");
}

TEST(TokenTarget, ModelAndExampleErrors) {
  auto llama = at::Model::load(kModels + "llama_lm");
  const at::ModelInfo& info = llama->info();
  test::expect_error([&] { at::check_target(at::parse_target("token:0:64"), info, -1); },
                     "target 'token:0:64': token id 64 is outside the vocabulary (64 ids)");
  at::TargetNames names;
  names.target = "--target token:0:64";
  test::expect_error([&] { at::check_target(at::parse_target("token:0:64"), info, -1, names); },
                     "--target token:0:64: token id 64 is outside the vocabulary (64 ids)");
  for (const char* dir : {"llama_base", "bert_cls"}) {
    auto m = at::Model::load(kModels + dir);
    test::expect_error([&] { at::check_target(at::parse_target("token:1:3"), m->info(), -1); },
                       "target 'token:1:3' needs a language-model head; " + m->info().path +
                           " is a " + m->info().architecture);
  }
  // the position, per example of a batch, against that example's own length
  const std::vector<at::Input> batch = {at::Input{{5, 17, 33, 2, 48}, {}, {}},
                                        at::Input{{7, 3, 55}, {}, {}}};
  at::RunOptions o;
  for (const char* text : {"token:3:7", "token:-4:7"}) {
    o.target = at::parse_target(text);
    test::expect_error([&] { llama->run(batch, o); },
                       "example 1 of the batch: position " + std::to_string(o.target.position) +
                           " is outside its 3 tokens (valid 0..2 or -3..-1), but target '" + text +
                           "' needs it");
  }
  o.target = at::parse_target("token:7:7");
  names.target = "--target token:7:7";
  names.example = "corpus.txt:2";
  test::expect_error(
      [&] { at::check_target_input(o.target, info, batch[0], -1, names); },
      "corpus.txt:2: position 7 is outside its 5 tokens (valid 0..4 or -5..-1), but --target "
      "token:7:7 needs it");
  // T5: a decoder position
  auto t5 = at::Model::load(kModels + "t5_lm");
  o.target = at::parse_target("token:3:7");
  test::expect_error(
      [&] {
        t5->run({at::Input{{13, 40, 7, 1}, {}, {}, {0, 31, 5}}}, o);
      },
      "example 0 of the batch: position 3 is outside its 3 decoder tokens (valid "
      "0..2 or -3..-1), but target 'token:3:7' needs it");
}

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    worst = std::max(worst, static_cast<double>(std::fabs(a[i] - b[i])));
  }
  return worst;
}

/// Every gradient an output carries (an encoder-decoder's decoder and cross ones too).
std::vector<float> gradients(const at::Output& o) {
  std::vector<float> g = o.attention_gradient;
  g.insert(g.end(), o.decoder_attention_gradient.begin(), o.decoder_attention_gradient.end());
  g.insert(g.end(), o.cross_attention_gradient.begin(), o.cross_attention_gradient.end());
  return g;
}

/// The same target seen two ways: equal y, dy/dA, position and index.
void expect_same(const at::Output& a, const at::Output& b, double tolerance) {
  ASSERT_TRUE(a.target_position && b.target_position && a.target_index && b.target_index);
  EXPECT_EQ(*a.target_position, *b.target_position);
  EXPECT_EQ(*a.target_index, *b.target_index);
  EXPECT_NEAR(a.target_value, b.target_value, tolerance);
  const std::vector<float> ga = gradients(a), gb = gradients(b);
  ASSERT_FALSE(ga.empty());
  EXPECT_LE(max_diff(ga, gb), tolerance);
  EXPECT_GT(*std::max_element(ga.begin(), ga.end()), 1e-6f);  // not trivially 0
}

struct LmCase {
  std::string model;
  bool masked = false;   // BERT: compare with mask:ID at the mask token
  bool seq2seq = false;  // T5: positions are decoder positions
};

void PrintTo(const LmCase& c, std::ostream* os) {
  *os << c.model;
}

class TokenTargetModels : public testing::TestWithParam<LmCase> {};

// Examples of lengths 6, 3, 5 (decoder lengths for T5), right-padded in a batch.
std::vector<at::Input> examples(const LmCase& c, std::int64_t vocab, std::int64_t mask) {
  std::vector<std::vector<std::int64_t>> ids = {{5, 1, 9, 2, 8, 4}, {7, 3, 6}, {2, 9, 1, 5, 3}};
  for (auto& x : ids)
    for (auto& t : x) t %= vocab;
  if (c.masked)
    for (auto& x : ids) x[1] = mask;
  std::vector<at::Input> out;
  for (const auto& x : ids) {
    at::Input in;
    if (c.seq2seq) {
      in.ids = {13, 40, 7, 1};
      in.decoder_ids = x;
      in.decoder_ids[0] = 0;  // decoder_start_token_id
    } else {
      in.ids = x;
    }
    out.push_back(in);
  }
  return out;
}

TEST_P(TokenTargetModels, EqualsNextLastAndMaskAndIgnoresPadding) {
  const LmCase& c = GetParam();
  auto model = at::Model::load(kModels + c.model);
  const std::int64_t vocab = model->info().vocab_size;
  const std::int64_t mask = c.masked ? 4 : -1;  // bert_uncased's [MASK]
  const std::vector<at::Input> batch = examples(c, vocab, mask);
  const std::int64_t id = 5 % vocab;
  at::RunOptions o;
  o.logits = true;
  o.mask_token_id = mask;
  const auto run = [&](const std::vector<at::Input>& b, const std::string& target) {
    o.target = at::parse_target(target);
    return model->run(b, o);
  };
  const auto length = [&](const at::Input& in) {
    return static_cast<std::int64_t>(c.seq2seq ? in.decoder_ids.size() : in.ids.size());
  };
  if (c.masked) {
    // mask:ID is token:1:ID here (the mask token is at 1), batched
    const auto token = run(batch, "token:1:" + std::to_string(id));
    const auto masked = run(batch, "mask:" + std::to_string(id));
    for (std::size_t b = 0; b < batch.size(); ++b) {
      SCOPED_TRACE("example " + std::to_string(b));
      expect_same(token[b], masked[b], 0.0);
      EXPECT_EQ(*token[b].target_position, 1);
    }
  } else {
    // token:-1:ID is next:ID, batched
    const auto token = run(batch, "token:-1:" + std::to_string(id));
    const auto next = run(batch, "next:" + std::to_string(id));
    for (std::size_t b = 0; b < batch.size(); ++b) {
      SCOPED_TRACE("example " + std::to_string(b));
      expect_same(token[b], next[b], 0.0);
      EXPECT_EQ(*token[b].target_position, length(batch[b]) - 1);
    }
    for (std::size_t b = 0; b < batch.size(); ++b) {
      SCOPED_TRACE("example " + std::to_string(b) + " alone");
      const std::vector<at::Input> one = {batch[b]};
      const std::int64_t n = length(batch[b]);
      // token:n-1:ID is next:ID; token:n-2:(its last token) is last
      expect_same(run(one, "token:" + std::to_string(n - 1) + ":" + std::to_string(id)).front(),
                  run(one, "next:" + std::to_string(id)).front(), 0.0);
      const std::int64_t last_id = c.seq2seq ? batch[b].decoder_ids.back() : batch[b].ids.back();
      expect_same(
          run(one, "token:" + std::to_string(n - 2) + ":" + std::to_string(last_id)).front(),
          run(one, "last").front(), 0.0);
    }
  }
  // a negative position in a padded batch: each example's own n - 2, as when run alone
  const std::string target = "token:-2:" + std::to_string(id);
  const auto batched = run(batch, target);
  for (std::size_t b = 0; b < batch.size(); ++b) {
    SCOPED_TRACE("example " + std::to_string(b) + ", batched vs alone");
    const auto alone = run({batch[b]}, target).front();
    EXPECT_EQ(*batched[b].target_position, length(batch[b]) - 2);
    expect_same(batched[b], alone, 1e-5);
    const std::size_t at_pos =
        static_cast<std::size_t>(*alone.target_position * vocab + id);  // logits [n, V]
    EXPECT_DOUBLE_EQ(alone.target_value, static_cast<double>(alone.logits[at_pos]));
  }
}

INSTANTIATE_TEST_SUITE_P(LanguageModels, TokenTargetModels,
                         testing::Values(LmCase{"gpt2_lm"}, LmCase{"gpt2_lm_fp16"},
                                         LmCase{"llama_lm"}, LmCase{"llama_lm_bf16"},
                                         LmCase{"mistral_lm"}, LmCase{"qwen2_lm"},
                                         LmCase{"char_gpt"}, LmCase{"bert_mlm", true},
                                         LmCase{"distilbert_mlm", true},
                                         LmCase{"t5_lm", false, true}),
                         [](const testing::TestParamInfo<LmCase>& p) { return p.param.model; });

}  // namespace
