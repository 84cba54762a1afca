// Registration of the shared analysis options (analysis_flags.hpp).
#include "analysis_flags.hpp"

namespace attnflow::app {

void add_analysis_flags(CLI::App& cmd, pipeline::AnalysisSettings& s) {
  cmd.add_option("-m,--methods", s.methods,
                 "raw, residual, rollout, flow, grad-rollout; value-aware (stored by extract "
                 "--contributions): norm, norm-rollout, norm-flow, globenc, globenc-flow, alti, "
                 "alti-rollout, alti-flow, value-zeroing, value-zeroing-rollout, "
                 "value-zeroing-flow")
      ->delimiter(',')
      ->capture_default_str();
  cmd.add_option("--fusion", s.fusion, "Head fusion: mean, max, min, weighted")
      ->capture_default_str();
  cmd.add_option("--head-weights", s.head_weights,
                 "Weights for --fusion weighted: one per head, or per layer and head")
      ->delimiter(',');
  cmd.add_option("--alpha", s.alpha, "Residual weight: A_hat = (1-alpha) A + alpha I")
      ->capture_default_str();
  cmd.add_flag("--no-residual", s.no_residual, "Do not add the identity");
  cmd.add_flag("--no-renormalize", s.no_renormalize, "Do not renormalise rows after the residual");
  cmd.add_option("--discard", s.discard, "Fraction of smallest fused weights set to 0")
      ->capture_default_str();
  cmd.add_option("--discard-scope", s.discard_scope, "global or row")->capture_default_str();
  cmd.add_flag("--no-flow-normalize", s.no_flow_normalize,
               "Report raw max-flow values instead of row-normalised ones");
  cmd.add_option("--flow-algorithm", s.flow_algorithm, "layered, bk, push-relabel or edmonds-karp")
      ->capture_default_str();
  cmd.add_option("--grad-rule", s.grad_rule, "chefer or vit-explain")->capture_default_str();
  cmd.add_flag("--grad-signed", s.grad_signed, "Keep negative relevance (chefer rule)");
}

}  // namespace attnflow::app
