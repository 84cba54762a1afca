// Safetensors writer: aligned layout, padded header, atomic rename.
#include "attnflow/hf/safetensors_writer.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "attnflow/core/error.hpp"
#include "attnflow/core/util/atomic_file.hpp"
#include "attnflow/core/util/float16.hpp"
#include "attnflow/hf/dtype.hpp"

namespace attnflow::hf {
namespace {

std::size_t count_of(const std::string& name, const std::vector<std::int64_t>& shape) {
  std::size_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) {
      throw Error("tensor '" + name + "': negative dimension " + std::to_string(d) + " in shape");
    }
    n *= static_cast<std::size_t>(d);
  }
  return n;
}

template <typename T>
void put(std::vector<std::uint8_t>& out, std::size_t i, T v) {
  std::memcpy(out.data() + i * sizeof(T), &v, sizeof(T));
}

}  // namespace

TensorData float_tensor(std::string name, std::vector<std::int64_t> shape,
                        const std::vector<float>& values, Dtype dtype) {
  const std::size_t n = count_of(name, shape);
  if (values.size() != n) {
    throw Error("tensor '" + name + "': " + std::to_string(values.size()) +
                " values for a shape of " + std::to_string(n) + " elements");
  }
  if (!is_float_dtype(dtype)) {
    throw Error("tensor '" + name + "': float values cannot be stored as " +
                std::string(dtype_name(dtype)) + " (use F16, BF16, F32 or F64)");
  }
  TensorData t{std::move(name), dtype, std::move(shape), {}};
  t.bytes.resize(n * dtype_size(dtype));
  for (std::size_t i = 0; i < n; ++i) {
    switch (dtype) {
      case Dtype::F16: put(t.bytes, i, float_to_half(values[i])); break;
      case Dtype::BF16: put(t.bytes, i, float_to_bfloat16(values[i])); break;
      case Dtype::F32: put(t.bytes, i, values[i]); break;
      default: put(t.bytes, i, static_cast<double>(values[i])); break;
    }
  }
  return t;
}

TensorData int_tensor(std::string name, std::vector<std::int64_t> shape,
                      const std::vector<std::int64_t>& values, Dtype dtype) {
  const std::size_t n = count_of(name, shape);
  if (values.size() != n) {
    throw Error("tensor '" + name + "': " + std::to_string(values.size()) +
                " values for a shape of " + std::to_string(n) + " elements");
  }
  if (!is_integer_dtype(dtype)) {
    throw Error("tensor '" + name + "': integer values cannot be stored as " +
                std::string(dtype_name(dtype)) +
                " (use BOOL, I8, U8, I16, U16, I32, U32, I64 or U64)");
  }
  TensorData t{std::move(name), dtype, std::move(shape), {}};
  t.bytes.resize(n * dtype_size(dtype));
  const auto check = [&](std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi) {
      throw Error("tensor '" + t.name + "': value " + std::to_string(v) + " does not fit " +
                  std::string(dtype_name(dtype)));
    }
  };
  using L = std::numeric_limits<std::int64_t>;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t v = values[i];
    switch (dtype) {
      case Dtype::Bool:
        check(v, 0, 1);
        put(t.bytes, i, static_cast<std::uint8_t>(v));
        break;
      case Dtype::U8:
        check(v, 0, 255);
        put(t.bytes, i, static_cast<std::uint8_t>(v));
        break;
      case Dtype::I8:
        check(v, -128, 127);
        put(t.bytes, i, static_cast<std::int8_t>(v));
        break;
      case Dtype::I16:
        check(v, -32768, 32767);
        put(t.bytes, i, static_cast<std::int16_t>(v));
        break;
      case Dtype::U16:
        check(v, 0, 65535);
        put(t.bytes, i, static_cast<std::uint16_t>(v));
        break;
      case Dtype::I32:
        check(v, std::numeric_limits<std::int32_t>::min(),
              std::numeric_limits<std::int32_t>::max());
        put(t.bytes, i, static_cast<std::int32_t>(v));
        break;
      case Dtype::U32:
        check(v, 0, std::numeric_limits<std::uint32_t>::max());
        put(t.bytes, i, static_cast<std::uint32_t>(v));
        break;
      case Dtype::U64:
        check(v, 0, L::max());
        put(t.bytes, i, static_cast<std::uint64_t>(v));
        break;
      default: put(t.bytes, i, v); break;
    }
  }
  return t;
}

void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const SafetensorsWriteOptions& options) {
  std::set<std::string> names;
  for (const TensorData& t : tensors) {
    if (t.name.empty()) throw Error(path + ": a tensor has an empty name");
    if (t.name == "__metadata__")
      throw Error(path + ": '__metadata__' is reserved, not a tensor name");
    if (!names.insert(t.name).second)
      throw Error(path + ": duplicate tensor name '" + t.name + "'");
    for (std::int64_t d : t.shape) {
      if (d < 0) {
        throw Error(path + ": tensor '" + t.name + "': negative dimension " + std::to_string(d) +
                    " in shape");
      }
    }
    const std::size_t need = count_of(t.name, t.shape) * dtype_size(t.dtype);
    if (t.bytes.size() != need) {
      throw Error(path + ": tensor '" + t.name + "' has " + std::to_string(t.bytes.size()) +
                  " bytes but its shape and dtype " + std::string(dtype_name(t.dtype)) + " need " +
                  std::to_string(need));
    }
  }
  // Larger elements first, then by name: every tensor starts aligned to its element size.
  std::vector<const TensorData*> order;
  for (const TensorData& t : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorData* a, const TensorData* b) {
    const std::size_t sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!options.metadata.empty()) header["__metadata__"] = options.metadata;
  std::uint64_t offset = 0;
  for (const TensorData* t : order) {
    header[t->name] = {{"dtype", dtype_name(t->dtype)},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->bytes.size()}}};
    offset += t->bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  unsigned char len[8];
  std::uint64_t n = text.size();
  for (unsigned char& b : len) {
    b = static_cast<unsigned char>(n & 0xffu);
    n >>= 8;
  }
  AtomicFile file(path);
  std::ostream& out = file.stream();
  out.write(reinterpret_cast<const char*>(len), 8);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const TensorData* t : order) {
    out.write(reinterpret_cast<const char*>(t->bytes.data()),
              static_cast<std::streamsize>(t->bytes.size()));
  }
  file.commit();
}

}  // namespace attnflow::hf
