// Corpus mode of `attnflow analyze`: options -> io::analyze_corpus, with a
// progress bar, the summary CSV and a short report.
#include "analyze_corpus.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <memory>

#include "attnflow/core/error.hpp"
#include "attnflow/io/corpus_analysis.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "progress_bar.hpp"
#include "summary_csv.hpp"

namespace attnflow::app {
namespace {

std::string join_methods(const AnalysisOptions& o) {
  std::string s;
  for (Method m : o.methods) s += std::string(s.empty() ? "" : ",") + to_string(m);
  return s;
}

std::string join_rows(const std::vector<int>& rows) {
  if (rows.empty()) return "all";
  std::string s;
  for (int r : rows) s += (s.empty() ? "" : ",") + std::to_string(r);
  return s;
}

/// After a failure: what was kept, and how to continue.
std::string kept_note(const std::string& input, const io::CorpusAnalysisOptions& o) {
  try {
    std::string where = input;
    if (o.output == io::CorpusOutput::None) return "";
    if (o.output == io::CorpusOutput::File) where = o.output_path + ".partial";
    const io::Store store = io::Store::open(where);
    if (!io::has_run(store, o.run)) return "";
    const io::RunInfo run = io::run_info(store, o.run);
    if (run.status == io::RunStatus::Complete) {
      return "\n  run '" + o.run + "' of " + where +
             " is complete: --overwrite recomputes it, --resume re-emits its results, --run NAME "
             "starts another";
    }
    if (run.size == 0) return "";
    return "\n  results of examples 0.." + std::to_string(run.size - 1) + " are kept in run '" +
           o.run + "' of " + where + " (status " + to_string(run.status) +
           "); fix the input and rerun with --resume to continue";
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

bool is_corpus_path(const std::string& path) {
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == "h5" || ext == "hdf5";
}

void add_corpus_options(CLI::App& command, CorpusArgs& args) {
  const std::string group = "HDF5 corpus (.h5/.hdf5 input)";
  command
      .add_option("--output-h5", args.output_h5,
                  "Write results to this new derived-mode store instead of into the input "
                  "(built as FILE.partial, renamed when complete)")
      ->group(group);
  command.add_option("--run", args.run, "Name of the results group /derived/NAME")
      ->capture_default_str()
      ->group(group);
  command.add_flag("--no-store", args.no_store, "Do not write results to HDF5 (CSV/report only)")
      ->group(group);
  command.add_flag("--overwrite", args.overwrite, "Replace an existing run (or --output-h5 file)")
      ->group(group);
  command
      .add_flag("--resume", args.resume,
                "Continue an interrupted or failed run with the same options (a complete run "
                "just re-emits its results)")
      ->group(group);
  command
      .add_option("--precision", args.precision, "Stored precision of results: float32, float64")
      ->capture_default_str()
      ->group(group);
  command
      .add_flag("--csv-values", args.csv_values,
                "Add a 'values' column with the whole map row to the summary CSV")
      ->group(group);
}

void run_corpus(const std::string& input, const AnalysisOptions& options, int threads,
                const std::string& csv, bool quiet, const CorpusArgs& args) {
  io::silence_hdf5_errors();  // every HDF5 failure reaches the user as one attnflow error
  io::CorpusAnalysisOptions o;
  o.analysis = options;
  o.threads = threads;
  o.run = args.run;
  if (args.no_store && !args.output_h5.empty()) {
    throw Error("--no-store and --output-h5 exclude each other");
  }
  if (args.overwrite && args.resume) throw Error("--overwrite and --resume exclude each other");
  o.output = args.no_store             ? io::CorpusOutput::None
             : !args.output_h5.empty() ? io::CorpusOutput::File
                                       : io::CorpusOutput::InPlace;
  o.output_path = args.output_h5;
  if (o.output == io::CorpusOutput::InPlace && ::access(input.c_str(), F_OK) == 0 &&
      ::access(input.c_str(), W_OK) != 0) {
    throw Error(input +
                ": not writable, so results cannot go into it; use --output-h5 FILE or "
                "--no-store");
  }
  o.start = args.resume      ? io::RunStart::Resume
            : args.overwrite ? io::RunStart::Overwrite
                             : io::RunStart::New;
  if (args.precision != "float32" && args.precision != "float64") {
    throw Error("--precision: unknown '" + args.precision + "' (expected float32 or float64)");
  }
  o.precision = io::parse_precision(args.precision);

  std::unique_ptr<SummaryCsv> table;
  if (!csv.empty()) table = std::make_unique<SummaryCsv>(csv, args.csv_values);
  ProgressBar bar(!quiet && ProgressBar::stderr_is_terminal());
  o.on_result = [&](const io::CorpusItem& item) {
    if (table) table->add(item);
  };
  o.on_progress = [&](std::int64_t done, std::int64_t total) { bar.update(done, total); };
  io::CorpusAnalysisStats stats;
  try {
    stats = io::analyze_corpus(input, o);
  } catch (const Error& e) {
    bar.finish();
    throw Error(e.what() + kept_note(input, o));
  }
  bar.finish();
  if (table) table->commit();
  if (quiet) return;
  const io::StoreInfo info =
      io::Store::open(o.output == io::CorpusOutput::File ? args.output_h5 : input).info();
  std::cout << input << ": " << stats.examples << " examples (" << info.layers << " layers, "
            << info.heads << " heads); methods " << join_methods(options) << "; target rows "
            << join_rows(options.target_rows) << "\n";
  char line[256];
  const double rate =
      stats.wall_seconds > 0 ? static_cast<double>(stats.computed) / stats.wall_seconds : 0.0;
  std::snprintf(line, sizeof line,
                "analysed %lld examples in %.2f s on %d threads (%.1f examples/s; read %.2f s, "
                "compute %.2f s summed over threads, write %.2f s)",
                static_cast<long long>(stats.computed), stats.wall_seconds, stats.threads, rate,
                stats.read_seconds, stats.compute_seconds, stats.write_seconds);
  std::cout << line << "\n";
  if (stats.resumed > 0)
    std::cout << "resumed: " << stats.resumed << " examples were already done\n";
  if (o.output == io::CorpusOutput::InPlace) {
    std::cout << "results: run '" << o.run << "' in " << input << " (/derived/" << o.run << ")\n";
  } else if (o.output == io::CorpusOutput::File) {
    std::cout << "results: " << args.output_h5 << " (run '" << o.run << "')\n";
  } else {
    std::cout << "results: not stored (--no-store)\n";
  }
  if (!csv.empty()) std::cout << "summary: " << csv << "\n";
}

}  // namespace attnflow::app
