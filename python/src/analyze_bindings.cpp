// attnflow.analyze: every chosen method on one example, with the CLI's option builder
// (pipeline::analysis_options), so names, defaults and messages are those of `attnflow analyze`.
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>

#include "arrays.hpp"
#include "attnflow/core/analysis.hpp"
#include "attnflow/pipeline/analysis_settings.hpp"
#include "bindings.hpp"
#include "interruptible_flow.hpp"

namespace attnflow::python {

namespace {

std::vector<std::string> method_names(py::handle methods) {
  std::vector<std::string> names;
  auto add_text = [&](const std::string& text) {  // "raw,flow" as the CLI's -m
    std::size_t start = 0;
    while (start <= text.size()) {
      const std::size_t comma = std::min(text.find(',', start), text.size());
      names.push_back(text.substr(start, comma - start));
      start = comma + 1;
    }
  };
  if (py::isinstance<py::str>(methods)) {
    add_text(methods.cast<std::string>());
  } else {
    for (py::handle m : methods) add_text(py::str(m).cast<std::string>());
  }
  return names;
}

py::dict py_analyze(py::handle attention, py::handle gradient, py::handle methods, py::handle rows,
                    py::handle layers, int start_layer, const std::string& fusion,
                    py::handle head_weights, double discard, const std::string& discard_scope,
                    bool residual, double alpha, bool renormalize, bool flow_normalize,
                    const std::string& algorithm, int threads, const std::string& grad_rule,
                    bool grad_signed) {
  pipeline::AnalysisSettings s;
  s.methods = method_names(methods);
  s.all_rows = rows.is_none();
  if (!s.all_rows) s.target_rows = to_int_list(rows);
  s.layers = to_int_list(layers);
  s.start_layer = start_layer;
  s.fusion = fusion;
  if (!head_weights.is_none()) s.head_weights = to_vector(head_weights, "head weights");
  s.alpha = alpha;
  s.no_residual = !residual;
  s.no_renormalize = !renormalize;
  s.discard = discard;
  s.discard_scope = discard_scope;
  s.no_flow_normalize = !flow_normalize;
  s.flow_algorithm = algorithm;
  s.threads = threads;
  s.grad_rule = grad_rule;
  s.grad_signed = grad_signed;
  const AnalysisOptions o = pipeline::analysis_options(s);

  const AttentionStack a = to_stack(attention, "attention");
  std::optional<AttentionStack> g;
  if (!gradient.is_none()) g = to_stack(gradient, "gradient");
  // Flow runs through interruptible_flow (Ctrl-C between chunks); the rest in one core call.
  AnalysisOptions rest = o;
  rest.methods.erase(std::remove(rest.methods.begin(), rest.methods.end(), Method::Flow),
                     rest.methods.end());
  const bool want_flow = rest.methods.size() != o.methods.size();
  AnalysisResult result;
  LayerMatrices prepared;
  {
    py::gil_scoped_release release;
    if (o.methods.empty()) throw Error("analysis: no method chosen");
    if (!rest.methods.empty()) result = analyze(a, g ? &*g : nullptr, rest);
    if (want_flow) prepared = prepare_layers(a, o.prepare);
  }
  if (want_flow) {
    FlowOptions f = o.flow;
    f.layers = resolve_layers(o.layers, a.layers(), "layers");
    f.target_rows = resolve_target_rows(o.target_rows, a.tokens(), "target rows");
    result.maps[Method::Flow] = interruptible_flow(prepared, f);
  }
  py::dict out;
  for (const NamedMaps& nm : named_maps(result))
    out[py::str(nm.name)] = to_py_maps(nm.maps, nm.name);
  return out;
}

}  // namespace

void bind_analyze(py::module_& m) {
  m.def(
      "analyze", &py_analyze, py::arg("attention"), py::arg("gradient") = py::none(), py::kw_only(),
      py::arg("methods") = std::vector<std::string>{"raw", "rollout", "flow"},
      py::arg("rows") = std::vector<int>{0}, py::arg("layers") = py::none(),
      py::arg("start_layer") = 1, py::arg("fusion") = "mean", py::arg("head_weights") = py::none(),
      py::arg("discard") = 0.0, py::arg("discard_scope") = "global", py::arg("residual") = true,
      py::arg("alpha") = 0.5, py::arg("renormalize") = true, py::arg("flow_normalize") = true,
      py::arg("algorithm") = pipeline::AnalysisSettings{}.flow_algorithm, py::arg("threads") = 0,
      py::arg("grad_rule") = "chefer", py::arg("grad_signed") = false,
      R"doc(analyze(attention, gradient=None, *, methods=("raw", "rollout", "flow"), rows=(0,), layers=None, start_layer=1, fusion="mean", head_weights=None, discard=0.0, discard_scope="global", residual=True, alpha=0.5, renormalize=True, flow_normalize=True, algorithm=DEFAULT_FLOW_ALGORITHM, threads=0, grad_rule="chefer", grad_signed=False) -> dict[str, Maps]

Every chosen method on one example, exactly as `attnflow analyze` (same option builder, same
defaults, same numbers as its CSV). Returns a dict {method name: attnflow.Maps} in the order
raw, residual, rollout, flow, grad-rollout.
methods: names among "raw", "residual", "rollout", "flow", "grad-rollout" (a list, or one
string "raw,flow" as -m). rows: token rows to explain, default (0,) = CLS (-t); negative =
from the end; None = every row (--all-rows). layers: 1-based layers for raw, residual and
flow (None = all; --layers); rollout and grad-rollout report every layer from start_layer.
gradient: dy/dA, same shape as attention, needed for "grad-rollout".
Other keywords: as rollout/flow/grad_rollout (flow_normalize = flow's normalize, algorithm =
--flow-algorithm, threads = -j, grad_rule = --grad-rule, grad_signed = --grad-signed).
Flow runs without the GIL and stops on Ctrl-C between chunks of rows.)doc");
}

}  // namespace attnflow::python
