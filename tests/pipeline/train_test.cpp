// Training as a library call (pipeline::train_classifier over torch::train_encoder_classifier):
// a tiny run (one epoch, a few dozen SVA sentences, 1 layer, d=16) whose saved directory
// reloads with torch::Model::load and gives the accuracy that the report and training.json
// record; a fixed seed gives the same weights; bad inputs give clear errors and no folder.
#include "attnflow/pipeline/train_classifier.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train.hpp"
#include "support/test_support.hpp"

namespace {

namespace fs = std::filesystem;
namespace pl = attnflow::pipeline;
namespace at = attnflow::torch;
namespace test = attnflow::test;

const std::string kSva = std::string(ATTNFLOW_SOURCE_DIR) + "/datasets/sva/";

// Lines [first, first + count) of a shipped SVA corpus file, written to a temporary file.
std::string sva_lines(const std::string& file, int first, int count, const std::string& name) {
  std::ifstream in(kSva + file);
  std::string line, text;
  for (int i = 0; i < first + count && std::getline(in, line); ++i) {
    if (i >= first) text += line + "\n";
  }
  const std::string p = test::temp_path(name);
  test::write_file(p, text);
  return p;
}

// The number after "key": in training.json.
double json_number(const std::string& json, const std::string& key) {
  const auto at_key = json.find("\"" + key + "\": ");
  if (at_key == std::string::npos) return -100.0;
  return std::stod(json.substr(at_key + key.size() + 4));
}

pl::TrainClassifierOptions tiny(const std::string& output) {
  pl::TrainClassifierOptions o;
  o.train_path = sva_lines("train.jsonl", 0, 48, "train.jsonl");
  o.valid_path = sva_lines("valid.jsonl", 0, 16, "valid.jsonl");
  o.test_path = sva_lines("test.jsonl", 0, 24, "test.jsonl");
  o.vocab_path = kSva + "vocab.txt";
  o.output = output;
  o.training.layers = 1;
  o.training.heads = 2;
  o.training.hidden = 16;
  o.training.inner = 32;
  o.training.max_positions = 32;
  o.training.epochs = 1;
  o.training.batch_size = 16;
  o.training.seed = 7;
  o.training.threads = 1;
  return o;
}

// Accuracy recomputed independently of torch::accuracy: one example per run.
double accuracy_one_by_one(at::Model& model, const std::string& model_dir,
                           const std::string& corpus) {
  const auto tok = attnflow::hf::load_tokenizer(model_dir);
  std::int64_t correct = 0, total = 0;
  for (const auto& e : attnflow::io::read_corpus(corpus).examples) {
    at::RunOptions ro;
    ro.attention = false;
    const at::Output o = model.run({at::Input{tok->encode(e.text).ids, {}, e.label}}, ro).front();
    correct += *o.prediction == *e.label ? 1 : 0;
    ++total;
  }
  return static_cast<double>(correct) / static_cast<double>(total);
}

TEST(TrainClassifier, SavedModelReloadsAndGivesTheRecordedAccuracy) {
  const std::string out = test::temp_path("model");
  pl::TrainClassifierOptions o = tiny(out);
  int progress_calls = 0, epoch_ends = 0;
  o.training.progress = [&](const at::TrainProgress& p) {
    ++progress_calls;
    if (p.valid_accuracy >= 0) ++epoch_ends;
  };
  std::int64_t started_with = -1;
  o.on_start = [&](const pl::TrainClassifierReport& r) { started_with = r.train_examples; };
  const pl::TrainClassifierReport r = pl::train_classifier(o);

  EXPECT_EQ(started_with, 48);
  EXPECT_EQ(r.train_examples, 48);
  EXPECT_EQ(r.valid_examples, 16);
  EXPECT_EQ(r.test_examples, 24);
  EXPECT_EQ(r.result.steps, 3);  // 48 / 16, one epoch
  EXPECT_EQ(progress_calls, 3);
  EXPECT_EQ(epoch_ends, 1);
  EXPECT_GT(r.result.parameters, 0);
  EXPECT_GE(r.test_accuracy, 0.0);
  EXPECT_LE(r.test_accuracy, 1.0);
  for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json",
                        "training.json"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::path(out) / f)) << f;
  }
  EXPECT_FALSE(fs::exists(out + ".partial"));

  auto model = at::Model::load(out);
  EXPECT_EQ(model->info().architecture, "AttnflowEncoderClassifier");
  EXPECT_EQ(model->info().layers, 1);
  EXPECT_EQ(model->info().heads, 2);
  EXPECT_EQ(model->info().hidden_size, 16);
  EXPECT_EQ(model->info().num_labels, 2);
  EXPECT_FALSE(model->info().causal);
  EXPECT_DOUBLE_EQ(accuracy_one_by_one(*model, out, o.test_path), r.test_accuracy);
  EXPECT_DOUBLE_EQ(accuracy_one_by_one(*model, out, o.valid_path), r.valid_accuracy);

  const std::string json = test::read_file(out + "/training.json");
  EXPECT_NEAR(json_number(json, "test_accuracy"), r.test_accuracy, 1e-6);
  EXPECT_NEAR(json_number(json, "valid_accuracy"), r.valid_accuracy, 1e-6);
  EXPECT_EQ(json_number(json, "train_examples"), 48);
  EXPECT_EQ(json_number(json, "steps"), 3);
  EXPECT_EQ(json_number(json, "seed"), 7);
  EXPECT_NE(json.find("\"save_dtype\": \"float16\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"created\": \"" + r.created + "\""), std::string::npos) << json;
  EXPECT_EQ(r.created.size(), 20u) << r.created;  // 2026-12-01T07:30:00Z
  EXPECT_NE(test::read_file(out + "/config.json").find("\"torch_dtype\": \"float16\""),
            std::string::npos);
  EXPECT_NE(test::read_file(out + "/model.safetensors").find("\"F16\""), std::string::npos);
}

TEST(TrainClassifier, SameSeedSameWeightsAndFloat32Saves) {
  const std::string a = test::temp_path("seed_a"), b = test::temp_path("seed_b");
  pl::TrainClassifierOptions o = tiny(a);
  o.test_path.clear();
  o.training.save_dtype = at::SaveDtype::Float32;
  const pl::TrainClassifierReport ra = pl::train_classifier(o);
  o.output = b;
  const pl::TrainClassifierReport rb = pl::train_classifier(o);
  EXPECT_EQ(ra.test_accuracy, -1.0);
  EXPECT_EQ(ra.test_examples, 0);
  EXPECT_EQ(ra.result.final_loss, rb.result.final_loss);
  EXPECT_EQ(test::read_file(a + "/model.safetensors"), test::read_file(b + "/model.safetensors"));
  EXPECT_NE(test::read_file(a + "/model.safetensors").find("\"F32\""), std::string::npos);
  EXPECT_NE(test::read_file(a + "/config.json").find("\"torch_dtype\": \"float32\""),
            std::string::npos);
  auto model = at::Model::load(a);
  EXPECT_DOUBLE_EQ(accuracy_one_by_one(*model, a, o.valid_path), ra.valid_accuracy);
}

TEST(TrainClassifier, BadInputsGiveClearErrorsAndNoFolder) {
  const std::string out = test::temp_path("bad");
  const auto check = [&](const pl::TrainClassifierOptions& o, const std::string& expected) {
    test::expect_error([&] { pl::train_classifier(o); }, expected);
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out + ".partial"));
  };
  pl::TrainClassifierOptions o = tiny(out);
  o.vocab_path = kSva + "no_vocab.txt";
  check(o, "--vocab " + kSva + "no_vocab.txt: no such file (a WordPiece vocab.txt)");

  o = tiny(out);
  const std::string unlabelled = test::temp_path("unlabelled.jsonl");
  std::ofstream(unlabelled)
      << "{\"text\": \"the key is\", \"label\": 0}\n{\"text\": \"the keys\"}\n";
  o.valid_path = unlabelled;
  check(o, unlabelled + ":2: no label (training needs one on every line)");

  o = tiny(out);
  o.training.max_positions = 4;
  check(o, o.train_path + ":1: 8 tokens, more than --max-positions 4");

  o = tiny(out);
  o.training.heads = 3;
  check(o, "train: hidden size 16 is not divisible by 3 heads");

  o = tiny(out);
  o.labels = {"singular"};  // one class, but the corpus has label 1
  const std::string message = test::error_message([&] { pl::train_classifier(o); });
  EXPECT_NE(message.find(": label 1 outside 0..0"), std::string::npos) << message;

  o = tiny(out);
  o.train_path = test::temp_path("missing.jsonl");
  test::expect_error_contains([&] { pl::train_classifier(o); }, o.train_path);
  EXPECT_FALSE(fs::exists(out));

  fs::create_directories(out);
  o = tiny(out);
  test::expect_error([&] { pl::train_classifier(o); },
                     out + ": exists (use --overwrite to replace it)");
  fs::remove_all(out);
}

TEST(TrainEncoderClassifier, RejectsEmptyAndOutOfRangeData) {
  at::TrainOptions o;
  o.layers = 1;
  o.heads = 2;
  o.hidden = 16;
  o.inner = 32;
  o.vocab_size = 10;
  const std::vector<at::TrainExample> good = {{{2, 5, 3}, 0}, {{2, 6, 3}, 1}};
  const std::string dir = test::temp_path("direct");
  test::expect_error([&] { at::train_encoder_classifier({}, good, o, dir); },
                     "train: the training set is empty");
  test::expect_error(
      [&] {
        at::train_encoder_classifier(good, {{{2, 12, 3}, 0}}, o, dir);
      },
      "train: validation example 0: token id 12 outside the vocabulary (10 ids)");
  test::expect_error(
      [&] {
        at::train_encoder_classifier({{{}, 0}}, good, o, dir);
      },
      "train: training example 0: no tokens");
  o.vocab_size = 0;
  test::expect_error([&] { at::train_encoder_classifier(good, good, o, dir); },
                     "train: vocab_size must be positive");
}

TEST(Accuracy, OneDefinitionWithClearErrors) {
  EXPECT_DOUBLE_EQ(at::accuracy({0, 1, 1, 0}, {0, 1, 0, 0}), 0.75);
  test::expect_error([] { at::accuracy({0, 1}, {0}); }, "accuracy: 2 predictions for 1 labels");
  test::expect_error([] { at::accuracy({}, {}); }, "accuracy: no examples");
  auto base = at::Model::load(std::string(ATTNFLOW_TEST_DATA) + "/models/bert_base");
  const std::string message = test::error_message([&] { at::accuracy(*base, {{{1, 2}, 0}}); });
  EXPECT_NE(message.find("not a classifier"), std::string::npos) << message;
}

TEST(SaveDtype, ParsesAndNames) {
  EXPECT_EQ(at::parse_save_dtype("float32"), at::SaveDtype::Float32);
  EXPECT_EQ(at::parse_save_dtype("float16"), at::SaveDtype::Float16);
  EXPECT_EQ(at::to_string(at::SaveDtype::Float32), "float32");
  EXPECT_EQ(at::to_string(at::SaveDtype::Float16), "float16");
  test::expect_error([] { at::parse_save_dtype("bf16"); },
                     "save dtype: unknown 'bf16' (expected float32 or float16)");
}

}  // namespace
