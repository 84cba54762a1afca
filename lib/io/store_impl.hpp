// Internal to attnflow::io: the state behind attnflow::io::Store, shared by
// store.cpp (examples) and derived_run.cpp (derived runs).
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "attnflow/io/derived_run.hpp"
#include "attnflow/io/store.hpp"
#include "commit_index.hpp"
#include "hdf5_util.hpp"
#include "heap_check.hpp"

namespace attnflow::io {

struct Store::Impl {
  std::string path;
  StoreInfo info;
  WriteOptions write_options;
  bool writable = false;
  std::int64_t size = 0;      ///< committed examples
  std::int64_t recorded = 0;  ///< the root attribute num_examples (written at close)
  detail::Handle file;
  detail::Handle examples;             ///< the /examples group
  detail::CommitIndex commits;         ///< its commit index (authoritative when present)
  detail::StringHeapCheck heap_check;  ///< guards HDF5 against damaged strings and headers

  std::string where(std::int64_t index) const {
    return path + ": example " + std::to_string(index);
  }
  void require_writable(const std::string& what) const;
};

namespace detail {
/// The io library's door to the state of a Store (Store befriends it).
struct StoreAccess {
  using Impl = Store::Impl;
  static Impl& of(const Store& store) { return *store.impl_; }
};
using StoreImpl = StoreAccess::Impl;
inline StoreImpl& impl_of(const Store& store) {
  return StoreAccess::of(store);
}

/// Root attribute names (docs/hdf5-schema.md).
inline constexpr const char* kSchemaAttribute = "attnflow_schema_version";
inline constexpr const char* kCountAttribute = "num_examples";
/// Sanity bounds against damaged files and absurd inputs.
inline constexpr std::int64_t kMaxLayersOrHeads = 100000;
inline constexpr std::int64_t kMaxTokens = 1000000;
inline constexpr double kMaxElements = 17179869184.0;  // 2^34 values per stack

// store.cpp
/// File access of every store: HDF5 1.8 format or later, nothing newer than 1.10.
Handle file_access_properties();

// derived_run.cpp
/// Writes the attributes of a run group (docs/hdf5-schema.md), num_examples 0.
void write_run_attributes(hid_t group, const RunInfo& run);

// store_metadata.cpp
void validate_info(const StoreInfo& info, const std::string& path);
void validate_write_options(const WriteOptions& options, const std::string& path);
void write_root(hid_t file, const StoreInfo& info, const WriteOptions& options);
/// The write options of the codec `info` records (root attribute `compression`; none recorded:
/// the defaults). Throws Error naming `path` for a codec this attnflow does not know.
WriteOptions recorded_write_options(const StoreInfo& info, const std::string& path);
/// Reads and validates the root attributes; `size` gets num_examples.
StoreInfo read_root(hid_t file, const std::string& path, std::int64_t& size);
/// Everything append() checks before touching the file. With `streamed_gradient` set, the
/// attention (and, when it is true, the gradient) were written a layer at a time
/// (ExampleWriter), so `e` must hold neither.
void validate_example(const Example& e, const StoreInfo& info, const std::string& where,
                      std::optional<bool> streamed_gradient = std::nullopt);
/// Throws Error naming `what`, the layer (first_layer + 1 ...), head, row and column of the first
/// of `count` values (layers of heads x tokens x tokens) whose magnitude float16 cannot hold.
void check_float16_range(const float* values, std::size_t count, int first_layer, int heads,
                         int tokens, const std::string& what);
/// Shape of the attention/gradient datasets of an n-token example.
std::vector<hsize_t> stack_dims(const StoreInfo& info, hsize_t n);
/// Name of the dataset of contribution `c`: "contribution_" + its name with '-' -> '_'.
std::string contribution_dataset(Contribution c);
}  // namespace detail

}  // namespace attnflow::io
