// attnflow.extract, attnflow.load_model and attnflow.evaluate in a build without libtorch: they
// raise attnflow.Error saying so (the rest of the module works without libtorch).
#include "attnflow/core/error.hpp"
#include "bindings.hpp"

namespace attnflow::python {

void bind_torch(py::module_& m) {
  m.attr("HAVE_TORCH") = false;
  m.def(
      "extract",
      [](py::args, py::kwargs) -> py::object {
        throw Error("attnflow was built without libtorch: extract is not available");
      },
      "extract(model, corpus, output, ...): not available (built without libtorch).");
  m.def(
      "load_model",
      [](py::args, py::kwargs) -> py::object {
        throw Error("attnflow was built without libtorch: load_model is not available");
      },
      "load_model(path, ...): not available (built without libtorch).");
}

void bind_evaluate(py::module_& m) {
  m.def(
      "evaluate",
      [](py::args, py::kwargs) -> py::object {
        throw Error("attnflow was built without libtorch: evaluate is not available");
      },
      "evaluate(output, ...): not available (built without libtorch).");
}

}  // namespace attnflow::python
