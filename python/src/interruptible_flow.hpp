// Attention flow run from Python in chunks (one layer, a few source rows at a time) with the
// GIL released inside each chunk and Ctrl-C checked between chunks, so a long flow can be
// interrupted; the result equals one attention_flow call (each pair is solved on its own).
#pragma once

#include "attnflow/core/flow.hpp"
#include "attnflow/core/types.hpp"

namespace attnflow::python {

/// attention_flow(layers, options) in chunks; options.layers and options.target_rows must be
/// resolved (1-based layers, 0-based rows, none empty). Raises KeyboardInterrupt (through
/// pybind11::error_already_set) when a signal handler raised between chunks. Call with the GIL.
LayerMaps interruptible_flow(const LayerMatrices& layers, const FlowOptions& options);

}  // namespace attnflow::python
