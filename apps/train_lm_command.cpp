// `attnflow train lm`: options (the seed's config keys, with its defaults) -> pipeline::train_lm
// -> the result lines.
#include "train_lm_command.hpp"

#include <iomanip>
#include <iostream>
#include <memory>
#include <string>

#include "attnflow/pipeline/train_lm.hpp"

namespace attnflow::app {
namespace {

struct TrainLmArgs {
  pipeline::TrainLmOptions job;
  std::string save_dtype = "float32";
  bool no_plot = false;
  bool quiet = false;
};

void run_train_lm(TrainLmArgs& a) {
  pipeline::TrainLmOptions& o = a.job;
  o.training.save_dtype = torch::parse_save_dtype(a.save_dtype);
  o.plot = !a.no_plot;
  o.progress = [&](const torch::CharGptEvaluation& e) {
    if (a.quiet) return;
    std::cerr << "step " << e.step << ": train loss " << std::fixed << std::setprecision(4)
              << e.train_loss << ", val loss " << e.val_loss << "\n";
  };
  const pipeline::TrainLmReport r = pipeline::train_lm(o);
  const torch::CharGptEvaluation& last = r.result.curve.back();
  std::cout << "trained " << r.result.parameters << " parameters on " << r.characters
            << " characters (vocabulary " << r.vocab_size << ") in " << std::fixed
            << std::setprecision(1) << r.result.seconds << " s (CPU " << r.cpu_seconds << " s)\n"
            << std::setprecision(4) << "final train loss " << last.train_loss << ", val loss "
            << last.val_loss << "; val loss over all windows " << r.result.val_loss_windows
            << " (reloaded: " << r.reloaded_val_loss << ")\nmodel: " << r.output << "\n";
}

}  // namespace

void add_train_lm_command(CLI::App& train_group) {
  auto args = std::make_shared<TrainLmArgs>();
  pipeline::TrainLmOptions& o = args->job;
  torch::CharGptOptions& t = o.training;
  CLI::App* cmd = train_group.add_subcommand(
      "lm",
      "Train seed 004's character GPT (post-LN blocks, causal) on a text: character "
      "vocabulary, train/val loss every eval interval, a model directory");
  cmd->add_option("--text", o.text_path, "Training text (UTF-8); the first 90% trains")->required();
  cmd->add_option("-o,--output", o.output, "Model directory to write")->required();
  cmd->add_option("--n-ctx", t.n_ctx, "Context length (block size)")->capture_default_str();
  cmd->add_option("--n-embd", t.n_embd, "Embedding width")->capture_default_str();
  cmd->add_option("--n-head", t.n_head, "Heads per layer")->capture_default_str();
  cmd->add_option("--n-layer", t.n_layer, "Layers")->capture_default_str();
  cmd->add_option("--dropout", t.dropout, "Dropout")->capture_default_str();
  cmd->add_option("--lr", t.learning_rate, "AdamW learning rate")->capture_default_str();
  cmd->add_option("--batch-size", t.batch_size, "Windows per step")->capture_default_str();
  cmd->add_option("--max-iters", t.max_iters, "Optimiser steps")->capture_default_str();
  cmd->add_option("--eval-interval", t.eval_interval, "Steps between evaluations")
      ->capture_default_str();
  cmd->add_option("--eval-iters", t.eval_iters, "Batches averaged per split in an evaluation")
      ->capture_default_str();
  cmd->add_option("--train-fraction", t.train_fraction, "Share of the text that trains")
      ->capture_default_str();
  cmd->add_option("--seed", t.seed, "Random seed (initialisation and batches)")
      ->capture_default_str();
  cmd->add_option("--device", t.device, "cpu or cuda")->capture_default_str();
  cmd->add_option("-j,--threads", t.threads, "CPU threads (0 = libtorch default)")
      ->capture_default_str();
  cmd->add_option("--save-dtype", args->save_dtype, "float32 or float16 weights")
      ->capture_default_str();
  cmd->add_flag("--no-plot", args->no_plot, "Do not draw loss_curve.png");
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing output directory");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the result lines");
  cmd->callback([args] { run_train_lm(*args); });
}

}  // namespace attnflow::app
