// attnflow.spearman / pearson / kendall: the core's correlations of two 1-D arrays.
#include "arrays.hpp"
#include "attnflow/core/correlation.hpp"
#include "bindings.hpp"

namespace attnflow::python {

namespace {

template <double (*F)(const std::vector<double>&, const std::vector<double>&)>
double correlate(py::handle x, py::handle y) {
  const std::vector<double> a = to_vector(x, "x"), b = to_vector(y, "y");
  py::gil_scoped_release release;
  return F(a, b);
}

}  // namespace

void bind_correlations(py::module_& m) {
  m.def("spearman", &correlate<spearman>, py::arg("x"), py::arg("y"),
        R"doc(spearman(x, y) -> float

Spearman's rho of two 1-D arrays of equal length (>= 2): Pearson's r on average ranks (ties
share their mean rank). NaN when either input is constant. Raises attnflow.Error on a length
mismatch, fewer than 2 values or NaN/Inf.)doc");
  m.def("pearson", &correlate<pearson>, py::arg("x"), py::arg("y"),
        R"doc(pearson(x, y) -> float

Pearson's r of two 1-D arrays of equal length (>= 2); NaN when either input is constant.)doc");
  m.def("kendall", &correlate<kendall>, py::arg("x"), py::arg("y"),
        R"doc(kendall(x, y) -> float

Kendall's tau-b (tie-corrected, O(n^2)) of two 1-D arrays of equal length (>= 2).)doc");
}

}  // namespace attnflow::python
