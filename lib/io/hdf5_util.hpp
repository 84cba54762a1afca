// Internal to attnflow::io (not installed): the process-wide HDF5 lock, RAII
// handles, HDF5 error text, and typed attribute/dataset helpers whose errors
// name the object ("<context>: attribute 'layers' ...").
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace attnflow::io::detail {

/// Serialises every HDF5 call of the library and silences HDF5's automatic
/// error printing while held (errors become attnflow::Error instead).
class Hdf5Lock {
 public:
  Hdf5Lock();
  ~Hdf5Lock();
  /// Makes the destructor leave error printing off for good.
  void keep_silent() { saved_func_ = nullptr; }
  Hdf5Lock(const Hdf5Lock&) = delete;
  Hdf5Lock& operator=(const Hdf5Lock&) = delete;

 private:
  std::unique_lock<std::recursive_mutex> lock_;
  H5E_auto2_t saved_func_ = nullptr;
  void* saved_data_ = nullptr;
};

/// Owns one HDF5 identifier; closes it (ignoring errors) when destroyed.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept;
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  /// Gives up ownership (the caller closes the identifier).
  hid_t release() {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// The innermost message of the current HDF5 error stack (then cleared).
std::string hdf5_message();
/// Throws Error("<context> (HDF5: <innermost message>)").
[[noreturn]] void throw_hdf5(const std::string& context);
/// Returns `id` wrapped, or throws via throw_hdf5 when id < 0.
Handle checked(hid_t id, Handle::Closer closer, const std::string& context);
void check(herr_t status, const std::string& context);

// Types. All are created once and never closed.
hid_t float16_type();      ///< IEEE binary16 little-endian (h5py/numpy float16)
hid_t bool_type();         ///< int8 enum FALSE=0/TRUE=1 (h5py reads numpy bool)
hid_t utf8_string_type();  ///< variable-length UTF-8 string
/// "float16", "float32", "int64", "string", "compound"... for messages.
std::string describe_type(hid_t type);

// Dataspaces: scalar, and 1-D of `count` elements.
Handle scalar_space();
Handle vector_space(std::size_t count);

// Names and shapes.
bool has_link(hid_t loc, const std::string& name);
std::vector<hsize_t> dataset_shape(hid_t dataset);
std::string shape_string(const std::vector<hsize_t>& shape);
Handle open_group(hid_t loc, const std::string& name, const std::string& context);
Handle open_dataset(hid_t loc, const std::string& name, const std::string& context);
/// Link creation properties: UTF-8 names.
hid_t utf8_link_properties();
/// Creation properties (H5P_GROUP_CREATE or H5P_FILE_CREATE for the root)
/// keeping up to 64 attributes in the object header itself (compact), where
/// heap_check.hpp can validate the strings behind them.
Handle group_properties(hid_t property_class);
/// Flushes the file holding `object` to the operating system.
void flush(hid_t object, const std::string& context);

// Attributes. Writers create or overwrite (in place when type and shape are
// unchanged, which keeps commit counters at a fixed file address). Readers
// throw Error naming `context` and the attribute on a missing attribute,
// wrong type or wrong shape.
bool has_attribute(hid_t object, const std::string& name);
void set_int(hid_t object, const std::string& name, std::int64_t value, hid_t file_type);
void set_bool(hid_t object, const std::string& name, bool value);
void set_double(hid_t object, const std::string& name, double value);
void set_string(hid_t object, const std::string& name, const std::string& value);
void set_ints(hid_t object, const std::string& name, const std::vector<int>& values);
void set_doubles(hid_t object, const std::string& name, const std::vector<double>& values);
void set_strings(hid_t object, const std::string& name, const std::vector<std::string>& values);

std::int64_t get_int(hid_t object, const std::string& name, const std::string& context);
std::optional<std::int64_t> find_int(hid_t object, const std::string& name,
                                     const std::string& context);
bool get_bool(hid_t object, const std::string& name, const std::string& context);
double get_double(hid_t object, const std::string& name, const std::string& context);
std::string get_string(hid_t object, const std::string& name, const std::string& context);
std::vector<int> get_ints(hid_t object, const std::string& name, const std::string& context);
std::vector<double> get_doubles(hid_t object, const std::string& name, const std::string& context);
std::vector<std::string> get_strings(hid_t object, const std::string& name,
                                     const std::string& context);

/// String elements (variable or fixed length) of an attribute or dataset;
/// `read` does the H5Aread/H5Dread into the buffer with the given memory type.
std::vector<std::string> read_strings(hid_t file_type, hid_t space, std::size_t count,
                                      const std::string& where,
                                      const std::function<herr_t(hid_t, void*)>& read);

// String and integer datasets (1-D).
void write_string_dataset(hid_t loc, const std::string& name,
                          const std::vector<std::string>& values, const std::string& context);
void write_int64_dataset(hid_t loc, const std::string& name,
                         const std::vector<std::int64_t>& values, const std::string& context);
/// Variable- or fixed-length strings; `context` names the dataset.
std::vector<std::string> read_string_dataset(hid_t dataset, const std::string& context);
std::vector<std::int64_t> read_int64_dataset(hid_t dataset, const std::string& context);

}  // namespace attnflow::io::detail
