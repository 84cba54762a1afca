#include "weights.hpp"

#include <utility>

#include "attnflow/core/error.hpp"

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

}  // namespace

Weights::Weights(const std::string& path, std::vector<std::string> prefixes, ::torch::Device device,
                 ::torch::ScalarType dtype)
    : file_(path), prefixes_(std::move(prefixes)), device_(device), dtype_(dtype) {}

const hf::TensorInfo* Weights::find(const std::string& name) const {
  if (const hf::TensorInfo* t = file_.find(name, prefixes_)) return t;
  const std::string alias = tf_alias(name);
  if (!alias.empty()) return file_.find(alias, prefixes_);
  return nullptr;
}

bool Weights::has(const std::string& name) const {
  return find(name) != nullptr;
}

::torch::Tensor Weights::get(const std::string& name, const std::vector<std::int64_t>& shape,
                             const std::string& why) {
  const hf::TensorInfo* t = find(name);
  if (t == nullptr) file_.at(name, prefixes_);  // throws the "no tensor" message
  if (t->shape != shape) {
    throw Error(file_.path() + ": tensor '" + t->name + "' has shape " + shape_string(t->shape) +
                ", expected " + shape_string(shape) + " (" + why + ")");
  }
  used_.insert(t->name);
  auto values = file_.to_float32(*t);  // throws naming the tensor for non-float dtypes
  ::torch::Tensor cpu =
      ::torch::from_blob(values.data(), shape, ::torch::TensorOptions().dtype(::torch::kFloat32))
          .clone();
  return cpu.to(device_, dtype_);
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
  for (const hf::TensorInfo& t : file_.tensors()) {
    if (used_.count(t.name) == 0) out.push_back(t.name);
  }
  return out;
}

}  // namespace attnflow::torch::detail
