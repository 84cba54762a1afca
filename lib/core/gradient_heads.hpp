// Private to attnflow::core: the gradient-weighted head mean of one layer,
// A_bar = mean_h (dy/dA_h ⊙ A_h)^+ (Chefer et al. 2021, their rule 5), for the
// square stacks of gradient rollout and the cross-attention stacks of the
// encoder-decoder rules. Shapes are checked by the callers.
#pragma once

#include "attnflow/core/types.hpp"

namespace attnflow::detail {

/// mean over heads of gradient ⊙ attention at layer index `li` (0-based); each head's
/// product is clamped at 0 before the mean when `clamp` is true.
template <class Stack>
Matrix gradient_weighted_mean(const Stack& attention, const Stack& gradient, int li, bool clamp) {
  const auto first = attention.head(li, 0);
  Matrix bar = Matrix::Zero(first.rows(), first.cols());
  for (int h = 0; h < attention.heads(); ++h) {
    Matrix weighted = gradient.head(li, h).template cast<double>().cwiseProduct(
        attention.head(li, h).template cast<double>());
    if (clamp) weighted = weighted.cwiseMax(0.0);
    bar += weighted;
  }
  bar /= attention.heads();
  return bar;
}

}  // namespace attnflow::detail
