// The parts of the `attnflow` Python module: each bind_* function adds one concept's classes
// and functions to the module (python/src/module.cpp calls them in order).
#pragma once

#include <pybind11/pybind11.h>

namespace attnflow::python {

namespace py = pybind11;

void bind_maps(py::module_& m);     ///< the Maps result object (maps.cpp)
void bind_methods(py::module_& m);  ///< fuse_heads, residual, rollout, raw_readout, grad_rollout
void bind_flow(py::module_& m);     ///< flow (interruptible, threads) (flow_bindings.cpp)
void bind_analyze(py::module_& m);  ///< analyze: all methods at once (analyze_bindings.cpp)
void bind_correlations(py::module_& m);  ///< spearman, pearson, kendall
void bind_store(py::module_& m);         ///< Store, Example (store_bindings.cpp)
void bind_view(py::module_& m);          ///< the view page (view_bindings.cpp)
void bind_torch(py::module_& m);     ///< extract, load_model, Model (torch_bindings.cpp or stub)
void bind_encdec(py::module_& m);    ///< encdec_relevance (encdec_bindings.cpp)
void bind_evaluate(py::module_& m);  ///< evaluate (evaluate_bindings.cpp or torch_unavailable.cpp)

}  // namespace attnflow::python
