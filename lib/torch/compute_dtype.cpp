// LoadOptions::dtype resolved against the device and the model family.
#include "compute_dtype.hpp"

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"

namespace attnflow::torch::detail {

namespace {

std::string requested(ComputeDtype dtype) {
  return "dtype '" + std::string(enum_name(kComputeDtypeNames, dtype)) + "'";
}

}  // namespace

::torch::ScalarType resolve_dtype(const LoadOptions& options, const ::torch::Device& device,
                                  const hf::ModelConfig& config, const std::string& config_path,
                                  bool reduced_ok) {
  ComputeDtype want = options.dtype;
  if (options.float64) {
    if (want == ComputeDtype::BFloat16 || want == ComputeDtype::Float16) {
      throw Error(requested(want) + ": float64 was asked for too (one compute dtype at a time)");
    }
    return ::torch::kFloat64;
  }
  if (want == ComputeDtype::Auto) {
    want = ComputeDtype::Float32;
    if (device.is_cuda() && reduced_ok) {
      if (config.dtype == "bfloat16") want = ComputeDtype::BFloat16;
      if (config.dtype == "float16") want = ComputeDtype::Float16;
    }
  }
  if (want == ComputeDtype::Float32) return ::torch::kFloat32;
  if (!reduced_ok) {
    throw Error(config_path + ": " + requested(want) +
                " is supported for the Llama family only (llama, mistral, qwen2); a " +
                config.model_type + " model computes in float32 (use float32 or auto)");
  }
  if (want == ComputeDtype::Float16 && !device.is_cuda()) {
    throw Error(requested(want) +
                ": needs a CUDA device (libtorch's CPU kernels have no float16 matrix multiply: "
                "\"addmm_impl_cpu_\" not implemented for 'Half'); use bfloat16 or float32 on "
                "the CPU");
  }
  return want == ComputeDtype::BFloat16 ? ::torch::kBFloat16 : ::torch::kHalf;
}

void check_script_dtype(const LoadOptions& options, const std::string& path) {
  if (options.dtype == ComputeDtype::BFloat16 || options.dtype == ComputeDtype::Float16) {
    throw Error(path + ": " + requested(options.dtype) +
                " is not supported for TorchScript modules (they run in the dtype they were "
                "saved in); use float32 or auto");
  }
}

std::string dtype_name(::torch::ScalarType dtype) {
  switch (dtype) {
    case ::torch::kFloat32: return "float32";
    case ::torch::kFloat64: return "float64";
    case ::torch::kBFloat16: return "bfloat16";
    case ::torch::kHalf: return "float16";
    default: return c10::toString(dtype);
  }
}

}  // namespace attnflow::torch::detail
