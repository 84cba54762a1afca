// One store over the shards of a corpus (`attnflow merge`): its examples, and the derived runs
// every shard has, are HDF5 external links into the shard files (zero-copy; h5py and Store
// follow them; the shards must stay where they are) or copies (a self-contained file).
// Checking that the shards fit together is the caller's (pipeline/merge.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store_types.hpp"

namespace attnflow::io {

/// One shard store: its examples 0..examples-1 become the next examples of the merged store.
struct MergePart {
  std::string path;
  std::int64_t examples = 0;
};

struct MergePlan {
  StoreInfo info;                ///< root metadata of the merged store (its shard is ignored)
  std::vector<MergePart> parts;  ///< in corpus order
  std::vector<RunInfo> runs;     ///< complete runs every part holds for all its examples
  bool copy = false;             ///< copy the examples and results instead of linking them
};

/// Writes the merged store `path` under `path`.partial and renames it into place (replacing
/// an existing file). Links hold the shard paths relative to the merged file's directory; the
/// root attribute `merged_shards` lists them. A linked store has no commit index: readers take
/// num_examples and the names (docs/hdf5-schema.md "Merged stores").
void write_merged_store(const std::string& path, const MergePlan& plan);

}  // namespace attnflow::io
