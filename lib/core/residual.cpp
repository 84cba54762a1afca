// Discard of weak attention, residual augmentation and the prepare pipeline.
#include "attnflow/core/residual.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "attnflow/core/error.hpp"

namespace attnflow {
namespace {

void check_ratio(double ratio) {
  if (!(ratio >= 0.0 && ratio < 1.0)) {
    throw Error("discard ratio: " + std::to_string(ratio) + " outside [0, 1)");
  }
}

// Zeroes the `count` smallest of values[idx[...]] (stable by position),
// skipping the flat position `protect` (-1 for none).
void zero_smallest(double* values, Eigen::Index size, Eigen::Index count, Eigen::Index protect) {
  if (count <= 0) return;
  std::vector<Eigen::Index> idx(static_cast<std::size_t>(size));
  std::iota(idx.begin(), idx.end(), Eigen::Index{0});
  std::stable_sort(idx.begin(), idx.end(),
                   [values](Eigen::Index a, Eigen::Index b) { return values[a] < values[b]; });
  for (Eigen::Index k = 0; k < count; ++k) {
    if (idx[static_cast<std::size_t>(k)] != protect) values[idx[static_cast<std::size_t>(k)]] = 0.0;
  }
}

}  // namespace

void discard_smallest(Matrix& fused, const DiscardOptions& options) {
  check_ratio(options.ratio);
  if (options.ratio == 0.0) return;
  const Eigen::Index n = fused.rows();
  if (options.scope == DiscardScope::Global) {
    const auto count = static_cast<Eigen::Index>(std::floor(options.ratio * double(n * n)));
    zero_smallest(fused.data(), n * n, count, options.keep_cls ? 0 : -1);
  } else {
    const auto count = static_cast<Eigen::Index>(std::floor(options.ratio * double(n)));
    for (Eigen::Index i = 0; i < n; ++i) {
      zero_smallest(fused.data() + i * n, n, count, (options.keep_cls && i == 0) ? 0 : -1);
    }
  }
}

Matrix add_residual(const Matrix& fused, const ResidualOptions& options) {
  if (fused.rows() != fused.cols()) {
    throw Error("residual: matrix is " + std::to_string(fused.rows()) + " x " +
                std::to_string(fused.cols()) + ", not square");
  }
  if (!(options.alpha >= 0.0 && options.alpha <= 1.0)) {
    throw Error("residual weight alpha: " + std::to_string(options.alpha) + " outside [0, 1]");
  }
  Matrix out = fused;
  if (options.enabled) {
    out *= 1.0 - options.alpha;
    out.diagonal().array() += options.alpha;
  }
  if (options.renormalize) normalize_rows(out);
  return out;
}

LayerMatrices prepare_layers(const AttentionStack& stack, const PrepareOptions& options) {
  validate(stack, AttentionCheck::weights("attention"));
  check_ratio(options.discard.ratio);
  return prepare_fused(fuse_heads(stack, options.fusion), options);
}

LayerMatrices prepare_fused(LayerMatrices fused, const PrepareOptions& options) {
  for (Matrix& m : fused) {
    discard_smallest(m, options.discard);
    m = add_residual(m, options.residual);
  }
  return fused;
}

DiscardScope parse_discard_scope(const std::string& name) {
  return parse_enum(kDiscardScopeNames, name, "discard scope");
}

const char* to_string(DiscardScope scope) {
  return enum_name(kDiscardScopeNames, scope);
}

}  // namespace attnflow
