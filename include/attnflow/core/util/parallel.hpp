// Running one worker function on several threads at once (the workers share their work through
// an atomic counter of their own). Standard library only.
#pragma once

#include <functional>

namespace attnflow {

/// Runs `worker` on `count` threads and waits for all of them; count <= 1 runs it on the
/// calling thread. An exception thrown by a worker is rethrown here after every thread ended
/// (the first one, if several threw).
void run_workers(int count, const std::function<void()>& worker);

}  // namespace attnflow
