// analyze_corpus: worker threads read + analyse examples, the calling thread
// commits results in index order (so a run is always a clean prefix).
#include "attnflow/io/corpus_analysis.hpp"

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
#include "attnflow/io/store.hpp"

namespace attnflow::io {
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

/// Target rows for one example: negative rows count from the end.
std::vector<int> rows_for(const std::vector<int>& rows, int n, const std::string& where) {
  std::vector<int> out;
  for (int r : rows) {
    if (r < 0 && n + r < 0) {
      throw Error(where + ": target row " + std::to_string(r) + " is before the first token (" +
                  std::to_string(n) + " tokens)");
    }
    out.push_back(r < 0 ? n + r : r);
  }
  return out;
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

Output open_output(Store& input, const CorpusAnalysisOptions& options, RunInfo& spec) {
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
  if (options.start == RunStart::Resume && !file_exists(out.partial) && file_exists(target)) {
    out.file.emplace(Store::open(target, Access::ReadWrite));  // complete: results re-emitted
  } else if (options.start == RunStart::Resume) {
    if (!file_exists(out.partial)) {
      throw Error(target + ": nothing to resume (neither it nor " + out.partial + " exists)");
    }
    out.file.emplace(Store::open(out.partial, Access::ReadWrite));
    out.rename_at_end = true;
  } else {
    if (options.start == RunStart::Overwrite) {
      std::remove(target.c_str());
      std::remove(out.partial.c_str());
    } else if (file_exists(target)) {
      throw Error(target + ": already exists; overwrite it or choose another file");
    } else if (file_exists(out.partial)) {
      throw Error(out.partial + ": an interrupted run is there; resume or overwrite it");
    }
    StoreInfo info = input.info();
    info.mode = StoreMode::Derived;
    out.file.emplace(Store::create(out.partial, info));
    out.rename_at_end = true;
  }
  out.store = &*out.file;
  const StoreInfo& have = out.store->info();
  const StoreInfo& want = input.info();
  if (have.mode != StoreMode::Derived || have.layers != want.layers || have.heads != want.heads ||
      out.store->size() > input.size()) {
    throw Error(out.store->path() + ": does not match " + input.path() +
                " (a derived-mode store of the same model and at most as many examples)");
  }
  return out;
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
    throw Error(path + ": a derived-mode store holds no attention to analyze");
  }
  const bool need_gradient = uses(options.analysis, Method::GradRollout);
  if (need_gradient && info.mode != StoreMode::PerHead) {
    throw Error(path + ": grad-rollout needs per-head attention and gradients; this store is " +
                to_string(info.mode));
  }
  const std::int64_t total = input.size();

  RunInfo spec;
  spec.name = options.run;
  spec.options = options.analysis;
  spec.options.flow.threads = 1;
  spec.precision = options.precision;
  Output out = open_output(input, options, spec);
  std::int64_t first = 0;
  if (out.store != nullptr) {
    const RunInfo begun = begin_run(*out.store, spec, options.start);
    if (options.output == CorpusOutput::File && begun.source != spec.source) {
      throw Error(out.store->path() + ": run '" + spec.name + "' was computed from " +
                  begun.source + ", not from " + spec.source);
    }
    first = begun.size;
  }

  CorpusAnalysisStats stats;
  stats.examples = total;
  stats.resumed = first;
  const auto report = [&](std::int64_t done) {
    if (options.on_progress) options.on_progress(done, total);
  };
  // Results of an earlier invocation (resume): hand them to the callback too.
  for (std::int64_t i = 0; i < first; ++i) {
    if (options.on_result) {
      Store& source = out.file ? *out.file : input;
      const Example example = source.read(i, ReadOptions{false, false});
      const AnalysisResult result = read_derived(*out.store, spec.name, i);
      options.on_result(CorpusItem{i, &example, &result, true});
    }
    report(i + 1);
  }

  const int requested = options.threads > 0
                            ? options.threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const std::int64_t remaining = total - first;
  const int workers =
      static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(requested, remaining)));
  const int flow_threads = std::max(1, requested / workers);
  stats.threads = requested;

  std::mutex mutex;
  std::condition_variable main_wakeup, worker_wakeup;
  std::map<std::int64_t, Slot> ready;
  std::int64_t next = first, committed = first, stop_at = total;
  bool abort = false;
  const std::int64_t window = 4 * static_cast<std::int64_t>(workers);

  const auto work = [&] {
    while (true) {
      std::int64_t i;
      {
        std::unique_lock<std::mutex> lock(mutex);
        worker_wakeup.wait(lock, [&] { return abort || next - committed < window; });
        if (abort || next >= stop_at) return;
        i = next++;
      }
      Slot slot;
      double read_time = 0.0, compute_time = 0.0;
      ReadTiming timing;
      const std::string where = path + ": example " + std::to_string(i);
      try {
        Clock::time_point t = Clock::now();
        slot.example = input.read(i, ReadOptions{true, need_gradient}, &timing);
        read_time = seconds_since(t);
        if (need_gradient && slot.example.gradient.empty()) {
          throw Error(where + ": grad-rollout needs a gradient, the example has none");
        }
        AnalysisOptions o = options.analysis;
        o.flow.threads = flow_threads;
        o.target_rows = rows_for(o.target_rows, slot.example.tokens_count(), where);
        t = Clock::now();
        try {
          slot.result =
              analyze(slot.example.attention, need_gradient ? &slot.example.gradient : nullptr, o);
        } catch (const Error& e) {
          throw Error(where + ": " + e.what());
        } catch (const std::exception& e) {
          throw Error(where + ": " + e.what());
        }
        compute_time = seconds_since(t);
        slot.example.attention = AttentionStack();
        slot.example.gradient = AttentionStack();
      } catch (const std::exception& e) {
        slot.failed = true;
        slot.error = e.what();
      }
      {
        std::lock_guard<std::mutex> lock(mutex);
        stats.read_seconds += read_time;
        stats.read_wait_seconds += timing.waiting;
        stats.read_hdf5_seconds += timing.hdf5;
        stats.read_decode_seconds += timing.decode;
        stats.compute_seconds += compute_time;
        if (slot.failed) stop_at = std::min(stop_at, i);
        ready[i] = std::move(slot);
      }
      main_wakeup.notify_one();
    }
  };

  std::vector<std::thread> pool;
  const auto stop_workers = [&] {
    {
      std::lock_guard<std::mutex> lock(mutex);
      abort = true;
    }
    worker_wakeup.notify_all();
    for (auto& t : pool) t.join();
    pool.clear();
  };
  const auto mark_failed = [&](const std::string& message) {
    if (out.store == nullptr) return;
    try {
      fail_run(*out.store, spec.name, message);
    } catch (...) {  // the original error matters more
    }
  };

  try {
    for (int k = 0; k < workers && remaining > 0; ++k) pool.emplace_back(work);
    while (committed < total) {
      Slot slot;
      {
        std::unique_lock<std::mutex> lock(mutex);
        main_wakeup.wait(lock, [&] { return ready.count(committed) > 0; });
        slot = std::move(ready[committed]);
        ready.erase(committed);
      }
      if (slot.failed) throw Error(slot.error);
      const Clock::time_point t = Clock::now();
      if (options.output == CorpusOutput::File && committed >= out.store->size()) {
        out.store->append(slot.example);
      }
      if (out.store != nullptr) {
        write_derived(*out.store, spec.name, committed, slot.result);
        if (options.precision == Precision::Float32) {  // hand on what was stored
          for (auto& [method, maps] : slot.result.maps) {
            for (Matrix& m : maps.maps) m = m.cast<float>().cast<double>();
          }
        }
      }
      stats.write_seconds += seconds_since(t);
      if (options.on_result)
        options.on_result(CorpusItem{committed, &slot.example, &slot.result, false});
      {
        std::lock_guard<std::mutex> lock(mutex);
        ++committed;
        ++stats.computed;
      }
      worker_wakeup.notify_all();
      report(committed);
    }
    stop_workers();
    if (out.store != nullptr) finish_run(*out.store, spec.name);
    if (out.file) {
      out.file->close();
      if (out.rename_at_end && std::rename(out.partial.c_str(), options.output_path.c_str()) != 0) {
        throw Error(options.output_path + ": cannot move " + out.partial + " into place");
      }
    }
    input.close();
  } catch (const std::exception& e) {
    stop_workers();
    mark_failed(e.what());
    throw;
  }
  stats.wall_seconds = seconds_since(start_time);
  return stats;
}

}  // namespace attnflow::io
