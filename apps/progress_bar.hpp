// A one-line progress bar on stderr for long corpus runs: drawn only when
// enabled (the CLI enables it when stderr is a terminal and not --quiet).
#pragma once

#include <chrono>
#include <cstdint>

namespace attnflow::app {

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled), start_(Clock::now()) {}
  /// Redraws at most ten times a second, and always for the last item.
  void update(std::int64_t done, std::int64_t total);
  /// Ends the line if anything was drawn.
  void finish();

  /// True when stderr is a terminal.
  static bool stderr_is_terminal();

 private:
  using Clock = std::chrono::steady_clock;
  bool enabled_;
  bool drawn_ = false;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
};

}  // namespace attnflow::app
