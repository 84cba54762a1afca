// AttentionStack: layers x heads x n x n float32 tensor (row = query), the
// input of every method. Also used for gradient stacks (same shape, signed).
// Validation is explicit and names the input in its error messages.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "attnflow/core/types.hpp"

namespace attnflow {

class AttentionStack {
 public:
  AttentionStack() = default;
  /// Zero-filled stack. Throws Error when a dimension is not positive.
  AttentionStack(int layers, int heads, int tokens);
  /// Takes ownership of `data` (layout [layer][head][query][key], row-major).
  /// Throws Error when data.size() != layers*heads*tokens*tokens.
  AttentionStack(std::vector<float> data, int layers, int heads, int tokens);

  int layers() const { return layers_; }
  int heads() const { return heads_; }
  int tokens() const { return tokens_; }
  bool empty() const { return data_.empty(); }

  /// Head `h` of layer `l` (0-based indices here) as an n x n map.
  Eigen::Map<const MatrixF> head(int layer_index, int head) const;
  Eigen::Map<MatrixF> head(int layer_index, int head);

  const std::vector<float>& data() const { return data_; }
  std::vector<float>& data() { return data_; }

 private:
  std::size_t offset(int layer_index, int head) const;

  std::vector<float> data_;
  int layers_ = 0;
  int heads_ = 0;
  int tokens_ = 0;
};

struct AttentionCheck {
  /// Name used in error messages (a file name, "attention", "gradient"...).
  std::string name = "attention";
  /// Reject negative entries (attention weights); off for gradients.
  bool non_negative = true;
  /// When > 0, every row must sum to 1 within this tolerance.
  double row_sum_tolerance = 0.0;

  /// Attention weights called `name`: finite and >= 0, any row sums.
  static AttentionCheck weights(std::string name) {
    AttentionCheck check;
    check.name = std::move(name);
    return check;
  }
  /// Values of either sign called `name` (gradients, signed relevance): finite.
  static AttentionCheck any_sign(std::string name) {
    AttentionCheck check = weights(std::move(name));
    check.non_negative = false;
    return check;
  }
};

/// Throws Error on an empty stack, NaN/Inf, negative weights (when required)
/// or rows that do not sum to 1 (when a tolerance is given).
void validate(const AttentionStack& stack, const AttentionCheck& check = {});

/// validate() of one layer of a stack: `heads` maps of tokens x tokens at `values`, errors
/// naming layer `layer_index` + 1 (a stack written a layer at a time, io::ExampleWriter).
void validate_layer(const float* values, int layer_index, int heads, int tokens,
                    const AttentionCheck& check = {});

/// Throws Error unless `other` has the same layers/heads/tokens as `stack`.
void require_same_shape(const AttentionStack& stack, const AttentionStack& other,
                        const std::string& stack_name, const std::string& other_name);

/// Throws Error when the layer list is empty, a matrix is not square, sizes
/// differ between layers, or an entry is NaN/Inf or (with `non_negative`) negative.
void validate(const LayerMatrices& layers, const std::string& name, bool non_negative = true);

/// Throws Error naming `what` unless 0 <= index < tokens.
void check_token_index(int index, int tokens, const std::string& what);

/// Resolves 1-based layer numbers; empty `layers` means all 1..L.
/// Throws Error naming `what` for numbers outside 1..L or duplicates.
std::vector<int> resolve_layers(const std::vector<int>& layers, int num_layers,
                                const std::string& what);

/// Resolves token rows; empty `rows` means all 0..n-1.
std::vector<int> resolve_rows(const std::vector<int>& rows, int tokens, const std::string& what);

}  // namespace attnflow
