// Gradient-weighted rollout (Chefer ICCV'21; vit-explain order as option).
#include "attnflow/core/grad_rollout.hpp"

#include "attnflow/core/error.hpp"
#include "attnflow/core/types.hpp"
#include "gradient_heads.hpp"

namespace attnflow {

LayerMatrices grad_rollout_layers(const AttentionStack& attention, const AttentionStack& gradient,
                                  const GradRolloutOptions& options) {
  validate(attention, AttentionCheck::weights("attention"));
  require_same_shape(attention, gradient, "attention", "gradient");
  validate(gradient, AttentionCheck::any_sign("gradient"));
  const bool vit = options.rule == GradRolloutRule::VitExplain;
  if (vit && options.signed_relevance) {
    throw Error("gradient rollout: signed relevance is defined for the chefer rule only");
  }
  LayerMatrices out;
  out.reserve(static_cast<std::size_t>(attention.layers()));
  for (int l = 0; l < attention.layers(); ++l) {
    // chefer: clamp, then mean; vit-explain: mean, then clamp (below)
    Matrix bar =
        detail::gradient_weighted_mean(attention, gradient, l, !vit && !options.signed_relevance);
    if (vit) {
      bar = bar.cwiseMax(0.0);  // mean, then clamp
      discard_smallest(bar, options.discard);
      out.push_back(add_residual(bar, ResidualOptions{}));
    } else {
      bar.diagonal().array() += 1.0;  // M = I + A_bar, so R <- M R = R + A_bar R
      if (options.renormalize) normalize_rows(bar);
      out.push_back(std::move(bar));
    }
  }
  return out;
}

LayerMaps grad_rollout(const AttentionStack& attention, const AttentionStack& gradient,
                       const GradRolloutOptions& options) {
  return rollout(grad_rollout_layers(attention, gradient, options), options.rollout);
}

GradRolloutRule parse_grad_rollout_rule(const std::string& name) {
  return parse_enum(kGradRolloutRuleNames, name, "grad-rollout rule");
}

const char* to_string(GradRolloutRule rule) {
  return enum_name(kGradRolloutRuleNames, rule);
}

}  // namespace attnflow
