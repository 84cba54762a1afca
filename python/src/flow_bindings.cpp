// attnflow.flow: attention flow from Python (threads, Ctrl-C between chunks of rows).
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "attnflow/pipeline/analysis_settings.hpp"
#include "bindings.hpp"
#include "interruptible_flow.hpp"
#include "options.hpp"

namespace attnflow::python {

namespace {

PyMaps py_flow(py::handle attention, py::handle layers_arg, py::handle rows, bool normalize,
               const std::string& algorithm, int threads, bool closed_form, bool prepared,
               const std::string& fusion, py::object head_weights, double discard,
               const std::string& discard_scope, bool residual, double alpha, bool renormalize) {
  FlowOptions o;
  o.normalize = normalize;
  o.algorithm = parse_flow_algorithm(algorithm);
  o.threads = threads;
  o.closed_form_low_layers = closed_form;
  const LayerMatrices layers = prepared_layers(
      attention, prepared,
      PrepareArgs{fusion, head_weights, discard, discard_scope, residual, alpha, renormalize});
  {
    py::gil_scoped_release release;
    validate(layers, "attention");
  }
  const int n = static_cast<int>(layers[0].rows());
  o.layers = resolve_layers(to_int_list(layers_arg), static_cast<int>(layers.size()), "layers");
  o.target_rows = resolve_rows_arg(rows, n);
  return to_py_maps(interruptible_flow(layers, o), "flow");
}

}  // namespace

void bind_flow(py::module_& m) {
  m.attr("DEFAULT_FLOW_ALGORITHM") = pipeline::AnalysisSettings{}.flow_algorithm;
  m.def(
      "flow", &py_flow, py::arg("attention"), py::kw_only(), py::arg("layers") = py::none(),
      py::arg("rows") = py::none(), py::arg("normalize") = true,
      py::arg("algorithm") = pipeline::AnalysisSettings{}.flow_algorithm, py::arg("threads") = 0,
      py::arg("closed_form") = true, py::arg("prepared") = false, py::arg("fusion") = "mean",
      py::arg("head_weights") = py::none(), py::arg("discard") = 0.0,
      py::arg("discard_scope") = "global", py::arg("residual") = true, py::arg("alpha") = 0.5,
      py::arg("renormalize") = true,
      R"doc(flow(attention, *, layers=None, rows=None, normalize=True, algorithm=DEFAULT_FLOW_ALGORITHM, threads=0, closed_form=True, prepared=False, fusion="mean", head_weights=None, discard=0.0, discard_scope="global", residual=True, alpha=0.5, renormalize=True) -> Maps

Attention flow (Abnar & Zuidema 2020): values[k, r, j] = maximum flow from node
(layers[k], rows[r]) to input token j in the layered graph whose edge (l, i) -> (l-1, m) has
capacity A_hat^(l)[i, m]; each pair solved exactly on its own.
layers: 1-based source layers (an int or a list; None = all 1..L, as the reference).
rows: source token rows (queries; None = all n; negative = from the end, -1 = last token).
normalize: divide each row by its sum (--no-flow-normalize turns it off; a row without any
path stays 0). algorithm: --flow-algorithm, default the CLI's default (attnflow.DEFAULT_FLOW_ALGORITHM);
"layered" (the default: push-relabel for layered graphs), "push-relabel", "bk" (Boykov-Kolmogorov), "edmonds-karp"; all exact. threads: worker threads over
source rows, 0 = all cores (-j); results do not depend on it. closed_form: layers 1 and 2 by
their closed forms (False forces the solver).
Runs without the GIL, a few rows at a time; Ctrl-C (KeyboardInterrupt) stops it between
chunks. Preparation keywords and inputs as in rollout (prepared=True: attention is A_hat).
Returns attnflow.Maps (method "flow").)doc");
}

}  // namespace attnflow::python
