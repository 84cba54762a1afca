// Internal to attnflow::torch: the value-aware per-layer contribution matrices (norm, GlobEnc,
// ALTI, value zeroing) of one forward pass of a native model. Definitions: docs/methods.md.
#pragma once

#include <map>
#include <vector>

#include "attnflow/torch/model.hpp"
#include "network.hpp"

namespace attnflow::torch::detail {

/// For every example b of the batch (lengths [B] on the CPU): method -> [L, n_b, n_b] float32,
/// row = output token i, column = input token j. `forward` is what `net.forward` returned for
/// the batch. Each example is computed on its own n_b real tokens only (padding cannot leak);
/// the decompositions run in float64, value zeroing re-runs each layer in the model's dtype,
/// batched over (example, zeroed token) pairs.
std::vector<std::map<Contribution, std::vector<float>>> compute_contributions(
    const Network& net, const ForwardResult& forward, const ::torch::Tensor& lengths,
    const std::vector<Contribution>& methods, const ContributionOptions& options);

}  // namespace attnflow::torch::detail
