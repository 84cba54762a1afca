// The `attnflow` Python extension (attnflow._attnflow, re-exported by python/attnflow):
// core methods, the HDF5 store and (with libtorch) extraction. attnflow::Error becomes
// attnflow.Error, a ValueError carrying the C++ message.
#include <pybind11/pybind11.h>

#include "attnflow/core/error.hpp"
#include "attnflow/version.hpp"
#include "bindings.hpp"

PYBIND11_MODULE(_attnflow, m) {
  namespace py = pybind11;
  using namespace attnflow::python;
  m.doc() = "attnflow: attention rollout, attention flow and gradient rollout (C++ core).";
  py::register_exception<attnflow::Error>(m, "Error", PyExc_ValueError);
  m.attr("__version__") = ATTNFLOW_VERSION_STRING;
  bind_maps(m);
  bind_methods(m);
  bind_flow(m);
  bind_analyze(m);
  bind_correlations(m);
  bind_encdec(m);
  bind_store(m);
  bind_view(m);
  bind_torch(m);
  bind_evaluate(m);
}
