// CrossAttentionStack: layers x heads x m x n float32 tensor of an encoder-decoder's
// cross-attention (row = decoder query token, column = encoder key token), and of its
// gradient dy/dA (same shape, signed). The square AttentionStack's non-square sibling.
#pragma once

#include <cstddef>
#include <vector>

#include "attnflow/core/stack.hpp"
#include "attnflow/core/types.hpp"

namespace attnflow {

class CrossAttentionStack {
 public:
  CrossAttentionStack() = default;
  /// Zero-filled stack. Throws Error when a dimension is not positive.
  CrossAttentionStack(int layers, int heads, int queries, int keys);
  /// Takes ownership of `data` (layout [layer][head][query][key], row-major).
  /// Throws Error when data.size() != layers*heads*queries*keys.
  CrossAttentionStack(std::vector<float> data, int layers, int heads, int queries, int keys);

  int layers() const { return layers_; }
  int heads() const { return heads_; }
  int queries() const { return queries_; }  ///< m, decoder tokens (rows)
  int keys() const { return keys_; }        ///< n, encoder tokens (columns)
  bool empty() const { return data_.empty(); }

  /// Head `h` of layer `l` (0-based indices here) as an m x n map.
  Eigen::Map<const MatrixF> head(int layer_index, int head) const;
  Eigen::Map<MatrixF> head(int layer_index, int head);

  const std::vector<float>& data() const { return data_; }
  std::vector<float>& data() { return data_; }

 private:
  std::size_t offset(int layer_index, int head) const;

  std::vector<float> data_;
  int layers_ = 0;
  int heads_ = 0;
  int queries_ = 0;
  int keys_ = 0;
};

/// Throws Error on an empty stack, NaN/Inf, negative weights (when required) or rows that
/// do not sum to 1 (when a tolerance is given), with the messages of validate(AttentionStack).
void validate(const CrossAttentionStack& stack, const AttentionCheck& check = {});

/// Throws Error unless `other` has the same layers/heads/queries/keys as `stack`.
void require_same_shape(const CrossAttentionStack& stack, const CrossAttentionStack& other,
                        const std::string& stack_name, const std::string& other_name);

}  // namespace attnflow
