// The analyze job: option checks per input kind, then analyze_npy or
// analyze_corpus with the summary CSV; the corpus report.
#include "attnflow/pipeline/analyze.hpp"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/summary_csv.hpp"

namespace attnflow::pipeline {
namespace {

// --precision of the stored results (the store's table also names float16, for stacks).
constexpr EnumName<io::Precision> kResultPrecisionNames[] = {
    {io::Precision::Float32, "float32"},
    {io::Precision::Float64, "float64"},
};

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
std::string kept_note(const std::string& input, const CorpusAnalysisOptions& o) {
  try {
    std::string where = input;
    if (o.output == CorpusOutput::None) return "";
    if (o.output == CorpusOutput::File) where = o.output_path + ".partial";
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

/// The corpus settings as analyze_corpus options, checked.
CorpusAnalysisOptions corpus_options(const AnalyzeOptions& a, const AnalysisOptions& analysis) {
  const CorpusSettings& c = a.corpus;
  CorpusAnalysisOptions o;
  o.analysis = analysis;
  o.threads = a.analysis.threads;
  o.run = c.run;
  if (c.no_store && !c.output_h5.empty()) {
    throw Error("--no-store and --output-h5 exclude each other");
  }
  if (c.overwrite && c.resume) throw Error("--overwrite and --resume exclude each other");
  o.output = c.no_store             ? CorpusOutput::None
             : !c.output_h5.empty() ? CorpusOutput::File
                                    : CorpusOutput::InPlace;
  o.output_path = c.output_h5;
  if (o.output == CorpusOutput::InPlace && ::access(a.input.c_str(), F_OK) == 0 &&
      ::access(a.input.c_str(), W_OK) != 0) {
    throw Error(a.input +
                ": not writable, so results cannot go into it; use --output-h5 FILE or "
                "--no-store");
  }
  o.start = c.resume      ? io::RunStart::Resume
            : c.overwrite ? io::RunStart::Overwrite
                          : io::RunStart::New;
  o.precision = parse_enum(kResultPrecisionNames, c.precision, "--precision");
  if (!c.shard.empty()) o.shard = parse_shard(c.shard);
  o.on_progress = a.on_progress;
  return o;
}

AnalyzeReport run_corpus(const AnalyzeOptions& a, const AnalysisOptions& analysis) {
  if (!a.gradient.empty() || !a.tokens.empty()) {
    throw Error(
        "--gradient and --tokens are for .npy input; an HDF5 corpus stores gradients "
        "and tokens per example");
  }
  io::silence_hdf5_errors();  // every HDF5 failure reaches the user as one attnflow error
  CorpusAnalysisOptions o = corpus_options(a, analysis);
  std::unique_ptr<SummaryCsv> table;
  if (!a.output.empty()) table = std::make_unique<SummaryCsv>(a.output, a.corpus.csv_values);
  o.on_result = [&](const CorpusItem& item) {
    if (table) table->add(item);
  };
  AnalyzeReport report;
  report.input = a.input;
  report.corpus = true;
  CorpusReport& r = report.corpus_run;
  try {
    r.stats = analyze_corpus(a.input, o);
  } catch (const Error& e) {
    throw Error(e.what() + kept_note(a.input, o));
  }
  if (table) table->commit();
  report.csv = a.output;
  const io::StoreInfo info =
      io::Store::open(o.output == CorpusOutput::File ? o.output_path : a.input).info();
  r.layers = info.layers;
  r.heads = info.heads;
  r.analysis = o.analysis;
  r.output = o.output;
  r.run = o.run;
  r.output_h5 = o.output_path;
  r.shard = o.shard;
  return report;
}

void print_corpus(const AnalyzeReport& report, std::ostream& os) {
  const CorpusReport& r = report.corpus_run;
  const CorpusAnalysisStats& stats = r.stats;
  os << report.input << ": " << stats.examples << " examples";
  if (r.shard.active()) {
    os << " (shard " << to_string(r.shard) << ": examples " << stats.range.first << ".."
       << stats.range.end - 1 << ")";
  }
  os << " (" << r.layers << " layers, "
     << r.heads << " heads); methods " << join_methods(r.analysis) << "; target rows "
     << join_rows(r.analysis.target_rows) << "\n";
  char line[256];
  const double rate =
      stats.wall_seconds > 0 ? static_cast<double>(stats.computed) / stats.wall_seconds : 0.0;
  std::snprintf(line, sizeof line,
                "analysed %lld examples in %.2f s on %d threads (%.1f examples/s; read %.2f s, "
                "compute %.2f s summed over threads, write %.2f s)",
                static_cast<long long>(stats.computed), stats.wall_seconds, stats.threads, rate,
                stats.read_seconds, stats.compute_seconds, stats.write_seconds);
  os << line << "\n";
  if (stats.resumed > 0) os << "resumed: " << stats.resumed << " examples were already done\n";
  if (!stats.note.empty()) os << "note: " << stats.note << "\n";
  if (r.output == CorpusOutput::InPlace) {
    os << "results: run '" << r.run << "' in " << report.input << " (/derived/" << r.run << ")\n";
  } else if (r.output == CorpusOutput::File) {
    os << "results: " << r.output_h5 << " (run '" << r.run << "')\n";
  } else {
    os << "results: not stored (--no-store)\n";
  }
  if (!report.csv.empty()) os << "summary: " << report.csv << "\n";
}

}  // namespace

AnalyzeReport analyze(const AnalyzeOptions& a) {
  const AnalysisOptions analysis = analysis_options(a.analysis);  // checked first, for both
  if (is_corpus_path(a.input)) return run_corpus(a, analysis);
  NpyAnalysisOptions o;
  o.analysis = analysis;
  const CorpusSettings defaults;
  const CorpusSettings& c = a.corpus;
  if (!c.output_h5.empty() || c.run != defaults.run || c.no_store || c.overwrite || c.resume ||
      c.precision != defaults.precision || c.csv_values || !c.shard.empty()) {
    throw Error(a.input +
                ": --output-h5, --run, --no-store, --overwrite, --resume, --precision, "
                "--csv-values and --shard are for HDF5 corpora (.h5/.hdf5)");
  }
  o.input = a.input;
  o.gradient = a.gradient;
  o.tokens = a.tokens;
  o.csv = a.output;
  AnalyzeReport report;
  report.input = a.input;
  report.npy = analyze_npy(o);
  report.csv = report.npy.csv;
  return report;
}

void print_report(const AnalyzeReport& report, std::ostream& os) {
  if (report.corpus) {
    print_corpus(report, os);
  } else {
    print_report(report.npy, os);
  }
}

}  // namespace attnflow::pipeline
