// analyze_corpus: worker threads read + analyse examples, the calling thread
// commits results in index order (so a run is always a clean prefix).
#include "attnflow/pipeline/analyze_corpus.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "attnflow/core/error.hpp"
#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "store_selection.hpp"

namespace attnflow::pipeline {

using io::Access;
using io::Example;
using io::Precision;
using io::ReadOptions;
using io::ReadTiming;
using io::RunInfo;
using io::RunStart;
using io::Store;
using io::StoreInfo;
using io::StoreMode;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool uses(const AnalysisOptions& o, Method m) {
  return std::find(o.methods.begin(), o.methods.end(), m) != o.methods.end();
}

CorpusItem item(std::int64_t index, const Example& example, const AnalysisResult& result,
                bool resumed) {
  CorpusItem c;
  c.index = index;
  c.example = &example;
  c.result = &result;
  c.resumed = resumed;
  return c;
}

struct Slot {
  bool failed = false;
  std::string error;
  Example example;
  AnalysisResult result;
};

/// The output side: where results go (possibly nowhere).
struct Output {
  std::optional<Store> file;  ///< CorpusOutput::File
  Store* store = nullptr;     ///< the store holding the run, or null (None)
  std::string partial;        ///< File: path while incomplete
  bool rename_at_end = false;
};

/// `start`, except that resuming a run that was never begun (no output file, no run in the
/// store) begins it, with `note` saying so.
RunStart effective_start(const Store& input, const CorpusAnalysisOptions& options,
                         std::string& note) {
  if (options.start != RunStart::Resume) return options.start;
  if (options.output == CorpusOutput::File) {
    const std::string& target = options.output_path;
    if (file_exists(target) || file_exists(target + ".partial")) return RunStart::Resume;
    note = "nothing to resume: starting " + target;
    return RunStart::New;
  }
  if (options.output == CorpusOutput::InPlace && !io::has_run(input, options.run)) {
    note = "nothing to resume: starting run '" + options.run + "' in " + input.path();
    return RunStart::New;
  }
  return RunStart::Resume;
}

/// The examples of the run: all, or the shard's range (balanced by their estimated cost).
io::ShardRange run_range(const Store& input, const CorpusAnalysisOptions& options,
                         const std::string& source) {
  io::ShardRange r;
  r.total = input.size();
  r.end = r.total;
  if (!options.shard.active()) return r;
  if (options.output == CorpusOutput::InPlace) {
    throw Error("--shard " + to_string(options.shard) + ": " + input.path() +
                " cannot take results from several processes at once; give each shard its own "
                "--output-h5 FILE (attnflow merge joins them), or --no-store");
  }
  const bool flow = uses(options.analysis, Method::Flow);
  std::vector<double> costs(static_cast<std::size_t>(r.total));
  for (std::int64_t i = 0; i < r.total; ++i) {
    const int n = input.read(i, ReadOptions::metadata_only()).tokens_count();
    costs[static_cast<std::size_t>(i)] = analysis_cost(n, flow);
  }
  const ExampleRange range =
      balanced_ranges(costs, options.shard.count)[static_cast<std::size_t>(options.shard.index)];
  r.index = options.shard.index;
  r.count = options.shard.count;
  r.first = range.first;
  r.end = range.end;
  r.source = source;
  return r;
}

Output open_output(Store& input, const CorpusAnalysisOptions& options, RunStart start,
                   RunInfo& spec, const io::ShardRange& range) {
  Output out;
  if (options.output == CorpusOutput::None) return out;
  if (options.output == CorpusOutput::InPlace) {
    out.store = &input;
    return out;
  }
  const std::string& target = options.output_path;
  if (target.empty()) throw Error("analysis: no output file given");
  out.partial = target + ".partial";
  spec.source = input.path() + " (created " + input.info().created + ")";
  if (start == RunStart::Resume && !file_exists(out.partial)) {
    out.file.emplace(Store::open(target, Access::ReadWrite));  // complete: results re-emitted
  } else if (start == RunStart::Resume) {
    out.file.emplace(Store::open(out.partial, Access::ReadWrite));
    out.rename_at_end = true;
  } else {
    if (start == RunStart::Overwrite) {
      std::remove(target.c_str());
      std::remove(out.partial.c_str());
    } else if (file_exists(target)) {
      throw Error(target + ": already exists; overwrite it or choose another file");
    } else if (file_exists(out.partial)) {
      throw Error(out.partial + ": an interrupted run is there; resume or overwrite it");
    }
    StoreInfo info = input.info();
    info.mode = StoreMode::Derived;
    info.extract_batch_size = 0;  // the derived store was not extracted
    info.shard = range;
    info.contributions.clear();  // it holds the results only
    info.derived_run.clear();    // its runs are analyze's
    out.file.emplace(Store::create(out.partial, info));
    out.rename_at_end = true;
  }
  out.store = &*out.file;
  const StoreInfo& have = out.store->info();
  const StoreInfo& want = input.info();
  if (have.mode != StoreMode::Derived || have.layers != want.layers || have.heads != want.heads ||
      out.store->size() > range.size()) {
    throw Error(out.store->path() + ": does not match " + input.path() +
                " (a derived-mode store of the same model and at most as many examples)");
  }
  if (have.shard.active() != range.active() ||
      (range.active() && (have.shard.count != range.count || have.shard.index != range.index ||
                          have.shard.first != range.first || have.shard.end != range.end))) {
    const auto name = [](const io::ShardRange& r) {
      return r.active() ? "shard " + std::to_string(r.index) + "/" + std::to_string(r.count) +
                              " (examples " + std::to_string(r.first) + ".." +
                              std::to_string(r.end - 1) + ")"
                        : std::string("the whole store");
    };
    throw Error(out.store->path() + ": holds " + name(have.shard) + " of " + input.path() +
                ", this run asks for " + name(range) + "; --overwrite starts it again");
  }
  return out;
}

// Worker threads read and analyse examples first..total-1 (at most a window
// ahead of the last commit); the calling thread takes them in index order.
class Workers {
 public:
  Workers(const std::string& path, Store& input, const CorpusAnalysisOptions& options,
          bool need_gradient, std::int64_t offset, std::int64_t first, std::int64_t total,
          CorpusAnalysisStats& stats)
      : path_(path),
        input_(input),
        offset_(offset),
        options_(options),
        need_gradient_(need_gradient),
        next_(first),
        committed_(first),
        stop_at_(total),
        stats_(stats) {
    const int requested = options.threads > 0
                              ? options.threads
                              : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
    remaining_ = total - first;
    workers_ =
        static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(requested, remaining_)));
    flow_threads_ = std::max(1, requested / workers_);
    window_ = 4 * static_cast<std::int64_t>(workers_);
    stats.threads = requested;
  }
  ~Workers() { stop(); }

  void start() {
    for (int k = 0; k < workers_ && remaining_ > 0; ++k) pool_.emplace_back([this] { work(); });
  }

  /// The result of example `i`, the next one in order (waits for it).
  Slot take(std::int64_t i) {
    std::unique_lock<std::mutex> lock(mutex_);
    main_wakeup_.wait(lock, [&] { return ready_.count(i) > 0; });
    Slot slot = std::move(ready_[i]);
    ready_.erase(i);
    return slot;
  }

  /// Example `i` is committed: the workers may go on.
  void committed(std::int64_t i) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      committed_ = i + 1;
      ++stats_.computed;
    }
    worker_wakeup_.notify_all();
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      abort_ = true;
    }
    worker_wakeup_.notify_all();
    for (auto& t : pool_) t.join();
    pool_.clear();
  }

 private:
  // Reads and analyses example i; a failure is kept in the slot.
  Slot compute(std::int64_t i, ReadTiming& timing, double& read_time, double& compute_time) {
    Slot slot;
    const std::string where = path_ + ": example " + std::to_string(offset_ + i);
    try {
      Clock::time_point t = Clock::now();
      ReadOptions read = need_gradient_ ? ReadOptions{} : ReadOptions::without_gradient();
      read.contributions = !contributions_of(options_.analysis.methods).empty();
      slot.example = input_.read(offset_ + i, read, &timing);
      read_time = seconds_since(t);
      if (need_gradient_ && slot.example.gradient.empty()) {
        throw Error(where + ": grad-rollout needs a gradient, the example has none");
      }
      AnalysisOptions o = options_.analysis;
      o.flow.threads = flow_threads_;
      t = Clock::now();
      try {  // negative target rows are resolved per example by analyze()
        slot.result =
            analyze(slot.example.attention, need_gradient_ ? &slot.example.gradient : nullptr,
                    &slot.example.contributions, o);
      } catch (const std::exception& e) {
        throw Error(where + ": " + e.what());
      }
      compute_time = seconds_since(t);
      slot.example.attention = AttentionStack();
      slot.example.gradient = AttentionStack();
      slot.example.contributions.clear();
    } catch (const std::exception& e) {
      slot.failed = true;
      slot.error = e.what();
    }
    return slot;
  }

  void work() {
    while (true) {
      std::int64_t i;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        worker_wakeup_.wait(lock, [&] { return abort_ || next_ - committed_ < window_; });
        if (abort_ || next_ >= stop_at_) return;
        i = next_++;
      }
      double read_time = 0.0, compute_time = 0.0;
      ReadTiming timing;
      Slot slot = compute(i, timing, read_time, compute_time);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.read_seconds += read_time;
        stats_.read_wait_seconds += timing.waiting;
        stats_.read_hdf5_seconds += timing.hdf5;
        stats_.read_decode_seconds += timing.decode;
        stats_.compute_seconds += compute_time;
        if (slot.failed) stop_at_ = std::min(stop_at_, i);
        ready_[i] = std::move(slot);
      }
      main_wakeup_.notify_one();
    }
  }

  const std::string& path_;
  Store& input_;
  const std::int64_t offset_;  ///< input example of run example 0 (a shard's first)
  const CorpusAnalysisOptions& options_;
  const bool need_gradient_;
  int workers_ = 1;
  int flow_threads_ = 1;
  std::int64_t remaining_ = 0;
  std::int64_t window_ = 4;
  std::mutex mutex_;
  std::condition_variable main_wakeup_, worker_wakeup_;
  std::map<std::int64_t, Slot> ready_;
  std::int64_t next_, committed_, stop_at_;
  bool abort_ = false;
  CorpusAnalysisStats& stats_;
  std::vector<std::thread> pool_;
};

// Begins (or resumes) the run in the output; returns the examples already done.
std::int64_t begin_output(Output& out, const CorpusAnalysisOptions& options, RunStart start,
                          const RunInfo& spec) {
  if (out.store == nullptr) return 0;
  const RunInfo begun = begin_run(*out.store, spec, start);
  if (options.output == CorpusOutput::File && begun.source != spec.source) {
    throw Error(out.store->path() + ": run '" + spec.name + "' was computed from " + begun.source +
                ", not from " + spec.source);
  }
  return begun.size;
}

// Writes the result of example i (and, for a separate file, the example).
void write_result(Output& out, const CorpusAnalysisOptions& options, const std::string& run,
                  std::int64_t i, Slot& slot) {
  if (options.output == CorpusOutput::File && i >= out.store->size()) {
    out.store->append(slot.example);
  }
  if (out.store == nullptr) return;
  write_derived(*out.store, run, i, slot.result);
  if (options.precision == Precision::Float32) {  // hand on what was stored
    for (auto& [method, maps] : slot.result.maps) {
      for (Matrix& m : maps.maps) m = m.cast<float>().cast<double>();
    }
  }
}

// Marks the run complete and moves a separate output file into place.
void finish_output(Output& out, const CorpusAnalysisOptions& options, const std::string& run) {
  if (out.store != nullptr) finish_run(*out.store, run);
  if (out.file) {
    out.file->close();
    if (out.rename_at_end && std::rename(out.partial.c_str(), options.output_path.c_str()) != 0) {
      throw Error(options.output_path + ": cannot move " + out.partial + " into place");
    }
  }
}

}  // namespace

CorpusAnalysisStats analyze_corpus(const std::string& path, const CorpusAnalysisOptions& options) {
  const Clock::time_point start_time = Clock::now();
  if (options.threads < 0) {
    throw Error("analysis: threads is " + std::to_string(options.threads) + " (expected >= 0)");
  }
  if (options.analysis.methods.empty()) throw Error("analysis: no method chosen");
  Store input = Store::open(
      path, options.output == CorpusOutput::InPlace ? Access::ReadWrite : Access::ReadOnly);
  const StoreInfo& info = input.info();
  if (info.mode == StoreMode::Derived) {
    throw Error(path + ": a derived-mode store holds no attention to analyze" +
                (info.derived_run.empty()
                     ? std::string()
                     : "; its results are the run /derived/" + info.derived_run +
                           " that attnflow extract --store derived computed"));
  }
  if (!info.layer_selection.empty()) {  // --layers counts the stored layers, not the model's
    for (int l : options.analysis.layers) {
      if (l < 1 || l > info.layers) {
        throw Error(path + ": layer " + std::to_string(l) + " (--layers) out of range: the store " +
                    "holds " + std::to_string(info.layers) + " layers (" +
                    describe_selection(info) + "), analyzed as layers 1.." +
                    std::to_string(info.layers));
      }
    }
  }
  const HeadFusion fusion = options.analysis.prepare.fusion.method;
  const bool attention_methods =
      std::any_of(options.analysis.methods.begin(), options.analysis.methods.end(),
                  [](Method m) { return !contribution_of(m) && m != Method::GradRollout; });
  if (info.mode == StoreMode::Fused && attention_methods && fusion != HeadFusion::Mean &&
      (fusion == HeadFusion::WeightedMean || info.fusion != to_string(fusion))) {
    throw Error(path + ": a fused-mode store (its heads were fused with '" + info.fusion +
                "' when extracted) has no per-head maps for --fusion " + to_string(fusion) +
                ": extract with --store per-head, or analyze with the default fusion");
  }
  const bool need_gradient = uses(options.analysis, Method::GradRollout);
  if (need_gradient && info.mode != StoreMode::PerHead) {
    throw Error(path + ": grad-rollout needs per-head attention and gradients; this store is " +
                to_string(info.mode));
  }
  for (Contribution c : contributions_of(options.analysis.methods)) {
    if (std::find(info.contributions.begin(), info.contributions.end(), c) ==
        info.contributions.end()) {
      throw Error(path + ": the " + to_string(c) +
                  " contributions are not in this store (extract with --contributions " +
                  to_string(c) + ")");
    }
  }
  RunInfo spec;
  spec.name = options.run;
  spec.options = options.analysis;
  spec.options.flow.threads = 1;
  spec.precision = options.precision;
  const io::ShardRange range =
      run_range(input, options, input.path() + " (created " + info.created + ")");
  const std::int64_t offset = range.first;
  const std::int64_t total = range.size();  // run examples 0..total-1 = input offset + i
  CorpusAnalysisStats stats;
  stats.range = ExampleRange{range.first, range.end};
  const RunStart start = effective_start(input, options, stats.note);
  Output out = open_output(input, options, start, spec, range);
  const std::int64_t first = begin_output(out, options, start, spec);

  stats.examples = total;
  stats.resumed = first;
  const auto report = [&](std::int64_t done) {
    if (options.on_progress) options.on_progress(done, total);
  };
  // Results of an earlier invocation (resume): hand them to the callback too.
  for (std::int64_t i = 0; i < first; ++i) {
    if (options.on_result) {
      const Example example = out.file ? out.file->read(i, ReadOptions::metadata_only())
                                       : input.read(offset + i, ReadOptions::metadata_only());
      const AnalysisResult result = read_derived(*out.store, spec.name, i);
      options.on_result(item(offset + i, example, result, true));
    }
    report(i + 1);
  }

  Workers workers(path, input, options, need_gradient, offset, first, total, stats);
  try {
    workers.start();
    for (std::int64_t i = first; i < total; ++i) {
      Slot slot = workers.take(i);
      if (slot.failed) throw Error(slot.error);
      const Clock::time_point t = Clock::now();
      write_result(out, options, spec.name, i, slot);
      stats.write_seconds += seconds_since(t);
      if (options.on_result) {
        options.on_result(item(offset + i, slot.example, slot.result, false));
      }
      workers.committed(i);
      report(i + 1);
    }
    workers.stop();
    finish_output(out, options, spec.name);
    input.close();
  } catch (const std::exception& e) {
    workers.stop();
    if (out.store != nullptr) {
      try {
        fail_run(*out.store, spec.name, e.what());
      } catch (...) {  // the original error matters more
      }
    }
    throw;
  }
  stats.wall_seconds = seconds_since(start_time);
  return stats;
}

}  // namespace attnflow::pipeline
