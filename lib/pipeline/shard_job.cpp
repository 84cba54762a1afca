// run_ranks: rank 0 works on its shard while it drains the others' progress messages, then
// waits for their outcomes; everyone learns the job's outcome from rank 0's broadcast.
#include "attnflow/pipeline/shard_job.hpp"

#include <chrono>

namespace attnflow::pipeline {

namespace {

using Clock = std::chrono::steady_clock;

/// Thrown into rank 0's own shard when another rank failed: stop early (its committed results
/// stay for --resume).
struct OtherRankFailed : Error {
  using Error::Error;
};

/// Rank 0's view of the job.
class Root {
 public:
  Root(Ranks& ranks, const RankJob& job)
      : ranks_(ranks),
        job_(job),
        done_(static_cast<std::size_t>(ranks.size()), 0),
        total_(done_),
        finished_(done_.size(), false) {}

  /// Takes every waiting message (waits for one with `wait`); reports progress.
  void drain(bool wait) {
    RankMessage m;
    bool any = false;
    while (pending_ > 0 && ranks_.receive(m, wait)) {
      take(m);
      any = true;
      wait = false;
    }
    if (any) report();
  }

  void own_progress(std::int64_t done, std::int64_t total) {
    done_[0] = done;
    total_[0] = total;
    drain(false);
    report();
    if (!failure_.empty()) throw OtherRankFailed(failure_);
  }

  std::vector<double> run() {
    const int n = ranks_.size();
    pending_ = n - 1;
    std::vector<double> own;
    std::string own_error;
    try {
      own = job_.work(Shard{0, n}, [this](std::int64_t d, std::int64_t t) { own_progress(d, t); });
    } catch (const OtherRankFailed&) {
    } catch (const std::exception& e) {
      own_error = e.what();
    }
    if (!own_error.empty() && failure_.empty()) failure_ = label(0) + own_error;
    if (!failure_.empty()) fail();
    while (pending_ > 0) {
      drain(true);
      if (!failure_.empty()) fail();
    }
    add(own);
    try {
      if (job_.finish) job_.finish();
    } catch (const std::exception& e) {
      failure_ = e.what();
      ranks_.broadcast(false);
      throw Error(failure_);
    }
    ranks_.broadcast(true);
    return sum_;
  }

 private:
  std::string label(int rank) const {
    return "rank " + std::to_string(rank) + " of " + std::to_string(ranks_.size()) + ": ";
  }

  void take(const RankMessage& m) {
    if (m.rank <= 0 || m.rank >= ranks_.size()) return;
    const auto r = static_cast<std::size_t>(m.rank);
    done_[r] = m.done;
    total_[r] = m.total;
    if (m.kind != RankMessage::Done || finished_[r]) return;
    finished_[r] = true;
    --pending_;
    if (!m.ok && failure_.empty()) failure_ = label(m.rank) + m.error;
    if (m.ok) add(m.figures);
  }

  void add(const std::vector<double>& figures) {
    if (sum_.size() < figures.size()) sum_.resize(figures.size(), 0.0);
    for (std::size_t k = 0; k < figures.size(); ++k) sum_[k] += figures[k];
  }

  void report() {
    if (!job_.progress) return;
    std::int64_t done = 0, total = 0;
    for (std::size_t r = 0; r < done_.size(); ++r) {
      done += done_[r];
      total += total_[r];
    }
    job_.progress(done, total);
  }

  /// The job failed: rank 0 reports it; ranks still running are ended after that.
  [[noreturn]] void fail() {
    if (pending_ > 0) {
      ranks_.end_others();
    } else {
      ranks_.broadcast(false);
    }
    throw Error(failure_);
  }

  Ranks& ranks_;
  const RankJob& job_;
  std::vector<std::int64_t> done_, total_;
  std::vector<bool> finished_;
  int pending_ = 0;
  std::string failure_;
  std::vector<double> sum_;
};

std::vector<double> run_other(Ranks& ranks, const RankJob& job) {
  RankMessage done;
  done.kind = RankMessage::Done;
  done.rank = ranks.rank();
  Clock::time_point last{};
  const auto progress = [&](std::int64_t d, std::int64_t t) {
    done.done = d;
    done.total = t;
    const Clock::time_point now = Clock::now();
    if (d < t && now - last < std::chrono::milliseconds(200)) return;
    last = now;
    RankMessage m;
    m.rank = ranks.rank();
    m.done = d;
    m.total = t;
    ranks.send(m);
  };
  try {
    done.figures = job.work(Shard{ranks.rank(), ranks.size()}, progress);
  } catch (const std::exception& e) {
    done.ok = false;
    done.error = e.what();
  }
  ranks.send(done);
  if (!ranks.broadcast(true)) throw ReportedByRankZero();
  return {};
}

}  // namespace

std::vector<double> run_ranks(Ranks& ranks, const RankJob& job) {
  if (ranks.rank() != 0) return run_other(ranks, job);
  return Root(ranks, job).run();
}

}  // namespace attnflow::pipeline
