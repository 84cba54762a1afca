// HDF5 C API helpers of attnflow::io: lock, handles, errors, attributes.
#include "hdf5_util.hpp"

#include <cstring>
#include <functional>

#include "attnflow/core/error.hpp"

namespace attnflow::io::detail {
namespace {

std::recursive_mutex& hdf5_mutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

herr_t innermost(unsigned n, const H5E_error2_t* error, void* out) {
  if (n == 0 && error != nullptr) {
    auto* text = static_cast<std::string*>(out);
    if (error->desc != nullptr && error->desc[0] != '\0') {
      *text = error->desc;
    } else if (error->func_name != nullptr) {
      *text = std::string(error->func_name) + " failed";
    }
  }
  return 0;
}

}  // namespace

Handle scalar_space() {
  return checked(H5Screate(H5S_SCALAR), H5Sclose, "dataspace");
}

Handle vector_space(std::size_t count) {
  const hsize_t dims[1] = {static_cast<hsize_t>(count)};
  return checked(H5Screate_simple(1, dims, nullptr), H5Sclose, "dataspace");
}

Hdf5Lock::Hdf5Lock() : lock_(hdf5_mutex()) {
  H5Eget_auto2(H5E_DEFAULT, &saved_func_, &saved_data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Hdf5Lock::~Hdf5Lock() {
  H5Eset_auto2(H5E_DEFAULT, saved_func_, saved_data_);
}

Handle::Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) {
  other.id_ = H5I_INVALID_HID;
}

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = H5I_INVALID_HID;
}

std::string hdf5_message() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? std::string("unknown HDF5 error") : text;
}

void throw_hdf5(const std::string& context) {
  throw Error(context + " (HDF5: " + hdf5_message() + ")");
}

Handle checked(hid_t id, Handle::Closer closer, const std::string& context) {
  if (id < 0) throw_hdf5(context);
  return Handle(id, closer);
}

void check(herr_t status, const std::string& context) {
  if (status < 0) throw_hdf5(context);
}

hid_t float16_type() {
  static const hid_t type = [] {
    const hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    return t;
  }();
  return type;
}

hid_t bool_type() {
  static const hid_t type = [] {
    const hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
    const signed char no = 0, yes = 1;
    H5Tenum_insert(t, "FALSE", &no);
    H5Tenum_insert(t, "TRUE", &yes);
    return t;
  }();
  return type;
}

hid_t utf8_string_type() {
  static const hid_t type = [] {
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
  }();
  return type;
}

std::string describe_type(hid_t type) {
  const std::size_t bits = H5Tget_size(type) * 8;
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return (H5Tget_sign(type) == H5T_SGN_NONE ? "uint" : "int") + std::to_string(bits);
    case H5T_FLOAT: return "float" + std::to_string(bits);
    case H5T_STRING: return "string";
    case H5T_ENUM: return "enum";
    case H5T_COMPOUND: return "compound";
    case H5T_ARRAY: return "array";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_REFERENCE: return "reference";
    case H5T_OPAQUE: return "opaque";
    case H5T_BITFIELD: return "bitfield";
    default: return "unknown type";
  }
}

bool has_link(hid_t loc, const std::string& name) {
  const htri_t exists = H5Lexists(loc, name.c_str(), H5P_DEFAULT);
  if (exists < 0) throw_hdf5("cannot look up '" + name + "'");
  return exists > 0;
}

std::vector<hsize_t> dataset_shape(hid_t dataset) {
  Handle space = checked(H5Dget_space(dataset), H5Sclose, "dataspace");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw_hdf5("cannot read dataspace");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

std::string shape_string(const std::vector<hsize_t>& shape) {
  std::string s = "(";
  for (std::size_t k = 0; k < shape.size(); ++k) {
    if (k > 0) s += ", ";
    s += std::to_string(shape[k]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

Handle open_group(hid_t loc, const std::string& name, const std::string& context) {
  if (!has_link(loc, name)) throw Error(context + ": missing group '" + name + "'");
  H5O_info_t info;
  if (H5Oget_info_by_name2(loc, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
      info.type != H5O_TYPE_GROUP) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(context + ": '" + name + "' is not a group");
  }
  return checked(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose,
                 context + ": cannot open group '" + name + "'");
}

Handle open_dataset(hid_t loc, const std::string& name, const std::string& context) {
  if (!has_link(loc, name)) throw Error(context + ": missing dataset '" + name + "'");
  H5O_info_t info;
  if (H5Oget_info_by_name2(loc, name.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
      info.type != H5O_TYPE_DATASET) {
    H5Eclear2(H5E_DEFAULT);
    throw Error(context + ": '" + name + "' is not a dataset");
  }
  return checked(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose,
                 context + ": cannot open dataset '" + name + "'");
}

hid_t utf8_link_properties() {
  static const hid_t lcpl = [] {
    const hid_t p = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_char_encoding(p, H5T_CSET_UTF8);
    return p;
  }();
  return lcpl;
}

Handle group_properties(hid_t property_class) {
  Handle plist = checked(H5Pcreate(property_class), H5Pclose, "group creation properties");
  check(H5Pset_attr_phase_change(plist.get(), 64, 48), "group creation properties");
  return plist;
}

void flush(hid_t object, const std::string& context) {
  check(H5Fflush(object, H5F_SCOPE_LOCAL), context + ": cannot flush");
}

std::vector<std::string> read_strings(hid_t file_type, hid_t space, std::size_t count,
                                      const std::string& where,
                                      const std::function<herr_t(hid_t, void*)>& read) {
  std::vector<std::string> out(count);
  if (count == 0) return out;
  const htri_t variable = H5Tis_variable_str(file_type);
  if (variable < 0) throw_hdf5(where + ": cannot inspect string type");
  Handle memory = checked(H5Tcopy(H5T_C_S1), H5Tclose, where);
  check(H5Tset_cset(memory.get(), H5Tget_cset(file_type)), where);
  if (variable > 0) {
    check(H5Tset_size(memory.get(), H5T_VARIABLE), where);
    std::vector<char*> pointers(count, nullptr);
    if (read(memory.get(), pointers.data()) < 0) throw_hdf5(where + ": cannot read strings");
    for (std::size_t k = 0; k < count; ++k) {
      if (pointers[k] != nullptr) out[k] = pointers[k];
    }
    H5Dvlen_reclaim(memory.get(), space, H5P_DEFAULT, pointers.data());
  } else {
    const std::size_t size = H5Tget_size(file_type);
    if (size == 0 || size > (std::size_t{1} << 20)) {
      throw Error(where + ": implausible fixed string size " + std::to_string(size));
    }
    check(H5Tset_size(memory.get(), size), where);
    check(H5Tset_strpad(memory.get(), H5T_STR_NULLPAD), where);
    std::vector<char> buffer(count * size, '\0');
    if (read(memory.get(), buffer.data()) < 0) throw_hdf5(where + ": cannot read strings");
    const bool space_pad = H5Tget_strpad(file_type) == H5T_STR_SPACEPAD;
    for (std::size_t k = 0; k < count; ++k) {
      const char* s = buffer.data() + k * size;
      std::size_t len = strnlen(s, size);
      if (space_pad) {
        while (len > 0 && s[len - 1] == ' ') --len;
      }
      out[k].assign(s, len);
    }
  }
  return out;
}

void write_string_dataset(hid_t loc, const std::string& name,
                          const std::vector<std::string>& values, const std::string& context) {
  const std::string what = context + ": cannot write dataset '" + name + "'";
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  Handle space = vector_space(values.size());
  // Contiguous layout: the reader validates the raw heap IDs (heap_check.hpp).
  Handle dataset = checked(H5Dcreate2(loc, name.c_str(), utf8_string_type(), space.get(),
                                      utf8_link_properties(), H5P_DEFAULT, H5P_DEFAULT),
                           H5Dclose, what);
  if (!values.empty()) {
    check(
        H5Dwrite(dataset.get(), utf8_string_type(), H5S_ALL, H5S_ALL, H5P_DEFAULT, pointers.data()),
        what);
  }
}

void write_int64_dataset(hid_t loc, const std::string& name,
                         const std::vector<std::int64_t>& values, const std::string& context) {
  const std::string what = context + ": cannot write dataset '" + name + "'";
  Handle space = vector_space(values.size());
  Handle dcpl = checked(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, what);
  if (values.size() * sizeof(std::int64_t) <= 32768) {
    check(H5Pset_layout(dcpl.get(), H5D_COMPACT), what);
  }
  Handle dataset = checked(H5Dcreate2(loc, name.c_str(), H5T_STD_I64LE, space.get(),
                                      utf8_link_properties(), dcpl.get(), H5P_DEFAULT),
                           H5Dclose, what);
  if (!values.empty()) {
    check(H5Dwrite(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
          what);
  }
}

std::vector<std::string> read_string_dataset(hid_t dataset, const std::string& context) {
  Handle type = checked(H5Dget_type(dataset), H5Tclose, context);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    throw Error(context + " must hold strings, found " + describe_type(type.get()));
  }
  const std::vector<hsize_t> shape = dataset_shape(dataset);
  if (shape.size() != 1) {
    throw Error(context + " must be 1-D, found shape " + shape_string(shape));
  }
  if (shape[0] > (hsize_t{1} << 24)) {
    throw Error(context + " has an implausible length " + std::to_string(shape[0]));
  }
  Handle space = checked(H5Dget_space(dataset), H5Sclose, context);
  return read_strings(type.get(), space.get(), static_cast<std::size_t>(shape[0]), context,
                      [&](hid_t memory, void* buffer) {
                        return H5Dread(dataset, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, buffer);
                      });
}

std::vector<std::int64_t> read_int64_dataset(hid_t dataset, const std::string& context) {
  Handle type = checked(H5Dget_type(dataset), H5Tclose, context);
  if (H5Tget_class(type.get()) != H5T_INTEGER) {
    throw Error(context + " must hold integers, found " + describe_type(type.get()));
  }
  const std::vector<hsize_t> shape = dataset_shape(dataset);
  if (shape.size() != 1) {
    throw Error(context + " must be 1-D, found shape " + shape_string(shape));
  }
  if (shape[0] > (hsize_t{1} << 24)) {
    throw Error(context + " has an implausible length " + std::to_string(shape[0]));
  }
  std::vector<std::int64_t> out(static_cast<std::size_t>(shape[0]));
  if (!out.empty()) {
    check(H5Dread(dataset, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()),
          context + ": cannot read");
  }
  return out;
}

}  // namespace attnflow::io::detail
