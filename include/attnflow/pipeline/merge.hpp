// `attnflow merge SHARDS... -o corpus.h5`: the shard stores of one job (`--shard K/N`, or the
// ranks of an MPI job) checked to be complete, non-overlapping and made alike, then joined into
// one store (io/store_merge.hpp: external links, or copies), optionally with the summary CSV.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace attnflow::pipeline {

struct MergeOptions {
  std::vector<std::string> shards;  ///< shard stores, in any order
  std::string output;               ///< the merged store
  bool copy = false;                ///< a self-contained file instead of external links
  bool overwrite = false;           ///< replace an existing output
  /// Summary CSV (as `attnflow analyze -o`) of run `run` of the merged store; "" = none.
  std::string summary;
  std::string run;          ///< for `summary`: "" = the only run of the shards
  bool csv_values = false;  ///< the summary's `values` column
};

struct MergeReport {
  std::string output;
  int shards = 0;
  std::int64_t examples = 0;
  std::vector<std::string> runs;  ///< derived runs merged
  bool copy = false;
  std::string summary;  ///< the CSV written, or ""
  double seconds = 0.0;
};

/// Checks the shards and writes the merged store. Throws Error naming the first problem and
/// its file: a missing shard file (or one still at FILE.partial), a store that is no shard, a
/// shard of another job (count, corpus, model or options), an incomplete shard or run, two
/// files with the same shard, a range no file covers. Nothing is written until all pass.
MergeReport merge_shards(const MergeOptions& options);

void print_report(const MergeReport& report, std::ostream& os);

}  // namespace attnflow::pipeline
