// Chunked, interruptible attention flow (interruptible_flow.hpp).
#include "interruptible_flow.hpp"

#include <pybind11/pybind11.h>

#include <algorithm>

#include "options.hpp"

namespace attnflow::python {

namespace py = pybind11;

LayerMaps interruptible_flow(const LayerMatrices& layers, const FlowOptions& options) {
  // Enough rows per chunk to keep every thread busy; layers 1-2 (closed forms) in one go.
  const int threads = effective_threads(options.threads);
  const std::size_t chunk = static_cast<std::size_t>(std::max(8, 2 * threads));
  LayerMaps out;
  out.layers = options.layers;
  out.rows = options.target_rows;
  const Eigen::Index n = layers.empty() ? 0 : layers[0].rows();
  for (int layer : options.layers) {
    Matrix map(static_cast<Eigen::Index>(options.target_rows.size()), n);
    const bool closed = options.closed_form_low_layers && layer <= 2;
    const std::size_t step = closed ? options.target_rows.size() : chunk;
    for (std::size_t first = 0; first < options.target_rows.size(); first += step) {
      const std::size_t last = std::min(first + step, options.target_rows.size());
      FlowOptions o = options;
      o.layers = {layer};
      o.target_rows.assign(options.target_rows.begin() + first, options.target_rows.begin() + last);
      LayerMaps part;
      {
        py::gil_scoped_release release;
        part = attention_flow(layers, o);
      }
      map.middleRows(static_cast<Eigen::Index>(first), part.maps[0].rows()) = part.maps[0];
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    }
    out.maps.push_back(std::move(map));
  }
  return out;
}

}  // namespace attnflow::python
