// `attnflow train`: options -> pipeline::train_classifier -> the result line.
#include "train_command.hpp"

#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

#include "attnflow/pipeline/train_classifier.hpp"
#include "progress_bar.hpp"
#include "torch_commands.hpp"
#include "train_lm_command.hpp"

namespace attnflow::app {
namespace {

struct TrainArgs {
  pipeline::TrainClassifierOptions job;
  std::string save_dtype = "float16";
  bool quiet = false;
};

void run_train(TrainArgs& a) {
  pipeline::TrainClassifierOptions& o = a.job;
  const torch::TrainOptions& t = o.training;
  o.training.save_dtype = torch::parse_save_dtype(a.save_dtype);
  ProgressBar bar(!a.quiet && ProgressBar::stderr_is_terminal());
  o.training.progress = [&](const torch::TrainProgress& p) {
    bar.update(p.step, p.steps);
    if (p.valid_accuracy >= 0 && !a.quiet) {
      bar.finish();
      std::cerr << "epoch " << p.epoch << ": loss " << std::fixed << std::setprecision(4) << p.loss
                << ", validation accuracy " << p.valid_accuracy << "\n";
    }
  };
  o.on_start = [&](const pipeline::TrainClassifierReport& r) {
    if (a.quiet) return;
    std::cerr << "training on " << r.train_examples << " examples (" << r.valid_examples
              << " validation), " << t.layers << " layers x " << t.heads << " heads, d=" << t.hidden
              << ", " << t.epochs << " epochs\n";
  };
  const pipeline::TrainClassifierReport r = pipeline::train_classifier(o);
  bar.finish();
  std::cout << "trained " << r.result.parameters << " parameters in " << std::fixed
            << std::setprecision(1) << r.result.seconds << " s (" << r.result.steps
            << " steps); validation accuracy " << std::setprecision(4) << r.valid_accuracy;
  if (r.test_accuracy >= 0) std::cout << ", test accuracy " << r.test_accuracy;
  std::cout << " (" << torch::to_string(t.save_dtype) << " weights as saved)\nmodel: " << r.output
            << "\n";
}

}  // namespace

void add_train_command(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  pipeline::TrainClassifierOptions& o = args->job;
  torch::TrainOptions& t = o.training;
  CLI::App* group = app.add_subcommand("train", torch_command_description("train"));
  group->require_subcommand(1);
  add_train_lm_command(*group);
  CLI::App* cmd = group->add_subcommand(
      "classifier", "Train the encoder classifier of Abnar & Zuidema (2020) on a labelled corpus");
  cmd->add_option("--train", o.train_path, "Training corpus (JSONL with text and label)")
      ->required();
  cmd->add_option("--valid", o.valid_path, "Validation corpus")->required();
  cmd->add_option("--test", o.test_path, "Test corpus (accuracy reported)");
  cmd->add_option("--vocab", o.vocab_path, "WordPiece vocab.txt (word level)")->required();
  cmd->add_option("-o,--output", o.output, "Model directory to write")->required();
  cmd->add_option("--layers", t.layers, "Layers")->capture_default_str();
  cmd->add_option("--heads", t.heads, "Heads")->capture_default_str();
  cmd->add_option("--hidden", t.hidden, "Hidden size")->capture_default_str();
  cmd->add_option("--inner", t.inner, "Feed-forward width")->capture_default_str();
  cmd->add_option("--max-positions", t.max_positions, "Longest input")->capture_default_str();
  cmd->add_option("--epochs", t.epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch-size", t.batch_size, "Batch size")->capture_default_str();
  cmd->add_option("--lr", t.learning_rate, "Peak learning rate (AdamW)")->capture_default_str();
  cmd->add_option("--weight-decay", t.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--seed", t.seed, "Random seed")->capture_default_str();
  cmd->add_option("-j,--threads", t.threads, "CPU threads (0 = libtorch default)")
      ->capture_default_str();
  cmd->add_option("--save-dtype", args->save_dtype, "float16 or float32 weights")
      ->capture_default_str();
  cmd->add_option("--labels", o.labels, "Class names (id2label)")->delimiter(',');
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing output directory");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the result line");
  cmd->callback([args] { run_train(*args); });
}

}  // namespace attnflow::app
