// Private to attnflow::core: the value checks and shape text that the square
// AttentionStack and the non-square CrossAttentionStack share (stack.cpp).
#pragma once

#include <string>
#include <vector>

#include "attnflow/core/stack.hpp"

namespace attnflow::detail {

/// "L layers x H heads x R x C".
std::string shape_string(int layers, int heads, int rows, int columns);

/// validate() of a [layers][heads][rows][columns] float32 block: empty, NaN/Inf, negative
/// weights (check.non_negative) and row sums (check.row_sum_tolerance), each error naming
/// check.name, the layer, head, row and column.
void validate_values(const std::vector<float>& data, int layers, int heads, int rows, int columns,
                     const AttentionCheck& check);
/// The same for `layers` layers at `data` that are layers first_layer.. of a stack (named so).
void validate_values(const float* data, int first_layer, int layers, int heads, int rows,
                     int columns, const AttentionCheck& check);

}  // namespace attnflow::detail
