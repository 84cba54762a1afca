// Internal to attnflow::io: float datasets of the store. Writing chooses the
// chunk shape and filters. Reading is split in two: fetch() copies the raw
// (compressed) chunks while the HDF5 lock is held, decode() inflates,
// unshuffles and converts float16 outside it, so threads decode in parallel.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "attnflow/io/store_types.hpp"
#include "hdf5_util.hpp"

namespace attnflow::io::detail {

/// Chunk shape for a dataset of `shape` and element size: whole trailing
/// maps (n x n, or the whole derived array) grouped up to `chunk_bytes`,
/// never more than one layer (the first dimension) per chunk.
std::vector<hsize_t> choose_chunk(const std::vector<hsize_t>& shape, std::size_t element_size,
                                  std::size_t chunk_bytes);

/// Creates dataset `name` in `loc` and writes `values` (row-major, product
/// of `shape`) as float16 or float32 (float64 for Precision::Float64).
void write_floats(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                  const float* values, Precision precision, const WriteOptions& options,
                  const std::string& context);
/// Creates float dataset `name` with write_floats' chunks and filters; nothing written yet (HDF5
/// allocates a chunk when it is first written). Fill it with write_float_block.
Handle create_floats(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                     Precision precision, const WriteOptions& options, const std::string& context);
/// Writes block `first` of the first dimension of `dataset` (of shape `shape`: the product of
/// shape[1..] values, row-major), converted to float16 in `halves` for Precision::Float16. A
/// chunk never spans two blocks (choose_chunk), so each block writes whole chunks.
void write_float_block(hid_t dataset, const std::vector<hsize_t>& shape, hsize_t first,
                       const float* values, Precision precision, std::vector<std::uint16_t>& halves,
                       const std::string& context);
/// Closes a dataset that was written: HDF5 writes its cached chunks then (uncompressed chunks
/// stay in the chunk cache until the close), so a failure there (a full disk) must throw, not
/// pass unnoticed as in Handle's destructor, before the example is committed.
void close_written(Handle& dataset, const std::string& context);
/// Returns the open dataset (for attributes; close it with close_written).
Handle write_doubles(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                     const double* values, Precision precision, const WriteOptions& options,
                     const std::string& context);

/// A float dataset read under the lock: raw chunks for decode(), or values
/// already converted by HDF5 (any other layout, type or filter).
struct FetchedFloats {
  std::vector<hsize_t> shape, chunk;
  std::string context;
  bool decoded = false;          ///< true: `values` is final
  std::vector<float> values;     ///< decoded values (row-major)
  std::size_t element_size = 4;  ///< 2 (float16) or 4 (float32)
  /// true: `raw` holds the whole array, row-major, in the stored type (uncompressed chunks
  /// that tile it in order, or what HDF5 decoded through a filter plugin): decode() only
  /// converts float16 (or copies float32), without the chunk-by-chunk path.
  bool row_major = false;
  int shuffle_filter = -1;  ///< pipeline index of shuffle, -1 if none
  int deflate_filter = -1;  ///< pipeline index of deflate, -1 if none
  struct Chunk {
    std::vector<hsize_t> offset;
    std::uint32_t mask = 0;           ///< bit k set: filter k was skipped for this chunk
    std::size_t begin = 0, size = 0;  ///< bytes [begin, begin + size) of `raw`
  };
  std::vector<Chunk> chunks;
  /// Stored chunk bytes, back to back. A per-thread buffer that is reused
  /// from read to read (fresh large buffers cost page faults and zeroing).
  std::vector<unsigned char> raw;
  FetchedFloats();
  ~FetchedFloats();  ///< returns `raw` to the thread's spare buffers
  FetchedFloats(FetchedFloats&&) = default;
  FetchedFloats& operator=(FetchedFloats&&) = default;
};

/// The codec of `options` (Codec::Gzip with level 0 is Codec::None).
Codec effective_codec(const WriteOptions& options);
/// Throws Error naming `context`, the codec, its HDF5 filter and HDF5_PLUGIN_PATH when this
/// process cannot write `codec` (a filter plugin that HDF5 does not find). Lock held.
void require_codec(Codec codec, const std::string& context);

/// Call with the HDF5 lock held. `context` names the dataset in errors.
FetchedFloats fetch_floats(hid_t dataset, const std::string& context);
/// Call without the lock. Throws Error naming the chunk when it is corrupt.
std::vector<float> decode_floats(FetchedFloats&& fetched);

/// Reads a float dataset as double (small derived arrays; lock held).
std::vector<double> read_doubles(hid_t dataset, const std::string& context);

}  // namespace attnflow::io::detail
