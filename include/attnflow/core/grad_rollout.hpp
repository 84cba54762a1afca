// Gradient-weighted rollout (Chefer, Gur & Wolf, ICCV 2021): per layer
// A_bar = mean_h (dy/dA_h ⊙ A_h)^+ ; R = I; R <- R + A_bar R for l = s..L.
// The vit-explain order and the signed variant are options.
#pragma once

#include "attnflow/core/residual.hpp"
#include "attnflow/core/rollout.hpp"
#include "attnflow/core/stack.hpp"
#include "attnflow/core/types.hpp"
#include "attnflow/core/util/enum_names.hpp"

namespace attnflow {

enum class GradRolloutRule {
  /// Chefer ICCV'21 (default): clamp (grad ⊙ A) at 0, THEN mean over heads;
  /// per layer M = I + A_bar, R = M^(L) ... M^(s).
  Chefer,
  /// vit-explain: mean over heads of grad ⊙ A, THEN clamp at 0, optional
  /// discard, then M = rownorm((A_bar + I) / 2) (rows divided correctly).
  VitExplain,
};

inline constexpr EnumName<GradRolloutRule> kGradRolloutRuleNames[] = {
    {GradRolloutRule::Chefer, "chefer"},
    {GradRolloutRule::VitExplain, "vit-explain"},
};
/// Throws Error("grad-rollout rule: unknown 'NAME' (expected chefer or vit-explain)").
GradRolloutRule parse_grad_rollout_rule(const std::string& name);
const char* to_string(GradRolloutRule rule);

struct GradRolloutOptions {
  GradRolloutRule rule = GradRolloutRule::Chefer;
  /// Chefer only: keep negative relevance (no clamp at all).
  bool signed_relevance = false;
  /// Chefer only: divide each row of M = I + A_bar by its sum.
  bool renormalize = false;
  /// VitExplain only: discard applied to A_bar before the residual.
  DiscardOptions discard;
  /// Layers, prefixes and target rows as in rollout.
  RolloutOptions rollout;
};

/// The head reduction of dy/dA_h ⊙ A_h a rule's per-layer matrix is made from.
enum class GradientHeadMean {
  Clamped,  ///< mean_h (dy/dA_h ⊙ A_h)^+ (chefer: each head's product clamped first)
  Signed,   ///< mean_h dy/dA_h ⊙ A_h (vit-explain clamps after the mean; signed never does)
};

/// The reduction `options` needs (streaming extraction computes it where the per-head maps
/// are, attnflow extract --store derived). Throws Error for a rule and sign that do not go
/// together (vit-explain with signed relevance).
GradientHeadMean gradient_head_mean(const GradRolloutOptions& options);

/// Per-layer matrices M^(l) the rollout product is taken over.
LayerMatrices grad_rollout_layers(const AttentionStack& attention, const AttentionStack& gradient,
                                  const GradRolloutOptions& options = {});

/// The same from the head means of every layer (head_means[k] = layer k+1, n x n, reduced as
/// gradient_head_mean(options) says): exactly the matrices the stacks give. Throws Error for
/// no layers, shapes that differ, non-finite values, or negative ones of a clamped mean.
LayerMatrices grad_rollout_layers(LayerMatrices head_means, const GradRolloutOptions& options);

/// Gradient-weighted rollout. `gradient` holds dy/dA for the chosen target
/// logit, same shape as `attention`. Zero gradient gives the identity.
LayerMaps grad_rollout(const AttentionStack& attention, const AttentionStack& gradient,
                       const GradRolloutOptions& options = {});

/// Gradient-weighted rollout from the head means of every layer (grad_rollout_layers above).
LayerMaps grad_rollout(LayerMatrices head_means, const GradRolloutOptions& options);

}  // namespace attnflow
