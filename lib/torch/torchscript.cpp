// TorchScript modules under attnflow's contract (docs/extract.md):
//   forward(input_ids: long[B, n], attention_mask: long[B, n]) -> (logits, attentions)
// with attentions a list or tuple of L tensors [B, H, n, n] that are the very tensors the
// model goes on computing with (so gradients with respect to them are meaningful).
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>

#include <memory>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "network.hpp"
#include "script.hpp"
#include "weights.hpp"

namespace attnflow::torch::detail {

namespace {

class Script final : public Network {
 public:
  Script(std::string path, ::torch::jit::script::Module module)
      : path_(std::move(path)), module_(std::move(module)) {}

  ForwardResult forward(const BatchTensors& batch, bool /*track_inputs*/) override {
    std::vector<::torch::jit::IValue> inputs{batch.ids, batch.mask};
    ::torch::jit::IValue out;
    // The profiling graph executor re-optimises the module after its first calls, and the
    // optimised graph no longer hands out the attention tensors that the gradient flows
    // through (dy/dA came out wrong or undefined from the second call on, torch 1.13).
    // Running unoptimised keeps every returned map in the autograd graph.
    ::torch::jit::GraphOptimizerEnabledGuard unoptimised(false);
    try {
      out = module_.forward(inputs);
    } catch (const std::exception& e) {
      throw Error(path_ + ": forward(input_ids, attention_mask) failed: " + first_line(e.what()));
    }
    return parse(out, batch);
  }

 private:
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

  ForwardResult parse(const ::torch::jit::IValue& out, const BatchTensors& batch) const {
    const std::string contract =
        " (the contract: forward(input_ids, attention_mask) returns (logits, attentions), "
        "attentions a list of [B, H, n, n] tensors, one per layer)";
    if (!out.isTuple() || out.toTuple()->elements().size() != 2) {
      throw Error(path_ + ": forward did not return a pair" + contract);
    }
    const auto& items = out.toTuple()->elements();
    ForwardResult r;
    if (!items[0].isTensor()) throw Error(path_ + ": logits are not a tensor" + contract);
    r.logits = items[0].toTensor();
    std::vector<::torch::Tensor> maps;
    if (items[1].isTensorList()) {
      for (const ::torch::Tensor& t : items[1].toTensorVector()) maps.push_back(t);
    } else if (items[1].isTuple()) {
      for (const auto& v : items[1].toTuple()->elements()) {
        if (!v.isTensor()) throw Error(path_ + ": an attention map is not a tensor" + contract);
        maps.push_back(v.toTensor());
      }
    } else if (items[1].isList()) {
      for (const auto& v : items[1].toListRef()) {
        if (!v.isTensor()) throw Error(path_ + ": an attention map is not a tensor" + contract);
        maps.push_back(v.toTensor());
      }
    } else {
      throw Error(path_ + ": attentions are not a list or tuple of tensors" + contract);
    }
    if (maps.empty()) throw Error(path_ + ": forward returned no attention maps" + contract);
    const std::int64_t B = batch.ids.size(0), N = batch.ids.size(1);
    for (std::size_t l = 0; l < maps.size(); ++l) {
      const auto s = maps[l].sizes();
      if (s.size() != 4 || s[0] != B || s[2] != N || s[3] != N || s[1] != maps[0].size(1)) {
        throw Error(path_ + ": attention map " + std::to_string(l) + " has shape " +
                    shape_string(std::vector<std::int64_t>(s.begin(), s.end())) + ", expected [" +
                    std::to_string(B) + ", H, " + std::to_string(N) + ", " + std::to_string(N) +
                    "]" + contract);
      }
    }
    const auto ls = r.logits.sizes();
    if (!(ls.size() == 2 && ls[0] == B) && !(ls.size() == 3 && ls[0] == B && ls[1] == N)) {
      throw Error(path_ + ": logits have shape " +
                  shape_string(std::vector<std::int64_t>(ls.begin(), ls.end())) +
                  ", expected [B, classes] or [B, n, vocabulary]");
    }
    r.attentions = std::move(maps);
    return r;
  }

  std::string path_;
  ::torch::jit::script::Module module_;
};

}  // namespace

std::unique_ptr<Network> load_script(const std::string& path, const ::torch::Device& device) {
  ::torch::jit::script::Module module;
  try {
    module = ::torch::jit::load(path, device);
  } catch (const std::exception& e) {
    const std::string what = e.what();
    throw Error(path + ": not a TorchScript module (" + what.substr(0, what.find('\n')) + ")");
  }
  module.eval();
  return std::make_unique<Script>(path, std::move(module));
}

}  // namespace attnflow::torch::detail
