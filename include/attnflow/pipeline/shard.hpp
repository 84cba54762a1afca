// Shards of a corpus: `--shard K/N` (a Slurm job array, or one MPI rank) takes a deterministic,
// contiguous range of examples, balanced by the estimated cost of each example (attention flow
// grows ~n^3 in the tokens), so that every shard of a job computes the same ranges on its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace attnflow::pipeline {

/// Shard `index` of `count` (count 0 = no sharding: the whole corpus).
struct Shard {
  int index = 0;
  int count = 0;
  bool active() const { return count > 0; }
};

/// "K/N" with 0 <= K < N: Error("--shard: ...") naming the text otherwise.
Shard parse_shard(const std::string& text);
/// "K/N".
std::string to_string(const Shard& shard);

/// Examples [first, end).
struct ExampleRange {
  std::int64_t first = 0;
  std::int64_t end = 0;
};

/// The contiguous ranges of `count` shards over units with these costs (an example, or an
/// extraction batch): shard k ends where the prefix sum of the costs comes nearest to
/// (k+1)/count of the total. Deterministic; a range may be empty (more shards than units).
std::vector<ExampleRange> balanced_ranges(const std::vector<double>& costs, int count);

/// The estimated cost of analysing one example of n tokens: n^3 + 32^3 with attention flow (n
/// max-flows per target row and layer, each over ~L·n^2 edges, plus the example's read,
/// decode and commit, which cost about as much as the flow of 32 tokens), else n^2 + 32^2
/// (reading and multiplying n x n maps). docs/scale.md measures both terms.
double analysis_cost(std::int64_t tokens, bool flow);

/// The shard file that `mpirun` rank K of N writes for the output `path`:
/// "out/corpus.h5" -> "out/corpus.shard-K-of-N.h5".
std::string shard_path(const std::string& path, const Shard& shard);

}  // namespace attnflow::pipeline
