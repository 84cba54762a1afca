// Attention rollout: full products or the vector-matrix fast path.
#include "attnflow/core/rollout.hpp"

#include "attnflow/core/error.hpp"
#include "attnflow/core/stack.hpp"

namespace attnflow {
namespace {

// Square, equal-sized layers; entries may be negative (signed grad rollout).
int check_shapes(const LayerMatrices& layers) {
  if (layers.empty()) throw Error("rollout: no layers");
  const auto n = layers.front().rows();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    if (layers[l].rows() != n || layers[l].cols() != n) {
      throw Error("rollout: layer " + std::to_string(l + 1) + " is " +
                  std::to_string(layers[l].rows()) + " x " + std::to_string(layers[l].cols()) +
                  ", expected " + std::to_string(n) + " x " + std::to_string(n));
    }
  }
  if (n == 0) throw Error("rollout: no tokens");
  return static_cast<int>(n);
}

}  // namespace

LayerMaps rollout(const LayerMatrices& layers, const RolloutOptions& options) {
  const int n = check_shapes(layers);
  const int num_layers = static_cast<int>(layers.size());
  if (options.start_layer < 1 || options.start_layer > num_layers) {
    throw Error("rollout: start layer " + std::to_string(options.start_layer) +
                " out of range 1.." + std::to_string(num_layers));
  }
  const int s = options.start_layer;
  LayerMaps out;
  for (int l = options.all_prefixes ? s : num_layers; l <= num_layers; ++l) out.layers.push_back(l);

  if (options.target_rows.empty()) {
    out.rows = resolve_rows({}, n, "rollout target rows");
    Matrix r = layers[s - 1];
    if (options.all_prefixes) out.maps.push_back(r);
    for (int l = s + 1; l <= num_layers; ++l) {
      r = layers[l - 1] * r;  // later layer on the left
      if (options.all_prefixes) out.maps.push_back(r);
    }
    if (!options.all_prefixes) out.maps.push_back(r);
    return out;
  }

  // Fast path: row p of R^(l) = e_p^T A^(l) A^(l-1) ... A^(s), evaluated
  // left to right as vector-matrix products (no n x n product).
  out.rows = resolve_rows(options.target_rows, n, "rollout target rows");
  const auto k = static_cast<Eigen::Index>(out.rows.size());
  for (int top : out.layers) {
    Matrix v(k, n);
    for (Eigen::Index r = 0; r < k; ++r) v.row(r) = layers[top - 1].row(out.rows[r]);
    for (int l = top - 1; l >= s; --l) v = v * layers[l - 1];
    out.maps.push_back(std::move(v));
  }
  return out;
}

}  // namespace attnflow
