// Internal to attnflow::torch: a Model around a network built in this library (e.g. one just
// trained, its parameters still in memory), for comparing it with what the loader reads back.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "attnflow/torch/model.hpp"
#include "network.hpp"

namespace attnflow::torch::detail {

/// A Model that runs `net` on `device` as Model::load's models do; `info` says what it is
/// (layers, heads, head kind, num_labels, vocab_size, max_positions, uses_type_ids).
std::unique_ptr<Model> wrap_network(ModelInfo info, std::unique_ptr<Network> net,
                                    const ::torch::Device& device);

/// The weights of the model directory `dir`: model.safetensors, or a sharded checkpoint's
/// model.safetensors.index.json. Throws Error when neither exists (naming pytorch_model.bin
/// when only that is there).
std::string weights_path(const std::string& dir);

}  // namespace attnflow::torch::detail
