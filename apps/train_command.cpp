// `attnflow train`: a command group. `train classifier` (options -> pipeline::train_classifier:
// the encoder classifier from scratch, or fine-tuning a --backbone) and `train mlm` (options ->
// pipeline::train_mlm); each prints its result line. `train lm` is registered from its own
// file (apps/train_lm_command.hpp) below.
#include "train_command.hpp"

#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

#include "attnflow/core/error.hpp"
#include "attnflow/pipeline/train_classifier.hpp"
#include "attnflow/pipeline/train_mlm.hpp"
#include "progress_bar.hpp"
#include "torch_commands.hpp"
#include "train_lm_command.hpp"

namespace attnflow::app {
namespace {

// The progress callback every trainer takes: a bar, and one line per epoch.
std::function<void(const torch::TrainProgress&)> progress_printer(ProgressBar& bar, bool quiet,
                                                                  const char* metric) {
  return [&bar, quiet, metric](const torch::TrainProgress& p) {
    bar.update(p.step, p.steps);
    if (p.valid_accuracy >= 0 && !quiet) {
      bar.finish();
      std::cerr << "epoch " << p.epoch << ": loss " << std::fixed << std::setprecision(4) << p.loss;
      if (p.valid_loss >= 0) std::cerr << ", validation loss " << p.valid_loss;
      std::cerr << ", validation " << metric << " " << p.valid_accuracy << "\n";
    }
  };
}

// The options every trainer has, bound to the fields of its options struct `t` (any of
// torch::TrainOptions, torch::MaskedLmTrainOptions).
template <class Options>
void add_architecture_options(CLI::App* cmd, Options& t) {
  cmd->add_option("--layers", t.layers, "Layers")->capture_default_str();
  cmd->add_option("--heads", t.heads, "Heads")->capture_default_str();
  cmd->add_option("--hidden", t.hidden, "Hidden size")->capture_default_str();
  cmd->add_option("--inner", t.inner, "Feed-forward width")->capture_default_str();
  cmd->add_option("--max-positions", t.max_positions, "Longest input")->capture_default_str();
}

template <class Options>
void add_optimiser_options(CLI::App* cmd, Options& t, std::string& save_dtype) {
  cmd->add_option("--epochs", t.epochs, "Epochs")->capture_default_str();
  cmd->add_option("--batch-size", t.batch_size, "Batch size")->capture_default_str();
  cmd->add_option("--lr", t.learning_rate, "Peak learning rate (AdamW)")->capture_default_str();
  cmd->add_option("--weight-decay", t.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--seed", t.seed, "Random seed")->capture_default_str();
  cmd->add_option("-j,--threads", t.threads, "CPU threads (0 = libtorch default)")
      ->capture_default_str();
  cmd->add_option("--save-dtype", save_dtype, "float16 or float32 weights")->capture_default_str();
}

// ---- train classifier ---------------------------------------------------------------------

struct ClassifierArgs {
  pipeline::TrainClassifierOptions job;
  std::string save_dtype = "float16";
  std::string pooling;
  bool freeze = false;
  bool quiet = false;
  CLI::App* cmd = nullptr;
};

// With --backbone: the architecture options do not apply, and the optimiser options the user
// did not give keep seed 002's defaults (torch::FineTuneOptions).
void apply_backbone_options(ClassifierArgs& a) {
  pipeline::TrainClassifierOptions& o = a.job;
  const torch::TrainOptions& t = o.training;
  torch::FineTuneOptions& ft = o.fine_tune;
  if (o.backbone.empty()) {
    if (!a.pooling.empty()) throw Error("--pooling: only with --backbone");
    if (a.freeze) throw Error("--freeze-backbone: only with --backbone");
    return;
  }
  for (const char* flag : {"--layers", "--heads", "--hidden", "--inner", "--max-positions"}) {
    if (a.cmd->count(flag) > 0) {
      throw Error(std::string(flag) + ": not with --backbone (the backbone's config.json decides)");
    }
  }
  if (!a.pooling.empty()) ft.pooling = torch::parse_pooling(a.pooling);
  ft.freeze_backbone = a.freeze;
  if (a.cmd->count("--epochs") > 0) ft.epochs = t.epochs;
  if (a.cmd->count("--batch-size") > 0) ft.batch_size = t.batch_size;
  if (a.cmd->count("--lr") > 0) ft.learning_rate = t.learning_rate;
  if (a.cmd->count("--weight-decay") > 0) ft.weight_decay = t.weight_decay;
  ft.seed = t.seed;
  ft.threads = t.threads;
  ft.save_dtype = t.save_dtype;
  ft.progress = t.progress;
}

void run_classifier(ClassifierArgs& a) {
  pipeline::TrainClassifierOptions& o = a.job;
  const torch::TrainOptions& t = o.training;
  o.training.save_dtype = torch::parse_save_dtype(a.save_dtype);
  ProgressBar bar(!a.quiet && ProgressBar::stderr_is_terminal());
  o.training.progress = progress_printer(bar, a.quiet, "accuracy");
  apply_backbone_options(a);
  const torch::FineTuneOptions& ft = o.fine_tune;
  o.on_start = [&](const pipeline::TrainClassifierReport& r) {
    if (a.quiet) return;
    std::cerr << "training on " << r.train_examples << " examples (" << r.valid_examples
              << " validation), ";
    if (o.backbone.empty()) {
      std::cerr << t.layers << " layers x " << t.heads << " heads, d=" << t.hidden << ", "
                << t.epochs << " epochs\n";
    } else {
      std::cerr << "backbone " << o.backbone << (ft.freeze_backbone ? " (frozen)" : "") << ", "
                << torch::to_string(ft.pooling) << " pooling, " << ft.epochs << " epochs\n";
    }
  };
  const pipeline::TrainClassifierReport r = pipeline::train_classifier(o);
  bar.finish();
  std::cout << "trained " << r.result.trainable_parameters << " of " << r.result.parameters
            << " parameters in " << std::fixed << std::setprecision(1) << r.result.seconds << " s ("
            << r.cpu_seconds << " s CPU, " << r.result.steps << " steps); validation accuracy "
            << std::setprecision(4) << r.valid_accuracy;
  if (r.test_accuracy >= 0) std::cout << ", test accuracy " << r.test_accuracy;
  std::cout << " (" << a.save_dtype << " weights as saved)\nmodel: " << r.output << "\n";
}

void add_train_classifier(CLI::App& group) {
  auto args = std::make_shared<ClassifierArgs>();
  pipeline::TrainClassifierOptions& o = args->job;
  torch::TrainOptions& t = o.training;
  CLI::App* cmd = group.add_subcommand(
      "classifier",
      "Train a sequence classifier: the encoder of Abnar & Zuidema (2020) from scratch, or a "
      "linear head on a --backbone encoder (seed 002)");
  args->cmd = cmd;
  cmd->add_option("--train", o.train_path, "Training corpus (JSONL with text and label)")
      ->required();
  cmd->add_option("--valid", o.valid_path, "Validation corpus")->required();
  cmd->add_option("--test", o.test_path, "Test corpus (accuracy reported)");
  cmd->add_option("--vocab", o.vocab_path,
                  "WordPiece vocab.txt (word level); required without --backbone");
  cmd->add_option("-o,--output", o.output, "Model directory to write")->required();
  cmd->add_option("--backbone", o.backbone,
                  "Encoder model directory (BERT / RoBERTa) to fine-tune with a linear head; "
                  "defaults then: --lr 2e-5 --epochs 5 --batch-size 4 --weight-decay 0.01");
  cmd->add_option("--pooling", args->pooling,
                  "With --backbone: mean (over the non-pad tokens, the default) or cls");
  cmd->add_flag("--freeze-backbone", args->freeze,
                "With --backbone: train only the head (backbone parameters get no gradient)");
  add_architecture_options(cmd, t);
  add_optimiser_options(cmd, t, args->save_dtype);
  cmd->add_option("--labels", o.labels, "Class names (id2label)")->delimiter(',');
  cmd->add_option("--curves", o.curves, "Figure of the loss / accuracy curves (.png/.svg/.pdf)");
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing output directory");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the result line");
  cmd->callback([args] { run_classifier(*args); });
}

// ---- train mlm ----------------------------------------------------------------------------

struct MlmArgs {
  pipeline::TrainMlmOptions job;
  std::string save_dtype = "float16";
  bool quiet = false;
};

void run_mlm(MlmArgs& a) {
  pipeline::TrainMlmOptions& o = a.job;
  const torch::MaskedLmTrainOptions& t = o.training;
  o.training.save_dtype = torch::parse_save_dtype(a.save_dtype);
  ProgressBar bar(!a.quiet && ProgressBar::stderr_is_terminal());
  o.training.progress = progress_printer(bar, a.quiet, "masked-token accuracy");
  o.on_start = [&](const pipeline::TrainMlmReport& r) {
    if (a.quiet) return;
    std::cerr << "pretraining on " << r.train_examples << " sentences (" << r.valid_examples
              << " validation), " << t.layers << " layers x " << t.heads << " heads, d=" << t.hidden
              << ", " << t.epochs << " epochs\n";
  };
  const pipeline::TrainMlmReport r = pipeline::train_mlm(o);
  bar.finish();
  std::cout << "trained " << r.result.parameters << " parameters in " << std::fixed
            << std::setprecision(1) << r.result.seconds << " s (" << r.cpu_seconds << " s CPU, "
            << r.result.steps << " steps); validation masked-token accuracy "
            << std::setprecision(4) << r.valid.accuracy << ", loss " << r.valid.loss << " ("
            << r.valid.predicted << " masked tokens, " << a.save_dtype
            << " weights as saved)\nmodel: " << r.output << "\n";
}

void add_train_mlm(CLI::App& group) {
  auto args = std::make_shared<MlmArgs>();
  pipeline::TrainMlmOptions& o = args->job;
  torch::MaskedLmTrainOptions& t = o.training;
  CLI::App* cmd = group.add_subcommand(
      "mlm", "Pretrain a small BERT (BertForMaskedLM) from scratch by masked-LM on a corpus");
  cmd->add_option("--train", o.train_path, "Training corpus (JSONL / text; labels ignored)")
      ->required();
  cmd->add_option("--valid", o.valid_path, "Validation corpus")->required();
  cmd->add_option("--vocab", o.vocab_path, "WordPiece vocab.txt (word level, with [MASK])")
      ->required();
  cmd->add_option("-o,--output", o.output, "Model directory to write")->required();
  add_architecture_options(cmd, t);
  cmd->add_option("--mask-probability", t.masking.probability,
                  "Share of the tokens predicted (of them 80% [MASK], 10% random, 10% kept)")
      ->capture_default_str();
  add_optimiser_options(cmd, t, args->save_dtype);
  cmd->add_option("--curves", o.curves, "Figure of the loss / accuracy curves (.png/.svg/.pdf)");
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing output directory");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the result line");
  cmd->callback([args] { run_mlm(*args); });
}

}  // namespace

void add_train_command(CLI::App& app) {
  CLI::App* group = app.add_subcommand("train", torch_command_description("train"));
  group->require_subcommand(1);
  add_train_classifier(*group);
  add_train_mlm(*group);
  add_train_lm_command(*group);
}

}  // namespace attnflow::app
