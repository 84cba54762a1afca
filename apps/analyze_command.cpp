// `attnflow analyze`: options -> pipeline::analyze (one .npy stack, or an
// HDF5 corpus) -> the report on stdout, with a progress bar for corpora.
#include "analyze_command.hpp"

#include <iostream>
#include <memory>

#include "analysis_flags.hpp"
#include "attnflow/pipeline/analyze.hpp"
#include "mpi_ranks.hpp"
#include "progress_bar.hpp"

namespace attnflow::app {
namespace {

struct AnalyzeArgs {
  pipeline::AnalyzeOptions options;
  bool quiet = false;
};

void add_corpus_options(CLI::App& command, pipeline::CorpusSettings& c) {
  const std::string group = "HDF5 corpus (.h5/.hdf5 input)";
  command
      .add_option("--output-h5", c.output_h5,
                  "Write results to this new derived-mode store instead of into the input "
                  "(built as FILE.partial, renamed when complete)")
      ->group(group);
  command.add_option("--run", c.run, "Name of the results group /derived/NAME")
      ->capture_default_str()
      ->group(group);
  command.add_flag("--no-store", c.no_store, "Do not write results to HDF5 (CSV/report only)")
      ->group(group);
  command.add_flag("--overwrite", c.overwrite, "Replace an existing run (or --output-h5 file)")
      ->group(group);
  command
      .add_flag("--resume", c.resume,
                "Continue an interrupted or failed run with the same options (a complete run "
                "just re-emits its results)")
      ->group(group);
  command.add_option("--precision", c.precision, "Stored precision of results: float32, float64")
      ->capture_default_str()
      ->group(group);
  command
      .add_option("--shard", c.shard,
                  "Only shard K of N of the examples (K/N, 0 <= K < N; balanced by estimated "
                  "cost); results go to --output-h5 (one file per shard: attnflow merge joins "
                  "them) or nowhere (--no-store). docs/scale.md")
      ->group(group);
  command
      .add_flag("--csv-values", c.csv_values,
                "Add a 'values' column with the whole map row to the summary CSV")
      ->group(group);
}

void run(AnalyzeArgs& a) {
  pipeline::AnalyzeOptions& o = a.options;
  const bool corpus = pipeline::is_corpus_path(o.input);
  if (corpus && (o.corpus.shard.empty() || mpi_launch_size() > 1)) o.ranks = mpi_ranks();
  const bool rank0 = o.ranks == nullptr || o.ranks->rank() == 0;
  ProgressBar bar(!a.quiet && corpus && rank0 && ProgressBar::stderr_is_terminal());
  o.on_progress = [&](std::int64_t done, std::int64_t total) { bar.update(done, total); };
  pipeline::AnalyzeReport report;
  try {
    report = pipeline::analyze(o);
  } catch (...) {
    bar.finish();
    throw;
  }
  bar.finish();
  if (!a.quiet) pipeline::print_report(report, std::cout);
}

}  // namespace

void add_analyze_command(CLI::App& app) {
  auto args = std::make_shared<AnalyzeArgs>();
  pipeline::AnalyzeOptions& o = args->options;
  pipeline::AnalysisSettings& s = o.analysis;
  CLI::App* cmd = app.add_subcommand(
      "analyze", "Raw attention, rollout, attention flow and gradient rollout for target tokens");
  cmd->add_option("input", o.input,
                  "Attention stack: .npy float32/float64 of shape (layers, heads, n, n) or "
                  "(layers, n, n), row = query; or an HDF5 corpus (.h5/.hdf5, "
                  "docs/hdf5-schema.md)")
      ->required();
  cmd->add_option("--gradient", o.gradient, "dy/dA stack (.npy, same shape) for grad-rollout");
  cmd->add_option("--tokens", o.tokens, "Token labels, one per line (UTF-8)");
  cmd->add_option("-o,--output", o.output,
                  "CSV output. .npy: long format (method,layer,row,column,token,value); HDF5 "
                  "corpus: summary table, one row per example x method x row x layer");
  cmd->add_option("-t,--target", s.target_rows,
                  "Target token rows (0 = CLS; negative counts from the end, -1 = last token)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--all-rows", s.all_rows, "Explain every token row");
  cmd->add_option("--layers", s.layers, "Layers (1-based) for raw/residual/flow; default all")
      ->delimiter(',');
  cmd->add_option("--start-layer", s.start_layer, "First layer of rollout products")
      ->capture_default_str();
  add_analysis_flags(*cmd, s);
  cmd->add_option("-j,--threads", s.threads,
                  "Threads (0 = all cores): flow pairs for .npy; examples for an HDF5 corpus")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "Print nothing but errors (no progress bar)");
  add_corpus_options(*cmd, o.corpus);
  cmd->callback([args] { run(*args); });
}

}  // namespace attnflow::app
