#include "attnflow/core/util/parallel.hpp"

#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace attnflow {

void run_workers(int count, const std::function<void()>& worker) {
  if (count <= 1) {
    worker();
    return;
  }
  std::exception_ptr first;
  std::mutex mutex;
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(count));
  for (int t = 0; t < count; ++t) {
    pool.emplace_back([&] {
      try {
        worker();
      } catch (...) {
        const std::lock_guard<std::mutex> lock(mutex);
        if (!first) first = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (first) std::rethrow_exception(first);
}

}  // namespace attnflow
