// Reading safetensors files (Hugging Face's weight format): an 8-byte little-endian header
// length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the
// tensor bytes. The header is validated completely when the file is opened.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "attnflow/hf/dtype.hpp"

namespace attnflow::hf {

/// Longest JSON header accepted (the limit of the reference implementation).
inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;
/// Most tensors in one file (checkpoint shards hold a few thousand; the header is parsed in
/// linear time, so the limit bounds memory, not time).
inline constexpr std::size_t kSafetensorsMaxTensors = 300'000;

/// One tensor of the header. Offsets are relative to the start of the data region.
struct TensorInfo {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;  ///< row-major; [] is a scalar
  std::uint64_t begin = 0;          ///< data_offsets[0]
  std::uint64_t end = 0;            ///< data_offsets[1]

  /// Product of the shape (1 for a scalar, 0 with a zero dimension). Throws Error "tensor
  /// '<name>': shape [...] has more than 2^63 - 1 elements" when it does not fit.
  std::int64_t numel() const;
  std::size_t nbytes() const { return static_cast<std::size_t>(end - begin); }
};

/// A read-only view of a tensor's bytes inside the open file.
struct ByteView {
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
};

struct SafetensorsOptions {
  bool use_mmap = true;  ///< map the file; false reads it into memory
};

class SafetensorsFile {
 public:
  /// Opens and validates `path`. Throws Error "<path>: <problem>" for a missing or short file,
  /// a header length past the end of the file, invalid JSON, a duplicate or unknown entry,
  /// an unknown dtype, a bad shape, data_offsets out of range, overlapping, leaving gaps or not
  /// covering the data region, or a byte length that does not match shape x dtype.
  explicit SafetensorsFile(const std::string& path, const SafetensorsOptions& options = {});
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;

  const std::string& path() const { return path_; }
  /// Tensors in file order (by data offset).
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  /// The optional "__metadata__" string map (e.g. {"format": "pt"}).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  /// Looks `name` up, then with each prefix added to it, or removed from it when it starts with
  /// that prefix: find("embeddings.word_embeddings.weight", {"bert."}) also finds
  /// "bert.embeddings.word_embeddings.weight", and find("bert.pooler.dense.bias", {"bert."})
  /// also finds "pooler.dense.bias". nullptr when none exists.
  const TensorInfo* find(std::string_view name,
                         const std::vector<std::string>& prefixes = {}) const;
  /// Like find(), but throws Error "<path>: no tensor '<name>' (also tried '...')".
  const TensorInfo& at(std::string_view name, const std::vector<std::string>& prefixes = {}) const;

  /// The raw little-endian bytes of a tensor of this file.
  ByteView bytes(const TensorInfo& tensor) const;
  /// Converts an F16/BF16/F32/F64 tensor to float32 (row-major). Throws Error naming the
  /// tensor and its dtype for other dtypes.
  std::vector<float> to_float32(const TensorInfo& tensor) const;
  /// Same into `out`, which must hold tensor.numel() floats.
  void read_float32(const TensorInfo& tensor, float* out) const;
  /// Converts a BOOL/integer tensor to int64. Throws Error for float dtypes, and for U64
  /// values above INT64_MAX.
  std::vector<std::int64_t> to_int64(const TensorInfo& tensor) const;

 private:
  struct Storage;
  std::string path_;
  std::unique_ptr<Storage> storage_;
  const std::uint8_t* data_ = nullptr;  ///< start of the data region
  std::vector<TensorInfo> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

/// A sharded checkpoint's model.safetensors.index.json: {"metadata": {...}, "weight_map":
/// {tensor name: shard file name}}.
struct SafetensorsIndex {
  std::string path;                               ///< the index file, for messages
  std::string directory;                          ///< where the shards are
  std::vector<std::string> shards;                ///< file names, in order of first mention
  std::map<std::string, std::string> weight_map;  ///< tensor -> shard file name
};

/// Reads and validates an index. Throws Error "<path>: <problem>" for a missing file, invalid
/// JSON, no "weight_map" object, an empty one, a shard that is not a plain file name in the
/// index's directory (no '/', no "..").
SafetensorsIndex read_safetensors_index(const std::string& path);

/// Every shard of an index, opened, with each tensor of the weight map checked to be in its
/// shard. Throws Error naming the index and the shard for a missing or corrupt shard, and the
/// index, the shard and the tensor for a tensor the shard lacks.
std::vector<SafetensorsFile> open_safetensors_shards(const SafetensorsIndex& index,
                                                     const SafetensorsOptions& options = {});

}  // namespace attnflow::hf
