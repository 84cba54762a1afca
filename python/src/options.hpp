// Keyword arguments of the Python functions -> attnflow's core Options structs, with the names
// and defaults of the CLI (docs/cli.md), and the shared "attention -> A_hat" step.
#pragma once

#include <pybind11/pybind11.h>

#include <string>

#include "attnflow/core/residual.hpp"
#include "attnflow/core/types.hpp"

namespace attnflow::python {

namespace py = pybind11;

/// The preparation keywords every method takes (fusion, head_weights, discard, discard_scope,
/// residual, alpha, renormalize), CLI defaults.
struct PrepareArgs {
  std::string fusion = "mean";
  py::object head_weights = py::none();
  double discard = 0.0;
  std::string discard_scope = "global";
  bool residual = true;
  double alpha = 0.5;
  bool renormalize = true;

  /// Parsed core options; throws Error on an unknown name ("head fusion: unknown 'x' ...").
  PrepareOptions options() const;
};

/// A_hat per layer: `attention` fused, discarded and residual-augmented with `args`; or, when
/// `prepared`, `attention` taken as the (L, n, n) A_hat matrices themselves (float64 kept).
/// The heavy part runs without the GIL.
LayerMatrices prepared_layers(py::handle attention, bool prepared, const PrepareArgs& args);

/// Resolves 0-based token rows (negative: from the end) like the CLI's -t ("target rows: ...").
std::vector<int> resolve_rows_arg(py::handle rows, int tokens);

/// Number of threads `threads` means (0 = all hardware threads).
int effective_threads(int threads);

}  // namespace attnflow::python
