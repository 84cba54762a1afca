// Internal to attnflow::io: the state behind ExampleWriter, shared by example_writer.cpp (the
// layers) and store.cpp (Store::begin_example, the commit in Store::append).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "attnflow/io/example_writer.hpp"
#include "hdf5_util.hpp"
#include "store_impl.hpp"

namespace attnflow::io {

struct ExampleWriter::Impl {
  detail::StoreImpl* store = nullptr;
  int tokens = 0;
  int heads = 1;  ///< maps per layer: the store's heads (per-head) or 1 (fused)
  std::vector<hsize_t> dims;
  std::string where;         ///< "<file>: example <k> (being written)"
  detail::Handle group;      ///< unlinked until the commit
  detail::Handle attention;  ///< the dataset `attention`
  detail::Handle gradient;   ///< the dataset `gradient` (invalid: none)
  std::vector<bool> attention_done, gradient_done;
  std::vector<std::uint16_t> halves;  ///< float16 conversion of one layer

  /// Checks that every layer was written and closes the datasets (HDF5 writes cached chunks
  /// then; a failure throws). Errors name `example` (the example being committed). Lock held.
  void finish(const std::string& example);
  ~Impl();
};

}  // namespace attnflow::io
