// `attnflow analyze` on an HDF5 corpus (.h5/.hdf5): the corpus-only options
// and the run that drives attnflow::io::analyze_corpus (docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "attnflow/core/analysis.hpp"

namespace attnflow::app {

struct CorpusArgs {
  std::string output_h5;  ///< separate derived-mode store instead of in-place
  std::string run = "analyze";
  bool no_store = false;
  bool overwrite = false;
  bool resume = false;
  std::string precision = "float32";
  bool csv_values = false;
};

/// True for .h5 / .hdf5 (any case).
bool is_corpus_path(const std::string& path);

/// Registers the corpus-only options on `analyze`.
void add_corpus_options(CLI::App& command, CorpusArgs& args);

/// Runs the analysis over the corpus `input` with `options` on `threads`
/// threads (0 = all); `csv` is the summary table path (may be empty).
void run_corpus(const std::string& input, const AnalysisOptions& options, int threads,
                const std::string& csv, bool quiet, const CorpusArgs& args);

}  // namespace attnflow::app
