// CLI-level analysis settings -> core AnalysisOptions.
#include "attnflow/pipeline/analysis_settings.hpp"

#include <algorithm>
#include <cctype>

#include "attnflow/core/util/enum_names.hpp"

namespace attnflow::pipeline {

PrepareOptions prepare_options(const AnalysisSettings& s) {
  PrepareOptions p;
  p.fusion.method = parse_head_fusion(s.fusion);
  p.fusion.head_weights = s.head_weights;
  p.residual.enabled = !s.no_residual;
  p.residual.alpha = s.alpha;
  p.residual.renormalize = !s.no_renormalize;
  p.discard.ratio = s.discard;
  p.discard.scope = parse_enum(kDiscardScopeNames, s.discard_scope, "--discard-scope");
  return p;
}

AnalysisOptions analysis_options(const AnalysisSettings& s) {
  AnalysisOptions o;
  o.methods.clear();
  for (const auto& m : s.methods) o.methods.push_back(parse_method(m));
  o.target_rows = s.all_rows ? std::vector<int>{} : s.target_rows;
  o.layers = s.layers;
  o.start_layer = s.start_layer;
  o.prepare = prepare_options(s);
  o.flow.normalize = !s.no_flow_normalize;
  o.flow.algorithm = parse_flow_algorithm(s.flow_algorithm);
  o.flow.threads = s.threads;
  o.grad.rule = parse_enum(kGradRolloutRuleNames, s.grad_rule, "--grad-rule");
  o.grad.signed_relevance = s.grad_signed;
  return o;
}

bool wants_gradient(const AnalysisSettings& s) {
  return std::find(s.methods.begin(), s.methods.end(), "grad-rollout") != s.methods.end();
}

bool is_corpus_path(const std::string& path) {
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == "h5" || ext == "hdf5";
}

}  // namespace attnflow::pipeline
