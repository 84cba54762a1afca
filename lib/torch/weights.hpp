// Internal to attnflow::torch: tensors of a model.safetensors file by their Hugging Face
// names, checked against the shapes the config implies, converted to float32 on a device.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "attnflow/hf/safetensors.hpp"

namespace attnflow::torch::detail {

class Weights {
 public:
  /// `prefixes` are tried as in hf::SafetensorsFile::find ("bert.", "transformer.").
  Weights(const std::string& path, std::vector<std::string> prefixes, ::torch::Device device);

  /// The tensor `name` as float32 on the device. Old TensorFlow-converted names are accepted
  /// for LayerNorm ("LayerNorm.gamma"/"LayerNorm.beta"). Throws Error "<file>: no tensor
  /// '<name>' ..." or "<file>: tensor '<name>' has shape [..], expected [..] (<why>)".
  ::torch::Tensor get(const std::string& name, const std::vector<std::int64_t>& shape,
                      const std::string& why);
  /// True when `name` (or its alias) exists.
  bool has(const std::string& name) const;
  const std::string& path() const { return file_.path(); }
  /// Names of the file's tensors that no get() asked for (e.g. a head the model does not use).
  std::vector<std::string> unused() const;

 private:
  const hf::TensorInfo* find(const std::string& name) const;
  hf::SafetensorsFile file_;
  std::vector<std::string> prefixes_;
  ::torch::Device device_;
  std::set<std::string> used_;
};

std::string shape_string(const std::vector<std::int64_t>& shape);

}  // namespace attnflow::torch::detail
