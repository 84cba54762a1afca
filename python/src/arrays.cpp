// numpy <-> attnflow conversions of the Python module (arrays.hpp).
#include "arrays.hpp"

#include <cstring>
#include <limits>

#include "attnflow/core/error.hpp"

namespace attnflow::python {

namespace {

/// np.asarray(obj): arrays as they are, anything with __array__ (CPU torch tensors), lists.
py::array as_array(py::handle obj) {
  return py::module_::import("numpy").attr("asarray")(obj).cast<py::array>();
}

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) {
    if (d > 0) s += ", ";
    s += std::to_string(a.shape(d));
  }
  return s + (a.ndim() == 1 ? ",)" : ")");
}

int checked_dim(py::ssize_t d, const std::string& name) {
  if (d > std::numeric_limits<int>::max()) {
    throw Error(name + ": attention dimension " + std::to_string(d) + " is implausibly large");
  }
  return static_cast<int>(d);
}

template <typename T>
py::array_t<T, py::array::c_style> ensure_c(const py::array& a) {
  auto c = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
  if (!c) throw py::error_already_set();
  return c;
}

/// Appends the values of `a` in C order as float32: float32 is copied, float64 converted in
/// one pass (no float64 temporary), any other dtype cast by numpy first.
void append_values(const py::array& a, std::vector<float>& out) {
  const std::size_t old = out.size();
  out.resize(old + static_cast<std::size_t>(a.size()));
  if (a.dtype().is(py::dtype::of<double>())) {
    const auto c = ensure_c<double>(a);
    const double* src = c.data();
    for (py::ssize_t k = 0; k < c.size(); ++k) out[old + k] = static_cast<float>(src[k]);
    return;
  }
  const auto c = ensure_c<float>(a);
  if (c.size() > 0) std::memcpy(out.data() + old, c.data(), c.size() * sizeof(float));
}

void require_square(py::ssize_t rows, py::ssize_t cols, const std::string& where) {
  if (rows != cols) {
    throw Error(where + ": attention maps are " + std::to_string(rows) + " x " +
                std::to_string(cols) + ", not square");
  }
}

/// One layer of a per-layer sequence: (1, H, n, n), (H, n, n) or (n, n) -> (H, n).
std::pair<py::ssize_t, py::ssize_t> layer_shape(const py::array& a, const std::string& name,
                                                std::size_t k) {
  const std::string where = name + ": layer " + std::to_string(k + 1);
  if (a.ndim() < 2 || a.ndim() > 4) {
    throw Error(where + " must have 4 (1, heads, n, n), 3 (heads, n, n) or 2 (n, n) " +
                "dimensions, got " + std::to_string(a.ndim()) + " (shape " + shape_text(a) + ")");
  }
  if (a.ndim() == 4 && a.shape(0) != 1) {
    throw Error(where + " holds a batch of " + std::to_string(a.shape(0)) + " examples (shape " +
                shape_text(a) + "); pass one example, e.g. [a[i:i+1] for a in attentions]");
  }
  require_square(a.shape(a.ndim() - 2), a.shape(a.ndim() - 1), where);
  return {a.ndim() == 2 ? 1 : a.shape(a.ndim() - 3), a.shape(a.ndim() - 1)};
}

AttentionStack stack_from_sequence(const py::sequence& seq, const std::string& name) {
  if (seq.size() == 0) throw Error(name + ": empty attention stack (no layers)");
  std::vector<py::array> layers;
  layers.reserve(seq.size());
  for (std::size_t k = 0; k < seq.size(); ++k) layers.push_back(as_array(seq[k]));
  const auto first = layer_shape(layers[0], name, 0);
  std::vector<float> data;
  data.reserve(static_cast<std::size_t>(first.first * first.second * first.second) * layers.size());
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const auto shape = layer_shape(layers[k], name, k);
    if (shape != first) {
      throw Error(name + ": layer " + std::to_string(k + 1) + " has shape " +
                  shape_text(layers[k]) + ", layer 1 has " + shape_text(layers[0]));
    }
    append_values(layers[k], data);
  }
  const int heads = checked_dim(first.first, name), n = checked_dim(first.second, name);
  if (heads == 0 || n == 0) throw Error(name + ": empty attention stack");
  return AttentionStack(std::move(data), static_cast<int>(layers.size()), heads, n);
}

}  // namespace

AttentionStack to_stack(py::handle obj, const std::string& name) {
  if (py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj)) {
    return stack_from_sequence(py::reinterpret_borrow<py::sequence>(obj), name);
  }
  py::array a = as_array(obj);
  // np.stack(outputs.attentions): (L, 1, H, n, n), one example.
  if (a.ndim() == 5 && a.shape(1) == 1) {
    a = a.attr("reshape")(a.shape(0), a.shape(2), a.shape(3), a.shape(4)).cast<py::array>();
  }
  if (a.ndim() != 3 && a.ndim() != 4) {
    throw Error(name +
                ": attention must have 3 (layers, n, n) or 4 (layers, heads, n, n) "
                "dimensions, got " +
                std::to_string(a.ndim()));
  }
  for (py::ssize_t d = 0; d < a.ndim(); ++d) checked_dim(a.shape(d), name);
  require_square(a.shape(a.ndim() - 2), a.shape(a.ndim() - 1), name);
  const int layers = static_cast<int>(a.shape(0));
  const int heads = a.ndim() == 4 ? static_cast<int>(a.shape(1)) : 1;
  const int n = static_cast<int>(a.shape(a.ndim() - 1));
  if (layers == 0 || heads == 0 || n == 0) throw Error(name + ": empty attention stack");
  std::vector<float> data;
  append_values(a, data);
  return AttentionStack(std::move(data), layers, heads, n);
}

LayerMatrices to_layer_matrices(py::handle obj, const std::string& name) {
  std::vector<py::array> layers;
  if (py::isinstance<py::tuple>(obj) || py::isinstance<py::list>(obj)) {
    for (py::handle item : py::reinterpret_borrow<py::sequence>(obj)) {
      layers.push_back(as_array(item));
    }
  } else {
    const py::array a = as_array(obj);
    if (a.ndim() != 3) {
      throw Error(name + ": prepared matrices must have 3 dimensions (layers, n, n), got " +
                  std::to_string(a.ndim()));
    }
    for (py::ssize_t l = 0; l < a.shape(0); ++l) layers.push_back(as_array(a[py::int_(l)]));
  }
  LayerMatrices out;
  for (std::size_t k = 0; k < layers.size(); ++k) {
    const auto c = ensure_c<double>(layers[k]);
    if (c.ndim() != 2) {
      throw Error(name + ": layer " + std::to_string(k + 1) + " must be an (n, n) matrix, got " +
                  std::to_string(c.ndim()) + " dimensions");
    }
    Matrix m(c.shape(0), c.shape(1));
    if (c.size() > 0) std::memcpy(m.data(), c.data(), c.size() * sizeof(double));
    out.push_back(std::move(m));
  }
  return out;  // square, equal sizes, finite, >= 0: checked by the core function
}

std::vector<double> to_vector(py::handle obj, const std::string& name) {
  const auto c = ensure_c<double>(as_array(obj));
  if (c.ndim() != 1) {
    throw Error(name + ": expected a 1-D array, got " + std::to_string(c.ndim()) + " dimensions");
  }
  return std::vector<double>(c.data(), c.data() + c.size());
}

std::vector<int> to_int_list(py::handle obj) {
  if (obj.is_none()) return {};
  if (py::isinstance<py::int_>(obj)) return {obj.cast<int>()};
  return obj.cast<std::vector<int>>();
}

py::array_t<double> to_array(const LayerMatrices& layers) {
  const py::ssize_t rows = layers.empty() ? 0 : layers[0].rows();
  const py::ssize_t cols = layers.empty() ? 0 : layers[0].cols();
  py::array_t<double> out({static_cast<py::ssize_t>(layers.size()), rows, cols});
  double* dst = out.mutable_data();
  for (const Matrix& m : layers) {
    std::memcpy(dst, m.data(), m.size() * sizeof(double));
    dst += m.size();
  }
  return out;
}

py::array_t<float> to_array(const AttentionStack& stack) {
  py::array_t<float> out(
      {static_cast<py::ssize_t>(stack.layers()), static_cast<py::ssize_t>(stack.heads()),
       static_cast<py::ssize_t>(stack.tokens()), static_cast<py::ssize_t>(stack.tokens())});
  if (!stack.data().empty()) {
    std::memcpy(out.mutable_data(), stack.data().data(), stack.data().size() * sizeof(float));
  }
  return out;
}

py::array_t<float> to_array(const CrossAttentionStack& stack) {
  py::array_t<float> out(
      {static_cast<py::ssize_t>(stack.layers()), static_cast<py::ssize_t>(stack.heads()),
       static_cast<py::ssize_t>(stack.queries()), static_cast<py::ssize_t>(stack.keys())});
  if (!stack.data().empty()) {
    std::memcpy(out.mutable_data(), stack.data().data(), stack.data().size() * sizeof(float));
  }
  return out;
}

PyMaps to_py_maps(const LayerMaps& maps, const std::string& method) {
  PyMaps out;
  out.method = method;
  out.layers = maps.layers;
  out.rows = maps.rows;
  const py::ssize_t n = maps.maps.empty() ? 0 : maps.maps[0].cols();
  out.values = py::array_t<double>(
      {static_cast<py::ssize_t>(maps.maps.size()), static_cast<py::ssize_t>(maps.rows.size()), n});
  double* dst = out.values.mutable_data();
  for (const Matrix& m : maps.maps) {
    std::memcpy(dst, m.data(), m.size() * sizeof(double));
    dst += m.size();
  }
  return out;
}

}  // namespace attnflow::python
