// `attnflow extract MODEL CORPUS -o OUT.h5`: the CLI options -> pipeline::ExtractOptions -> one
// pipeline::extract_corpus call (all checks, the model runs, the store) -> its report printed.
// The progress bar on stderr is drawn from the pipeline's progress callback.
#include "extract_command.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "analysis_flags.hpp"
#include "attnflow/core/contribution.hpp"
#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/analysis_settings.hpp"
#include "attnflow/pipeline/extract_corpus.hpp"
#include "mpi_ranks.hpp"
#include "progress_bar.hpp"

namespace attnflow::app {
namespace {

/// The command line as given (defaults as documented in --help).
struct ExtractArgs {
  std::string model;
  std::string corpus;
  std::string output;
  std::string format = "auto";
  bool skip_empty = false;
  std::string tokenizer;
  std::string device = "cpu";
  std::string dtype = "float32";
  int batch_size = 8;
  std::int64_t max_length = 0;
  bool truncate = false;
  std::string store = "per-head";
  std::string precision = "float32";
  std::string compression = "none";
  std::string target = "none";
  std::vector<std::string> contributions;
  bool resume = false;
  bool overwrite = false;
  int threads = 0;
  std::string shard;
  bool quiet = false;
  std::string layers;  ///< --layers (empty: all)
  std::string heads;   ///< --heads
  bool layers_given = false, heads_given = false;
  pipeline::AnalysisSettings analysis;  ///< --fusion (fused, derived), -m ... (derived)
  std::string run = "extract";
};

/// The pipeline's options from the command line (the enum options parsed; everything else is
/// checked by extract_corpus).
pipeline::ExtractOptions to_options(const ExtractArgs& a) {
  pipeline::ExtractOptions o;
  o.format = parse_enum(io::kCorpusFormatNames, a.format, "--format");
  o.store = parse_enum(pipeline::kExtractStoreModes, a.store, "--store");
  o.precision = parse_enum(pipeline::kExtractPrecisions, a.precision, "--precision");
  o.dtype = parse_enum(torch::kComputeDtypeNames, a.dtype, "--dtype");
  o.target = torch::parse_target(a.target);
  for (const std::string& c : a.contributions) {
    o.contributions.push_back(parse_enum(kContributionNames, c, "--contributions"));
  }
  io::set_compression(o.write, a.compression, "--compression");
  o.model = a.model;
  o.corpus = a.corpus;
  o.output = a.output;
  o.skip_empty = a.skip_empty;
  o.tokenizer = a.tokenizer;
  o.device = a.device;
  o.batch_size = a.batch_size;
  o.max_length = a.max_length;
  o.truncate = a.truncate;
  o.resume = a.resume;
  o.overwrite = a.overwrite;
  o.threads = a.threads;
  if (!a.shard.empty()) o.shard = pipeline::parse_shard(a.shard);
  if (a.layers_given) o.layers = pipeline::parse_selection(a.layers, "--layers");
  if (a.heads_given) o.heads = pipeline::parse_selection(a.heads, "--heads");
  o.analysis = pipeline::analysis_options(a.analysis);
  o.run = a.run;
  return o;
}

void print_report(const pipeline::ExtractReport& r, const pipeline::Shard& shard) {
  if (r.silent) return;
  if (shard.active()) {
    std::cout << "shard " << pipeline::to_string(shard) << ": corpus examples " << r.range.first
              << ".." << r.range.end - 1 << "\n";
  }
  if (r.ranks > 0) {
    std::cout << "ranks: " << r.ranks << " (mpirun; rank K extracted shard K/" << r.ranks
              << "; merged into " << r.output << ")\n";
  }
  if (r.nothing_to_do) {
    std::cout << "nothing to do: " << r.output << " already holds all " << r.examples
              << " examples of " << r.corpus << "\n";
    return;
  }
  const std::int64_t done = r.extracted;
  char line[512];
  std::snprintf(
      line, sizeof line, "extracted %lld example%s (%lld tokens) in %.2f s (%.1f examples/s) -> %s",
      static_cast<long long>(done), done == 1 ? "" : "s", static_cast<long long>(r.tokens),
      r.seconds, r.seconds > 0 ? static_cast<double>(done) / r.seconds : 0.0, r.output.c_str());
  std::cout << line;
  if (r.resumed > 0) std::cout << " (resumed: " << r.resumed << " examples were already there)";
  std::cout << "\n";
  if (!r.truncated_lines.empty()) {
    std::cout << "truncated " << r.truncated_lines.size()
              << (r.truncated_lines.size() == 1 ? " example" : " examples") << " to "
              << r.length_limit << " tokens: " << r.corpus << " "
              << pipeline::line_list(r.truncated_lines) << "\n";
  }
  if (!r.batch_note.empty()) std::cout << "note: " << r.batch_note << "\n";
  if (!r.resume_note.empty()) std::cout << "note: " << r.resume_note << "\n";
}

void run(const ExtractArgs& a) {
  pipeline::ExtractOptions options = to_options(a);
  io::silence_hdf5_errors();
  if (a.shard.empty() || mpi_launch_size() > 1) options.ranks = mpi_ranks();
  const bool rank0 = options.ranks == nullptr || options.ranks->rank() == 0;
  ProgressBar bar(!a.quiet && rank0 && ProgressBar::stderr_is_terminal());
  pipeline::ExtractReport report;
  try {
    report = pipeline::extract_corpus(
        options, [&](std::int64_t done, std::int64_t total) { bar.update(done, total); });
  } catch (...) {
    bar.finish();
    throw;
  }
  bar.finish();
  if (!a.quiet) print_report(report, options.shard);
}

void add_options(CLI::App* cmd, ExtractArgs& args) {
  cmd->add_option("model", args.model,
                  "Hugging Face model directory (config.json + model.safetensors), or a "
                  "TorchScript .pt file (docs/extract.md)")
      ->required();
  cmd->add_option("corpus", args.corpus,
                  "Text corpus, one example per line: .txt, .jsonl ({\"text\": ..., "
                  "\"label\": ...}) or .tsv (text<TAB>label)")
      ->required();
  cmd->add_option("-o,--output", args.output, "The HDF5 store to write (docs/hdf5-schema.md)")
      ->required();
  cmd->add_option("--format", args.format,
                  "Corpus format: auto (from the extension), text, "
                  "jsonl or tsv")
      ->capture_default_str();
  cmd->add_flag("--skip-empty", args.skip_empty,
                "Skip empty lines of the corpus (by default they are an error)");
  cmd->add_option("--tokenizer", args.tokenizer,
                  "Tokenizer directory (tokenizer.json or vocab files); default: the model's "
                  "directory");
  cmd->add_option("--device", args.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--dtype", args.dtype,
                  "Weights and computation: float32, bfloat16, float16 (CUDA only) or auto (the "
                  "config's torch_dtype on CUDA, float32 on CPU); reduced dtypes for the Llama "
                  "family (docs/extract.md)")
      ->capture_default_str();
  cmd->add_option("-b,--batch-size", args.batch_size, "Examples per model run")
      ->capture_default_str();
  cmd->add_option("--max-length", args.max_length,
                  "Longest example in tokens (default: the model's max_positions)");
  cmd->add_flag("--truncate", args.truncate,
                "Cut longer examples to --max-length, keeping the final special token ([SEP]); "
                "without it a longer example is an error");
  cmd->add_option("--store", args.store,
                  "per-head: every head's map; fused: the heads fused (--fusion, no gradients); "
                  "derived: no maps, only the analysis (-m raw,residual,rollout,flow, and "
                  "grad-rollout with --target; --rows) computed from the fused layers as they "
                  "are produced (docs/extract.md)")
      ->capture_default_str();
  cmd->add_option("--layers", args.layers,
                  "Only these model layers, 1-based: numbers and ranges, e.g. 1,6-8 (default "
                  "all; recorded in the store)");
  cmd->add_option("--heads", args.heads, "Only these heads, 1-based, e.g. 1-4 (default all)");
  cmd->add_option("--rows", args.analysis.target_rows,
                  "--store derived: token rows to explain (negative counts from the end, -1 = "
                  "last token)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_flag("--all-rows", args.analysis.all_rows, "--store derived: every token row");
  cmd->add_option("--run", args.run, "--store derived: the results group /derived/NAME")
      ->capture_default_str();
  add_analysis_flags(*cmd, args.analysis);
  cmd->add_option("--precision", args.precision, "Stored precision: float32 or float16")
      ->capture_default_str();
  cmd->add_option("--compression", args.compression,
                  std::string("Codec of the stored attention: ") + io::kCompressionChoices +
                      " (lz4 and bitshuffle need HDF5's filter plugins: docs/hdf5-schema.md)")
      ->capture_default_str();
  cmd->add_option("--target", args.target,
                  "Gradient target: none, class:K, label, predicted, prob-diff "
                  "(classifiers); mask, mask:ID (masked LM); next, next:ID, last (causal LM); "
                  "token:POS:ID (any LM: the logit of token ID at position POS, -1 = last)")
      ->capture_default_str();
  cmd->add_option("--contributions", args.contributions,
                  "Also store value-aware contribution matrices [L, n, n] per example: norm, "
                  "globenc, alti, value-zeroing (native BERT-family, GPT-2 and Llama-family "
                  "models; docs/methods.md)")
      ->delimiter(',');
  cmd->add_flag("--resume", args.resume,
                "Continue OUT.h5: skip the examples it holds, append the rest of the corpus");
  cmd->add_flag("--overwrite", args.overwrite, "Replace an existing OUT.h5");
  cmd->add_option("-j,--threads", args.threads, "CPU threads for libtorch (0 = its default)")
      ->capture_default_str();
  cmd->add_option("--shard", args.shard,
                  "Only shard K of N of the corpus (K/N, 0 <= K < N): whole batches, balanced by "
                  "tokens; OUT.h5 holds that range (attnflow merge joins the shards). "
                  "docs/scale.md");
  cmd->add_flag("-q,--quiet", args.quiet, "Print nothing but errors (no progress bar)");
}

}  // namespace

void add_extract_command(CLI::App& app) {
  auto args = std::make_shared<ExtractArgs>();
  CLI::App* cmd = app.add_subcommand(
      "extract",
      "Run a transformer over a text corpus and store its attention maps (and gradients) in an "
      "HDF5 store");
  add_options(cmd, *args);
  cmd->callback([args, cmd] {
    args->layers_given = cmd->count("--layers") > 0;
    args->heads_given = cmd->count("--heads") > 0;
    run(*args);
  });  // errors: cli_main.cpp (exit 1 for attnflow::Error)
}

}  // namespace attnflow::app
