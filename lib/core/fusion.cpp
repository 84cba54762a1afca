// Head fusion (mean, max, min, weighted mean) of an attention stack.
#include "attnflow/core/fusion.hpp"

#include <cmath>

#include "attnflow/core/error.hpp"

namespace attnflow {
namespace {

// Weights for layer `layer` (1-based), already checked.
template <class Stack>
std::vector<double> layer_weights(const Stack& stack, int layer, const FusionOptions& options) {
  const auto& w = options.head_weights;
  const auto heads = static_cast<std::size_t>(stack.heads());
  const auto all = heads * static_cast<std::size_t>(stack.layers());
  if (w.size() != heads && w.size() != all) {
    throw Error("head weights: " + std::to_string(w.size()) + " weights given, need " +
                std::to_string(heads) + " (one per head) or " + std::to_string(all) +
                " (one per layer and head)");
  }
  const std::size_t first = w.size() == heads ? 0 : (static_cast<std::size_t>(layer) - 1) * heads;
  std::vector<double> out(w.begin() + static_cast<long>(first),
                          w.begin() + static_cast<long>(first + heads));
  double sum = 0.0;
  for (std::size_t h = 0; h < heads; ++h) {
    if (!std::isfinite(out[h]) || out[h] < 0.0) {
      throw Error("head weights: weight of layer " + std::to_string(layer) + " head " +
                  std::to_string(h + 1) + " is " + std::to_string(out[h]) +
                  "; weights must be finite and >= 0");
    }
    sum += out[h];
  }
  if (sum <= 0.0) {
    throw Error("head weights: all weights of layer " + std::to_string(layer) + " are zero");
  }
  for (double& v : out) v /= sum;
  return out;
}

// One layer of a square or a cross-attention stack (same head layout).
template <class Stack>
Matrix fuse_layer(const Stack& stack, int layer, const FusionOptions& options) {
  if (layer < 1 || layer > stack.layers()) {
    throw Error("head fusion: layer " + std::to_string(layer) + " out of range 1.." +
                std::to_string(stack.layers()));
  }
  const int li = layer - 1;
  Matrix out = stack.head(li, 0).template cast<double>();
  switch (options.method) {
    case HeadFusion::Mean:
      for (int h = 1; h < stack.heads(); ++h) out += stack.head(li, h).template cast<double>();
      out /= stack.heads();
      break;
    case HeadFusion::Max:
      for (int h = 1; h < stack.heads(); ++h)
        out = out.cwiseMax(stack.head(li, h).template cast<double>());
      break;
    case HeadFusion::Min:
      for (int h = 1; h < stack.heads(); ++h)
        out = out.cwiseMin(stack.head(li, h).template cast<double>());
      break;
    case HeadFusion::WeightedMean: {
      const auto w = layer_weights(stack, layer, options);
      out *= w[0];
      for (int h = 1; h < stack.heads(); ++h)
        out += w[h] * stack.head(li, h).template cast<double>();
      break;
    }
  }
  return out;
}

template <class Stack>
LayerMatrices fuse_layers(const Stack& stack, const FusionOptions& options) {
  LayerMatrices out;
  out.reserve(static_cast<std::size_t>(stack.layers()));
  for (int l = 1; l <= stack.layers(); ++l) out.push_back(fuse_layer(stack, l, options));
  return out;
}

}  // namespace

Matrix fuse_heads(const AttentionStack& stack, int layer, const FusionOptions& options) {
  if (stack.empty()) throw Error("attention: empty stack");
  return fuse_layer(stack, layer, options);
}

LayerMatrices fuse_heads(const AttentionStack& stack, const FusionOptions& options) {
  return fuse_layers(stack, options);
}

Matrix fuse_heads(const CrossAttentionStack& stack, int layer, const FusionOptions& options) {
  if (stack.empty()) throw Error("cross-attention: empty stack");
  return fuse_layer(stack, layer, options);
}

LayerMatrices fuse_heads(const CrossAttentionStack& stack, const FusionOptions& options) {
  return fuse_layers(stack, options);
}

HeadFusion parse_head_fusion(const std::string& name) {
  return parse_enum(kHeadFusionNames, name, "head fusion");
}

const char* to_string(HeadFusion fusion) {
  return enum_name(kHeadFusionNames, fusion);
}

}  // namespace attnflow
