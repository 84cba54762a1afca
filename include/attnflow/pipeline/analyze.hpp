// `attnflow analyze` as one library call: a .npy stack (tables and a
// long-format CSV, analyze_npy.hpp) or an HDF5 corpus (a derived run, the
// summary CSV and statistics, analyze_corpus.hpp), and its report printer.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

#include "attnflow/pipeline/analysis_settings.hpp"
#include "attnflow/pipeline/analyze_corpus.hpp"
#include "attnflow/pipeline/analyze_npy.hpp"
#include "attnflow/pipeline/shard_job.hpp"

namespace attnflow::pipeline {

/// The corpus-only settings as the CLI names them (docs/cli.md).
struct CorpusSettings {
  std::string output_h5;        ///< --output-h5: separate derived-mode store; empty = in place
  std::string run = "analyze";  ///< --run: results group /derived/NAME
  bool no_store = false;        ///< --no-store: compute only (CSV/report)
  bool overwrite = false;       ///< --overwrite an existing run or --output-h5 file
  bool resume = false;          ///< --resume an interrupted or failed run
  std::string precision = "float32";  ///< --precision of stored results: float32, float64
  bool csv_values = false;            ///< --csv-values: whole map row in the summary CSV
  /// --shard K/N: only shard K of N of the examples (shard.hpp), results to --output-h5 (one
  /// file per shard, `attnflow merge` joins them) or --no-store; "" = all examples.
  std::string shard;
};

struct AnalyzeOptions {
  std::string input;     ///< .npy stack, or an HDF5 corpus (.h5/.hdf5)
  std::string gradient;  ///< .npy only: dy/dA stack
  std::string tokens;    ///< .npy only: token labels file
  /// CSV: .npy long format; corpus summary table (one row per example x
  /// method x row x layer). Empty = none.
  std::string output;
  AnalysisSettings analysis;  ///< -j: flow threads (.npy) or examples at once (corpus)
  CorpusSettings corpus;      ///< must stay at its defaults for .npy input
  /// Corpus: called after each committed example with (done, total); in an MPI job on rank 0
  /// with the examples of all ranks.
  std::function<void(std::int64_t, std::int64_t)> on_progress;
  /// An MPI job (mpirun; null = one process): every rank analyses shard rank/size into
  /// --output-h5's shard file (shard_path) and the CSV's, rank 0 merges them into --output-h5
  /// and the CSV (docs/scale.md).
  Ranks* ranks = nullptr;
};

/// What a corpus run did, for the report.
struct CorpusReport {
  CorpusAnalysisStats stats;
  int layers = 0;
  int heads = 0;
  /// What the stored layers and heads are when they are not simply the model's: "" or e.g.
  /// "layers 1..2 are model layers 1,3 of 3" (a schema-3 selection), "heads fused with 'max'".
  std::string layout;
  AnalysisOptions analysis;  ///< methods and target rows as requested
  CorpusOutput output = CorpusOutput::InPlace;
  std::string run;
  std::string output_h5;  ///< CorpusOutput::File
  Shard shard;            ///< --shard (inactive: all examples)
  int ranks = 0;          ///< MPI job: its ranks (stats summed over them); 0 = one process
};

struct AnalyzeReport {
  std::string input;
  bool corpus = false;      ///< which of the two below is filled
  NpyAnalysisReport npy;    ///< .npy input
  CorpusReport corpus_run;  ///< HDF5 corpus input
  std::string csv;          ///< the CSV written, or empty
  bool silent = false;      ///< a rank other than 0 of an MPI job: rank 0 reports
};

/// Runs `attnflow analyze`. Throws Error with the CLI's messages on bad
/// options or input; after a corpus failure the message says what was kept
/// and how to continue (--resume).
AnalyzeReport analyze(const AnalyzeOptions& options);

/// The command's output: tables (.npy) or the run summary (corpus).
void print_report(const AnalyzeReport& report, std::ostream& os);

}  // namespace attnflow::pipeline
