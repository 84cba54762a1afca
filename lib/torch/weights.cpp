#include "weights.hpp"

#include <utility>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/safetensors_writer.hpp"

namespace attnflow::torch::detail {

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

namespace {

// "....LayerNorm.weight" -> "....LayerNorm.gamma" (TensorFlow-converted checkpoints).
std::string tf_alias(const std::string& name) {
  const auto replace_suffix = [&](const std::string& from, const std::string& to) {
    if (name.size() >= from.size() &&
        name.compare(name.size() - from.size(), from.size(), from) == 0)
      return name.substr(0, name.size() - from.size()) + to;
    return std::string();
  };
  std::string a = replace_suffix("LayerNorm.weight", "LayerNorm.gamma");
  if (a.empty()) a = replace_suffix("LayerNorm.bias", "LayerNorm.beta");
  return a;
}

bool is_index(const std::string& path) {
  const std::string suffix = ".index.json";
  return path.size() >= suffix.size() &&
         path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Weights::Weights(const std::string& path, std::vector<std::string> prefixes, ::torch::Device device,
                 ::torch::ScalarType dtype)
    : path_(path), prefixes_(std::move(prefixes)), device_(device), dtype_(dtype) {
  if (is_index(path)) {
    files_ = hf::open_safetensors_shards(hf::read_safetensors_index(path));
  } else {
    files_.emplace_back(path);
  }
}

Weights::Found Weights::find(const std::string& name) const {
  const std::string alias = tf_alias(name);
  for (const std::string& n : {name, alias}) {
    if (n.empty()) continue;
    for (const hf::SafetensorsFile& f : files_) {
      if (const hf::TensorInfo* t = f.find(n, prefixes_)) return {&f, t};
    }
  }
  return {};
}

bool Weights::has(const std::string& name) const {
  return find(name).tensor != nullptr;
}

::torch::Tensor Weights::get(const std::string& name, const std::vector<std::int64_t>& shape,
                             const std::string& why) {
  const Found found = find(name);
  if (found.tensor == nullptr) {
    if (files_.size() == 1) files_.front().at(name, prefixes_);  // the "no tensor" message
    std::string tried;
    for (const std::string& p : prefixes_) tried += ", '" + p + name + "'";
    throw Error(path_ + ": no tensor '" + name + "' in any of its " +
                std::to_string(files_.size()) + " shards" +
                (tried.empty() ? "" : " (also tried" + tried.substr(1) + ")"));
  }
  const hf::TensorInfo* t = found.tensor;
  if (t->shape != shape) {
    throw Error(found.file->path() + ": tensor '" + t->name + "' has shape " +
                shape_string(t->shape) + ", expected " + shape_string(shape) + " (" + why + ")");
  }
  used_.insert(t->name);
  const bool same = (t->dtype == hf::Dtype::BF16 && dtype_ == ::torch::kBFloat16) ||
                    (t->dtype == hf::Dtype::F16 && dtype_ == ::torch::kHalf);
  if (same) {
    // stored as computed (bfloat16 / float16): the file's bytes, straight to the device
    const hf::ByteView bytes = found.file->bytes(*t);
    const ::torch::Tensor view = ::torch::from_blob(const_cast<std::uint8_t*>(bytes.data), shape,
                                                    ::torch::TensorOptions().dtype(dtype_));
    return device_.is_cpu() ? view.clone() : view.to(device_);
  }
  // one tensor at a time through float32 (never the whole model)
  auto values = found.file->to_float32(*t);  // throws naming the tensor for non-float dtypes
  const ::torch::Tensor cpu =
      ::torch::from_blob(values.data(), shape, ::torch::TensorOptions().dtype(::torch::kFloat32));
  return device_.is_cpu() && dtype_ == ::torch::kFloat32 ? cpu.clone() : cpu.to(device_, dtype_);
}

::torch::Tensor InitTensors::get(const std::string& name, const std::vector<std::int64_t>& shape,
                                 const std::string& /*why*/) {
  const bool norm =
      name.find("ln_") != std::string::npos || name.find("LayerNorm") != std::string::npos;
  const bool bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
  ::torch::Tensor t;
  {
    ::torch::NoGradGuard no_grad;
    const auto options = ::torch::TensorOptions().dtype(::torch::kFloat32).device(device_);
    if (bias) {
      t = ::torch::zeros(shape, options);
    } else if (norm) {
      t = ::torch::ones(shape, options);
    } else {
      t = ::torch::randn(shape, options) * std_;
    }
  }
  t.set_requires_grad(true);
  tensors_.emplace_back(name, t);
  return t;
}

std::vector<std::string> Weights::unused() const {
  std::vector<std::string> out;
  for (const hf::SafetensorsFile& f : files_) {
    for (const hf::TensorInfo& t : f.tensors()) {
      if (used_.count(t.name) == 0) out.push_back(t.name);
    }
  }
  return out;
}

void write_float_tensors(const std::string& path,
                         const std::vector<std::pair<std::string, ::torch::Tensor>>& tensors,
                         bool half, const std::string& prefix,
                         const std::vector<std::string>& unprefixed) {
  std::vector<hf::TensorData> out;
  for (const auto& [name, tensor] : tensors) {
    const ::torch::Tensor t = tensor.detach().to(::torch::kCPU, ::torch::kFloat32).contiguous();
    std::vector<float> values(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
    bool keep = false;
    for (const std::string& u : unprefixed) keep = keep || name.rfind(u, 0) == 0;
    out.push_back(hf::float_tensor(keep ? name : prefix + name,
                                   {t.sizes().begin(), t.sizes().end()}, values,
                                   half ? hf::Dtype::F16 : hf::Dtype::F32));
  }
  hf::write_safetensors(path, out);
}

}  // namespace attnflow::torch::detail
