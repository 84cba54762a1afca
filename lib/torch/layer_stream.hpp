// Internal to attnflow::torch: RunOptions::stream, the maps of a batch handed out layer by
// layer (selected layers and heads, optionally fused on the device) instead of as one stack.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "attnflow/torch/model.hpp"

namespace attnflow::torch::detail {

class LayerStreamer {
 public:
  /// Checks the selection against the model's layers and heads (Error naming `model`).
  LayerStreamer(const LayerStream& stream, int layers, int heads, const ::torch::Tensor& lengths,
                const std::string& model);

  /// Layer `layer` (0-based) of the forward pass, [B, H, N, N] on the model's device. With
  /// LayerStream::gradient_mean a selected layer's maps are also kept (a detached reference to
  /// the tensor autograd keeps anyway) until its gradient() comes.
  void attention(int layer, const ::torch::Tensor& probs);
  /// dy/dA of layer `layer` (0-based), [B, H, N, N]; with LayerStream::gradient_mean its
  /// gradient-weighted head mean is handed out instead (Error when attention() did not keep
  /// the layer's maps).
  void gradient(int layer, const ::torch::Tensor& grad);
  /// Layers handed to attention() so far (0: the network did not stream, e.g. TorchScript).
  int attention_calls() const { return calls_; }

 private:
  /// The selection's position of model layer `layer` (0-based), or -1.
  int position(int layer) const;
  void hand_out(int layer, int index, const ::torch::Tensor& maps, bool gradient);
  /// Each example's [n, n] of `maps` ([B, N, N] float64 on the device) to the sink as `s`.
  void hand_out_matrices(StreamedLayer s, const ::torch::Tensor& maps);
  /// The selected heads of [B, H, N, N] maps.
  ::torch::Tensor select_heads(const ::torch::Tensor& maps) const;
  ::torch::Tensor fuse(const ::torch::Tensor& maps, int index) const;
  /// mean_h of grad_h ⊙ probs_h (clamped per head as LayerStream::gradient_mean says),
  /// [B, N, N] float64.
  ::torch::Tensor gradient_mean(const ::torch::Tensor& grad, const ::torch::Tensor& probs) const;

  const LayerStream& stream_;
  std::vector<int> layers_;          ///< 1-based selected layers
  std::vector<std::int64_t> heads_;  ///< 0-based selected heads (empty: all)
  std::vector<std::int64_t> lengths_;
  int calls_ = 0;
  std::vector<float> values_;
  std::vector<double> fused_;
  std::vector<::torch::Tensor> probs_;  ///< gradient_mean: per selected layer, until gradient()
};

}  // namespace attnflow::torch::detail
