// Float datasets of the store: chunked writing with the chosen codec (none, LZ4, bitshuffle or
// shuffle + gzip), and reading through raw chunks (H5Dread_chunk) decoded outside the HDF5
// lock; chunks of a filter plugin are decoded by HDF5, then converted outside the lock.
#include "chunk_codec.hpp"

#include <zlib.h>

#include <cstdlib>
#include <cstring>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/float16.hpp"
#include "hdf5_util.hpp"

namespace attnflow::io::detail {
namespace {

/// Derived arrays up to this size are stored compact (in the object header).
constexpr hsize_t kCompactBytes = 16384;

/// Registered HDF5 filter ids of the plugin codecs (Debian's hdf5-filter-plugin, hdf5plugin).
constexpr H5Z_filter_t kLz4Filter = 32004;
constexpr H5Z_filter_t kBitshuffleFilter = 32008;

const char* filter_label(H5Z_filter_t id) {
  switch (id) {
    case kLz4Filter: return "lz4";
    case kBitshuffleFilter: return "bitshuffle";
    case 32001: return "blosc";
    case 32013: return "zfp";
    case 32015: return "zstd";
    case 307: return "bzip2";
    case 32000: return "lzf";
    default: return nullptr;
  }
}

/// "HDF5 filter 32004 (lz4)", or the name the file gives an unknown filter.
std::string filter_words(H5Z_filter_t id, const char* file_name = nullptr) {
  const char* label = filter_label(id);
  if (label == nullptr && file_name != nullptr && file_name[0] != '\0') label = file_name;
  return "HDF5 filter " + std::to_string(id) + (label ? std::string(" (") + label + ")" : "");
}

std::string plugin_path_words() {
  const char* path = std::getenv("HDF5_PLUGIN_PATH");
  return path != nullptr ? "HDF5_PLUGIN_PATH is " + std::string(path)
                         : std::string("HDF5_PLUGIN_PATH is not set");
}

/// Why a plugin filter is missing, and what to do about it.
std::string plugin_hint() {
  return "install Debian's hdf5-filter-plugin or set HDF5_PLUGIN_PATH to the folder holding the "
         "plugin, e.g. /usr/lib/x86_64-linux-gnu/hdf5/serial/plugins (" +
         plugin_path_words() + ")";
}

/// HDF5 can run filter `id` (loading its plugin if needed) in the direction asked.
bool filter_usable(H5Z_filter_t id, unsigned direction) {
  if (H5Zfilter_avail(id) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  unsigned config = 0;
  if (H5Zget_filter_info(id, &config) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  return (config & direction) != 0;
}

H5Z_filter_t plugin_filter_of(Codec codec) {
  return codec == Codec::Lz4 ? kLz4Filter : codec == Codec::Bitshuffle ? kBitshuffleFilter : 0;
}

hsize_t product(const std::vector<hsize_t>& v) {
  hsize_t p = 1;
  for (hsize_t x : v) p *= x;
  return p;
}

hid_t file_type_of(Precision precision) {
  switch (precision) {
    case Precision::Float16: return float16_type();
    case Precision::Float32: return H5T_IEEE_F32LE;
    case Precision::Float64: return H5T_IEEE_F64LE;
  }
  return H5T_IEEE_F32LE;
}

std::size_t size_of(Precision precision) {
  return precision == Precision::Float16 ? 2 : precision == Precision::Float32 ? 4 : 8;
}

Handle create_float_dataset(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                            const std::vector<hsize_t>& chunk, Precision precision,
                            const WriteOptions& options, const std::string& what) {
  Handle space = checked(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                         H5Sclose, what);
  Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what);
  check(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), what);
  switch (effective_codec(options)) {
    case Codec::None: break;
    case Codec::Gzip:
      if (options.shuffle) check(H5Pset_shuffle(dcpl.get()), what);
      check(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(options.compression)), what);
      break;
    case Codec::Lz4: {
      const unsigned block[1] = {0};  // the plugin's default block (the whole chunk)
      check(H5Pset_filter(dcpl.get(), kLz4Filter, H5Z_FLAG_MANDATORY, 1, block), what);
      break;
    }
    case Codec::Bitshuffle: {
      // Slots 0-2 are filled by the filter (version, element size); 3: block size (0 =
      // automatic); 4: 2 = LZ4 after the bit transposition (what hdf5plugin writes).
      const unsigned values[5] = {0, 0, 0, 0, 2};
      check(H5Pset_filter(dcpl.get(), kBitshuffleFilter, H5Z_FLAG_MANDATORY, 5, values), what);
      break;
    }
  }
  return checked(H5Dcreate2(loc, name.c_str(), file_type_of(precision), space.get(),
                            utf8_link_properties(), dcpl.get(), H5P_DEFAULT),
                 H5Dclose, what);
}

std::string offset_string(const std::vector<hsize_t>& offset) {
  return shape_string(offset);
}

// Grow-only buffers of this thread: raw chunk bytes (a few, for attention
// and gradient) and decoding scratch. Their size() only grows, so resize()
// never zeroes memory that is about to be overwritten anyway.
thread_local std::vector<std::vector<unsigned char>> spare_raw;
thread_local std::vector<unsigned char> scratch_inflated, scratch_unshuffled;
thread_local std::vector<std::uint16_t> scratch_halves;

template <class T>
T* at_least(std::vector<T>& buffer, std::size_t count) {
  if (buffer.size() < count) buffer.resize(count);
  return buffer.data();
}

/// Undoes HDF5's byte shuffle: `count` elements of `size` bytes stored as `size` byte planes.
/// The loops for 2 and 4 bytes (float16, float32) have fixed strides, which the compiler
/// vectorises; the general one is byte by byte.
void unshuffle(const unsigned char* in, std::size_t count, std::size_t size, unsigned char* out) {
  if (size == 2) {
    const unsigned char *lo = in, *hi = in + count;
    for (std::size_t i = 0; i < count; ++i) {
      out[2 * i] = lo[i];
      out[2 * i + 1] = hi[i];
    }
    return;
  }
  if (size == 4) {
    const unsigned char *b0 = in, *b1 = in + count, *b2 = in + 2 * count, *b3 = in + 3 * count;
    for (std::size_t i = 0; i < count; ++i) {
      out[4 * i] = b0[i];
      out[4 * i + 1] = b1[i];
      out[4 * i + 2] = b2[i];
      out[4 * i + 3] = b3[i];
    }
    return;
  }
  for (std::size_t b = 0; b < size; ++b) {
    const unsigned char* plane = in + b * count;
    for (std::size_t i = 0; i < count; ++i) out[i * size + b] = plane[i];
  }
}

/// Copies one decoded chunk (full chunk extent) into the row-major output.
void place_chunk(const unsigned char* chunk_data, const std::vector<hsize_t>& chunk,
                 const std::vector<hsize_t>& offset, const std::vector<hsize_t>& shape,
                 std::size_t element_size, unsigned char* out) {
  const std::size_t rank = shape.size();
  std::vector<hsize_t> extent(rank), chunk_stride(rank, 1), shape_stride(rank, 1);
  for (std::size_t d = 0; d < rank; ++d) extent[d] = std::min(chunk[d], shape[d] - offset[d]);
  for (std::size_t d = rank - 1; d > 0; --d) {
    chunk_stride[d - 1] = chunk_stride[d] * chunk[d];
    shape_stride[d - 1] = shape_stride[d] * shape[d];
  }
  const std::size_t run = static_cast<std::size_t>(extent[rank - 1]) * element_size;
  std::vector<hsize_t> index(rank, 0);
  while (true) {
    hsize_t src = 0, dst = 0;
    for (std::size_t d = 0; d < rank; ++d) {
      src += index[d] * chunk_stride[d];
      dst += (offset[d] + index[d]) * shape_stride[d];
    }
    std::memcpy(out + dst * element_size, chunk_data + src * element_size, run);
    // Advance the odometer over every dimension but the last.
    std::size_t d = rank - 1;
    while (d > 0) {
      --d;
      if (++index[d] < extent[d]) break;
      index[d] = 0;
      if (d == 0) return;
    }
    if (rank == 1) return;
  }
}

}  // namespace

FetchedFloats::FetchedFloats() = default;

Codec effective_codec(const WriteOptions& options) {
  return options.codec == Codec::Gzip && options.compression == 0 ? Codec::None : options.codec;
}

void require_codec(Codec codec, const std::string& context) {
  const H5Z_filter_t id = plugin_filter_of(codec);
  if (id == 0 || filter_usable(id, H5Z_FILTER_CONFIG_ENCODE_ENABLED)) return;
  throw Error(context + ": cannot write with compression " + enum_name(kCodecNames, codec) + ": " +
              filter_words(id) + " is not available to HDF5 here; " + plugin_hint() +
              ", or choose --compression none or gzip");
}

FetchedFloats::~FetchedFloats() {
  if (raw.capacity() > 0 && spare_raw.size() < 4) spare_raw.push_back(std::move(raw));
}

std::vector<hsize_t> choose_chunk(const std::vector<hsize_t>& shape, std::size_t element_size,
                                  std::size_t chunk_bytes) {
  const std::size_t rank = shape.size();
  std::vector<hsize_t> chunk(rank, 1);
  const std::size_t first = rank >= 3 ? 1 : 0;  // one layer per chunk
  hsize_t bytes = element_size;
  for (std::size_t d = rank; d-- > first;) {
    if (bytes * shape[d] <= chunk_bytes) {
      chunk[d] = shape[d];
      bytes *= shape[d];
      continue;
    }
    const hsize_t fit = std::max<hsize_t>(1, chunk_bytes / bytes);
    hsize_t divisor = fit;
    while (divisor > 1 && shape[d] % divisor != 0) --divisor;
    chunk[d] = divisor * 2 >= fit ? divisor : fit;  // prefer no partial chunks
    break;
  }
  return chunk;
}

Handle create_floats(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                     Precision precision, const WriteOptions& options, const std::string& context) {
  return create_float_dataset(
      loc, name, shape, choose_chunk(shape, size_of(precision), options.chunk_bytes), precision,
      options, context + ": cannot write dataset '" + name + "'");
}

void write_floats(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                  const float* values, Precision precision, const WriteOptions& options,
                  const std::string& context) {
  const std::string what = context + ": cannot write dataset '" + name + "'";
  Handle dataset = create_floats(loc, name, shape, precision, options, context);
  const std::size_t count = static_cast<std::size_t>(product(shape));
  if (precision == Precision::Float16) {
    std::vector<std::uint16_t> halves(count);
    floats_to_halves(values, halves.data(), count);
    check(H5Dwrite(dataset.get(), float16_type(), H5S_ALL, H5S_ALL, H5P_DEFAULT, halves.data()),
          what);
  } else {
    check(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), what);
  }
  close_written(dataset, what);
}

void write_float_block(hid_t dataset, const std::vector<hsize_t>& shape, hsize_t first,
                       const float* values, Precision precision, std::vector<std::uint16_t>& halves,
                       const std::string& context) {
  std::vector<hsize_t> offset(shape.size(), 0), count = shape;
  offset[0] = first;
  count[0] = 1;
  const hsize_t values_count = product(count);
  Handle file_space = checked(H5Dget_space(dataset), H5Sclose, context);
  check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, offset.data(), nullptr, count.data(),
                            nullptr),
        context);
  Handle memory_space = checked(H5Screate_simple(1, &values_count, nullptr), H5Sclose, context);
  if (precision == Precision::Float16) {
    halves.resize(static_cast<std::size_t>(values_count));
    floats_to_halves(values, halves.data(), static_cast<std::size_t>(values_count));
    check(H5Dwrite(dataset, float16_type(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                   halves.data()),
          context);
  } else {
    check(H5Dwrite(dataset, H5T_NATIVE_FLOAT, memory_space.get(), file_space.get(), H5P_DEFAULT,
                   values),
          context);
  }
}

void close_written(Handle& dataset, const std::string& context) {
  if (dataset.valid() && H5Dclose(dataset.release()) < 0) throw_hdf5(context);
}

Handle write_doubles(hid_t loc, const std::string& name, const std::vector<hsize_t>& shape,
                     const double* values, Precision precision, const WriteOptions& options,
                     const std::string& context) {
  const std::string what = context + ": cannot write dataset '" + name + "'";
  if (precision == Precision::Float16) throw Error(what + ": float16 is for attention only");
  const std::size_t size = size_of(precision);
  Handle dataset;
  if (product(shape) * size <= kCompactBytes) {
    // Small (e.g. target rows only): kept in the object header, no chunk index.
    Handle space = checked(H5Screate_simple(static_cast<int>(shape.size()), shape.data(), nullptr),
                           H5Sclose, what);
    Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what);
    check(H5Pset_layout(dcpl.get(), H5D_COMPACT), what);
    dataset = checked(H5Dcreate2(loc, name.c_str(), file_type_of(precision), space.get(),
                                 utf8_link_properties(), dcpl.get(), H5P_DEFAULT),
                      H5Dclose, what);
  } else {
    dataset = create_float_dataset(loc, name, shape, choose_chunk(shape, size, options.chunk_bytes),
                                   precision, options, what);
  }
  check(H5Dwrite(dataset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values), what);
  return dataset;
}

namespace {

/// Chunks of `chunk` tile `shape` in row-major order without padding: leading dimensions of
/// 1, then one dimension split evenly, then whole trailing dimensions. Then the chunks, read
/// in order, are the array itself.
bool tiles_in_order(const std::vector<hsize_t>& shape, const std::vector<hsize_t>& chunk) {
  std::size_t d = 0;
  while (d < shape.size() && chunk[d] == 1) ++d;
  if (d < shape.size() && shape[d] % chunk[d] != 0) return false;
  for (++d; d < shape.size(); ++d) {
    if (chunk[d] != shape[d]) return false;
  }
  return true;
}

/// Reads the whole dataset, converted by HDF5 where it must be: float16/float32 stay in the
/// stored type (raw, row-major; converted outside the lock), any other type becomes float.
void read_whole(hid_t dataset, FetchedFloats& f, bool stored_type) {
  const std::size_t total = static_cast<std::size_t>(product(f.shape));
  f.chunks.clear();
  if (stored_type) {
    f.row_major = true;
    unsigned char* target = at_least(f.raw, total * f.element_size);
    const hid_t memory = f.element_size == 2 ? float16_type() : H5T_NATIVE_FLOAT;
    if (total > 0 && H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, target) < 0) {
      throw_hdf5(f.context + ": cannot read");
    }
    return;
  }
  f.decoded = true;
  f.values.resize(total);
  if (total > 0 &&
      H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, f.values.data()) < 0) {
    throw_hdf5(f.context + ": cannot read");
  }
}

}  // namespace

FetchedFloats fetch_floats(hid_t dataset, const std::string& context) {
  FetchedFloats f;
  f.context = context;
  if (!spare_raw.empty()) {  // reuse this thread's buffer from an earlier read
    f.raw = std::move(spare_raw.back());
    spare_raw.pop_back();
  }
  f.shape = dataset_shape(dataset);
  Handle type = checked(H5Dget_type(dataset), H5Tclose, context + ": cannot read type");
  if (H5Tget_class(type.get()) != H5T_FLOAT) {
    throw Error(context + " must hold floating-point values, found " + describe_type(type.get()));
  }
  bool stored_type = true;  // float16 or float32 as we write them
  if (H5Tequal(type.get(), H5T_IEEE_F32LE) > 0) {
    f.element_size = 4;
  } else if (H5Tequal(type.get(), float16_type()) > 0) {
    f.element_size = 2;
  } else {
    stored_type = false;
  }
  Handle dcpl = checked(H5Dget_create_plist(dataset), H5Pclose, context + ": cannot read layout");
  const bool chunked = H5Pget_layout(dcpl.get()) == H5D_CHUNKED && !f.shape.empty();
  bool plugin = false;  // a filter other than shuffle + deflate: HDF5 decodes
  const int filters = chunked ? H5Pget_nfilters(dcpl.get()) : 0;
  for (int k = 0; k < filters; ++k) {
    unsigned flags = 0, config = 0;
    std::size_t cd_count = 8;
    unsigned cd[8];
    char filter_name[64] = "";
    const H5Z_filter_t id = H5Pget_filter2(dcpl.get(), static_cast<unsigned>(k), &flags, &cd_count,
                                           cd, sizeof filter_name, filter_name, &config);
    if (id < 0) throw_hdf5(context + ": cannot read filter " + std::to_string(k));
    if (id == H5Z_FILTER_SHUFFLE && f.deflate_filter < 0) {
      f.shuffle_filter = k;
    } else if (id == H5Z_FILTER_DEFLATE) {
      f.deflate_filter = k;
    } else {
      plugin = true;
      if (!filter_usable(id, H5Z_FILTER_CONFIG_DECODE_ENABLED)) {
        throw Error(context + " is compressed with " + filter_words(id, filter_name) +
                    ", which HDF5 cannot load here; " + plugin_hint());
      }
    }
  }
  if (!chunked || plugin || !stored_type) {
    read_whole(dataset, f, stored_type);
    return f;
  }
  const int rank = static_cast<int>(f.shape.size());
  f.chunk.assign(f.shape.size(), 0);
  if (H5Pget_chunk(dcpl.get(), rank, f.chunk.data()) != rank) {
    throw_hdf5(context + ": cannot read chunk shape");
  }
  for (hsize_t c : f.chunk) {
    if (c == 0) throw Error(context + ": chunk shape " + shape_string(f.chunk) + " is invalid");
  }
  const hsize_t raw_bytes = product(f.chunk) * f.element_size;
  // Uncompressed chunks in order are the array: read them back to back, nothing to place.
  f.row_major = filters == 0 && tiles_in_order(f.shape, f.chunk);
  const std::size_t rank_size = f.shape.size();
  std::vector<hsize_t> grid(rank_size);
  hsize_t chunk_total = 1;
  for (std::size_t d = 0; d < rank_size; ++d) {
    grid[d] = (f.shape[d] + f.chunk[d] - 1) / f.chunk[d];
    chunk_total *= grid[d];
  }
  std::vector<hsize_t> offset(rank_size, 0);
  std::size_t used = 0;
  if (f.row_major) at_least(f.raw, static_cast<std::size_t>(chunk_total * raw_bytes));
  if (!f.row_major) f.chunks.reserve(static_cast<std::size_t>(chunk_total));
  for (hsize_t k = 0; k < chunk_total; ++k) {
    hsize_t rest = k;
    for (std::size_t d = rank_size; d-- > 0;) {
      offset[d] = (rest % grid[d]) * f.chunk[d];
      rest /= grid[d];
    }
    hsize_t stored = 0;
    if (H5Dget_chunk_storage_size(dataset, offset.data(), &stored) < 0) {
      throw_hdf5(context + ": cannot locate chunk " + offset_string(offset));
    }
    if (stored == 0) {  // never written: let HDF5 apply the fill value
      read_whole(dataset, f, false);
      return f;
    }
    if (stored > raw_bytes + raw_bytes / 2 + 4096 || (f.row_major && stored != raw_bytes)) {
      throw Error(context + ": chunk " + offset_string(offset) + " is corrupt (" +
                  std::to_string(stored) + " stored bytes for " + std::to_string(raw_bytes) +
                  " raw bytes)");
    }
    FetchedFloats::Chunk chunk;
    chunk.begin = used;
    chunk.size = static_cast<std::size_t>(stored);
    used += chunk.size;
    unsigned char* target = at_least(f.raw, used) + chunk.begin;
    if (H5Dread_chunk(dataset, H5P_DEFAULT, offset.data(), &chunk.mask, target) < 0) {
      throw_hdf5(context + ": cannot read chunk " + offset_string(offset));
    }
    if (!f.row_major) {
      chunk.offset = offset;
      f.chunks.push_back(std::move(chunk));
    }
  }
  return f;
}

std::vector<float> decode_floats(FetchedFloats&& f) {
  if (f.decoded) return std::move(f.values);
  const std::size_t es = f.element_size;
  const std::size_t total = static_cast<std::size_t>(product(f.shape));
  std::vector<float> values(total);
  if (f.row_major) {
    if (es == 2) {
      halves_to_floats(reinterpret_cast<const std::uint16_t*>(f.raw.data()), values.data(), total);
    } else if (total > 0) {
      std::memcpy(values.data(), f.raw.data(), total * sizeof(float));
    }
    return values;
  }
  const std::size_t chunk_count = static_cast<std::size_t>(product(f.chunk));
  const std::size_t raw_bytes = chunk_count * es;
  std::uint16_t* halves = es == 2 ? at_least(scratch_halves, total) : nullptr;
  unsigned char* out = es == 2 ? reinterpret_cast<unsigned char*>(halves)
                               : reinterpret_cast<unsigned char*>(values.data());
  unsigned char* inflated = at_least(scratch_inflated, raw_bytes);
  unsigned char* unshuffled = at_least(scratch_unshuffled, raw_bytes);
  for (const auto& chunk : f.chunks) {
    const unsigned char* data = f.raw.data() + chunk.begin;
    std::size_t size = chunk.size;
    const auto where = [&] { return f.context + ": chunk " + offset_string(chunk.offset); };
    if (f.deflate_filter >= 0 && !(chunk.mask & (1u << f.deflate_filter))) {
      uLongf produced = static_cast<uLongf>(raw_bytes);
      const int rc = uncompress(inflated, &produced, data, static_cast<uLong>(size));
      if (rc != Z_OK || produced != raw_bytes) {
        throw Error(where() + " is corrupt (zlib: " +
                    (rc == Z_OK ? std::string("short data") : std::string(zError(rc))) + ")");
      }
      data = inflated;
      size = raw_bytes;
    }
    if (size != raw_bytes) {
      throw Error(where() + " is corrupt (" + std::to_string(size) + " bytes, expected " +
                  std::to_string(raw_bytes) + ")");
    }
    if (f.shuffle_filter >= 0 && !(chunk.mask & (1u << f.shuffle_filter))) {
      unshuffle(data, chunk_count, es, unshuffled);
      data = unshuffled;
    }
    place_chunk(data, f.chunk, chunk.offset, f.shape, es, out);
  }
  if (es == 2) halves_to_floats(halves, values.data(), total);
  return values;
}

std::vector<double> read_doubles(hid_t dataset, const std::string& context) {
  Handle type = checked(H5Dget_type(dataset), H5Tclose, context + ": cannot read type");
  if (H5Tget_class(type.get()) != H5T_FLOAT) {
    throw Error(context + " must hold floating-point values, found " + describe_type(type.get()));
  }
  std::vector<double> out(static_cast<std::size_t>(product(dataset_shape(dataset))));
  if (!out.empty() &&
      H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) < 0) {
    throw_hdf5(context + ": cannot read");
  }
  return out;
}

}  // namespace attnflow::io::detail
