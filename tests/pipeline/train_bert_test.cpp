// `attnflow train mlm` and `attnflow train classifier --backbone` as library calls
// (pipeline::train_mlm, pipeline::train_classifier with a backbone): tiny runs on the shipped
// topic corpus whose saved directories reload and reproduce the metrics that the report and
// training.json record (masked-token accuracy on the validation masks; classification
// accuracy); the per-epoch history; clear errors and no folder for bad inputs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/pipeline/train_classifier.hpp"
#include "attnflow/pipeline/train_mlm.hpp"
#include "attnflow/torch/model.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace pl = attnflow::pipeline;
namespace at = attnflow::torch;
namespace test = attnflow::test;

const std::string kTopics = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/topics/";

std::string lines(const std::string& file, int count, const std::string& name) {
  std::ifstream in(kTopics + file);
  std::string line, text;
  for (int i = 0; i < count && std::getline(in, line); ++i) text += line + "\n";
  const std::string p = test::temp_path(name);
  test::write_file(p, text);
  return p;
}

nlohmann::json training_json(const std::string& dir) {
  return nlohmann::json::parse(test::read_file(dir + "/training.json"));
}

pl::TrainMlmOptions tiny_mlm(const std::string& out) {
  pl::TrainMlmOptions o;
  o.train_path = lines("mlm_train.jsonl", 96, "mlm_train.jsonl");
  o.valid_path = lines("mlm_valid.jsonl", 32, "mlm_valid.jsonl");
  o.vocab_path = kTopics + "vocab.txt";
  o.output = out;
  o.training.layers = 1;
  o.training.heads = 2;
  o.training.hidden = 16;
  o.training.inner = 32;
  o.training.max_positions = 24;
  o.training.epochs = 2;
  o.training.batch_size = 16;
  o.training.seed = 4;
  o.training.threads = 1;
  return o;
}

TEST(TrainMlm, SavedModelReloadsAndReproducesTheRecordedMetric) {
  const std::string out = test::temp_path("mlm");
  const pl::TrainMlmReport r = pl::train_mlm(tiny_mlm(out));
  EXPECT_EQ(r.train_examples, 96);
  EXPECT_EQ(r.result.steps, 12);
  EXPECT_FALSE(fs::exists(out + ".partial"));
  const nlohmann::json j = training_json(out);
  EXPECT_EQ(j["history"].size(), 2u);
  EXPECT_EQ(j["validation_mask_seed"], 5);
  EXPECT_GT(j["valid_masked_tokens"].get<int>(), 10);
  EXPECT_GT(j["train_cpu_seconds"].get<double>(), 0.0);

  // Reload, re-mask the validation corpus as recorded, recompute: the recorded numbers.
  auto model = at::Model::load(out);
  EXPECT_EQ(model->info().architecture, "BertForMaskedLM");
  const auto tok = attnflow::hf::load_tokenizer(out);
  std::vector<std::vector<std::int64_t>> ids;
  for (const auto& e : attnflow::io::read_corpus(tiny_mlm(out).valid_path).examples) {
    ids.push_back(tok->encode(e.text).ids);
  }
  at::MaskingOptions m;
  m.mask_id = *tok->token_to_id("[MASK]");
  m.vocab_size = tok->vocab_size();
  for (const char* s : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"}) {
    m.special_ids.push_back(*tok->token_to_id(s));
  }
  const auto masked = at::mask_tokens(ids, m, j["validation_mask_seed"].get<std::uint64_t>());
  const at::MaskedLmMetrics again = at::masked_lm_metrics(*model, masked, 7);
  EXPECT_EQ(again.predicted, j["valid_masked_tokens"].get<std::int64_t>());
  EXPECT_NEAR(again.accuracy, j["valid_masked_accuracy"].get<double>(), 1e-12);
  EXPECT_NEAR(again.loss, j["valid_masked_loss"].get<double>(), 1e-9);
  EXPECT_NEAR(again.accuracy, r.valid.accuracy, 1e-12);
}

TEST(TrainClassifierBackbone, FineTunedModelReloadsAndReproducesTheRecordedAccuracy) {
  const std::string backbone = test::temp_path("backbone");
  pl::train_mlm(tiny_mlm(backbone));
  for (const bool freeze : {true, false}) {
    const std::string out = test::temp_path(freeze ? "frozen" : "unfrozen");
    pl::TrainClassifierOptions o;
    o.train_path = lines("train.jsonl", 40, "train.jsonl");
    o.valid_path = lines("valid.jsonl", 16, "valid.jsonl");
    o.test_path = lines("test.jsonl", 16, "test.jsonl");
    o.output = out;
    o.backbone = backbone;
    o.labels = {"sport", "music", "food", "weather", "science", "finance", "travel"};
    o.fine_tune.freeze_backbone = freeze;
    o.fine_tune.epochs = 2;
    o.fine_tune.threads = 1;
    const pl::TrainClassifierReport r = pl::train_classifier(o);
    EXPECT_EQ(r.result.steps, 20);  // 40 / batch 4 (seed 002's default), 2 epochs
    const nlohmann::json j = training_json(out);
    EXPECT_EQ(j["freeze_backbone"], freeze);
    EXPECT_EQ(j["pooling"], "mean");
    EXPECT_EQ(j["learning_rate"], 2e-5);
    EXPECT_EQ(j["history"].size(), 2u);
    auto model = at::Model::load(out);
    EXPECT_EQ(model->info().architecture, "AttnflowPooledClassifier");
    EXPECT_EQ(model->info().num_labels, 7);
    const auto tok = attnflow::hf::load_tokenizer(out);
    std::vector<at::TrainExample> valid;
    for (const auto& e : attnflow::io::read_corpus(o.valid_path).examples) {
      valid.push_back({tok->encode(e.text).ids, *e.label});
    }
    EXPECT_DOUBLE_EQ(at::accuracy(*model, valid, 5), j["valid_accuracy"].get<double>());
    const std::string config = test::read_file(out + "/config.json");
    EXPECT_NE(config.find("\"attnflow_pooling\": \"mean\""), std::string::npos) << config;
    EXPECT_NE(config.find("\"6\": \"travel\""), std::string::npos) << config;
  }
}

TEST(TrainClassifierBackbone, BadInputsGiveClearErrorsAndNoFolder) {
  const std::string out = test::temp_path("bad");
  pl::TrainClassifierOptions o;
  o.train_path = lines("train.jsonl", 8, "train.jsonl");
  o.valid_path = o.train_path;
  o.output = out;
  o.backbone = test::temp_path("no_backbone");
  test::expect_error([&] { pl::train_classifier(o); },
                     "--backbone " + o.backbone + ": no config.json (expected a model directory)");
  o.backbone = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/models/sva";
  test::expect_error([&] { pl::train_classifier(o); },
                     "--backbone " + o.backbone +
                         ": model_type 'gpt2' is not supported as a backbone (BERT or RoBERTa "
                         "family)");
  o.vocab_path = kTopics + "vocab.txt";
  test::expect_error(
      [&] { pl::train_classifier(o); },
      "--vocab " + o.vocab_path + ": not with --backbone (the backbone's own tokenizer is used)");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".partial"));

  pl::TrainMlmOptions m = tiny_mlm(out);
  m.vocab_path = test::temp_path("vocab_without_mask.txt");
  test::write_file(m.vocab_path, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\n");
  test::expect_error([&] { pl::train_mlm(m); }, "--vocab " + m.vocab_path + ": no [MASK] token");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".partial"));
}

}  // namespace
