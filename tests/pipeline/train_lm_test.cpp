// `attnflow train lm` as a library call (pipeline::train_lm): a tiny run on a short text whose
// saved directory reloads with torch::Model::load and reproduces the final validation loss that
// training.json records; generate_text is deterministic for a seed and emits only characters of
// the vocabulary; bad inputs give one clear error and no folder.
#include "attnflow/pipeline/train_lm.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace pl = attnflow::pipeline;
namespace at = attnflow::torch;
namespace test = attnflow::test;

const std::string kText =
    "To be, or not to be, that is the question:\n"
    "Whether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune,\n"
    "Or to take arms against a sea of troubles\n"
    "And by opposing end them. To die: to sleep;\n"
    "No more; and by a sleep to say we end\n"
    "The heart-ache and the thousand natural shocks\n"
    "That flesh is heir to, 'tis a consummation\n";

pl::TrainLmOptions tiny(const std::string& name) {
  pl::TrainLmOptions o;
  o.text_path = test::temp_path(name + ".txt");
  test::write_file(o.text_path, kText);
  o.output = test::temp_path(name);
  o.plot = false;
  o.training.n_ctx = 8;
  o.training.n_embd = 16;
  o.training.n_head = 2;
  o.training.n_layer = 2;
  o.training.max_iters = 20;
  o.training.eval_interval = 10;
  o.training.eval_iters = 3;
  o.training.threads = 1;
  return o;
}

TEST(TrainLm, ReloadsAndReproducesItsRecordedLoss) {
  const pl::TrainLmOptions o = tiny("lm");
  const pl::TrainLmReport r = pl::train_lm(o);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "training.json"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::path(o.output) / f)) << f;
  }
  std::ifstream f(o.output + "/training.json");
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["curve"].size(), 3u);
  EXPECT_EQ(j["options"]["n_ctx"], 8);
  EXPECT_EQ(j["vocab_size"].get<std::int64_t>(),
            static_cast<std::int64_t>(std::set<char>(kText.begin(), kText.end()).size()));
  EXPECT_DOUBLE_EQ(j["final_val_loss"].get<double>(), r.result.curve.back().val_loss);

  // Reload, encode the validation split through the saved tokenizer, recompute.
  auto model = at::Model::load(o.output);
  const auto ids = pl::encode_characters(o.output, kText, "text");
  ASSERT_EQ(ids.size(), kText.size());
  const std::vector<std::int64_t> val(ids.begin() + j["train_tokens"].get<long>(), ids.end());
  const double loss = at::causal_lm_loss(*model, val, 8);
  EXPECT_NEAR(loss, j["val_loss_windows"].get<double>(), 1e-5);
  EXPECT_NEAR(loss, j["reloaded_val_loss_windows"].get<double>(), 1e-9);

  pl::GenerateTextOptions g;
  g.model = o.output;
  g.prompt = "To be";
  g.sampling.count = 60;
  g.sampling.seed = 11;
  const pl::GenerateTextReport a = pl::generate_text(g);
  EXPECT_EQ(a.text, pl::generate_text(g).text);
  EXPECT_EQ(a.ids.size(), 60u);
  EXPECT_EQ(a.text.size(), 60u);  // ASCII text: one byte per character
  for (char c : a.text) EXPECT_NE(kText.find(c), std::string::npos) << c;
  g.sampling.seed = 12;
  EXPECT_NE(a.text, pl::generate_text(g).text);

  g.prompt = "To be \xE2\x82\xAC";  // the euro sign is not in the text
  const std::string e = test::error_message([&] { pl::generate_text(g); });
  EXPECT_NE(e.find("U+20AC"), std::string::npos) << e;
  EXPECT_NE(e.find("not in the vocabulary"), std::string::npos) << e;

  // An existing output is an error without overwrite.
  EXPECT_THROW(pl::train_lm(o), attnflow::Error);
}

TEST(TrainLm, BadTextIsAnErrorAndLeavesNoFolder) {
  pl::TrainLmOptions o = tiny("bad");
  test::write_file(o.text_path, "abc\xFF" + kText);
  const std::string e = test::error_message([&] { pl::train_lm(o); });
  EXPECT_NE(e.find(o.text_path), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(o.output));
  EXPECT_FALSE(fs::exists(o.output + ".partial"));
  test::write_file(o.text_path, "");
  EXPECT_NE(test::error_message([&] { pl::train_lm(o); }).find("empty"), std::string::npos);
  o.text_path = test::temp_path("missing.txt");
  EXPECT_THROW(pl::train_lm(o), attnflow::Error);
}

}  // namespace
