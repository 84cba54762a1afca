// The analyze job: option checks per input kind, then analyze_npy or
// analyze_corpus with the summary CSV; the corpus report.
#include "attnflow/pipeline/analyze.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/core/util/enum_names.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/merge.hpp"
#include "attnflow/pipeline/summary_csv.hpp"
#include "store_selection.hpp"

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

/// CorpusReport::layout of a store.
std::string stored_layout(const io::StoreInfo& info) {
  std::vector<std::string> parts;
  if (!info.layer_selection.empty() || !info.head_selection.empty()) {
    parts.push_back("stored " + std::string(info.layer_selection.empty() ? "heads" : "layers") +
                    " are " + describe_selection(info));
  }
  if (info.mode == io::StoreMode::Fused) parts.push_back("heads fused with '" + info.fusion + "'");
  if (info.decoder_layers > 0) {
    parts.push_back("the encoder of an encoder-decoder store (the decoder: attnflow encdec)");
  }
  std::string text;
  for (const std::string& p : parts) text += (text.empty() ? "" : "; ") + p;
  return text;
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
  r.layout = stored_layout(o.output == CorpusOutput::File ? io::Store::open(a.input).info() : info);
  r.analysis = o.analysis;
  r.output = o.output;
  r.run = o.run;
  r.output_h5 = o.output_path;
  r.shard = o.shard;
  return report;
}

/// The CSV parts of the ranks, in rank order, as one CSV (one header), and the parts removed.
void join_csv(const std::vector<std::string>& parts, const std::string& path) {
  write_file_atomically(path, [&](std::ostream& out) {
    for (std::size_t k = 0; k < parts.size(); ++k) {
      std::ifstream in(parts[k], std::ios::binary);
      if (!in) throw Error(parts[k] + ": cannot read this rank's part of " + path);
      std::string header;
      std::getline(in, header);
      if (k == 0) out << header << "\n";
      out << in.rdbuf();
    }
  });
  for (const std::string& part : parts) std::remove(part.c_str());
}

/// Under mpirun: rank R analyses shard R of N into the shard files of --output-h5 and the CSV;
/// rank 0 merges them (docs/scale.md).
AnalyzeReport run_corpus_ranks(const AnalyzeOptions& a, const AnalysisOptions& analysis) {
  Ranks& ranks = *a.ranks;
  const CorpusSettings& c = a.corpus;
  const auto started = std::chrono::steady_clock::now();
  if (!c.shard.empty()) {
    throw Error("--shard " + c.shard +
                ": under mpirun every rank is one shard already (rank K of N = shard K/N)");
  }
  if (c.output_h5.empty() && !c.no_store) {
    throw Error(a.input +
                ": under mpirun the ranks cannot all write into it; give --output-h5 FILE "
                "(rank K writes FILE's shard K, rank 0 merges them into FILE) or --no-store");
  }
  if (!c.output_h5.empty() && ::access(c.output_h5.c_str(), F_OK) == 0 && !c.resume &&
      !c.overwrite) {
    throw Error(c.output_h5 + ": already exists; overwrite it or choose another file");
  }
  const int n = ranks.size();
  std::vector<std::string> stores, csvs;
  for (int k = 0; k < n; ++k) {
    if (!c.output_h5.empty()) stores.push_back(shard_path(c.output_h5, Shard{k, n}));
    if (!a.output.empty()) csvs.push_back(shard_path(a.output, Shard{k, n}));
  }
  AnalyzeReport mine;
  RankJob job;
  job.work = [&](const Shard& s, const RankProgress& progress) {
    AnalyzeOptions o = a;
    o.ranks = nullptr;
    o.corpus.shard = to_string(s);
    if (!stores.empty()) o.corpus.output_h5 = stores[static_cast<std::size_t>(s.index)];
    if (!csvs.empty()) o.output = csvs[static_cast<std::size_t>(s.index)];
    o.on_progress = progress;
    mine = run_corpus(o, analysis);
    const CorpusAnalysisStats& st = mine.corpus_run.stats;
    return std::vector<double>{static_cast<double>(st.examples),
                               static_cast<double>(st.computed),
                               static_cast<double>(st.resumed),
                               st.read_seconds,
                               st.compute_seconds,
                               st.write_seconds,
                               static_cast<double>(st.threads)};
  };
  job.finish = [&] {
    if (!stores.empty()) {
      MergeOptions m;
      m.shards = stores;
      m.output = c.output_h5;
      m.overwrite = true;
      merge_shards(m);
    }
    if (!csvs.empty()) join_csv(csvs, a.output);
  };
  job.progress = a.on_progress;
  const std::vector<double> sum = run_ranks(ranks, job);
  if (ranks.rank() != 0) {
    mine.silent = true;
    return mine;
  }
  CorpusReport& r = mine.corpus_run;
  CorpusAnalysisStats& st = r.stats;
  st.examples = static_cast<std::int64_t>(sum[0]);
  st.computed = static_cast<std::int64_t>(sum[1]);
  st.resumed = static_cast<std::int64_t>(sum[2]);
  st.read_seconds = sum[3];
  st.compute_seconds = sum[4];
  st.write_seconds = sum[5];
  st.threads = static_cast<int>(sum[6]);
  st.range = ExampleRange{0, st.examples};
  st.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.shard = Shard();
  r.ranks = n;
  r.output_h5 = c.output_h5;
  mine.input = a.input;
  mine.csv = a.output;
  return mine;
}

void print_corpus(const AnalyzeReport& report, std::ostream& os) {
  const CorpusReport& r = report.corpus_run;
  const CorpusAnalysisStats& stats = r.stats;
  os << report.input << ": " << stats.examples << " examples";
  if (r.shard.active()) {
    os << " (shard " << to_string(r.shard) << ": examples " << stats.range.first << ".."
       << stats.range.end - 1 << ")";
  }
  os << " (" << r.layers << " layers, " << r.heads << " heads"
     << (r.layout.empty() ? "" : "; " + r.layout) << "); methods " << join_methods(r.analysis)
     << "; target rows " << join_rows(r.analysis.target_rows) << "\n";
  char line[256];
  const double rate =
      stats.wall_seconds > 0 ? static_cast<double>(stats.computed) / stats.wall_seconds : 0.0;
  std::snprintf(line, sizeof line,
                "analysed %lld examples in %.2f s on %d threads (%.1f examples/s; read %.2f s, "
                "compute %.2f s summed over threads, write %.2f s)",
                static_cast<long long>(stats.computed), stats.wall_seconds, stats.threads, rate,
                stats.read_seconds, stats.compute_seconds, stats.write_seconds);
  os << line << "\n";
  if (r.ranks > 0) {
    os << "ranks: " << r.ranks << " (mpirun; threads summed over them; rank K analysed shard K/"
       << r.ranks << ")\n";
  }
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
  if (is_corpus_path(a.input)) {
    return a.ranks != nullptr ? run_corpus_ranks(a, analysis) : run_corpus(a, analysis);
  }
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
  if (report.silent) return;
  if (report.corpus) {
    print_corpus(report, os);
  } else {
    print_report(report.npy, os);
  }
}

}  // namespace attnflow::pipeline
