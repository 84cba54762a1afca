// Gradient-weighted rollout (Chefer ICCV'21; vit-explain order as option).
#include "attnflow/core/grad_rollout.hpp"

#include "attnflow/core/error.hpp"
#include "attnflow/core/types.hpp"
#include "gradient_heads.hpp"

namespace attnflow {

namespace {

/// M^(l) from the layer's head mean (reduced as gradient_head_mean says).
Matrix layer_matrix(Matrix bar, const GradRolloutOptions& options) {
  if (options.rule == GradRolloutRule::VitExplain) {
    bar = bar.cwiseMax(0.0);  // mean, then clamp
    discard_smallest(bar, options.discard);
    return add_residual(bar, ResidualOptions{});
  }
  bar.diagonal().array() += 1.0;  // M = I + A_bar, so R <- M R = R + A_bar R
  if (options.renormalize) normalize_rows(bar);
  return bar;
}

}  // namespace

GradientHeadMean gradient_head_mean(const GradRolloutOptions& options) {
  const bool vit = options.rule == GradRolloutRule::VitExplain;
  if (vit && options.signed_relevance) {
    throw Error("gradient rollout: signed relevance is defined for the chefer rule only");
  }
  return vit || options.signed_relevance ? GradientHeadMean::Signed : GradientHeadMean::Clamped;
}

LayerMatrices grad_rollout_layers(const AttentionStack& attention, const AttentionStack& gradient,
                                  const GradRolloutOptions& options) {
  validate(attention, AttentionCheck::weights("attention"));
  require_same_shape(attention, gradient, "attention", "gradient");
  validate(gradient, AttentionCheck::any_sign("gradient"));
  const bool clamp = gradient_head_mean(options) == GradientHeadMean::Clamped;
  LayerMatrices out;
  out.reserve(static_cast<std::size_t>(attention.layers()));
  for (int l = 0; l < attention.layers(); ++l) {
    out.push_back(
        layer_matrix(detail::gradient_weighted_mean(attention, gradient, l, clamp), options));
  }
  return out;
}

LayerMatrices grad_rollout_layers(LayerMatrices head_means, const GradRolloutOptions& options) {
  const bool clamped = gradient_head_mean(options) == GradientHeadMean::Clamped;
  validate(head_means, "gradient-weighted head means", clamped);
  for (Matrix& m : head_means) m = layer_matrix(std::move(m), options);
  return head_means;
}

LayerMaps grad_rollout(const AttentionStack& attention, const AttentionStack& gradient,
                       const GradRolloutOptions& options) {
  return rollout(grad_rollout_layers(attention, gradient, options), options.rollout);
}

LayerMaps grad_rollout(LayerMatrices head_means, const GradRolloutOptions& options) {
  return rollout(grad_rollout_layers(std::move(head_means), options), options.rollout);
}

GradRolloutRule parse_grad_rollout_rule(const std::string& name) {
  return parse_enum(kGradRolloutRuleNames, name, "grad-rollout rule");
}

const char* to_string(GradRolloutRule rule) {
  return enum_name(kGradRolloutRuleNames, rule);
}

}  // namespace attnflow
