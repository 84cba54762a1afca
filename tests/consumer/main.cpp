// Links attnflow::core from an install tree and checks one rollout value.
#include <attnflow/core.hpp>
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
  return std::abs(got - 0.625) < 1e-12 ? 0 : 1;
}
