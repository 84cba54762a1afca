// Safetensors reader: header validation, mmap'd (or read) data, dtype conversion.
#include "attnflow/hf/safetensors.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "json_util.hpp"

namespace attnflow::hf {

using nlohmann::json;

namespace {

std::string range(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

template <typename T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

}  // namespace

std::int64_t TensorInfo::numel() const {
  // A zero dimension makes any product 0, however large the others are.
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
  std::int64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) {
      throw Error("tensor '" + name + "': shape " + shape_text(shape) +
                  (d < 0 ? " has a negative dimension" : " has more than 2^63 - 1 elements"));
    }
  }
  return n;
}

// The file's bytes: a private read-only mapping or a heap copy.
struct SafetensorsFile::Storage {
  void* map = nullptr;
  std::size_t map_size = 0;
  std::vector<std::uint8_t> heap;

  const std::uint8_t* data() const {
    return map ? static_cast<const std::uint8_t*>(map) : heap.data();
  }
  std::size_t size() const { return map ? map_size : heap.size(); }
  ~Storage() {
    if (map) munmap(map, map_size);
  }
};

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;

SafetensorsFile::SafetensorsFile(const std::string& path, const SafetensorsOptions& options)
    : path_(path), storage_(std::make_unique<Storage>()) {
  const auto fail = [&](const std::string& problem) { throw Error(path + ": " + problem); };
  if (options.use_mmap) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(std::string("cannot open (") + std::strerror(errno) + ")");
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int err = errno;
      ::close(fd);
      fail(std::string("cannot stat (") + std::strerror(err) + ")");
    }
    if (S_ISDIR(st.st_mode)) {
      ::close(fd);
      fail("is a directory, not a safetensors file");
    }
    const auto size = static_cast<std::size_t>(st.st_size);
    if (size > 0) {
      void* m = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (m == MAP_FAILED) {
        const int err = errno;
        ::close(fd);
        fail(std::string("cannot map (") + std::strerror(err) + ")");
      }
      storage_->map = m;
      storage_->map_size = size;
    }
    ::close(fd);
  } else {
    const std::string bytes = detail::read_file(path);
    storage_->heap.assign(bytes.begin(), bytes.end());
  }

  const std::uint8_t* file = storage_->data();
  const std::uint64_t file_size = storage_->size();
  if (file_size < 8) {
    fail("file is " + std::to_string(file_size) +
         " bytes, too short for a safetensors header (8-byte length + JSON)");
  }
  std::uint64_t header_len = 0;
  for (int b = 7; b >= 0; --b) header_len = (header_len << 8) | file[b];
  if (header_len > file_size - 8) {
    fail("header length " + std::to_string(header_len) + " is larger than the " +
         std::to_string(file_size - 8) + " bytes that follow it");
  }
  if (header_len > kSafetensorsMaxHeaderBytes) {
    fail("header length " + std::to_string(header_len) + " exceeds the " +
         std::to_string(kSafetensorsMaxHeaderBytes) + "-byte limit");
  }
  const std::string_view header(reinterpret_cast<const char*>(file + 8),
                                static_cast<std::size_t>(header_len));
  if (header.empty() || header.front() != '{') fail("header does not start with '{'");

  // One linear pass; duplicate names are errors (nlohmann would keep the last one).
  detail::JsonParseOptions parse;
  parse.unique_top_level_keys = true;
  parse.max_top_level_keys = kSafetensorsMaxTensors;
  parse.uncounted_key = "__metadata__";
  parse.counted_words = "tensors";
  const json doc = detail::parse_json(header, path + ": header", parse);
  if (!doc.is_object()) fail("header is " + detail::type_words(doc) + ", not a JSON object");

  const std::uint64_t data_size = file_size - 8 - header_len;
  data_ = file + 8 + header_len;
  try {
    for (auto it = doc.begin(); it != doc.end(); ++it) {
      const std::string& name = it.key();
      const json& entry = it.value();
      if (name == "__metadata__") {
        if (entry.is_null()) continue;  // written as null by some tools: no metadata
        if (!entry.is_object()) {
          fail("__metadata__ is " + detail::type_words(entry) + ", not an object");
        }
        for (auto m = entry.begin(); m != entry.end(); ++m) {
          if (!m.value().is_string()) {
            fail("__metadata__ value of '" + m.key() + "' is " + detail::type_words(m.value()) +
                 ", not a string");
          }
          metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      const std::string where = "tensor '" + name + "': ";
      if (!entry.is_object())
        fail(where + "entry is " + detail::type_words(entry) + ", not an object");
      for (const char* field : {"dtype", "shape", "data_offsets"}) {
        if (!entry.contains(field)) fail(where + "missing '" + field + "'");
      }
      TensorInfo t;
      t.name = name;
      const json& dtype = entry["dtype"];
      if (!dtype.is_string()) fail(where + "dtype is " + detail::brief(dtype) + ", not a string");
      const auto parsed = parse_dtype(dtype.get<std::string>());
      if (!parsed) {
        fail(where + "unknown dtype '" + dtype.get<std::string>() +
             "' (supported: BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, "
             "I64, U64, F64)");
      }
      t.dtype = *parsed;
      const json& shape = entry["shape"];
      const auto bad_shape = [&] {
        fail(where + "shape must be an array of non-negative integers, got " +
             detail::brief(shape));
      };
      if (!shape.is_array()) bad_shape();
      // Element count with an overflow guard (no tensor can exceed the file anyway).
      std::uint64_t count = 1;
      bool overflow = false, empty = false;
      for (const json& d : shape) {
        if (!d.is_number_unsigned()) bad_shape();
        const std::uint64_t v = d.get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) bad_shape();
        t.shape.push_back(static_cast<std::int64_t>(v));
        empty = empty || v == 0;
        overflow = __builtin_mul_overflow(count, v, &count) || overflow;
      }
      const json& offsets = entry["data_offsets"];
      const bool offsets_ok = offsets.is_array() && offsets.size() == 2 &&
                              offsets[0].is_number_unsigned() && offsets[1].is_number_unsigned() &&
                              offsets[0].get<std::uint64_t>() <= offsets[1].get<std::uint64_t>();
      if (!offsets_ok) {
        fail(where + "data_offsets must be [begin, end] with 0 <= begin <= end, got " +
             detail::brief(offsets));
      }
      t.begin = offsets[0].get<std::uint64_t>();
      t.end = offsets[1].get<std::uint64_t>();
      std::uint64_t need = 0;
      if (!empty) overflow = __builtin_mul_overflow(count, dtype_size(t.dtype), &need) || overflow;
      const bool too_big = overflow && !empty;
      if (too_big || need != t.end - t.begin) {
        fail(where + "shape " + shape_text(t.shape) + " with dtype " +
             std::string(dtype_name(t.dtype)) + " needs " +
             (too_big ? std::string("more than 2^64") : std::to_string(need)) +
             " bytes but data_offsets " + range(t.begin, t.end) + " hold " +
             std::to_string(t.end - t.begin));
      }
      if (t.end > data_size) {
        fail(where + "data_offsets " + range(t.begin, t.end) + " exceed the " +
             std::to_string(data_size) + "-byte data region");
      }
      tensors_.push_back(std::move(t));
    }
  } catch (const json::exception& e) {  // a structure no check above foresaw
    fail("header: unexpected JSON structure (" + detail::json_message(e) + ")");
  }

  // The tensors must tile the data region exactly: no overlap, no gap, nothing left over.
  std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t covered = 0;
  const TensorInfo* previous = nullptr;
  for (const TensorInfo& t : tensors_) {
    if (t.begin < covered) {
      fail("tensors '" + previous->name + "' " + range(previous->begin, previous->end) + " and '" +
           t.name + "' " + range(t.begin, t.end) + " overlap");
    }
    if (t.begin > covered) {
      fail("bytes " + range(covered, t.begin) + " of the data region belong to no tensor (" +
           (previous ? "between '" + previous->name + "' and '" + t.name + "'"
                     : "before '" + t.name + "'") +
           ")");
    }
    covered = t.end;
    previous = &t;
  }
  if (covered != data_size) {
    fail("bytes " + range(covered, data_size) + " at the end of the data region belong to no " +
         "tensor");
  }
  for (std::size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
}

const TensorInfo* SafetensorsFile::find(std::string_view name,
                                        const std::vector<std::string>& prefixes) const {
  const auto lookup = [&](std::string_view n) -> const TensorInfo* {
    const auto it = index_.find(n);
    return it == index_.end() ? nullptr : &tensors_[it->second];
  };
  if (const TensorInfo* t = lookup(name)) return t;
  for (const std::string& p : prefixes) {
    if (p.empty()) continue;
    const bool has = name.size() > p.size() && name.substr(0, p.size()) == p;
    if (const TensorInfo* t = has ? lookup(name.substr(p.size())) : lookup(p + std::string(name))) {
      return t;
    }
  }
  return nullptr;
}

const TensorInfo& SafetensorsFile::at(std::string_view name,
                                      const std::vector<std::string>& prefixes) const {
  if (const TensorInfo* t = find(name, prefixes)) return *t;
  std::string tried;
  for (const std::string& p : prefixes) {
    if (p.empty()) continue;
    const bool has = name.size() > p.size() && name.substr(0, p.size()) == p;
    tried += std::string(tried.empty() ? "" : ", ") + "'" +
             (has ? std::string(name.substr(p.size())) : p + std::string(name)) + "'";
  }
  throw Error(path_ + ": no tensor '" + std::string(name) + "'" +
              (tried.empty() ? "" : " (also tried " + tried + ")"));
}

ByteView SafetensorsFile::bytes(const TensorInfo& t) const {
  return ByteView{data_ + t.begin, t.nbytes()};
}

void SafetensorsFile::read_float32(const TensorInfo& t, float* out) const {
  const std::uint8_t* p = data_ + t.begin;
  const auto n = static_cast<std::size_t>(t.numel());
  switch (t.dtype) {
    case Dtype::F32:
      if (n > 0) std::memcpy(out, p, n * 4);
      return;
    case Dtype::F16:
      for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(load<std::uint16_t>(p + 2 * i));
      return;
    case Dtype::BF16:
      for (std::size_t i = 0; i < n; ++i) {
        out[i] = bfloat16_to_float(load<std::uint16_t>(p + 2 * i));
      }
      return;
    case Dtype::F64:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(load<double>(p + 8 * i));
      return;
    default:
      throw Error(path_ + ": tensor '" + t.name + "' has dtype " +
                  std::string(dtype_name(t.dtype)) +
                  ", which does not convert to float32 (F16, BF16, F32 or F64 do)");
  }
}

std::vector<float> SafetensorsFile::to_float32(const TensorInfo& t) const {
  std::vector<float> out(static_cast<std::size_t>(t.numel()));
  read_float32(t, out.data());
  return out;
}

std::vector<std::int64_t> SafetensorsFile::to_int64(const TensorInfo& t) const {
  const std::uint8_t* p = data_ + t.begin;
  const auto n = static_cast<std::size_t>(t.numel());
  std::vector<std::int64_t> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case Dtype::Bool: out[i] = p[i] != 0; break;
      case Dtype::U8: out[i] = p[i]; break;
      case Dtype::I8: out[i] = load<std::int8_t>(p + i); break;
      case Dtype::I16: out[i] = load<std::int16_t>(p + 2 * i); break;
      case Dtype::U16: out[i] = load<std::uint16_t>(p + 2 * i); break;
      case Dtype::I32: out[i] = load<std::int32_t>(p + 4 * i); break;
      case Dtype::U32: out[i] = load<std::uint32_t>(p + 4 * i); break;
      case Dtype::I64: out[i] = load<std::int64_t>(p + 8 * i); break;
      case Dtype::U64: {
        const auto v = load<std::uint64_t>(p + 8 * i);
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          throw Error(path_ + ": tensor '" + t.name + "' element " + std::to_string(i) + " is " +
                      std::to_string(v) + ", beyond int64");
        }
        out[i] = static_cast<std::int64_t>(v);
        break;
      }
      default:
        throw Error(path_ + ": tensor '" + t.name + "' has dtype " +
                    std::string(dtype_name(t.dtype)) +
                    ", which does not convert to int64 (BOOL and integer dtypes do)");
    }
  }
  return out;
}

SafetensorsIndex read_safetensors_index(const std::string& path) {
  const json doc = detail::read_json_file(path);
  SafetensorsIndex index;
  index.path = path;
  const auto slash = path.find_last_of('/');
  index.directory = slash == std::string::npos ? "." : path.substr(0, slash);
  if (!doc.is_object()) {
    throw Error(path + ": index is " + detail::type_words(doc) + ", not a JSON object");
  }
  const auto map = doc.find("weight_map");
  if (map == doc.end() || !map->is_object()) {
    throw Error(path + ": no 'weight_map' object (tensor name -> shard file)");
  }
  if (map->empty()) throw Error(path + ": 'weight_map' is empty");
  for (auto it = map->begin(); it != map->end(); ++it) {
    if (!it.value().is_string()) {
      throw Error(path + ": 'weight_map' entry '" + it.key() + "' must be a file name, got " +
                  detail::brief(it.value()));
    }
    const std::string shard = it.value().get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      throw Error(path + ": 'weight_map' entry '" + it.key() + "' names shard '" + shard +
                  "', not a file name in the index's directory");
    }
    if (std::find(index.shards.begin(), index.shards.end(), shard) == index.shards.end()) {
      index.shards.push_back(shard);
    }
    index.weight_map[it.key()] = shard;
  }
  return index;
}

std::vector<SafetensorsFile> open_safetensors_shards(const SafetensorsIndex& index,
                                                     const SafetensorsOptions& options) {
  std::vector<SafetensorsFile> files;
  for (const std::string& shard : index.shards) {
    const std::string p = index.directory + "/" + shard;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      throw Error(index.path + ": shard '" + shard + "' is missing (" + p + ")");
    }
    try {
      files.emplace_back(p, options);
    } catch (const Error& e) {
      throw Error(index.path + ": shard '" + shard + "': " + e.what());
    }
  }
  for (const auto& [name, shard] : index.weight_map) {
    const auto at =
        std::find(index.shards.begin(), index.shards.end(), shard) - index.shards.begin();
    if (files[static_cast<std::size_t>(at)].find(name) == nullptr) {
      throw Error(index.path + ": tensor '" + name + "' is listed in shard '" + shard +
                  "', which has no such tensor");
    }
  }
  return files;
}

}  // namespace attnflow::hf
