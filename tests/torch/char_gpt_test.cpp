// Seed 004's character GPT (attnflow/torch/char_gpt.hpp): the inference implementation that
// Model::load dispatches AttnflowCharGPT to equals (1) the float64 reference of
// tests/reference/char_gpt.py on its fixture tests/data/models/char_gpt and (2) the torch::nn
// training module's forward on the same saved weights; training is deterministic for a seed and
// its recorded windowed validation loss is what the reloaded model gives; sampling is
// deterministic for a seed and stays in the vocabulary.
#include "attnflow/torch/char_gpt.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace at = attnflow::torch;
namespace test = attnflow::test;

const std::string kFixture = std::string(ATTNFLOW_TEST_DATA) + "/models/char_gpt";

double max_diff(const std::vector<float>& a, const std::vector<double>& b) {
  EXPECT_EQ(a.size(), b.size());
  double m = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    m = std::max(m, std::abs(static_cast<double>(a[i]) - b[i]));
  }
  return m;
}

std::vector<double> as_double(const std::vector<float>& v) {
  return {v.begin(), v.end()};
}

at::Output run(at::Model& model, const std::vector<std::int64_t>& ids, bool grads = false) {
  at::RunOptions o;
  o.logits = true;
  if (grads) o.target.kind = at::TargetKind::NextToken;
  return model.run({at::Input{ids, {}, {}}}, o).front();
}

TEST(CharGpt, MatchesTheFloat64ReferenceAndTheTrainingModule) {
  std::ifstream f(kFixture + "/golden.json");
  ASSERT_TRUE(f) << kFixture;
  const nlohmann::json golden = nlohmann::json::parse(f);
  auto model = at::Model::load(kFixture);
  EXPECT_EQ(model->info().architecture, at::kCharGptArchitecture);
  EXPECT_EQ(model->info().family, at::ModelFamily::CharGpt);
  EXPECT_TRUE(model->info().causal);
  EXPECT_EQ(model->info().head, at::HeadKind::LanguageModel);
  for (const auto& c : golden["cases"]) {
    const auto ids = c["ids"].get<std::vector<std::int64_t>>();
    const auto logits = c["logits"].get<std::vector<double>>();
    const auto attention = c["attention"].get<std::vector<double>>();
    const at::Output out = run(*model, ids);
    EXPECT_LT(max_diff(out.logits, logits), 1e-5);
    EXPECT_LT(max_diff(out.attention, attention), 1e-5);
    const at::CharGptForward train = at::char_gpt_training_forward(kFixture, ids);
    EXPECT_LT(max_diff(train.logits, logits), 1e-5);
    EXPECT_LT(max_diff(train.attention, attention), 1e-5);
  }
}

// A text with structure: a seeded walk over a small alphabet.
std::vector<std::int64_t> synthetic_text(std::size_t n, std::int64_t vocab) {
  std::mt19937_64 rng(7);
  std::vector<std::int64_t> ids(n);
  for (std::size_t i = 0; i < n; ++i) {
    ids[i] = i == 0 ? 0 : (ids[i - 1] + 1 + static_cast<std::int64_t>(rng() % 2)) % vocab;
  }
  return ids;
}

at::CharGptOptions tiny() {
  at::CharGptOptions o;
  o.n_ctx = 8;
  o.n_embd = 16;
  o.n_head = 2;
  o.n_layer = 2;
  o.max_iters = 30;
  o.eval_interval = 10;
  o.eval_iters = 4;
  o.threads = 1;
  return o;
}

TEST(CharGpt, TrainedModelReloadsAndReproducesItsLoss) {
  const std::int64_t V = 7;
  const auto text = synthetic_text(600, V);
  const std::string dir = test::temp_dir("char_gpt_train");
  const at::CharGptResult r = at::train_char_gpt(text, V, tiny(), dir);
  ASSERT_EQ(r.curve.size(), 4u);  // steps 0, 10, 20, 30
  EXPECT_EQ(r.curve.back().step, 30);
  EXPECT_LT(r.curve.back().train_loss, r.curve.front().train_loss);  // it learns
  auto model = at::Model::load(dir);
  const std::vector<std::int64_t> val(text.begin() + 540, text.end());
  EXPECT_NEAR(at::causal_lm_loss(*model, val, 8), r.val_loss_windows, 1e-5);
  // Model::load's forward equals the training module's on the saved weights, gradients too.
  const std::vector<std::int64_t> ids(text.begin(), text.begin() + 8);
  const at::Output out = run(*model, ids, true);
  const at::CharGptForward train = at::char_gpt_training_forward(dir, ids);
  EXPECT_LT(max_diff(out.logits, as_double(train.logits)), 1e-5);
  EXPECT_LT(max_diff(out.attention, as_double(train.attention)), 1e-5);
  ASSERT_EQ(out.attention_gradient.size(), out.attention.size());
  double g = 0;
  for (float x : out.attention_gradient) g += std::abs(x);
  EXPECT_GT(g, 0);

  // The same seed gives the same run; another seed another one.
  const std::string again = test::temp_dir("char_gpt_train_again");
  const at::CharGptResult r2 = at::train_char_gpt(text, V, tiny(), again);
  EXPECT_EQ(test::read_file(dir + "/model.safetensors"),
            test::read_file(again + "/model.safetensors"));
  EXPECT_EQ(r2.curve.back().val_loss, r.curve.back().val_loss);
  at::CharGptOptions other = tiny();
  other.seed = 2;
  const std::string third = test::temp_dir("char_gpt_train_other");
  at::train_char_gpt(text, V, other, third);
  EXPECT_NE(test::read_file(dir + "/model.safetensors"),
            test::read_file(third + "/model.safetensors"));

  // Sampling: deterministic for a seed, within the vocabulary, past the context length.
  at::SampleOptions s;
  s.count = 20;
  s.seed = 5;
  const auto a = at::sample_causal_lm(*model, {0, 1}, s);
  EXPECT_EQ(a, at::sample_causal_lm(*model, {0, 1}, s));
  ASSERT_EQ(a.size(), 20u);
  for (std::int64_t id : a) EXPECT_TRUE(id >= 0 && id < V);
  s.seed = 6;
  EXPECT_NE(a, at::sample_causal_lm(*model, {0, 1}, s));
  s.temperature = 0;
  EXPECT_THROW(at::sample_causal_lm(*model, {0, 1}, s), attnflow::Error);
}

TEST(CharGpt, BadOptionsAreErrors) {
  const auto text = synthetic_text(100, 5);
  const std::string dir = test::temp_dir("char_gpt_bad");
  at::CharGptOptions o = tiny();
  o.n_embd = 15;
  EXPECT_THROW(at::train_char_gpt(text, 5, o, dir), attnflow::Error);
  o = tiny();
  o.n_ctx = 64;  // the validation split has 10 tokens
  try {
    at::train_char_gpt(text, 5, o, dir);
    FAIL() << "no error";
  } catch (const attnflow::Error& e) {
    EXPECT_NE(std::string(e.what()).find("validation split"), std::string::npos) << e.what();
  }
  EXPECT_THROW(at::train_char_gpt({0, 1, 9}, 5, tiny(), dir), attnflow::Error);
}

}  // namespace
