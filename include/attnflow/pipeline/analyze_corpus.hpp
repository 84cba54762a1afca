// Corpus-scale analysis: attnflow::analyze over every example of an HDF5
// store, examples in parallel, results written as a derived run (into the
// store, into a separate derived-mode store, or nowhere) in example order.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "attnflow/core/analysis.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store_types.hpp"
#include "attnflow/pipeline/shard.hpp"

namespace attnflow::pipeline {

enum class CorpusOutput {
  InPlace,  ///< run /derived/<run> inside the input store (opened read-write)
  File,     ///< a new derived-mode store at output_path (built as
            ///< <output_path>.partial, renamed when the run is complete)
  None,     ///< compute only (the callbacks still see every result)
};

/// One finished example, delivered in index order.
struct CorpusItem {
  std::int64_t index = 0;                ///< in the whole store (also for a shard)
  const io::Example* example = nullptr;  ///< tokens, ids, labels (attention may be empty)
  const AnalysisResult* result = nullptr;
  bool resumed = false;  ///< read back from an earlier invocation of the run
};

struct CorpusAnalysisOptions {
  /// Methods, target rows, layers, preparation. A negative target row r
  /// means token n + r of each example (-1 = last token). flow.threads is
  /// ignored: see `threads`.
  AnalysisOptions analysis;
  /// Examples analysed at once (0 = all hardware threads). Each example's
  /// flow runs on one thread, unless fewer examples than threads remain
  /// (then threads / remaining each).
  int threads = 0;
  CorpusOutput output = CorpusOutput::InPlace;
  std::string output_path;  ///< CorpusOutput::File
  std::string run = "analyze";
  /// New, Overwrite or Resume (a run that was never begun is then started; stats.note).
  io::RunStart start = io::RunStart::New;
  io::Precision precision = io::Precision::Float32;  ///< of the stored maps
  /// Only shard K of N of the examples (balanced by analysis_cost, shard.hpp); its results go
  /// to a separate output (File, which records the range, or None), never in place.
  Shard shard;
  /// Called for every example in index order with the maps as stored (at
  /// `precision` when results are written; full double with output None).
  std::function<void(const CorpusItem&)> on_result;
  /// Called after each committed example with (done, total).
  std::function<void(std::int64_t, std::int64_t)> on_progress;
};

struct CorpusAnalysisStats {
  std::int64_t examples = 0;  ///< examples in the store (a shard: in its range)
  ExampleRange range;         ///< the examples of the run (all, or the shard's)
  std::int64_t computed = 0;  ///< analysed by this call
  std::int64_t resumed = 0;   ///< taken from an earlier invocation
  int threads = 1;
  double read_seconds = 0.0;         ///< Store::read, summed over threads: the three below
  double read_wait_seconds = 0.0;    ///<   waiting for the HDF5 lock
  double read_hdf5_seconds = 0.0;    ///<   HDF5 calls (serialised across threads)
  double read_decode_seconds = 0.0;  ///<   inflate + float16 decode (parallel)
  double compute_seconds = 0.0;      ///< attnflow::analyze, summed over threads
  double write_seconds = 0.0;        ///< derived results + commits (one thread)
  double wall_seconds = 0.0;
  /// "nothing to resume: starting FILE" when `start` was Resume but the run had never begun
  /// (no output file, or no such run in the store): it was started instead; "" otherwise.
  std::string note;
};

/// Runs the analysis. On a bad example (unreadable, invalid values, target
/// row out of range...) every earlier example is committed, the run is
/// marked failed, and Error("<path>: example <i>: <what is wrong>") is
/// thrown. A separate output file then stays at <output_path>.partial. Example indices in
/// messages and callbacks are those of the input store (also for a shard).
CorpusAnalysisStats analyze_corpus(const std::string& path, const CorpusAnalysisOptions& options);

}  // namespace attnflow::pipeline
