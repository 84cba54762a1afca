// extract_corpus: a text corpus -> a transformer run with libtorch -> an HDF5 store with every
// example's attention maps (and, with a target, their gradients), as `attnflow extract` does
// (docs/extract.md). Everything is validated before the store is touched; then examples are
// appended one by one in corpus order, so a failed or killed run keeps what it wrote.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "attnflow/core/analysis.hpp"
#include "attnflow/core/contribution.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/io/corpus_reader.hpp"
#include "attnflow/io/store_types.hpp"
#include "attnflow/pipeline/shard.hpp"
#include "attnflow/pipeline/shard_job.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/target.hpp"

namespace attnflow::pipeline {

/// What extract writes (the store's own tables also name derived and float64): the names
/// --store and --precision accept.
inline constexpr EnumName<io::StoreMode> kExtractStoreModes[] = {
    {io::StoreMode::PerHead, "per-head"},
    {io::StoreMode::Fused, "fused"},
    {io::StoreMode::Derived, "derived"},
};
inline constexpr EnumName<io::Precision> kExtractPrecisions[] = {
    {io::Precision::Float32, "float32"},
    {io::Precision::Float16, "float16"},
};

struct ExtractOptions {
  std::string model;   ///< HF model directory (or its config.json), or a TorchScript .pt file
  std::string corpus;  ///< text corpus: .txt, .jsonl or .tsv (io::read_corpus)
  std::string output;  ///< the HDF5 store to write
  io::CorpusFormat format = io::CorpusFormat::Auto;  ///< corpus format (Auto: the extension)
  bool skip_empty = false;      ///< skip empty corpus lines (by default they are an error)
  std::string tokenizer;        ///< tokenizer directory; "" = the model's directory
  std::string device = "cpu";   ///< cpu, cuda or cuda:N
  int batch_size = 8;           ///< examples per model run (>= 1; --resume: the first run's)
  std::int64_t max_length = 0;  ///< longest example in tokens; 0 = the model's max_positions
  bool truncate = false;        ///< cut longer examples (keeping a final [SEP]) instead of failing
  /// --dtype: the weights' and the computation's dtype (torch::LoadOptions::dtype; Llama family
  /// only for bfloat16 / float16); recorded in the store (StoreInfo::compute_dtype, schema 3).
  torch::ComputeDtype dtype = torch::ComputeDtype::Float32;
  /// PerHead; Fused (heads fused on the model's device, analysis.prepare.fusion); Derived (no
  /// maps at all: the analysis of each example, computed from its fused layers as they are
  /// produced, in the run /derived/<run>). docs/extract.md, "Bounded memory".
  io::StoreMode store = io::StoreMode::PerHead;
  /// --layers / --heads: the 1-based model layers and heads to keep, ascending (parse_selection);
  /// empty = all. Recorded in the store (schema 3).
  std::vector<int> layers;
  std::vector<int> heads;
  /// Fused: the fusion (analysis.prepare.fusion). Derived: the whole analysis (methods raw,
  /// residual, rollout, flow; target rows; fusion, discard, residual, flow options).
  AnalysisOptions analysis;
  std::string run = "extract";  ///< Derived: the name of the run under /derived
  io::Precision precision = io::Precision::Float32;  ///< Float32 or Float16
  torch::Target target;                              ///< gradient target; kind None = no gradients
  /// --contributions: value-aware matrices stored per example as [L, n, n] datasets (native
  /// BERT / GPT-2 models only; docs/methods.md). Empty = none.
  std::vector<Contribution> contributions;
  /// The store's codec (--compression, io::set_compression); --resume keeps the store's own.
  io::WriteOptions write;
  /// Continue an existing output (same model, options, batch size and corpus) so that it ends
  /// with the bytes of an uninterrupted run; no output yet: start it (ExtractReport::resume_note).
  bool resume = false;
  bool overwrite = false;  ///< replace an existing output (only once the input is known good)
  int threads = 0;         ///< CPU threads for libtorch (0 = its default)
  /// Only shard K of N of the corpus (--shard K/N): a contiguous range of whole batches of
  /// `batch_size`, balanced by their tokens (a shard's examples are those an unsharded run
  /// writes, bit for bit); `output` then holds that range and records it (attnflow merge).
  Shard shard;
  /// An MPI job (mpirun; null = one process): rank K extracts shard K/N into `output`'s shard
  /// file (shard_path), rank 0 merges them into `output` (external links; docs/scale.md).
  Ranks* ranks = nullptr;
};

/// Called after every stored example: `done` of `total` examples of this run (resumed
/// examples not counted).
using ExtractProgress = std::function<void(std::int64_t done, std::int64_t total)>;

struct ExtractReport {
  std::string output;          ///< the store written
  std::string corpus;          ///< the corpus read (as named in messages)
  std::int64_t examples = 0;   ///< examples of the corpus (a shard: of its range)
  ExampleRange range;          ///< the corpus examples of this run (all, or the shard's)
  std::int64_t extracted = 0;  ///< examples this run stored
  std::int64_t resumed = 0;    ///< examples the store already held (--resume)
  std::int64_t tokens = 0;     ///< tokens of the examples this run stored
  double seconds = 0.0;        ///< time of the model runs and writes (after the checks)
  bool nothing_to_do = false;  ///< --resume on a store that already holds the whole corpus
  std::vector<std::int64_t> truncated_lines;  ///< corpus lines cut by `truncate`
  std::int64_t length_limit = 0;              ///< the length they were cut to
  /// "lines A-B failed as one batch (...) and were run one by one", for the first such batch;
  /// "" when every batch ran as one.
  std::string batch_note;
  /// "nothing to resume: starting FILE" (--resume, no output yet), or why a resumed run may
  /// differ from an uninterrupted one (a store that records no batch size); "" otherwise.
  std::string resume_note;
  int ranks = 0;        ///< MPI job: its ranks (counts summed over them); 0 = one process
  bool silent = false;  ///< a rank other than 0 of an MPI job: rank 0 reports
};

/// Runs the extraction. Throws Error with the message `attnflow extract` prints: a bad option,
/// model, corpus line, token, length or target before anything is written (an existing output
/// is then untouched); a failing example during the run, naming its line and what the store
/// keeps.
ExtractReport extract_corpus(const ExtractOptions& options, const ExtractProgress& progress = {});

/// "1,6-8" -> {1, 6, 7, 8}: numbers and inclusive ranges, comma-separated, >= 1, returned
/// ascending. Throws Error naming `option` and `text` for an empty list, a bad number or range,
/// or a number given twice.
std::vector<int> parse_selection(const std::string& text, const std::string& option);

/// Line numbers for a message: "line 7", "lines 7, 19, 42" or "lines 7, 19, 42, 50, 61 and
/// 12 more".
std::string line_list(const std::vector<std::int64_t>& lines);

}  // namespace attnflow::pipeline
