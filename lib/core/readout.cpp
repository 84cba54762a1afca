// Raw-attention readouts of target rows per layer (self- and cross-attention).
#include "attnflow/core/readout.hpp"

#include "attnflow/core/error.hpp"
#include "attnflow/core/stack.hpp"

namespace attnflow {

LayerMaps readout_rows(const LayerMatrices& layers, const ReadoutOptions& options,
                       const std::string& what) {
  if (layers.empty()) throw Error(what + ": no layers");
  const auto columns = layers.front().cols();
  LayerMaps out;
  out.layers = resolve_layers(options.layers, static_cast<int>(layers.size()), what + " layers");
  out.rows = resolve_rows(options.target_rows, static_cast<int>(layers.front().rows()),
                          what + " target rows");
  for (int l : out.layers) {
    const Matrix& full = layers[static_cast<std::size_t>(l - 1)];
    Matrix m(static_cast<Eigen::Index>(out.rows.size()), columns);
    for (std::size_t r = 0; r < out.rows.size(); ++r) {
      m.row(static_cast<Eigen::Index>(r)) = full.row(out.rows[r]);
    }
    out.maps.push_back(std::move(m));
  }
  return out;
}

LayerMaps raw_readout(const LayerMatrices& layers, const ReadoutOptions& options) {
  validate(layers, "raw attention");
  return readout_rows(layers, options, "raw readout");
}

LayerMaps cross_attention_readout(const CrossAttentionStack& cross,
                                  const CrossReadoutOptions& options) {
  validate(cross, AttentionCheck::weights("cross attention"));
  return readout_rows(fuse_heads(cross, options.fusion), options.readout, "cross readout");
}

Matrix mean_cross_attention(const CrossAttentionStack& cross, const FusionOptions& fusion) {
  validate(cross, AttentionCheck::weights("cross attention"));
  const LayerMatrices fused = fuse_heads(cross, fusion);
  Matrix mean = Matrix::Zero(cross.queries(), cross.keys());
  for (const Matrix& m : fused) mean += m;
  return mean / static_cast<double>(fused.size());
}

}  // namespace attnflow
