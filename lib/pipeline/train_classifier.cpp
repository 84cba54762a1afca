// train_classifier: corpora -> tokenizer -> training -> model directory with training.json.
#include "attnflow/pipeline/train_classifier.hpp"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/utc_time.hpp"
#include "attnflow/hf/tokenizer.hpp"
#include "attnflow/pipeline/output_folder.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train_bert.hpp"
#include "attnflow/version.hpp"
#include "train_common.hpp"

namespace attnflow::pipeline {
namespace {

namespace fs = std::filesystem;

void write_training_json(const TrainClassifierOptions& o, const TrainClassifierReport& r,
                         const fs::path& dir) {
  const bool fine_tune = !o.backbone.empty();
  const torch::TrainOptions& t = o.training;
  const torch::FineTuneOptions& ft = o.fine_tune;
  nlohmann::json j = {
      {"attnflow_version", ATTNFLOW_VERSION_STRING},
      {"created", r.created},
      {"train", o.train_path},
      {"train_examples", r.train_examples},
      {"valid", o.valid_path},
      {"valid_examples", r.valid_examples},
      {"test", o.test_path},
      {"test_examples", r.test_examples},
  };
  if (fine_tune) {
    j["backbone"] = o.backbone;
    j["pooling"] = torch::to_string(ft.pooling);
    j["freeze_backbone"] = ft.freeze_backbone;
    j["epochs"] = ft.epochs;
    j["batch_size"] = ft.batch_size;
    j["learning_rate"] = ft.learning_rate;
    j["weight_decay"] = ft.weight_decay;
    j["seed"] = ft.seed;
    j["learning_rate_schedule"] = "constant";
  } else {
    j["layers"] = t.layers;
    j["heads"] = t.heads;
    j["hidden"] = t.hidden;
    j["inner"] = t.inner;
    j["epochs"] = t.epochs;
    j["batch_size"] = t.batch_size;
    j["learning_rate"] = t.learning_rate;
    j["weight_decay"] = t.weight_decay;
    j["seed"] = t.seed;
  }
  j["parameters"] = r.result.parameters;
  j["trainable_parameters"] = r.result.trainable_parameters;
  j["steps"] = r.result.steps;
  j["final_loss"] = r.result.final_loss;
  j["valid_accuracy"] = r.valid_accuracy;
  j["test_accuracy"] = r.test_accuracy;
  j["history"] = history_json(r.result.history);
  j["train_seconds"] = r.result.seconds;
  j["train_cpu_seconds"] = r.cpu_seconds;
  j["hardware"] = hardware_text(fine_tune ? ft.threads : t.threads);
  j["save_dtype"] = torch::to_string(fine_tune ? ft.save_dtype : t.save_dtype);
  std::ofstream f(dir / "training.json");
  f << j.dump(2) << "\n";
  if (!f) throw Error((dir / "training.json").string() + ": cannot write");
}

}  // namespace

TrainClassifierReport train_classifier(const TrainClassifierOptions& o) {
  const bool fine_tune = !o.backbone.empty();
  std::int64_t max_positions = o.training.max_positions;
  if (fine_tune) {
    if (!o.vocab_path.empty()) {
      throw Error("--vocab " + o.vocab_path +
                  ": not with --backbone (the backbone's own tokenizer is used)");
    }
    max_positions = torch::backbone_info(o.backbone).max_positions;
  } else if (o.vocab_path.empty() || !fs::is_regular_file(o.vocab_path)) {
    throw Error("--vocab " + o.vocab_path + ": no such file (a WordPiece vocab.txt)");
  }
  OutputFolder folder(o.output, o.overwrite);
  const fs::path dir = folder.path();
  if (fine_tune) {
    copy_tokenizer_files(o.backbone, dir);
  } else {
    write_word_tokenizer(o.vocab_path, max_positions, dir);
  }
  const auto tok = hf::load_tokenizer(dir.string());
  const auto train = encode_labelled(o.train_path, *tok, max_positions);
  const auto valid = encode_labelled(o.valid_path, *tok, max_positions);
  const auto test = o.test_path.empty() ? std::vector<torch::TrainExample>{}
                                        : encode_labelled(o.test_path, *tok, max_positions);

  TrainClassifierReport r;
  r.output = o.output;
  r.train_examples = static_cast<std::int64_t>(train.size());
  r.valid_examples = static_cast<std::int64_t>(valid.size());
  r.test_examples = static_cast<std::int64_t>(test.size());
  if (o.on_start) o.on_start(r);
  const std::clock_t cpu_start = std::clock();
  int threads = o.training.threads;
  if (fine_tune) {
    torch::FineTuneOptions ft = o.fine_tune;
    ft.backbone = o.backbone;
    ft.num_labels = static_cast<std::int64_t>(o.labels.size());
    ft.label_names = o.labels;
    threads = ft.threads;
    r.result = torch::fine_tune_classifier(train, valid, ft, dir.string());
  } else {
    torch::TrainOptions t = o.training;
    t.vocab_size = tok->vocab_size();
    t.num_labels = static_cast<std::int64_t>(o.labels.size());
    t.label_names = o.labels;
    r.result = torch::train_encoder_classifier(train, valid, t, dir.string());
  }
  r.cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;

  // Accuracy of the saved model as it is read back (weights in save_dtype).
  torch::LoadOptions lo;
  lo.threads = threads;
  auto model = torch::Model::load(dir.string(), lo);
  r.valid_accuracy = torch::accuracy(*model, valid);
  r.test_accuracy = test.empty() ? -1.0 : torch::accuracy(*model, test);
  r.created = utc_now_iso8601();
  write_training_json(o, r, dir);
  plot_history(r.result.history, o.curves,
               fs::path(o.output).filename().string() + ": training curves");
  folder.commit();
  return r;
}

}  // namespace attnflow::pipeline
