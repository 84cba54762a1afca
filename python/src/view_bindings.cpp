// The `attnflow view` page from Python (attnflow.view / attnflow.show in python/attnflow):
// the HTML document of store examples (pipeline::load_view_examples) or of attention arrays
// (pipeline::view_example), made by pipeline::view_page like the CLI's.
#include <optional>

#include "arrays.hpp"
#include "attnflow/pipeline/view.hpp"
#include "bindings.hpp"

namespace attnflow::python {

namespace {

pipeline::AnalysisSettings settings(const std::optional<std::vector<std::string>>& methods,
                                    const std::string& fusion, double alpha, bool residual,
                                    int threads) {
  pipeline::AnalysisSettings s;
  if (methods) s.methods = *methods;
  s.fusion = fusion;
  s.alpha = alpha;
  s.no_residual = !residual;
  s.threads = threads;
  return s;
}

pipeline::ViewPageOptions page_options(int bits, double min_weight, const std::string& title) {
  pipeline::ViewPageOptions o;
  o.bits = bits;
  o.min_weight = min_weight;
  o.title = title;
  return o;
}

std::string store_page(const std::string& path, std::optional<std::int64_t> example,
                       const std::string& examples, std::optional<int> target,
                       const std::optional<std::vector<std::string>>& methods, int bits,
                       double min_weight, const std::string& title, bool derived_runs,
                       const std::string& fusion, double alpha, bool residual, int threads) {
  pipeline::ViewOptions o;
  o.input = path;
  o.example_given = example.has_value();
  o.example = example.value_or(0);
  o.examples = examples;
  o.target_given = target.has_value();
  o.target = target.value_or(0);
  o.analysis = settings(methods, fusion, alpha, residual, threads);
  o.methods_given = methods.has_value();
  o.derived_runs = derived_runs;
  o.page = page_options(bits, min_weight, title);
  py::gil_scoped_release release;
  pipeline::check_view_page_options(o.page);
  return pipeline::view_page(pipeline::load_view_examples(o), o.page);
}

std::string arrays_page(py::handle attention, std::optional<std::vector<std::string>> tokens,
                        py::handle gradient, int target,
                        const std::optional<std::vector<std::string>>& methods, int bits,
                        double min_weight, const std::string& title, const std::string& fusion,
                        double alpha, bool residual, int threads) {
  AttentionStack a = to_stack(attention, "attention");
  std::optional<AttentionStack> g;
  if (!gradient.is_none()) g = to_stack(gradient, "gradient");
  const pipeline::ViewPageOptions o = page_options(bits, min_weight, title);
  py::gil_scoped_release release;
  pipeline::check_view_page_options(o);
  pipeline::ViewExample e = pipeline::view_example(
      std::move(a), g ? &*g : nullptr, tokens.value_or(std::vector<std::string>{}), target,
      settings(methods, fusion, alpha, residual, threads), methods.has_value());
  e.name = title.empty() ? "attention" : title;
  return pipeline::view_page({e}, o);
}

}  // namespace

void bind_view(py::module_& m) {
  m.attr("HAVE_VIEW") = pipeline::view_available();
  m.def("_view_store_page", &store_page, py::arg("path"), py::arg("example"), py::arg("examples"),
        py::arg("target"), py::arg("methods"), py::arg("bits"), py::arg("min_weight"),
        py::arg("title"), py::arg("derived_runs"), py::arg("fusion"), py::arg("alpha"),
        py::arg("residual"), py::arg("threads"),
        "The `attnflow view` page of store examples (use attnflow.view).");
  m.def("_view_arrays_page", &arrays_page, py::arg("attention"), py::arg("tokens"),
        py::arg("gradient"), py::arg("target"), py::arg("methods"), py::arg("bits"),
        py::arg("min_weight"), py::arg("title"), py::arg("fusion"), py::arg("alpha"),
        py::arg("residual"), py::arg("threads"),
        "The `attnflow view` page of one attention stack (use attnflow.view).");
}

}  // namespace attnflow::python
