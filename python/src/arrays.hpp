// Conversions between Python objects and attnflow's C++ types for the `attnflow` module:
// numpy arrays (or HF-style tuples of per-layer arrays, or anything with __array__) into
// AttentionStack / LayerMatrices, and LayerMaps back into the module's Maps result object.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>  // every translation unit of the module: one set of casters

#include <optional>
#include <string>
#include <vector>

#include "attnflow/core/cross_stack.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/core/types.hpp"

namespace attnflow::python {

namespace py = pybind11;

/// An attention (or gradient) stack from (L, H, n, n) or (L, n, n) arrays of any float dtype
/// (float32 is copied once, float64 converted once to float32), or from a tuple/list of L
/// per-layer arrays of shape (1, H, n, n), (H, n, n) or (n, n) (Hugging Face's
/// `outputs.attentions`). Throws Error naming `name` for a wrong rank, non-square maps, layers
/// of different shapes, a batch of more than one example, or an empty stack. Values are not
/// validated here (the core functions do it).
AttentionStack to_stack(py::handle obj, const std::string& name);

/// Per-layer square float64 matrices from an (L, n, n) array or a list of L (n, n) arrays
/// (already prepared A_hat, or fused maps). Throws Error naming `name` for a wrong rank.
LayerMatrices to_layer_matrices(py::handle obj, const std::string& name);

/// A 1-D float64 vector (correlations, head weights).
std::vector<double> to_vector(py::handle obj, const std::string& name);

/// None -> empty; an int -> {int}; a sequence of ints -> as is.
std::vector<int> to_int_list(py::handle obj);

/// (L, rows, cols) float64 array of per-layer matrices of one shape (n x n, or m x n).
py::array_t<double> to_array(const LayerMatrices& layers);

/// (L, H, n, n) float32 array of a stack (copied).
py::array_t<float> to_array(const AttentionStack& stack);

/// (L, H, m, n) float32 array of a cross-attention stack (copied).
py::array_t<float> to_array(const CrossAttentionStack& stack);

/// The Python result object of rollout, flow, grad_rollout and raw_readout (python/src/maps.cpp).
struct PyMaps {
  std::string method;          ///< "rollout", "flow", ... ("" when not set)
  std::vector<int> layers;     ///< 1-based layer of each map
  std::vector<int> rows;       ///< token row (query) of each map row
  py::array_t<double> values;  ///< (len(layers), len(rows), n)
};

/// Copies `maps` into a PyMaps (values as one contiguous float64 array).
PyMaps to_py_maps(const LayerMaps& maps, const std::string& method);

}  // namespace attnflow::python
