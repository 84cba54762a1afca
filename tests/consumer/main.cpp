// Links attnflow::core and attnflow::pipeline from an install tree: one rollout value, and the
// CLI's analysis settings turned into core options by the pipeline layer.
#include <attnflow/core.hpp>
#include <attnflow/pipeline/analysis_settings.hpp>
#include <cmath>
#include <iostream>

int main() {
  attnflow::AttentionStack stack(2, 1, 2);
  // layer 1: [[1, 0], [0.5, 0.5]]; layer 2: [[0, 1], [0, 1]]
  const float v[] = {1, 0, 0.5f, 0.5f, 0, 1, 0, 1};
  std::copy(v, v + 8, stack.data().begin());
  const auto layers = attnflow::prepare_layers(stack);
  const auto r = attnflow::rollout(layers);
  // A1 = [[1,0],[.25,.75]], A2 = [[.5,.5],[0,1]]: (A2 A1)[0,0] = 0.625
  const double got = r.maps.back()(0, 0);
  std::cout << "attnflow " << ATTNFLOW_VERSION_STRING << " rollout[0,0] = " << got << "\n";

  attnflow::pipeline::AnalysisSettings settings;
  settings.methods = {"rollout", "flow"};
  settings.alpha = 0.25;
  const attnflow::AnalysisOptions o = attnflow::pipeline::analysis_options(settings);
  const attnflow::AnalysisResult a = attnflow::analyze(stack, nullptr, o);
  std::cout << "pipeline settings: " << o.methods.size() << " methods, alpha "
            << o.prepare.residual.alpha << ", " << a.maps.size() << " results\n";
  const bool ok = std::abs(got - 0.625) < 1e-12 && o.methods.size() == 2 &&
                  o.prepare.residual.alpha == 0.25 && a.maps.size() == 2;
  return ok ? 0 : 1;
}
