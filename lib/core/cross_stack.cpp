// CrossAttentionStack storage and checks (the value walk is shared with AttentionStack).
#include "attnflow/core/cross_stack.hpp"

#include "attnflow/core/error.hpp"
#include "stack_checks.hpp"

namespace attnflow {
namespace {

void check_dimensions(int layers, int heads, int queries, int keys) {
  if (layers <= 0 || heads <= 0 || queries <= 0 || keys <= 0) {
    throw Error("cross-attention stack: every dimension must be positive, got " +
                detail::shape_string(layers, heads, queries, keys));
  }
}

}  // namespace

CrossAttentionStack::CrossAttentionStack(int layers, int heads, int queries, int keys)
    : layers_(layers), heads_(heads), queries_(queries), keys_(keys) {
  check_dimensions(layers, heads, queries, keys);
  data_.assign(static_cast<std::size_t>(layers) * heads * queries * keys, 0.0f);
}

CrossAttentionStack::CrossAttentionStack(std::vector<float> data, int layers, int heads,
                                         int queries, int keys)
    : data_(std::move(data)), layers_(layers), heads_(heads), queries_(queries), keys_(keys) {
  check_dimensions(layers, heads, queries, keys);
  const std::size_t expected = static_cast<std::size_t>(layers) * heads * queries * keys;
  if (data_.size() != expected) {
    throw Error("cross-attention stack: " + std::to_string(data_.size()) + " values do not fill " +
                detail::shape_string(layers, heads, queries, keys) + " (" +
                std::to_string(expected) + " values)");
  }
}

std::size_t CrossAttentionStack::offset(int layer_index, int head) const {
  if (layer_index < 0 || layer_index >= layers_ || head < 0 || head >= heads_) {
    throw Error("cross-attention stack: layer index " + std::to_string(layer_index) + " head " +
                std::to_string(head) + " outside " +
                detail::shape_string(layers_, heads_, queries_, keys_));
  }
  return (static_cast<std::size_t>(layer_index) * heads_ + head) * queries_ * keys_;
}

Eigen::Map<const MatrixF> CrossAttentionStack::head(int layer_index, int head) const {
  return Eigen::Map<const MatrixF>(data_.data() + offset(layer_index, head), queries_, keys_);
}

Eigen::Map<MatrixF> CrossAttentionStack::head(int layer_index, int head) {
  return Eigen::Map<MatrixF>(data_.data() + offset(layer_index, head), queries_, keys_);
}

void validate(const CrossAttentionStack& stack, const AttentionCheck& check) {
  detail::validate_values(stack.data(), stack.layers(), stack.heads(), stack.queries(),
                          stack.keys(), check);
}

void require_same_shape(const CrossAttentionStack& stack, const CrossAttentionStack& other,
                        const std::string& stack_name, const std::string& other_name) {
  if (stack.layers() != other.layers() || stack.heads() != other.heads() ||
      stack.queries() != other.queries() || stack.keys() != other.keys()) {
    throw Error(other_name + ": shape " +
                detail::shape_string(other.layers(), other.heads(), other.queries(), other.keys()) +
                " does not match " + stack_name + " shape " +
                detail::shape_string(stack.layers(), stack.heads(), stack.queries(), stack.keys()));
  }
}

}  // namespace attnflow
