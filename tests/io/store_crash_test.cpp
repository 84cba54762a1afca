// Crash safety, tested for real: writer processes (the store tool, and the
// attnflow CLI writing a derived run) are SIGKILLed at random moments; the
// file must open and hold every example committed before the kill, exactly.
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <random>
#include <thread>

#include "../core/test_util.hpp"
#include "attnflow/io/store.hpp"
#include "attnflow/pipeline/analyze_corpus.hpp"
#include "store_test_util.hpp"

extern char** environ;

namespace attnflow::io {
namespace {

pid_t spawn(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0) << args[0];
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

/// SIGKILLs `pid` after `ms` milliseconds; true when the kill ended it.
bool kill_after(pid_t pid, int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

bool exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

StoreInfo tool_info() {  // what `attnflow_store_tool write` creates with the flags below
  StoreInfo info;
  info.layers = 4;
  info.heads = 4;
  info.attention_precision = Precision::Float16;
  return info;
}

void expect_committed_example(const Store& store, std::int64_t i) {
  const Example got = store.read(i);
  const Example want = test::make_example(i, tool_info(), 1, true, 40);
  ASSERT_EQ(got.tokens, want.tokens) << "example " << i;
  ASSERT_EQ(got.token_ids, want.token_ids);
  ASSERT_EQ(got.label, want.label);
  ASSERT_EQ(got.target, want.target);
  ASSERT_EQ(got.prediction, want.prediction);
  ASSERT_EQ(got.attention.data().size(), want.attention.data().size());
  for (std::size_t k = 0; k < want.attention.data().size(); ++k) {
    ASSERT_EQ(got.attention.data()[k],
              test::stored_value(want.attention.data()[k], Precision::Float16))
        << "example " << i << " value " << k;
  }
  ASSERT_EQ(got.gradient.data(), want.gradient.data()) << "example " << i;
}

/// Spins on every core while alive: the writer gets preempted inside its
/// flushes, which is where HDF5's unordered metadata writes can be torn (a
/// run under load is how the commit index became necessary).
class CpuLoad {
 public:
  CpuLoad() {
    const unsigned n = std::max(2u, std::thread::hardware_concurrency());
    for (unsigned k = 0; k < n; ++k) {
      threads_.emplace_back([this] {
        volatile unsigned long x = 0;
        while (!stop_) x = x + 1;
      });
    }
  }
  ~CpuLoad() {
    stop_ = true;
    for (auto& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

TEST(StoreCrash, KilledWriterLeavesEveryCommittedExampleReadable) {
  const std::string path = testing::TempDir() + "attnflow_crash_writer.h5";
  std::remove(path.c_str());
  std::mt19937 rng(2024);
  std::int64_t committed = 0;
  int kills = 0;
  int damaged_at = -1;
  constexpr int kCycles = 30;
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    std::optional<CpuLoad> load;
    if (cycle % 2 == 1) load.emplace();  // half the kills on a saturated machine
    const pid_t pid =
        spawn({ATTNFLOW_STORE_TOOL, "write", path, "100000000", "--layers", "4", "--heads", "4",
               "--dtype", "float16", "--gradient", "--spread", "40", "--seed", "1"});
    // Until something is committed, wait longer each cycle, so that a loaded
    // machine (slow process start) still gets examples written before a kill.
    const int delay = 20 + static_cast<int>(rng() % 280) + (committed == 0 ? 250 * cycle : 0);
    kills += kill_after(pid, delay) ? 1 : 0;
    load.reset();
    if (!exists(path)) continue;  // killed before the file was created (it appears atomically)
    {
      const Store store = Store::open(path);
      ASSERT_GE(store.size(), committed) << "committed examples disappeared";
      for (std::int64_t i = committed; i < store.size(); ++i) expect_committed_example(store, i);
      committed = store.size();
    }
    // A kill inside HDF5's flush of the name index can leave the names unreadable (HDF5 1.10
    // has no journal). The examples are then still all there (checked above), and a
    // write-open refuses to append with a clear message; nothing more to test on this file.
    try {
      Store::open(path, Access::ReadWrite);
    } catch (const Error& e) {
      ASSERT_NE(std::string(e.what()).find("HDF5 cannot read the example names"), std::string::npos)
          << e.what();
      damaged_at = cycle;
      break;
    }
  }
  ASSERT_GT(committed, 0);
  if (damaged_at >= 0) {
    std::printf("[          ] names damaged by kill %d; all %lld committed examples intact\n",
                damaged_at + 1, static_cast<long long>(committed));
    return;
  }
  EXPECT_EQ(kills, kCycles);
  // Appending after the kills works and everything still reads back exactly.
  {
    Store store = Store::open(path, Access::ReadWrite);
    ASSERT_EQ(store.size(), committed);
    store.append(test::make_example(committed, tool_info(), 1, true, 40));
  }
  const Store store = Store::open(path);
  ASSERT_EQ(store.size(), committed + 1);
  for (std::int64_t i = 0; i < store.size(); ++i) expect_committed_example(store, i);
  // Names are a convenience for h5py users; count how many a damaged link index kept.
  std::int64_t named = 0;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  for (std::int64_t i = 0; i < store.size(); ++i) {
    named += H5Lexists(file, ("examples/" + example_name(i)).c_str(), H5P_DEFAULT) > 0 ? 1 : 0;
  }
  H5Eclear2(H5E_DEFAULT);
  H5Fclose(file);
  std::printf("[          ] %lld examples committed across %d kills (%lld also by name)\n",
              static_cast<long long>(committed), kCycles, static_cast<long long>(named));
}

#ifdef ATTNFLOW_CLI
TEST(StoreCrash, KilledAnalyzeKeepsCommittedResultsAndResumes) {
  const std::string path = testing::TempDir() + "attnflow_crash_analyze.h5";
  std::remove(path.c_str());
  StoreInfo info = tool_info();
  info.heads = 2;
  const int examples = 24;
  {
    Store store = Store::create(path, info);
    for (int i = 0; i < examples; ++i) store.append(test::make_example(i, info, 5, false, 25));
  }
  pipeline::CorpusAnalysisOptions o;
  o.analysis.methods = {Method::Rollout, Method::Flow};
  o.analysis.target_rows.clear();  // --all-rows
  o.analysis.prepare.residual.alpha = 0.4;
  o.analysis.flow.algorithm = FlowAlgorithm::EdmondsKarp;
  o.run = "crash";
  // Kill once the CLI has committed something: rows reach its summary CSV
  // (FILE.partial) only after their example is committed to the run.
  const std::string csv = path + ".csv";
  std::remove((csv + ".partial").c_str());
  const pid_t pid =
      spawn({ATTNFLOW_CLI, "analyze", path, "-m", "rollout,flow", "--all-rows", "--alpha", "0.4",
             "--flow-algorithm", "edmonds-karp", "-j", "2", "--run", "crash", "-q", "-o", csv});
  bool killed = false;
  for (int waited = 0; waited < 600000; waited += 2) {
    struct stat st;
    if (::stat((csv + ".partial").c_str(), &st) == 0 && st.st_size > 40000) {
      killed = kill_after(pid, 0);
      break;
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) break;  // finished before any row was flushed
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(killed) << "attnflow analyze ended before it could be killed";
  std::int64_t kept = 0;
  {
    const Store store = Store::open(path);
    ASSERT_TRUE(has_run(store, "crash"));
    const RunInfo run = run_info(store, "crash");
    EXPECT_EQ(run.status, RunStatus::Running);
    kept = run.size;
    EXPECT_GE(kept, 1);
    EXPECT_LT(kept, examples);
    for (std::int64_t i = 0; i < kept; ++i) {
      const Example e = store.read(i);
      const AnalysisResult want = analyze(e.attention, nullptr, o.analysis);
      const AnalysisResult got = read_derived(store, "crash", i);
      for (const auto& [method, maps] : want.maps) {
        for (std::size_t k = 0; k < maps.maps.size(); ++k) {
          test::expect_near(got.maps.at(method).maps[k], maps.maps[k].cast<float>().cast<double>(),
                            0.0);
        }
      }
    }
  }
  o.start = RunStart::Resume;
  o.threads = 2;
  const pipeline::CorpusAnalysisStats stats = pipeline::analyze_corpus(path, o);
  EXPECT_EQ(stats.resumed, kept);
  EXPECT_EQ(stats.computed, examples - kept);
  const Store store = Store::open(path);
  EXPECT_EQ(run_info(store, "crash").status, RunStatus::Complete);
  EXPECT_EQ(run_info(store, "crash").size, examples);
  std::printf("[          ] analyze killed after %lld of %d examples, then resumed\n",
              static_cast<long long>(kept), examples);
}
#endif

}  // namespace
}  // namespace attnflow::io
