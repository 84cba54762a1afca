// Internal to attnflow::torch: tensors of a model.safetensors file (or of the shards of a
// model.safetensors.index.json) by their Hugging Face names, checked against the shapes the
// config implies, converted to the compute dtype (float32, float64, bfloat16, float16) on a
// device one tensor at a time.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "attnflow/hf/safetensors.hpp"

namespace attnflow::torch::detail {

/// Where a network's tensors come from: a weights file, or fresh parameters for training.
class TensorSource {
 public:
  virtual ~TensorSource() = default;
  /// The tensor `name` with `shape` (in the compute dtype, on the device); `why` explains the
  /// shape in error messages.
  virtual ::torch::Tensor get(const std::string& name, const std::vector<std::int64_t>& shape,
                              const std::string& why) = 0;
  /// True when the source has `name` (optional tensors such as an untied lm_head).
  virtual bool has(const std::string& name) const = 0;
};

class Weights final : public TensorSource {
 public:
  /// `path` is a .safetensors file or a sharded checkpoint's model.safetensors.index.json (every
  /// shard opened and checked against the weight map, hf::open_safetensors_shards). `prefixes`
  /// are tried as in hf::SafetensorsFile::find ("bert.", "transformer.").
  /// `dtype`: kFloat32, kFloat64 (LoadOptions::float64), kBFloat16 or kHalf (LoadOptions::dtype).
  Weights(const std::string& path, std::vector<std::string> prefixes, ::torch::Device device,
          ::torch::ScalarType dtype = ::torch::kFloat32);

  /// The tensor `name` in the dtype on the device (a tensor stored in that dtype: its bytes as
  /// they are; any other: through float32, one tensor at a time). Old TensorFlow-converted names
  /// are accepted for LayerNorm ("LayerNorm.gamma"/"LayerNorm.beta"). Throws Error "<file>: no
  /// tensor '<name>' ..." or "<file>: tensor '<name>' has shape [..], expected [..] (<why>)".
  ::torch::Tensor get(const std::string& name, const std::vector<std::int64_t>& shape,
                      const std::string& why) override;
  /// True when `name` (or its alias) exists.
  bool has(const std::string& name) const override;
  const std::string& path() const { return path_; }
  /// Names of the file's tensors that no get() asked for (e.g. a head the model does not use).
  std::vector<std::string> unused() const;

 private:
  struct Found {
    const hf::SafetensorsFile* file = nullptr;
    const hf::TensorInfo* tensor = nullptr;
  };
  Found find(const std::string& name) const;
  std::string path_;
  std::vector<hf::SafetensorsFile> files_;  ///< one file, or the shards
  std::vector<std::string> prefixes_;
  ::torch::Device device_;
  ::torch::ScalarType dtype_;
  std::set<std::string> used_;
};

/// Fresh trainable parameters (requires_grad) in GPT-2's initialisation: weights ~ N(0, std),
/// biases 0, LayerNorm weights 1; remembered in creation order under their names.
class InitTensors final : public TensorSource {
 public:
  InitTensors(double std, ::torch::Device device) : std_(std), device_(device) {}
  ::torch::Tensor get(const std::string& name, const std::vector<std::int64_t>& shape,
                      const std::string& why) override;
  bool has(const std::string&) const override { return false; }
  const std::vector<std::pair<std::string, ::torch::Tensor>>& tensors() const { return tensors_; }

 private:
  double std_;
  ::torch::Device device_;
  std::vector<std::pair<std::string, ::torch::Tensor>> tensors_;
};

std::string shape_string(const std::vector<std::int64_t>& shape);

/// Writes `tensors` (any float dtype and device) to the safetensors file `path` as float32 or
/// float16 (`half`), each under `prefix` + its name unless the name starts with one of
/// `unprefixed`.
void write_float_tensors(const std::string& path,
                         const std::vector<std::pair<std::string, ::torch::Tensor>>& tensors,
                         bool half, const std::string& prefix = "",
                         const std::vector<std::string>& unprefixed = {});

}  // namespace attnflow::torch::detail
