// run_workers: every worker runs, count <= 1 runs on the calling thread, and a worker's
// exception reaches the caller after every thread ended.
#include "attnflow/core/util/parallel.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "attnflow/core/error.hpp"

namespace attnflow {
namespace {

TEST(RunWorkers, EveryWorkerRuns) {
  for (int count : {0, 1, 2, 5}) {
    std::atomic<int> runs{0};
    run_workers(count, [&] { ++runs; });
    EXPECT_EQ(runs.load(), count <= 1 ? 1 : count) << "count " << count;
  }
}

TEST(RunWorkers, OneWorkerRunsOnTheCallingThread) {
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran;
  run_workers(1, [&] { ran = std::this_thread::get_id(); });
  EXPECT_EQ(ran, caller);
}

TEST(RunWorkers, AWorkersErrorReachesTheCaller) {
  std::atomic<int> finished{0};
  std::atomic<int> started{0};
  try {
    run_workers(4, [&] {
      if (started++ == 0) throw Error("worker failed");
      ++finished;
    });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "worker failed");
  }
  EXPECT_EQ(started.load(), 4);
  EXPECT_EQ(finished.load(), 3);  // the others ran to the end before the rethrow
}

}  // namespace
}  // namespace attnflow
