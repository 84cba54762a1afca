// RunOptions::stream: each selected layer of a batch leaves the device on its own (a [B, H', N, N]
// slice, or its [B, N, N] fusion in float64; gradients: dy/dA, or the [B, N, N] gradient-weighted
// head mean in float64), and each example's part of it goes to the sink.
#include "layer_stream.hpp"

#include <cstring>

#include "attnflow/core/error.hpp"

namespace attnflow::torch::detail {

using ::torch::Tensor;

namespace {

/// 1-based `chosen` (empty = all of 1..count) checked: ascending, in range.
std::vector<int> resolve(const std::vector<int>& chosen, int count, const char* what,
                         const std::string& model) {
  std::vector<int> out;
  if (chosen.empty()) {
    for (int k = 1; k <= count; ++k) out.push_back(k);
    return out;
  }
  for (std::size_t k = 0; k < chosen.size(); ++k) {
    const int v = chosen[k];
    if (v < 1 || v > count) {
      throw Error(model + ": " + what + " " + std::to_string(v) + " out of range (the model has " +
                  std::to_string(count) + " " + what + "s, 1.." + std::to_string(count) + ")");
    }
    if (k > 0 && v <= chosen[k - 1]) {
      throw Error(model + ": " + what + "s must be ascending and distinct (" +
                  std::to_string(chosen[k - 1]) + " before " + std::to_string(v) + ")");
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace

LayerStreamer::LayerStreamer(const LayerStream& stream, int layers, int heads,
                             const Tensor& lengths, const std::string& model)
    : stream_(stream) {
  layers_ = resolve(stream.layers, layers, "layer", model);
  if (!stream.heads.empty()) {
    for (int h : resolve(stream.heads, heads, "head", model)) heads_.push_back(h - 1);
  }
  const Tensor cpu = lengths.to(::torch::kCPU);
  for (std::int64_t b = 0; b < cpu.size(0); ++b) lengths_.push_back(cpu[b].item<std::int64_t>());
}

int LayerStreamer::position(int layer) const {
  for (std::size_t k = 0; k < layers_.size(); ++k) {
    if (layers_[k] == layer + 1) return static_cast<int>(k);
  }
  return -1;
}

void LayerStreamer::attention(int layer, const Tensor& probs) {
  ++calls_;
  const int index = position(layer);
  if (index < 0) return;
  if (stream_.gradient_mean) {
    probs_.resize(layers_.size());
    probs_[static_cast<std::size_t>(index)] = probs.detach();
  }
  hand_out(layer, index, probs.detach(), false);
}

void LayerStreamer::gradient(int layer, const Tensor& grad) {
  const int index = position(layer);
  if (index < 0) return;
  if (!stream_.gradient_mean) return hand_out(layer, index, grad, true);
  const auto at = static_cast<std::size_t>(index);
  if (at >= probs_.size() || !probs_[at].defined()) {
    throw Error("gradient-weighted head means: the attention of layer " +
                std::to_string(layer + 1) +
                " was not streamed before its gradient (the run must stream the attention)");
  }
  ::torch::NoGradGuard no_grad;
  StreamedLayer s;
  s.layer = layer + 1;
  s.index = index;
  s.gradient = true;
  s.weighted = true;
  hand_out_matrices(s, gradient_mean(select_heads(grad), select_heads(probs_[at])));
  probs_[at] = Tensor();
}

Tensor LayerStreamer::select_heads(const Tensor& maps) const {
  if (heads_.empty()) return maps;
  const Tensor idx =
      ::torch::tensor(heads_, ::torch::TensorOptions().dtype(::torch::kLong)).to(maps.device());
  return maps.index_select(1, idx);
}

Tensor LayerStreamer::gradient_mean(const Tensor& grad, const Tensor& probs) const {
  // in float64 one head at a time, in core's order (detail::gradient_weighted_mean)
  const bool clamp = *stream_.gradient_mean == GradientHeadMean::Clamped;
  const std::int64_t H = grad.size(1);
  Tensor out = ::torch::zeros({grad.size(0), grad.size(2), grad.size(3)},
                              grad.options().dtype(::torch::kFloat64));
  for (std::int64_t k = 0; k < H; ++k) {
    Tensor weighted =
        grad.select(1, k).to(::torch::kFloat64) * probs.select(1, k).to(::torch::kFloat64);
    if (clamp) weighted.clamp_min_(0.0);
    out += weighted;
  }
  out /= static_cast<double>(H);
  return out;
}

Tensor LayerStreamer::fuse(const Tensor& maps, int index) const {
  // max / min pick one float; the sums run in float64 one head at a time (as core's fuse_heads
  // does), so that no float64 copy of all heads is made
  const FusionOptions& f = *stream_.fusion;
  if (f.method == HeadFusion::Max) return maps.amax(1).to(::torch::kFloat64);
  if (f.method == HeadFusion::Min) return maps.amin(1).to(::torch::kFloat64);
  const std::int64_t H = maps.size(1);
  std::vector<double> w(static_cast<std::size_t>(H), 1.0 / static_cast<double>(H));
  if (f.method == HeadFusion::WeightedMean) {
    // one weight per selected head, or per selected layer and head (core's fuse_heads)
    const auto h = static_cast<std::size_t>(H);
    const std::size_t first = f.head_weights.size() == h ? 0 : static_cast<std::size_t>(index) * h;
    if (first + h > f.head_weights.size()) {
      throw Error("head weights: " + std::to_string(f.head_weights.size()) +
                  " weights given, need " + std::to_string(h) + " (one per head) or " +
                  std::to_string(h * layers_.size()) + " (one per layer and head)");
    }
    double sum = 0;
    for (std::size_t k = 0; k < h; ++k) sum += f.head_weights[first + k];
    for (std::size_t k = 0; k < h; ++k) w[k] = f.head_weights[first + k] / sum;
  }
  Tensor out = ::torch::zeros({maps.size(0), maps.size(2), maps.size(3)},
                              maps.options().dtype(::torch::kFloat64));
  for (std::int64_t k = 0; k < H; ++k) {
    const Tensor head = maps.select(1, k).to(::torch::kFloat64);
    if (f.method == HeadFusion::Mean) {
      out += head;
    } else {
      out += head * w[static_cast<std::size_t>(k)];
    }
  }
  if (f.method == HeadFusion::Mean) out /= static_cast<double>(H);
  return out;
}

void LayerStreamer::hand_out_matrices(StreamedLayer s, const Tensor& maps) {
  const Tensor f = maps.to(::torch::kCPU).contiguous();  // [B, N, N] float64
  const std::int64_t N = f.size(1);
  const double* src = f.data_ptr<double>();
  for (std::size_t b = 0; b < lengths_.size(); ++b) {
    const std::int64_t n = lengths_[b];
    fused_.resize(static_cast<std::size_t>(n * n));
    for (std::int64_t i = 0; i < n; ++i) {
      std::memcpy(fused_.data() + i * n, src + (static_cast<std::int64_t>(b) * N + i) * N,
                  static_cast<std::size_t>(n) * sizeof(double));
    }
    s.example = b;
    s.n = n;
    s.heads = 1;
    s.fused = fused_.data();
    stream_.sink(s);
  }
}

void LayerStreamer::hand_out(int layer, int index, const Tensor& maps, bool gradient) {
  ::torch::NoGradGuard no_grad;
  const Tensor selected = select_heads(maps);
  const std::int64_t N = maps.size(2);
  StreamedLayer s;
  s.layer = layer + 1;
  s.index = index;
  s.gradient = gradient;
  if (stream_.fusion.has_value() && !gradient) return hand_out_matrices(s, fuse(selected, index));
  const Tensor c = selected.to(::torch::kCPU, ::torch::kFloat32).contiguous();  // [B, H', N, N]
  const std::int64_t H = c.size(1);
  const float* src = c.data_ptr<float>();
  for (std::size_t b = 0; b < lengths_.size(); ++b) {
    const std::int64_t n = lengths_[b];
    const float* example = src + static_cast<std::int64_t>(b) * H * N * N;
    if (n == N) {
      s.values = example;  // not padded: the maps as they are
    } else {
      values_.resize(static_cast<std::size_t>(H * n * n));
      float* dst = values_.data();
      for (std::int64_t h = 0; h < H; ++h)
        for (std::int64_t i = 0; i < n; ++i) {
          std::memcpy(dst, example + (h * N + i) * N, static_cast<std::size_t>(n) * sizeof(float));
          dst += n;
        }
      s.values = values_.data();
    }
    s.example = b;
    s.n = n;
    s.heads = static_cast<int>(H);
    stream_.sink(s);
  }
}

}  // namespace attnflow::torch::detail
