// A job of N processes (the ranks of `mpirun -n N`), each one shard of the corpus: rank 0
// gathers the others' progress and outcomes, sums their figures, and finishes the job (the
// merged store, the summary CSV) once every shard succeeded; a failing rank fails the job with
// its message. The transport is behind `Ranks` (the apps implement it with MPI), so that the
// libraries never link MPI and the protocol is tested without it.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/pipeline/shard.hpp"

namespace attnflow::pipeline {

/// What a rank tells rank 0.
struct RankMessage {
  enum Kind { Progress = 1, Done = 2 };
  Kind kind = Progress;
  int rank = 0;
  std::int64_t done = 0, total = 0;  ///< Progress (and Done): examples of the rank's shard
  bool ok = true;                    ///< Done: the shard succeeded
  std::string error;                 ///< Done, !ok: its message
  std::vector<double> figures;       ///< Done, ok: summed over ranks by rank 0
};

/// The processes of the job.
class Ranks {
 public:
  virtual ~Ranks() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// A rank other than 0: sends `m` to rank 0.
  virtual void send(const RankMessage& m) = 0;
  /// Rank 0: the next message of another rank; false when `wait` is false and none is there.
  virtual bool receive(RankMessage& m, bool wait) = 0;
  /// Collective: rank 0's `ok` reaches every rank (which waits for it).
  virtual bool broadcast(bool ok) = 0;
  /// Rank 0 stopped while other ranks still run: they must be ended (MPI_Abort) once rank 0
  /// has reported the error.
  virtual void end_others() = 0;
};

/// Thrown on ranks other than 0 when the job failed: rank 0 reports it, they exit 1 silently.
class ReportedByRankZero : public std::runtime_error {
 public:
  ReportedByRankZero() : std::runtime_error("the job failed: rank 0 reports why") {}
};

using RankProgress = std::function<void(std::int64_t done, std::int64_t total)>;

struct RankJob {
  /// This rank's shard: called with the shard and a progress callback; returns figures that
  /// rank 0 sums over the ranks (the same count on every rank).
  std::function<std::vector<double>(const Shard&, const RankProgress&)> work;
  /// Rank 0, after every shard succeeded: joins them (an Error fails the job).
  std::function<void()> finish;
  /// Rank 0: examples done of all ranks' totals known so far (each rank reports its total
  /// with its first progress).
  RankProgress progress;
};

/// Runs `job` on this rank. Returns the figures summed over ranks (rank 0) or {} (others).
/// On failure rank 0 throws Error("rank R of N: <message>") of the first rank that failed
/// (itself included), and the others throw ReportedByRankZero.
std::vector<double> run_ranks(Ranks& ranks, const RankJob& job);

}  // namespace attnflow::pipeline
