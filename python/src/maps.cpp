// The Maps result object: per-layer token maps of one method with their layer and row labels.
#include <algorithm>

#include "arrays.hpp"
#include "attnflow/core/error.hpp"
#include "bindings.hpp"

namespace attnflow::python {

namespace {

std::size_t index_of(const std::vector<int>& valid, int value, const char* what) {
  const auto it = std::find(valid.begin(), valid.end(), value);
  if (it == valid.end()) {
    std::string list;
    for (int v : valid) list += (list.empty() ? "" : ", ") + std::to_string(v);
    throw Error(std::string("maps: no ") + what + " " + std::to_string(value) + " (have " + list +
                ")");
  }
  return static_cast<std::size_t>(it - valid.begin());
}

std::string repr(const PyMaps& m) {
  auto list = [](const std::vector<int>& v) {
    std::string s = "[";
    for (std::size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + std::to_string(v[k]);
    return s + "]";
  };
  const py::ssize_t n = m.values.ndim() == 3 ? m.values.shape(2) : 0;
  return "attnflow.Maps(method='" + m.method + "', layers=" + list(m.layers) +
         ", rows=" + list(m.rows) + ", tokens=" + std::to_string(n) + ")";
}

}  // namespace

void bind_maps(py::module_& m) {
  py::class_<PyMaps>(m, "Maps", R"doc(
Per-layer token maps of one method (rollout, flow, grad-rollout, raw, residual).

Attributes:
  method: the method's name ("rollout", "flow", ...).
  layers: list of the 1-based layer numbers, one per map.
  rows:   list of the token rows (queries) of each map, counted from 0.
  values: float64 array of shape (len(layers), len(rows), n):
          values[k, r, j] = share of input token j (key) in token rows[r]'s
          representation at layer layers[k].

maps.row(0) is the (layers, n) "CLS per layer" heatmap; maps.layer(6) the
(rows, n) maps of layer 6; np.asarray(maps) is maps.values.)doc")
      .def_readonly("method", &PyMaps::method, "Name of the method that made the maps.")
      .def_readonly("layers", &PyMaps::layers, "1-based layer number of each map.")
      .def_readonly("rows", &PyMaps::rows, "Token row (query, 0-based) of each map row.")
      .def_readonly("values", &PyMaps::values,
                    "float64 array (len(layers), len(rows), n): values[k, r, j].")
      .def_property_readonly(
          "tokens", [](const PyMaps& p) { return p.values.shape(2); },
          "n, the number of input tokens (columns).")
      .def(
          "row",
          [](const PyMaps& p, int row) {
            const std::size_t r = index_of(p.rows, row, "row");
            const py::slice all(0, p.values.shape(0), 1);
            return p.values[py::make_tuple(all, r)].cast<py::array>();
          },
          py::arg("row"),
          "The (len(layers), n) map of token row `row` at every layer (a view of values).")
      .def(
          "layer",
          [](const PyMaps& p, int layer) {
            const std::size_t k = index_of(p.layers, layer, "layer");
            return p.values[py::int_(k)].cast<py::array>();
          },
          py::arg("layer"), "The (len(rows), n) maps of 1-based layer `layer` (a view of values).")
      .def(
          "__array__",
          [](const PyMaps& p, py::object dtype) {
            if (dtype.is_none()) return py::array(p.values);
            return p.values.attr("astype")(dtype).cast<py::array>();
          },
          py::arg("dtype") = py::none())
      .def("__repr__", &repr);
}

}  // namespace attnflow::python
