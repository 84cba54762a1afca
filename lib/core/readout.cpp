// Raw-attention readouts of target rows per layer.
#include "attnflow/core/readout.hpp"

#include "attnflow/core/stack.hpp"

namespace attnflow {

LayerMaps raw_readout(const LayerMatrices& layers, const ReadoutOptions& options) {
  validate(layers, "raw attention");
  const int n = static_cast<int>(layers.front().rows());
  LayerMaps out;
  out.layers =
      resolve_layers(options.layers, static_cast<int>(layers.size()), "raw readout layers");
  out.rows = resolve_rows(options.target_rows, n, "raw readout target rows");
  for (int l : out.layers) {
    Matrix m(static_cast<Eigen::Index>(out.rows.size()), n);
    for (std::size_t r = 0; r < out.rows.size(); ++r) {
      m.row(static_cast<Eigen::Index>(r)) = layers[l - 1].row(out.rows[r]);
    }
    out.maps.push_back(std::move(m));
  }
  return out;
}

}  // namespace attnflow
