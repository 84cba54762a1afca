// `attnflow evaluate`: options -> pipeline::evaluate -> the table, the timings and the files.
#include "evaluate_command.hpp"

#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/pipeline/evaluate.hpp"
#include "attnflow/pipeline/evaluate_methods.hpp"
#include "progress_bar.hpp"
#include "torch_commands.hpp"

namespace attnflow::app {
namespace {

struct EvaluateArgs {
  pipeline::EvaluateOptions job;
  std::string target = "predicted";
  std::string perturbation = "unk";
  std::string rounding = "ceil";
  bool no_plots = false;
  bool quiet = false;
};

std::string method_help() {
  std::string help = "Methods, comma-separated (default: all):";
  for (const pipeline::EvaluationMethod& m : pipeline::evaluation_methods()) {
    help += "\n  " + m.name + ": " + m.description;
  }
  return help;
}

void print_report(const pipeline::EvaluateReport& r) {
  const auto cost = [](const pipeline::StepCost& c) {
    std::ostringstream s;
    s << std::setprecision(3) << c.cpu * 1e3 << " (" << c.wall * 1e3 << ")";
    return s.str();
  };
  std::cout << r.text << "\ncost per example, median ms CPU (wall): shared model run "
            << cost(r.run_cost);
  for (const pipeline::MethodResult& m : r.methods)
    std::cout << "; " << m.name << " " << cost(m.cost);
  std::cout << "; perturbed inputs (" << std::fixed << std::setprecision(1)
            << r.perturbed_inputs_mean << " per example) " << cost(r.perturbed_cost) << "\nwrote "
            << r.output << "/:";
  for (const std::string& f : r.files) std::cout << " " << f;
  std::cout << " (" << std::setprecision(1) << r.seconds << " s)\n";
}

void run_evaluate(EvaluateArgs& a) {
  pipeline::EvaluateOptions& o = a.job;
  o.target = parse_enum(pipeline::kEvaluateTargetNames, a.target, "--target");
  o.faithfulness.perturbation =
      parse_enum(pipeline::kPerturbationNames, a.perturbation, "--perturbation");
  o.faithfulness.rounding = parse_enum(pipeline::kPercentRoundingNames, a.rounding, "--rounding");
  o.plots = !a.no_plots;
  ProgressBar bar(!a.quiet && ProgressBar::stderr_is_terminal());
  o.on_progress = [&](std::int64_t done, std::int64_t total) { bar.update(done, total); };
  const pipeline::EvaluateReport r = pipeline::evaluate(o);
  bar.finish();
  print_report(r);
}

}  // namespace

void add_evaluate_command(CLI::App& app) {
  auto args = std::make_shared<EvaluateArgs>();
  pipeline::EvaluateOptions& o = args->job;
  CLI::App* cmd = app.add_subcommand("evaluate", torch_command_description("evaluate"));
  cmd->add_option("--model", o.model,
                  "Classifier model directory or .pt (default: datasets/models/sva)");
  cmd->add_option("--corpus", o.corpus,
                  "Labelled corpus: JSONL with \"label\" or TSV (default: "
                  "datasets/sva/test.jsonl)");
  cmd->add_option("--tokenizer", o.tokenizer, "Tokenizer directory (default: the model's)");
  cmd->add_option("-o,--output", o.output, "Output folder")->capture_default_str();
  cmd->add_option("-m,--methods", o.methods, method_help())->delimiter(',');
  cmd->add_option("-n,--examples", o.examples, "The first N examples (0 = all)")
      ->capture_default_str();
  cmd->add_option("--target", args->target, "Class explained: predicted (ERASER) or label")
      ->capture_default_str();
  cmd->add_option("--perturbation", args->perturbation,
                  "A removed token becomes unk ([UNK]), mask ([MASK]) or is removed (remove)")
      ->capture_default_str();
  cmd->add_option("--aopc-percents", o.faithfulness.aopc_percents,
                  "AOPC bins k in % of the non-special tokens")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--curve-percents", o.faithfulness.curve_percents,
                  "Points of the deletion / insertion curves in %")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--rounding", args->rounding,
                  "k% of m tokens: ceil, round or floor of k m / 100, clamped to [1, m]")
      ->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of the random baseline")->capture_default_str();
  cmd->add_option("--target-row", o.target_row, "Row read by attention methods (0 = [CLS])")
      ->capture_default_str();
  cmd->add_option("--batch-size", o.batch_size, "Perturbed inputs per model run")
      ->capture_default_str();
  cmd->add_option("-j,--threads", o.threads, "Threads (0 = all cores)")->capture_default_str();
  cmd->add_flag("--save-scores", o.save_scores, "Also write scores.jsonl (every token's scores)");
  cmd->add_flag("--no-plots", args->no_plots, "Do not draw deletion.png and insertion.png");
  cmd->add_flag("--overwrite", o.overwrite, "Replace an existing output folder");
  cmd->add_flag("-q,--quiet", args->quiet, "No progress bar");
  cmd->callback([args] { run_evaluate(*args); });
}

}  // namespace attnflow::app
