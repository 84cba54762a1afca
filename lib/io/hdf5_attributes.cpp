// Typed HDF5 attributes of attnflow::io: writers overwrite in place when
// type and shape are unchanged; readers check class and shape and name the
// attribute in every error.
#include <cstdint>

#include "attnflow/core/error.hpp"
#include "hdf5_util.hpp"

namespace attnflow::io::detail {
namespace {

void write_attribute(hid_t object, const std::string& name, hid_t file_type, hid_t space,
                     hid_t memory_type, const void* data) {
  const std::string what = "cannot write attribute '" + name + "'";
  if (H5Aexists(object, name.c_str()) > 0) {
    Handle attribute = checked(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, what);
    Handle type = checked(H5Aget_type(attribute.get()), H5Tclose, what);
    Handle old_space = checked(H5Aget_space(attribute.get()), H5Sclose, what);
    if (H5Tequal(type.get(), file_type) > 0 && H5Sextent_equal(old_space.get(), space) > 0) {
      check(H5Awrite(attribute.get(), memory_type, data), what);
      return;
    }
    attribute.reset();
    check(H5Adelete(object, name.c_str()), what);
  }
  Handle acpl = checked(H5Pcreate(H5P_ATTRIBUTE_CREATE), H5Pclose, what);
  check(H5Pset_char_encoding(acpl.get(), H5T_CSET_UTF8), what);
  Handle attribute = checked(
      H5Acreate2(object, name.c_str(), file_type, space, acpl.get(), H5P_DEFAULT), H5Aclose, what);
  check(H5Awrite(attribute.get(), memory_type, data), what);
}

struct OpenAttribute {
  Handle attribute, type, space;
  H5T_class_t type_class = H5T_NO_CLASS;
  hssize_t count = 0;  ///< number of elements (0 for H5S_NULL)
  int rank = 0;
};

std::string attribute_where(const std::string& context, const std::string& name) {
  return context + ": attribute '" + name + "'";
}

OpenAttribute open_attribute(hid_t object, const std::string& name, const std::string& context) {
  const std::string where = attribute_where(context, name);
  const htri_t exists = H5Aexists(object, name.c_str());
  if (exists < 0) throw_hdf5(where + ": cannot look up");
  if (exists == 0) throw Error(context + ": missing attribute '" + name + "'");
  OpenAttribute a;
  a.attribute = checked(H5Aopen(object, name.c_str(), H5P_DEFAULT), H5Aclose, where);
  a.type = checked(H5Aget_type(a.attribute.get()), H5Tclose, where);
  a.space = checked(H5Aget_space(a.attribute.get()), H5Sclose, where);
  a.type_class = H5Tget_class(a.type.get());
  const H5S_class_t space_class = H5Sget_simple_extent_type(a.space.get());
  a.count = space_class == H5S_NULL ? 0 : H5Sget_simple_extent_npoints(a.space.get());
  a.rank = space_class == H5S_SIMPLE ? H5Sget_simple_extent_ndims(a.space.get()) : 0;
  if (a.count < 0 || a.rank < 0) throw_hdf5(where + ": cannot read its dataspace");
  if (a.rank > 1) {
    throw Error(where + " must be scalar or 1-D, found " + std::to_string(a.rank) + " dimensions");
  }
  return a;
}

void require_class(const OpenAttribute& a, bool ok, const std::string& where,
                   const char* expected) {
  if (!ok) {
    throw Error(where + " must be " + expected + ", found " + describe_type(a.type.get()));
  }
}

void require_one(const OpenAttribute& a, const std::string& where) {
  if (a.count != 1) {
    throw Error(where + " must hold one value, found " + std::to_string(a.count));
  }
}

}  // namespace

bool has_attribute(hid_t object, const std::string& name) {
  return H5Aexists(object, name.c_str()) > 0;
}

void set_int(hid_t object, const std::string& name, std::int64_t value, hid_t file_type) {
  Handle space = scalar_space();
  write_attribute(object, name, file_type, space.get(), H5T_NATIVE_INT64, &value);
}

void set_bool(hid_t object, const std::string& name, bool value) {
  const signed char v = value ? 1 : 0;
  Handle space = scalar_space();
  write_attribute(object, name, bool_type(), space.get(), bool_type(), &v);
}

void set_double(hid_t object, const std::string& name, double value) {
  Handle space = scalar_space();
  write_attribute(object, name, H5T_IEEE_F64LE, space.get(), H5T_NATIVE_DOUBLE, &value);
}

void set_string(hid_t object, const std::string& name, const std::string& value) {
  const char* p = value.c_str();
  Handle space = scalar_space();
  write_attribute(object, name, utf8_string_type(), space.get(), utf8_string_type(), &p);
}

void set_ints(hid_t object, const std::string& name, const std::vector<int>& values) {
  Handle space = vector_space(values.size());
  const int dummy = 0;
  write_attribute(object, name, H5T_STD_I32LE, space.get(), H5T_NATIVE_INT,
                  values.empty() ? &dummy : values.data());
}

void set_doubles(hid_t object, const std::string& name, const std::vector<double>& values) {
  Handle space = vector_space(values.size());
  const double dummy = 0.0;
  write_attribute(object, name, H5T_IEEE_F64LE, space.get(), H5T_NATIVE_DOUBLE,
                  values.empty() ? &dummy : values.data());
}

void set_strings(hid_t object, const std::string& name, const std::vector<std::string>& values) {
  std::vector<const char*> pointers;
  for (const auto& v : values) pointers.push_back(v.c_str());
  const char* dummy = "";
  Handle space = vector_space(values.size());
  write_attribute(object, name, utf8_string_type(), space.get(), utf8_string_type(),
                  pointers.empty() ? &dummy : pointers.data());
}

std::int64_t get_int(hid_t object, const std::string& name, const std::string& context) {
  const std::string where = attribute_where(context, name);
  OpenAttribute a = open_attribute(object, name, context);
  require_class(a, a.type_class == H5T_INTEGER, where, "an integer");
  require_one(a, where);
  std::int64_t value = 0;
  check(H5Aread(a.attribute.get(), H5T_NATIVE_INT64, &value), where + ": cannot read");
  return value;
}

std::optional<std::int64_t> find_int(hid_t object, const std::string& name,
                                     const std::string& context) {
  if (!has_attribute(object, name)) return std::nullopt;
  return get_int(object, name, context);
}

bool get_bool(hid_t object, const std::string& name, const std::string& context) {
  const std::string where = attribute_where(context, name);
  OpenAttribute a = open_attribute(object, name, context);
  require_class(a, a.type_class == H5T_INTEGER || a.type_class == H5T_ENUM, where,
                "a boolean (enum FALSE/TRUE or integer)");
  require_one(a, where);
  if (a.type_class == H5T_INTEGER) {
    std::int64_t value = 0;
    check(H5Aread(a.attribute.get(), H5T_NATIVE_INT64, &value), where + ": cannot read");
    return value != 0;
  }
  Handle native = checked(H5Tget_native_type(a.type.get(), H5T_DIR_DEFAULT), H5Tclose, where);
  const std::size_t size = H5Tget_size(native.get());
  if (size == 0 || size > 8) throw Error(where + ": unsupported enum size");
  unsigned char raw[8] = {0};
  check(H5Aread(a.attribute.get(), native.get(), raw), where + ": cannot read");
  for (std::size_t k = 0; k < size; ++k) {
    if (raw[k] != 0) return true;
  }
  return false;
}

double get_double(hid_t object, const std::string& name, const std::string& context) {
  const std::string where = attribute_where(context, name);
  OpenAttribute a = open_attribute(object, name, context);
  require_class(a, a.type_class == H5T_FLOAT || a.type_class == H5T_INTEGER, where, "a number");
  require_one(a, where);
  double value = 0.0;
  check(H5Aread(a.attribute.get(), H5T_NATIVE_DOUBLE, &value), where + ": cannot read");
  return value;
}

std::string get_string(hid_t object, const std::string& name, const std::string& context) {
  const std::string where = attribute_where(context, name);
  OpenAttribute a = open_attribute(object, name, context);
  require_class(a, a.type_class == H5T_STRING, where, "a string");
  require_one(a, where);
  const hid_t attribute = a.attribute.get();
  return read_strings(a.type.get(), a.space.get(), 1, where, [&](hid_t memory, void* buffer) {
    return H5Aread(attribute, memory, buffer);
  })[0];
}

std::vector<int> get_ints(hid_t object, const std::string& name, const std::string& context) {
  const std::string where = attribute_where(context, name);
  OpenAttribute a = open_attribute(object, name, context);
  require_class(a, a.type_class == H5T_INTEGER, where, "integers");
  std::vector<std::int64_t> wide(static_cast<std::size_t>(a.count));
  if (a.count > 0) {
    check(H5Aread(a.attribute.get(), H5T_NATIVE_INT64, wide.data()), where + ": cannot read");
  }
  std::vector<int> out;
  for (std::int64_t v : wide) {
    if (v < INT32_MIN || v > INT32_MAX) {
      throw Error(where + ": value " + std::to_string(v) + " does not fit a 32-bit integer");
    }
    out.push_back(static_cast<int>(v));
  }
  return out;
}

std::vector<double> get_doubles(hid_t object, const std::string& name, const std::string& context) {
  const std::string where = attribute_where(context, name);
  OpenAttribute a = open_attribute(object, name, context);
  require_class(a, a.type_class == H5T_FLOAT || a.type_class == H5T_INTEGER, where, "numbers");
  std::vector<double> out(static_cast<std::size_t>(a.count));
  if (a.count > 0) {
    check(H5Aread(a.attribute.get(), H5T_NATIVE_DOUBLE, out.data()), where + ": cannot read");
  }
  return out;
}

std::vector<std::string> get_strings(hid_t object, const std::string& name,
                                     const std::string& context) {
  const std::string where = attribute_where(context, name);
  OpenAttribute a = open_attribute(object, name, context);
  require_class(a, a.type_class == H5T_STRING, where, "strings");
  const hid_t attribute = a.attribute.get();
  return read_strings(
      a.type.get(), a.space.get(), static_cast<std::size_t>(a.count), where,
      [&](hid_t memory, void* buffer) { return H5Aread(attribute, memory, buffer); });
}

}  // namespace attnflow::io::detail
