// Internal to attnflow::torch: the inference implementation of the character GPT (seed 004,
// attnflow/torch/char_gpt.hpp) and the windowed loss shared by training and a reloaded model.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "network.hpp"

namespace attnflow::torch::detail {

/// AttnflowCharGPT from its saved tensors (the torch::nn names of char_gpt_train.cpp): the
/// post-LN encoder of encoder.hpp with causal attention, each layer's per-head key / query /
/// value matrices stacked into one projection with a zero bias, no embedding LayerNorm, and
/// lm_head on the last hidden state.
std::unique_ptr<Network> make_char_gpt(const hf::ModelConfig& config, TensorSource& weights);

/// Mean next-token cross-entropy over `ids` cut into consecutive windows of `window` tokens;
/// `logits` maps ids [B, window] to logits [B, window, V]. Throws Error for fewer than
/// window + 1 ids.
double windowed_loss(const std::vector<std::int64_t>& ids, std::int64_t window, int batch_size,
                     const std::function<::torch::Tensor(const ::torch::Tensor&)>& logits);

}  // namespace attnflow::torch::detail
