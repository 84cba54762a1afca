// `attnflow reproduce PAPER`: options -> pipeline::reproduce -> the tables and the files.
#include "reproduce_command.hpp"

#include <iostream>
#include <memory>
#include <string>

#include "attnflow/pipeline/reproduce.hpp"
#include "progress_bar.hpp"
#include "torch_commands.hpp"

namespace attnflow::app {
namespace {

struct ReproduceArgs {
  pipeline::ReproduceOptions job;
  std::string convention = "paper";
  bool quiet = false;
};

void run_reproduce(ReproduceArgs& a) {
  a.job.convention = pipeline::parse_convention(a.convention);
  ProgressBar bar(!a.quiet && ProgressBar::stderr_is_terminal());
  a.job.on_progress = [&](std::int64_t done, std::int64_t total) { bar.update(done, total); };
  if (!a.quiet) a.job.on_note = [](const std::string& note) { std::cerr << note << "\n"; };
  const pipeline::ReproduceReport r = pipeline::reproduce(a.job);
  bar.finish();
  std::cout << r.text << "\nwrote " << r.output << "/: tables.txt, tables.csv, table_*.png, "
            << "figure1_graph.png, figure2_*.png, figure3_*.png\n";
}

}  // namespace

void add_reproduce_command(CLI::App& app) {
  auto args = std::make_shared<ReproduceArgs>();
  pipeline::ReproduceOptions& o = args->job;
  CLI::App* cmd = app.add_subcommand("reproduce", torch_command_description("reproduce"));
  cmd->add_option("paper", o.paper, "Which paper: abnar2020")->required();
  cmd->add_option("-o,--output", o.output, "Output folder")->capture_default_str();
  cmd->add_option("--model", o.model_dir,
                  "Trained SVA model directory (default: datasets/models/sva; `attnflow train` "
                  "makes one)");
  cmd->add_option("--test", o.test_path, "Held-out JSONL (default: datasets/sva/test.jsonl)");
  cmd->add_option("-n,--examples", o.examples, "Held-out examples")->capture_default_str();
  cmd->add_flag("--ci", o.ci, "CI-sized run (at most 200 examples; flagged in the output)");
  cmd->add_option("--convention", args->convention,
                  "paper: every Spearman over all input positions, [CLS] and [SEP] included "
                  "(the paper's code); attnflow: the sentence tokens only. Both are reported; "
                  "this one comes first and is charted")
      ->capture_default_str();
  cmd->add_option("-j,--threads", o.threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing output folder");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress bar");
  cmd->callback([args] { run_reproduce(*args); });
}

}  // namespace attnflow::app
