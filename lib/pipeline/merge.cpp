// merge_shards: open and check every shard, order them, then io::write_merged_store and the
// summary CSV of the merged run.
#include "attnflow/pipeline/merge.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "attnflow/core/error.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/io/store_merge.hpp"
#include "attnflow/pipeline/summary_csv.hpp"

namespace attnflow::pipeline {

namespace {

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string shard_name(const io::ShardRange& r) {
  return "shard " + std::to_string(r.index) + "/" + std::to_string(r.count);
}

std::string examples_text(std::int64_t first, std::int64_t end) {
  if (end - first == 1) return "example " + std::to_string(first);
  return "examples " + std::to_string(first) + ".." + std::to_string(end - 1);
}

struct ShardFile {
  std::string path;
  io::StoreInfo info;
  std::int64_t size = 0;
  std::vector<io::RunInfo> runs;
};

/// The shard at `path`, opened and checked on its own.
ShardFile open_shard(const std::string& path) {
  if (!file_exists(path)) {
    if (file_exists(path + ".partial")) {
      throw Error(path + ": not there yet, but " + path +
                  ".partial is: that shard is still running or was interrupted (rerun it "
                  "with --resume)");
    }
    throw Error(path + ": no such shard file");
  }
  const io::Store store = io::Store::open(path);
  ShardFile s;
  s.path = path;
  s.info = store.info();
  s.size = store.size();
  s.runs = io::list_runs(store);
  const io::ShardRange& r = s.info.shard;
  if (!r.active()) {
    throw Error(path +
                ": not a shard (it has no shard_* attributes: it was not written with --shard "
                "K/N or by mpirun)");
  }
  if (s.size < r.size()) {
    throw Error(path + ": " + shard_name(r) + " is incomplete: it holds " + std::to_string(s.size) +
                " of the " + std::to_string(r.size()) + " examples of its range (" +
                examples_text(r.first, r.end) +
                "); it is still running or was interrupted: rerun it with --resume");
  }
  for (const io::RunInfo& run : s.runs) {
    if (run.status != io::RunStatus::Complete || run.size < r.size()) {
      throw Error(path + ": run '" + run.name + "' of " + shard_name(r) + " is " +
                  to_string(run.status) + " (" + std::to_string(run.size) + " of " +
                  std::to_string(r.size()) +
                  " examples); it is still running or stopped: rerun it with --resume");
    }
  }
  return s;
}

[[noreturn]] void differs(const ShardFile& a, const ShardFile& b, const std::string& what,
                          const std::string& x, const std::string& y) {
  throw Error(b.path + ": not a shard of the same job as " + a.path + ": " + what + " " + y +
              " here, " + x + " there");
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

/// `b` against the first shard `a`: the same job (shards, corpus), model and options.
void check_alike(const ShardFile& a, const ShardFile& b) {
  const io::StoreInfo &x = a.info, &y = b.info;
  if (x.shard.count != y.shard.count) {
    differs(a, b, "shard count", std::to_string(x.shard.count), std::to_string(y.shard.count));
  }
  if (x.shard.total != y.shard.total || x.shard.source != y.shard.source) {
    differs(a, b, "corpus", quote(x.shard.source) + " (" + std::to_string(x.shard.total) + ")",
            quote(y.shard.source) + " (" + std::to_string(y.shard.total) + ")");
  }
  if (x.model != y.model) differs(a, b, "model", quote(x.model), quote(y.model));
  if (x.tokenizer != y.tokenizer) {
    differs(a, b, "tokenizer", quote(x.tokenizer), quote(y.tokenizer));
  }
  if (x.layers != y.layers || x.heads != y.heads || x.causal != y.causal) {
    const auto shape = [](const io::StoreInfo& i) {
      return std::to_string(i.layers) + " layers x " + std::to_string(i.heads) + " heads" +
             (i.causal ? " (causal)" : "");
    };
    differs(a, b, "model shape", shape(x), shape(y));
  }
  if (x.mode != y.mode) differs(a, b, "store mode", to_string(x.mode), to_string(y.mode));
  if (x.attention_precision != y.attention_precision ||
      x.gradient_precision != y.gradient_precision) {
    differs(a, b, "precision", to_string(x.attention_precision), to_string(y.attention_precision));
  }
  if (x.fusion != y.fusion) differs(a, b, "fusion", quote(x.fusion), quote(y.fusion));
  if (x.compute_dtype != y.compute_dtype) {  // schema 3 (--dtype)
    differs(a, b, "compute dtype", x.compute_dtype, y.compute_dtype);
  }
  if (x.layer_selection != y.layer_selection || x.head_selection != y.head_selection) {
    const auto selection = [](const io::StoreInfo& i) {  // schema 3 (--layers, --heads)
      std::string t = "layers";
      for (int k : i.layer_selection) t += " " + std::to_string(k);
      t += i.layer_selection.empty() ? " all, heads" : ", heads";
      for (int k : i.head_selection) t += " " + std::to_string(k);
      return i.head_selection.empty() ? t + " all" : t;
    };
    differs(a, b, "selection", selection(x), selection(y));
  }
  if (x.extract_batch_size != y.extract_batch_size) {
    differs(a, b, "batch size", std::to_string(x.extract_batch_size),
            std::to_string(y.extract_batch_size));
  }
  std::map<std::string, const io::RunInfo*> runs;
  for (const io::RunInfo& r : a.runs) runs[r.name] = &r;
  for (const io::RunInfo& r : b.runs) {
    if (runs.count(r.name) == 0) differs(a, b, "run", quote(r.name), "none");
  }
  for (const io::RunInfo& r : a.runs) {
    const auto other = std::find_if(b.runs.begin(), b.runs.end(),
                                    [&](const io::RunInfo& o) { return o.name == r.name; });
    if (other == b.runs.end()) differs(a, b, "run", "none", quote(r.name));
    const auto p = io::describe_options(r), q = io::describe_options(*other);
    for (std::size_t k = 0; k < p.size(); ++k) {
      if (p[k] != q[k]) differs(a, b, "run '" + r.name + "' option", p[k], q[k]);
    }
    if (r.source != other->source) {
      differs(a, b, "run '" + r.name + "' input", quote(r.source), quote(other->source));
    }
  }
}

/// The shards sorted by index; every shard of the job exactly once.
std::vector<ShardFile> in_order(std::vector<ShardFile> shards) {
  std::stable_sort(shards.begin(), shards.end(), [](const ShardFile& a, const ShardFile& b) {
    return a.info.shard.index < b.info.shard.index;
  });
  const int count = shards.front().info.shard.count;
  const std::int64_t total = shards.front().info.shard.total;
  std::int64_t covered = 0;  // examples 0..covered-1 are in the shards so far
  int next = 0;              // the next shard index expected
  for (std::size_t k = 0; k < shards.size(); ++k) {
    const io::ShardRange& r = shards[k].info.shard;
    if (k > 0 && r.index == shards[k - 1].info.shard.index) {
      throw Error(shards[k].path + ": " + shard_name(r) + " again (" + shards[k - 1].path + " is " +
                  shard_name(r) + " too): the shards overlap");
    }
    if (r.first != covered) {
      if (r.first < covered) {
        throw Error(shards[k].path + ": " + shard_name(r) + " starts at example " +
                    std::to_string(r.first) +
                    ", inside the examples before it: the shards overlap");
      }
      throw Error(examples_text(covered, r.first) + " are missing: no " +
                  (next + 1 == r.index
                       ? "shard " + std::to_string(next) + "/" + std::to_string(count)
                       : "shards " + std::to_string(next) + " to " + std::to_string(r.index - 1) +
                             " of " + std::to_string(count)) +
                  " among the inputs (the job's other shards are " + shards.front().path + "...)");
    }
    covered = r.end;
    next = r.index + 1;
  }
  if (covered != total || next != count) {
    throw Error(examples_text(covered, total) + " are missing: no shard " + std::to_string(next) +
                "/" + std::to_string(count) + (next + 1 < count ? " or later" : "") +
                " among the inputs (the job's other shards are " + shards.front().path + "...)");
  }
  return shards;
}

void write_summary(const MergeOptions& o, const std::string& run) {
  const io::Store store = io::Store::open(o.output);
  SummaryCsv table(o.summary, o.csv_values);
  for (std::int64_t i = 0; i < store.size(); ++i) {
    const io::Example example = store.read(i, io::ReadOptions::metadata_only());
    const AnalysisResult result = io::read_derived(store, run, i);
    CorpusItem item;
    item.index = i;
    item.example = &example;
    item.result = &result;
    item.resumed = true;
    table.add(item);
  }
  table.commit();
}

}  // namespace

MergeReport merge_shards(const MergeOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (o.shards.empty()) throw Error("merge: no shard files given");
  if (o.output.empty()) throw Error("merge: no output given (-o FILE)");
  for (const std::string& s : o.shards) {
    if (s == o.output) throw Error(o.output + ": is one of the shards; write the merge elsewhere");
  }
  if (file_exists(o.output) && !o.overwrite) {
    throw Error(o.output + ": already exists (--overwrite replaces it)");
  }
  std::vector<ShardFile> shards;
  for (const std::string& path : o.shards) {
    shards.push_back(open_shard(path));
    if (shards.size() > 1) check_alike(shards.front(), shards.back());
  }
  shards = in_order(std::move(shards));
  std::string run = o.run;
  if (!o.summary.empty()) {
    const std::vector<io::RunInfo>& runs = shards.front().runs;
    if (run.empty() && runs.size() != 1) {
      throw Error("--summary: the shards hold " + std::to_string(runs.size()) +
                  " runs; choose one with --run NAME");
    }
    if (run.empty()) run = runs.front().name;
    if (std::none_of(runs.begin(), runs.end(),
                     [&](const io::RunInfo& r) { return r.name == run; })) {
      throw Error("--summary: the shards have no run '" + run + "'");
    }
  }

  io::MergePlan plan;
  plan.info = shards.front().info;
  plan.runs = shards.front().runs;
  plan.copy = o.copy;
  for (const ShardFile& s : shards) plan.parts.push_back({s.path, s.info.shard.size()});
  io::write_merged_store(o.output, plan);
  if (!o.summary.empty()) write_summary(o, run);

  MergeReport report;
  report.output = o.output;
  report.shards = static_cast<int>(shards.size());
  report.examples = shards.front().info.shard.total;
  for (const io::RunInfo& r : plan.runs) report.runs.push_back(r.name);
  report.copy = o.copy;
  report.summary = o.summary;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

void print_report(const MergeReport& r, std::ostream& os) {
  char line[128];
  std::snprintf(line, sizeof line, "%.2f s", r.seconds);
  os << "merged " << r.shards << " shard" << (r.shards == 1 ? "" : "s") << " (" << r.examples
     << " examples) into " << r.output << " in " << line
     << (r.copy ? " (copied: self-contained)" : " (external links: keep the shard files beside it)")
     << "\n";
  for (const std::string& run : r.runs) os << "run '" << run << "': complete\n";
  if (!r.summary.empty()) os << "summary: " << r.summary << "\n";
}

}  // namespace attnflow::pipeline
