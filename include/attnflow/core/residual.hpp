// Discarding weak attention and residual augmentation, the two steps between
// head fusion and rollout/flow (METHODS.md). Order: fuse -> discard -> residual.
#pragma once

#include <string>

#include "attnflow/core/fusion.hpp"
#include "attnflow/core/types.hpp"
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow {

enum class DiscardScope {
  Global,  ///< smallest fraction over the whole n x n matrix (vit-explain)
  PerRow,  ///< smallest fraction of each row separately
};

inline constexpr EnumName<DiscardScope> kDiscardScopeNames[] = {
    {DiscardScope::Global, "global"},
    {DiscardScope::PerRow, "row"},
};
/// Throws Error("discard scope: unknown 'NAME' (expected global or row)").
DiscardScope parse_discard_scope(const std::string& name);
const char* to_string(DiscardScope scope);

struct DiscardOptions {
  /// Fraction in [0, 1) of entries set to zero; 0 = off (default).
  double ratio = 0.0;
  DiscardScope scope = DiscardScope::Global;
  /// Never zero the CLS->CLS entry (row 0, column 0), as vit-explain does.
  bool keep_cls = true;
};

/// Zeros the floor(ratio * count) smallest entries (ties broken by position,
/// first in row-major order first). Global: count = n*n, and the CLS->CLS
/// entry is skipped when chosen (so one fewer may be zeroed, like the
/// reference). PerRow: count = n for every row; CLS->CLS is kept in row 0.
void discard_smallest(Matrix& fused, const DiscardOptions& options);

struct ResidualOptions {
  /// Add the identity for the skip connection (default on).
  bool enabled = true;
  /// A_hat = (1 - alpha) * A + alpha * I. The paper uses alpha = 0.5.
  double alpha = 0.5;
  /// Divide each row by its sum afterwards (the reference code does; a row
  /// summing to 0 is left as it is).
  bool renormalize = true;
};

/// Returns the residual-augmented matrix; `fused` must be square.
Matrix add_residual(const Matrix& fused, const ResidualOptions& options = {});

/// Everything between the attention stack and the graph: fusion, discard,
/// residual. These are the matrices A_hat^(l) that rollout and flow use.
struct PrepareOptions {
  FusionOptions fusion;
  DiscardOptions discard;
  ResidualOptions residual;
};

/// Validates `stack` (finite, non-negative) then returns A_hat per layer.
LayerMatrices prepare_layers(const AttentionStack& stack, const PrepareOptions& options = {});

/// The discard and residual steps only, on already fused matrices
/// (options.fusion is not used).
LayerMatrices prepare_fused(LayerMatrices fused, const PrepareOptions& options = {});

}  // namespace attnflow
