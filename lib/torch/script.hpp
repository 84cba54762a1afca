// Internal to attnflow::torch: loading TorchScript modules.
#pragma once

#include <memory>
#include <string>

#include "network.hpp"

namespace attnflow::torch::detail {

/// Loads a module saved with torch.jit.save onto `device`. Throws Error naming the file.
std::unique_ptr<Network> load_script(const std::string& path, const ::torch::Device& device);

}  // namespace attnflow::torch::detail
