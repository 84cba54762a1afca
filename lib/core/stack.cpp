// AttentionStack storage and the validation helpers shared by all methods.
#include "attnflow/core/stack.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <set>
#include <sstream>

#include "attnflow/core/error.hpp"
#include "stack_checks.hpp"

namespace attnflow {
namespace detail {

std::string shape_string(int layers, int heads, int rows, int columns) {
  std::ostringstream s;
  s << layers << " layers x " << heads << " heads x " << rows << " x " << columns;
  return s.str();
}

}  // namespace detail
namespace {

std::string shape_string(int layers, int heads, int tokens) {
  return detail::shape_string(layers, heads, tokens, tokens);
}

}  // namespace

AttentionStack::AttentionStack(int layers, int heads, int tokens)
    : layers_(layers), heads_(heads), tokens_(tokens) {
  if (layers <= 0 || heads <= 0 || tokens <= 0) {
    throw Error("attention stack: every dimension must be positive, got " +
                shape_string(layers, heads, tokens));
  }
  data_.assign(static_cast<std::size_t>(layers) * heads * tokens * tokens, 0.0f);
}

AttentionStack::AttentionStack(std::vector<float> data, int layers, int heads, int tokens)
    : data_(std::move(data)), layers_(layers), heads_(heads), tokens_(tokens) {
  if (layers <= 0 || heads <= 0 || tokens <= 0) {
    throw Error("attention stack: every dimension must be positive, got " +
                shape_string(layers, heads, tokens));
  }
  const std::size_t expected = static_cast<std::size_t>(layers) * heads * tokens * tokens;
  if (data_.size() != expected) {
    throw Error("attention stack: " + std::to_string(data_.size()) + " values do not fill " +
                shape_string(layers, heads, tokens) + " (" + std::to_string(expected) + " values)");
  }
}

std::size_t AttentionStack::offset(int layer_index, int head) const {
  if (layer_index < 0 || layer_index >= layers_ || head < 0 || head >= heads_) {
    throw Error("attention stack: layer index " + std::to_string(layer_index) + " head " +
                std::to_string(head) + " outside " + shape_string(layers_, heads_, tokens_));
  }
  return (static_cast<std::size_t>(layer_index) * heads_ + head) * tokens_ * tokens_;
}

Eigen::Map<const MatrixF> AttentionStack::head(int layer_index, int head) const {
  return Eigen::Map<const MatrixF>(data_.data() + offset(layer_index, head), tokens_, tokens_);
}

Eigen::Map<MatrixF> AttentionStack::head(int layer_index, int head) {
  return Eigen::Map<MatrixF>(data_.data() + offset(layer_index, head), tokens_, tokens_);
}

namespace {

/// Whether every value is finite (and, with `non_negative`, not below zero; -0 passes):
/// one branch-free pass over the bits that the compiler vectorises, so that valid stacks,
/// the common case, cost a fraction of the element-by-element walk that names a bad value.
bool all_valid(const float* values, std::size_t count, bool non_negative) {
  std::uint32_t bad = 0;
  const auto bits = [values](std::size_t k) {
    std::uint32_t u;
    std::memcpy(&u, values + k, sizeof u);
    return u;
  };
  if (non_negative) {  // NaN, infinities and negatives (sign bit set, other than -0)
    for (std::size_t k = 0; k < count; ++k) {
      const std::uint32_t u = bits(k);
      bad |= static_cast<std::uint32_t>((u & 0x7f800000u) == 0x7f800000u) |
             static_cast<std::uint32_t>(u > 0x80000000u);
    }
  } else {
    for (std::size_t k = 0; k < count; ++k) {
      bad |= static_cast<std::uint32_t>((bits(k) & 0x7f800000u) == 0x7f800000u);
    }
  }
  return bad == 0;
}

}  // namespace

namespace detail {

void validate_values(const std::vector<float>& data, int layers, int heads, int rows, int columns,
                     const AttentionCheck& check) {
  if (data.empty()) throw Error(check.name + ": empty stack (no layers, heads or tokens)");
  validate_values(data.data(), 0, layers, heads, rows, columns, check);
}

void validate_values(const float* data, int first_layer, int layers, int heads, int rows,
                     int columns, const AttentionCheck& check) {
  const std::size_t block = static_cast<std::size_t>(rows) * static_cast<std::size_t>(columns);
  const std::size_t size =
      static_cast<std::size_t>(layers) * static_cast<std::size_t>(heads) * block;
  if (check.row_sum_tolerance <= 0.0 && all_valid(data, size, check.non_negative)) {
    return;  // else the walk below finds the first bad value and names it
  }
  for (int l = 0; l < layers; ++l) {
    for (int h = 0; h < heads; ++h) {
      const float* m = data + (static_cast<std::size_t>(l) * heads + h) * block;
      for (int i = 0; i < rows; ++i) {
        double row_sum = 0.0;
        for (int j = 0; j < columns; ++j) {
          const float v = m[static_cast<std::size_t>(i) * columns + j];
          const auto where = [&] {
            return check.name + ": layer " + std::to_string(first_layer + l + 1) + " head " +
                   std::to_string(h + 1) + " row " + std::to_string(i) + " column " +
                   std::to_string(j);
          };
          if (!std::isfinite(v)) {
            throw Error(where() + " is " + (std::isnan(v) ? "NaN" : "infinite"));
          }
          if (check.non_negative && v < 0.0f) {
            throw Error(where() + " is negative (" + std::to_string(v) +
                        "); attention weights must be >= 0");
          }
          row_sum += v;
        }
        if (check.row_sum_tolerance > 0.0 && std::abs(row_sum - 1.0) > check.row_sum_tolerance) {
          throw Error(check.name + ": layer " + std::to_string(first_layer + l + 1) + " head " +
                      std::to_string(h + 1) + " row " + std::to_string(i) + " sums to " +
                      std::to_string(row_sum) + ", not 1");
        }
      }
    }
  }
}

}  // namespace detail

void validate(const AttentionStack& stack, const AttentionCheck& check) {
  detail::validate_values(stack.data(), stack.layers(), stack.heads(), stack.tokens(),
                          stack.tokens(), check);
}

void validate_layer(const float* values, int layer_index, int heads, int tokens,
                    const AttentionCheck& check) {
  if (heads < 1 || tokens < 1) throw Error(check.name + ": empty layer (no heads or tokens)");
  detail::validate_values(values, layer_index, 1, heads, tokens, tokens, check);
}

void require_same_shape(const AttentionStack& stack, const AttentionStack& other,
                        const std::string& stack_name, const std::string& other_name) {
  if (stack.layers() != other.layers() || stack.heads() != other.heads() ||
      stack.tokens() != other.tokens()) {
    throw Error(other_name + ": shape " +
                shape_string(other.layers(), other.heads(), other.tokens()) + " does not match " +
                stack_name + " shape " +
                shape_string(stack.layers(), stack.heads(), stack.tokens()));
  }
}

void validate(const LayerMatrices& layers, const std::string& name, bool non_negative) {
  if (layers.empty()) throw Error(name + ": no layers");
  const auto n = layers.front().rows();
  if (n == 0) throw Error(name + ": layer 1 has no tokens");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const Matrix& m = layers[l];
    const std::string where = name + ": layer " + std::to_string(l + 1);
    if (m.rows() != m.cols()) {
      throw Error(where + " is " + std::to_string(m.rows()) + " x " + std::to_string(m.cols()) +
                  ", not square");
    }
    if (m.rows() != n) {
      throw Error(where + " has " + std::to_string(m.rows()) + " tokens, layer 1 has " +
                  std::to_string(n));
    }
    for (Eigen::Index i = 0; i < n; ++i) {
      for (Eigen::Index j = 0; j < n; ++j) {
        const double v = m(i, j);
        if (!std::isfinite(v)) {
          throw Error(where + " row " + std::to_string(i) + " column " + std::to_string(j) +
                      " is " + (std::isnan(v) ? "NaN" : "infinite"));
        }
        if (non_negative && v < 0.0) {
          throw Error(where + " row " + std::to_string(i) + " column " + std::to_string(j) +
                      " is negative (" + std::to_string(v) + ")");
        }
      }
    }
  }
}

void check_token_index(int index, int tokens, const std::string& what) {
  if (index < 0 || index >= tokens) {
    throw Error(what + ": token " + std::to_string(index) + " out of range (sequence has " +
                std::to_string(tokens) + " tokens, valid 0.." + std::to_string(tokens - 1) + ")");
  }
}

std::vector<int> resolve_layers(const std::vector<int>& layers, int num_layers,
                                const std::string& what) {
  if (layers.empty()) {
    std::vector<int> all(num_layers);
    for (int l = 0; l < num_layers; ++l) all[l] = l + 1;
    return all;
  }
  std::set<int> seen;
  for (int l : layers) {
    if (l < 1 || l > num_layers) {
      throw Error(what + ": layer " + std::to_string(l) + " out of range (model has " +
                  std::to_string(num_layers) + " layers, valid 1.." + std::to_string(num_layers) +
                  ")");
    }
    if (!seen.insert(l).second) throw Error(what + ": layer " + std::to_string(l) + " given twice");
  }
  return layers;
}

std::vector<int> resolve_rows(const std::vector<int>& rows, int tokens, const std::string& what) {
  if (rows.empty()) {
    std::vector<int> all(tokens);
    for (int i = 0; i < tokens; ++i) all[i] = i;
    return all;
  }
  for (int r : rows) check_token_index(r, tokens, what);
  return rows;
}

}  // namespace attnflow
