// Internal to attnflow::torch: the dtype a native model keeps its weights in and computes in
// (LoadOptions::float64 / LoadOptions::dtype, docs/extract.md "Compute dtype"), and the float32
// upcast of the reduced dtypes where Hugging Face computes in float32 (softmax, norm statistics).
#pragma once

#include <torch/torch.h>

#include <string>

#include "attnflow/torch/model.hpp"

namespace attnflow::hf {
struct ModelConfig;
}

namespace attnflow::torch::detail {

/// The compute dtype of the native model `config` (read from `config_path`) on `device`:
/// float64 with options.float64, else options.dtype (Auto: the config's torch_dtype bfloat16 /
/// float16 on CUDA for the Llama family, float32 otherwise). `reduced_ok`: the family computes
/// in bfloat16 / float16 (the Llama family). Throws Error for float16 on the CPU, a reduced
/// dtype for another family or together with float64.
::torch::ScalarType resolve_dtype(const LoadOptions& options, const ::torch::Device& device,
                                  const hf::ModelConfig& config, const std::string& config_path,
                                  bool reduced_ok);

/// Throws Error when options.dtype asks a TorchScript module `path` for a reduced dtype (it
/// runs in the dtype it was saved in).
void check_script_dtype(const LoadOptions& options, const std::string& path);

/// "float32", "float64", "bfloat16", "float16" (ModelInfo::dtype); other dtypes: libtorch's name.
std::string dtype_name(::torch::ScalarType dtype);

/// True for bfloat16 and float16.
inline bool is_reduced(::torch::ScalarType dtype) {
  return dtype == ::torch::kBFloat16 || dtype == ::torch::kHalf;
}

/// `x` in float32 when it is bfloat16 / float16 (softmax, RMSNorm statistics, as Hugging Face
/// upcasts them); `x` itself otherwise (float32, float64: nothing changes).
inline ::torch::Tensor upcast(const ::torch::Tensor& x) {
  return is_reduced(x.scalar_type()) ? x.to(::torch::kFloat32) : x;
}

}  // namespace attnflow::torch::detail
