// attnflow::torch::Model: loading (HF directory or TorchScript file) and one batched run with
// padding, targets, gradients with respect to every attention map, and per-example outputs.
#include "attnflow/torch/model.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/torch/char_gpt.hpp"
#include "char_gpt.hpp"
#include "compute_dtype.hpp"
#include "contributions.hpp"
#include "layer_stream.hpp"
#include "model_internal.hpp"
#include "network.hpp"
#include "script.hpp"
#include "weights.hpp"

namespace attnflow::torch {

using ::torch::Tensor;

bool cuda_available() {
  return ::torch::cuda::is_available();
}

std::string_view to_string(ModelFamily family) {
  switch (family) {
    case ModelFamily::Bert: return "bert";
    case ModelFamily::Gpt2: return "gpt2";
    case ModelFamily::Roberta: return "roberta";
    case ModelFamily::DistilBert: return "distilbert";
    case ModelFamily::Llama: return "llama";
    case ModelFamily::Mistral: return "mistral";
    case ModelFamily::Qwen2: return "qwen2";
    case ModelFamily::T5: return "t5";
    case ModelFamily::CharGpt: return "char-gpt";
    case ModelFamily::TorchScript: return "torchscript";
  }
  return "bert";
}

namespace {

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool is_file(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

::torch::Device parse_device(const std::string& text) {
  if (text == "cpu") return ::torch::Device(::torch::kCPU);
  if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
    if (!::torch::cuda::is_available()) {
      throw Error("device '" + text +
                  "': CUDA is not available (libtorch without CUDA, or no GPU visible)");
    }
    int index = 0;
    if (text.size() > 5) {
      const std::string n = text.substr(5);
      if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) {
        throw Error("device '" + text + "': expected cpu, cuda or cuda:N");
      }
      index = std::stoi(n);
      if (index >= static_cast<int>(::torch::cuda::device_count())) {
        throw Error("device '" + text + "': only " + std::to_string(::torch::cuda::device_count()) +
                    " CUDA device(s)");
      }
    }
    return ::torch::Device(::torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw Error("device '" + text + "': expected cpu, cuda or cuda:N");
}

std::string device_name(const ::torch::Device& d) {
  return d.is_cuda() ? "cuda:" + std::to_string(d.index() < 0 ? 0 : d.index()) : "cpu";
}

constexpr const char* kEncoderClassifier = "AttnflowEncoderClassifier";
constexpr const char* kPooledClassifier = "AttnflowPooledClassifier";

class TorchModel final : public Model {
 public:
  TorchModel(ModelInfo info, std::unique_ptr<detail::Network> net, ::torch::Device device)
      : net_(std::move(net)), device_(device) {
    info_ = std::move(info);
  }

  std::vector<Output> run(const std::vector<Input>& batch, const RunOptions& options) override;

  /// For TorchScript: layers, heads, causality and head kind from a probe run.
  void probe();

 private:
  detail::BatchTensors pack(const std::vector<Input>& batch) const;
  /// The decoder inputs of an encoder-decoder model into t.decoder_*.
  void pack_decoder(const std::vector<Input>& batch, detail::BatchTensors& t) const;
  /// The target against the model and every example (check_target, check_target_input).
  void check_target(const std::vector<Input>& batch, const RunOptions& options) const;

  std::unique_ptr<detail::Network> net_;
  ::torch::Device device_;
};

detail::BatchTensors TorchModel::pack(const std::vector<Input>& batch) const {
  if (batch.empty()) throw Error("run: the batch is empty");
  std::int64_t longest = 0;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const Input& in = batch[b];
    const std::string where = "example " + std::to_string(b) + " of the batch";
    const auto n = static_cast<std::int64_t>(in.ids.size());
    if (n == 0) throw Error(where + ": no tokens");
    if (info_.max_positions > 0 && n > info_.max_positions) {
      throw Error(where + ": " + std::to_string(n) + " tokens, more than the model's " +
                  std::to_string(info_.max_positions) + " positions");
    }
    for (std::size_t i = 0; i < in.ids.size(); ++i) {
      if (in.ids[i] < 0 || (info_.vocab_size > 0 && in.ids[i] >= info_.vocab_size)) {
        throw Error(where + ": token " + std::to_string(i) + " has id " +
                    std::to_string(in.ids[i]) + ", outside the vocabulary (" +
                    std::to_string(info_.vocab_size) + " ids)");
      }
    }
    if (!in.type_ids.empty() && in.type_ids.size() != in.ids.size()) {
      throw Error(where + ": " + std::to_string(in.type_ids.size()) + " token types for " +
                  std::to_string(n) + " tokens");
    }
    longest = std::max(longest, n);
  }
  const auto B = static_cast<std::int64_t>(batch.size());
  const auto opts = ::torch::TensorOptions().dtype(::torch::kInt64);
  detail::BatchTensors t;
  t.ids = ::torch::zeros({B, longest}, opts);
  t.type_ids = ::torch::zeros({B, longest}, opts);
  t.mask = ::torch::zeros({B, longest}, opts);
  t.lengths = ::torch::zeros({B}, opts);
  auto ids = t.ids.accessor<std::int64_t, 2>();
  auto types = t.type_ids.accessor<std::int64_t, 2>();
  auto mask = t.mask.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    const Input& in = batch[static_cast<std::size_t>(b)];
    const auto n = static_cast<std::int64_t>(in.ids.size());
    t.lengths[b] = n;
    for (std::int64_t i = 0; i < n; ++i) {
      ids[b][i] = in.ids[static_cast<std::size_t>(i)];
      types[b][i] = in.type_ids.empty() || !info_.uses_type_ids
                        ? 0
                        : in.type_ids[static_cast<std::size_t>(i)];
      mask[b][i] = 1;
    }
  }
  t.ids = t.ids.to(device_);
  t.type_ids = t.type_ids.to(device_);
  t.mask = t.mask.to(device_);
  if (info_.decoder_layers > 0) pack_decoder(batch, t);
  return t;
}

void TorchModel::pack_decoder(const std::vector<Input>& batch, detail::BatchTensors& t) const {
  std::int64_t longest = 0;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    const std::string where = "example " + std::to_string(b) + " of the batch";
    const auto& d = batch[b].decoder_ids;
    if (d.empty()) {
      throw Error(where + ": no decoder input (Input::decoder_ids), but " + info_.path +
                  " is an encoder-decoder " + info_.architecture);
    }
    for (std::size_t i = 0; i < d.size(); ++i) {
      if (d[i] < 0 || d[i] >= info_.vocab_size) {
        throw Error(where + ": decoder token " + std::to_string(i) + " has id " +
                    std::to_string(d[i]) + ", outside the vocabulary (" +
                    std::to_string(info_.vocab_size) + " ids)");
      }
    }
    longest = std::max(longest, static_cast<std::int64_t>(d.size()));
  }
  const auto B = static_cast<std::int64_t>(batch.size());
  const auto opts = ::torch::TensorOptions().dtype(::torch::kInt64);
  t.decoder_ids = ::torch::zeros({B, longest}, opts);
  t.decoder_mask = ::torch::zeros({B, longest}, opts);
  t.decoder_lengths = ::torch::zeros({B}, opts);
  auto ids = t.decoder_ids.accessor<std::int64_t, 2>();
  auto mask = t.decoder_mask.accessor<std::int64_t, 2>();
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& d = batch[static_cast<std::size_t>(b)].decoder_ids;
    t.decoder_lengths[b] = static_cast<std::int64_t>(d.size());
    for (std::size_t i = 0; i < d.size(); ++i) {
      ids[b][static_cast<std::int64_t>(i)] = d[i];
      mask[b][static_cast<std::int64_t>(i)] = 1;
    }
  }
  t.decoder_ids = t.decoder_ids.to(device_);
  t.decoder_mask = t.decoder_mask.to(device_);
}

void TorchModel::check_target(const std::vector<Input>& batch, const RunOptions& options) const {
  const Target& target = options.target;
  attnflow::torch::check_target(target, info_, options.mask_token_id);
  if (target.kind == TargetKind::None) return;
  for (std::size_t b = 0; b < batch.size(); ++b) {
    TargetNames names;
    names.example = "example " + std::to_string(b) + " of the batch";
    check_target_input(target, info_, batch[b], options.mask_token_id, names);
  }
}

// Copies [.., b, .., :rows, :cols] of a [L, B, H, Q, K] CPU float tensor into
// out[L, H, rows, cols].
void copy_maps(const Tensor& all, std::int64_t b, std::int64_t rows, std::int64_t cols,
               std::vector<float>& out) {
  const std::int64_t L = all.size(0), H = all.size(2), Q = all.size(3), K = all.size(4);
  const std::int64_t B = all.size(1);
  out.resize(static_cast<std::size_t>(L * H * rows * cols));
  const float* src = all.data_ptr<float>();
  float* dst = out.data();
  for (std::int64_t l = 0; l < L; ++l)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t i = 0; i < rows; ++i) {
        const float* row = src + (((l * B + b) * H + h) * Q + i) * K;
        std::memcpy(dst, row, static_cast<std::size_t>(cols) * sizeof(float));
        dst += cols;
      }
}

// The maps of every example of a batch: maps L x [B, H, Q, K] cut to rows[b] x cols[b].
void copy_batch_maps(const std::vector<Tensor>& maps, const std::vector<std::int64_t>& rows,
                     const std::vector<std::int64_t>& cols, std::vector<std::vector<float>*> out) {
  const Tensor all =
      ::torch::stack(maps, 0).detach().to(::torch::kCPU, ::torch::kFloat32).contiguous();
  for (std::size_t b = 0; b < out.size(); ++b) {
    copy_maps(all, static_cast<std::int64_t>(b), rows[b], cols[b], *out[b]);
  }
}

std::vector<Output> TorchModel::run(const std::vector<Input>& batch, const RunOptions& options) {
  detail::BatchTensors t = pack(batch);
  t.keep_layers = !options.contributions.empty();
  check_target(batch, options);
  const auto B = static_cast<std::int64_t>(batch.size());
  const std::int64_t N = t.ids.size(1);
  const bool grads = options.target.kind != TargetKind::None &&
                     (options.attention_gradients || options.input_gradients);
  if (grads && options.input_gradients && info_.family == ModelFamily::TorchScript) {
    throw Error(info_.path +
                ": input-embedding gradients are not available for TorchScript "
                "modules (the contract gives only ids in)");
  }
  if (!options.contributions.empty() && !net_->has_layers()) {
    throw Error(info_.path + ": contributions (" + to_string(options.contributions.front()) +
                ") need a native BERT-family, GPT-2 or Llama-family model; " +
                (info_.family == ModelFamily::TorchScript
                     ? std::string("a TorchScript module gives only its attention maps")
                     : info_.architecture + " exposes no per-layer value path"));
  }
  std::unique_ptr<::torch::NoGradGuard> no_grad;
  if (!grads) no_grad = std::make_unique<::torch::NoGradGuard>();
  std::unique_ptr<detail::LayerStreamer> stream;
  if (options.stream.sink) {
    stream = std::make_unique<detail::LayerStreamer>(options.stream, info_.layers, info_.heads,
                                                     t.lengths, info_.path);
    if (options.attention) {
      t.on_attention = [&](int layer, const Tensor& probs) { stream->attention(layer, probs); };
    }
    t.keep_attentions = grads || !options.contributions.empty();
  }
  detail::ForwardResult r = net_->forward(t, grads);
  if (stream && options.attention && stream->attention_calls() == 0) {
    // a network that hands out no layer on its own (TorchScript: all maps at the end)
    for (std::size_t l = 0; l < r.attentions.size(); ++l) {
      stream->attention(static_cast<int>(l), r.attentions[l]);
    }
  }

  std::vector<Output> out(static_cast<std::size_t>(B));
  if (!options.contributions.empty()) {
    auto c = detail::compute_contributions(*net_, r, t.lengths, options.contributions,
                                           options.contribution_options);
    for (std::size_t b = 0; b < c.size(); ++b) out[b].contributions = std::move(c[b]);
  }
  const Tensor lengths = t.lengths;
  // Targets: the position and index of y for every example.
  const TargetKind kind = options.target.kind;
  Tensor logits_cpu;
  if (r.logits.defined())
    logits_cpu = r.logits.detach().to(::torch::kCPU, ::torch::kFloat32).contiguous();
  std::vector<std::int64_t> position(static_cast<std::size_t>(B), -1),
      index(static_cast<std::size_t>(B), -1);
  const bool seq2seq = info_.decoder_layers > 0;
  std::vector<std::int64_t> ns(static_cast<std::size_t>(B)), ms(static_cast<std::size_t>(B));
  for (std::int64_t b = 0; b < B; ++b) {
    const auto bi = static_cast<std::size_t>(b);
    ns[bi] = lengths[b].item<std::int64_t>();
    ms[bi] = seq2seq ? t.decoder_lengths[b].item<std::int64_t>() : 0;
    const std::int64_t n = seq2seq ? ms[bi] : ns[bi];  // the length of the logits' sequence
    Output& o = out[bi];
    o.n = ns[bi];
    o.m = ms[bi];
    const auto& ids = seq2seq ? batch[bi].decoder_ids : batch[bi].ids;
    if (info_.head == HeadKind::Classifier && logits_cpu.defined()) {
      o.prediction = logits_cpu[b].argmax().item<std::int64_t>();
    }
    switch (kind) {
      case TargetKind::None: break;
      case TargetKind::Class: index[bi] = options.target.index; break;
      case TargetKind::Label: index[bi] = *batch[bi].label; break;
      case TargetKind::PredictedClass: index[bi] = *o.prediction; break;
      case TargetKind::ProbabilityDifference: break;
      case TargetKind::MaskedToken: {
        const auto& in = batch[bi].ids;
        position[bi] = std::find(in.begin(), in.end(), options.mask_token_id) - in.begin();
        break;
      }
      case TargetKind::NextToken: position[bi] = n - 1; break;
      case TargetKind::LastToken:
        position[bi] = n - 2;
        index[bi] = ids[static_cast<std::size_t>(n - 1)];
        break;
      case TargetKind::Token:  // against this example's own length, not the padded one
        position[bi] = resolve_position(options.target, n);
        index[bi] = options.target.index;
        break;
    }
    if (position[bi] >= 0) {
      const std::int64_t argmax = logits_cpu[b][position[bi]].argmax().item<std::int64_t>();
      o.prediction = argmax;
      if (index[bi] < 0) index[bi] = options.target.index >= 0 ? options.target.index : argmax;
      o.target_position = position[bi];
    }
    if (kind == TargetKind::ProbabilityDifference) {
      const Tensor p = ::torch::softmax(logits_cpu[b].to(::torch::kFloat64), 0);
      o.target_value = (p[0] - p[1]).item<double>();
    } else if (kind != TargetKind::None) {
      o.target_index = index[bi];
      o.target_value = position[bi] >= 0 ? logits_cpu[b][position[bi]][index[bi]].item<double>()
                                         : logits_cpu[b][index[bi]].item<double>();
    }
  }

  std::vector<Tensor> attention_grads;
  Tensor input_grad;
  if (grads) {
    Tensor y = ::torch::zeros({}, r.logits.options());
    for (std::int64_t b = 0; b < B; ++b) {
      const auto bi = static_cast<std::size_t>(b);
      if (kind == TargetKind::ProbabilityDifference) {
        const Tensor p = ::torch::softmax(r.logits[b], 0);
        y = y + (p[0] - p[1]);
      } else {
        y = y + (position[bi] >= 0 ? r.logits[b][position[bi]][index[bi]] : r.logits[b][index[bi]]);
      }
    }
    std::vector<Tensor> inputs;
    if (options.attention_gradients) {
      inputs = r.attentions;
      inputs.insert(inputs.end(), r.decoder_attentions.begin(), r.decoder_attentions.end());
      inputs.insert(inputs.end(), r.cross_attentions.begin(), r.cross_attentions.end());
    }
    if (options.input_gradients) inputs.push_back(r.input_embeddings);
    for (const Tensor& x : inputs) {
      if (!x.requires_grad()) {
        throw Error(info_.path +
                    ": the attention maps are not part of the autograd graph, so "
                    "no gradient can be taken (do the module's parameters require "
                    "grad?)");
      }
    }
    std::vector<Tensor> g = ::torch::autograd::grad({y}, inputs, {}, false, false, true);
    for (Tensor& x : g) {
      if (!x.defined()) {
        throw Error(info_.path +
                    ": an attention map does not reach the output, so its "
                    "gradient is undefined");
      }
    }
    if (options.input_gradients) {
      input_grad = g.back().to(::torch::kCPU, ::torch::kFloat32).contiguous();
      g.pop_back();
    }
    attention_grads = std::move(g);
  }

  // attention_grads: [encoder..., decoder self..., cross...] as put into `inputs` above
  const auto decoder_count = static_cast<std::ptrdiff_t>(r.decoder_attentions.size());
  const std::ptrdiff_t encoder_grads =
      attention_grads.empty()
          ? 0
          : static_cast<std::ptrdiff_t>(attention_grads.size()) - 2 * decoder_count;
  if (stream) {
    // the encoder's (or the only stack's) gradients, layer after layer, each freed once handed out
    for (std::ptrdiff_t l = 0; l < encoder_grads; ++l) {
      stream->gradient(static_cast<int>(l), attention_grads[static_cast<std::size_t>(l)]);
      attention_grads[static_cast<std::size_t>(l)] = Tensor();
    }
  }
  const auto fields = [&](std::vector<float> Output::*field) {
    std::vector<std::vector<float>*> p;
    for (Output& o : out) p.push_back(&(o.*field));
    return p;
  };
  if (options.attention && !stream)
    copy_batch_maps(r.attentions, ns, ns, fields(&Output::attention));
  if (options.attention && seq2seq) {  // the decoder's maps are never streamed
    copy_batch_maps(r.decoder_attentions, ms, ms, fields(&Output::decoder_attention));
    copy_batch_maps(r.cross_attentions, ms, ns, fields(&Output::cross_attention));
  }
  if (!attention_grads.empty()) {
    const auto encoder_end = attention_grads.begin() + encoder_grads;
    if (!stream) {
      copy_batch_maps(std::vector<Tensor>(attention_grads.begin(), encoder_end), ns, ns,
                      fields(&Output::attention_gradient));
    }
    if (seq2seq) {
      copy_batch_maps(std::vector<Tensor>(encoder_end, encoder_end + decoder_count), ms, ms,
                      fields(&Output::decoder_attention_gradient));
      copy_batch_maps(std::vector<Tensor>(encoder_end + decoder_count, attention_grads.end()), ms,
                      ns, fields(&Output::cross_attention_gradient));
    }
    attention_grads.clear();
  }
  if (input_grad.defined()) {
    const Tensor e = r.input_embeddings.detach().to(::torch::kCPU, ::torch::kFloat32).contiguous();
    const std::int64_t d = e.size(2);
    for (std::int64_t b = 0; b < B; ++b) {
      Output& o = out[static_cast<std::size_t>(b)];
      const auto count = static_cast<std::size_t>(o.n * d);
      const float* g = input_grad.data_ptr<float>() + b * N * d;
      const float* x = e.data_ptr<float>() + b * N * d;
      o.input_gradient.assign(g, g + count);
      o.input_embedding.assign(x, x + count);
    }
  }
  if (options.logits && logits_cpu.defined()) {
    for (std::int64_t b = 0; b < B; ++b) {
      Output& o = out[static_cast<std::size_t>(b)];
      Tensor l = logits_cpu[b];
      if (l.dim() == 2) l = l.narrow(0, 0, seq2seq ? o.m : o.n);
      l = l.contiguous();
      o.logits.assign(l.data_ptr<float>(), l.data_ptr<float>() + l.numel());
      o.logits_shape.assign(l.sizes().begin(), l.sizes().end());
    }
  }
  return out;
}

void TorchModel::probe() {
  ::torch::NoGradGuard no_grad;
  detail::BatchTensors t;
  const auto opts = ::torch::TensorOptions().dtype(::torch::kInt64);
  t.ids = ::torch::zeros({1, 3}, opts).to(device_);
  t.type_ids = ::torch::zeros({1, 3}, opts).to(device_);
  t.mask = ::torch::ones({1, 3}, opts).to(device_);
  t.lengths = ::torch::full({1}, 3, opts);
  const detail::ForwardResult r = net_->forward(t, false);
  info_.layers = static_cast<int>(r.attentions.size());
  info_.dtype = detail::dtype_name(r.attentions[0].scalar_type());
  info_.heads = static_cast<int>(r.attentions[0].size(1));
  bool causal = true;
  for (const Tensor& a : r.attentions) {
    if (a.triu(1).abs().max().item<double>() != 0.0) causal = false;
  }
  info_.causal = causal;
  if (r.logits.dim() == 2) {
    info_.head = HeadKind::Classifier;
    info_.num_labels = r.logits.size(1);
  } else {
    info_.head = HeadKind::LanguageModel;
    info_.vocab_size = r.logits.size(2);
  }
}

}  // namespace

std::string detail::weights_path(const std::string& dir) {
  std::string path = dir + "/model.safetensors";
  if (!is_file(path) && is_file(dir + "/model.safetensors.index.json")) {
    path = dir + "/model.safetensors.index.json";  // a sharded checkpoint
  }
  if (!is_file(path)) {
    if (is_file(dir + "/pytorch_model.bin")) {
      throw Error(dir +
                  ": only pytorch_model.bin, no model.safetensors: convert the weights to "
                  "safetensors (e.g. model.save_pretrained(dir, safe_serialization=True))");
    }
    throw Error(path + ": missing (the model's weights)");
  }
  return path;
}

namespace {

std::unique_ptr<Model> load_native(const std::string& dir, const ::torch::Device& device,
                                   const LoadOptions& options) {
  const std::string config_path = dir + "/config.json";
  hf::ConfigOptions copts;
  copts.extra_architectures = {kEncoderClassifier, kCharGptArchitecture, kPooledClassifier};
  const hf::ModelConfig c = hf::read_model_config(config_path, copts);
  const std::string weights_path = detail::weights_path(dir);
  ModelInfo info;
  info.path = dir;
  info.layers = static_cast<int>(c.num_layers);
  info.heads = static_cast<int>(c.num_heads);
  info.hidden_size = c.hidden_size;
  info.vocab_size = c.vocab_size;
  info.max_positions = c.max_tokens();
  info.device = device_name(device);
  std::string arch = c.architectures.empty() ? "" : c.architectures.front();
  if (c.architectures.size() > 1) {
    throw Error(config_path + ": several architectures " + c.architectures.front() + ", " +
                c.architectures[1] + ": attnflow needs exactly one");
  }
  const ::torch::ScalarType dtype =  // reduced dtypes: the Llama family only
      detail::resolve_dtype(options, device, c, config_path,
                            arch != kCharGptArchitecture && c.family == hf::ModelFamily::Llama);
  info.dtype = detail::dtype_name(dtype);
  std::unique_ptr<detail::Network> net;
  if (arch == kCharGptArchitecture) {  // seed 004's character GPT (char_gpt.hpp)
    info.family = ModelFamily::CharGpt;
    info.causal = true;
    info.head = HeadKind::LanguageModel;
    detail::Weights w(weights_path, {}, device, dtype);
    net = detail::make_char_gpt(c, w);
  } else if (c.family == hf::ModelFamily::Gpt2) {
    info.family = ModelFamily::Gpt2;
    if (arch.empty()) arch = "GPT2Model";
    detail::Gpt2Options o;
    o.causal = true;
    if (arch == "GPT2LMHeadModel") {
      o.head = detail::Gpt2Head::LanguageModel;
      info.head = HeadKind::LanguageModel;
    } else if (arch == kEncoderClassifier) {
      o.head = detail::Gpt2Head::FirstTokenClassifier;
      o.causal = c.attnflow_causal;
      o.classifier_position = c.attnflow_classifier_position;
      if (o.classifier_position != 0) {
        throw Error(config_path + ": attnflow_classifier_position " +
                    std::to_string(o.classifier_position) +
                    " is not supported (only 0, the CLS "
                    "token)");
      }
      info.head = HeadKind::Classifier;
      info.num_labels = c.num_labels;
    }
    info.causal = o.causal;
    detail::Weights w(weights_path, {"transformer."}, device, dtype);
    net = detail::make_gpt2(c, w, o);
  } else if (c.family == hf::ModelFamily::T5) {
    // T5ForConditionalGeneration, T5Model and T5EncoderModel store their tensors unprefixed
    info.family = ModelFamily::T5;
    if (arch.empty()) arch = "T5Model";
    detail::T5Head head = detail::T5Head::None;
    if (arch == "T5ForConditionalGeneration") {
      head = detail::T5Head::LanguageModel;
      info.head = HeadKind::LanguageModel;
    } else if (arch == "T5EncoderModel") {
      head = detail::T5Head::EncoderOnly;
    }
    if (head != detail::T5Head::EncoderOnly) {
      info.decoder_layers = static_cast<int>(c.decoder_layers);
      info.decoder_start_token_id = c.decoder_start_token_id.value_or(-1);
    }
    detail::Weights w(weights_path, {}, device, dtype);
    net = detail::make_t5(c, w, head);
  } else if (c.family == hf::ModelFamily::Llama) {
    // LlamaForCausalLM & co. store the base model under "model."; LlamaModel without a prefix
    const std::string base = c.model_type == "mistral" ? "Mistral"
                             : c.model_type == "qwen2" ? "Qwen2"
                                                       : "Llama";
    info.family = base == "Mistral" ? ModelFamily::Mistral
                  : base == "Qwen2" ? ModelFamily::Qwen2
                                    : ModelFamily::Llama;
    if (arch.empty()) arch = base + "Model";
    info.causal = true;
    const bool lm = arch == base + "ForCausalLM";
    if (lm) info.head = HeadKind::LanguageModel;
    detail::Weights w(weights_path, {"model."}, device, dtype);
    net = detail::make_llama(c, w, lm);
  } else {
    // the encoders: BERT, RoBERTa / XLM-RoBERTa, DistilBERT, with the architecture's
    // base-model prefix ("bert.", "roberta.", "distilbert.") in files with a head
    struct Kind {
      ModelFamily family;
      std::string base;  // the base model class less "Model": Bert, Roberta, ...
      std::string prefix;
    };
    Kind kind{ModelFamily::Bert, "Bert", "bert."};
    if (c.family == hf::ModelFamily::Roberta) {
      kind = {ModelFamily::Roberta, c.model_type == "xlm-roberta" ? "XLMRoberta" : "Roberta",
              "roberta."};
    } else if (c.family == hf::ModelFamily::DistilBert) {
      kind = {ModelFamily::DistilBert, "DistilBert", "distilbert."};
    }
    info.family = kind.family;
    const std::string& base = kind.base;
    if (arch.empty()) arch = base + "Model";
    info.uses_type_ids =
        kind.family == ModelFamily::Roberta ? c.type_vocab_size > 1 : c.type_vocab_size > 0;
    info.causal = c.is_decoder;
    detail::Weights w(weights_path, {kind.prefix}, device, dtype);
    detail::BertHead head = detail::BertHead::None;
    if (arch == base + "ForSequenceClassification") {
      head = detail::BertHead::SequenceClassification;
      info.head = HeadKind::Classifier;
      info.num_labels = c.num_labels;
    } else if (arch == base + "ForMaskedLM") {
      head = detail::BertHead::MaskedLM;
      info.head = HeadKind::LanguageModel;
    } else if (arch == kPooledClassifier) {
      if (kind.family == ModelFamily::DistilBert) {
        throw Error(config_path + ": " + arch +
                    " over a DistilBERT body is not supported (BERT or RoBERTa)");
      }
      info.head = HeadKind::Classifier;
      info.num_labels = c.num_labels;
      info.architecture = arch;
      const auto pooling =
          c.attnflow_pooling == "cls" ? detail::Pooling::Cls : detail::Pooling::Mean;
      return std::make_unique<TorchModel>(std::move(info),
                                          detail::make_pooled_classifier(c, w, pooling), device);
    }
    switch (kind.family) {
      case ModelFamily::Roberta: net = detail::make_roberta(c, w, head); break;
      case ModelFamily::DistilBert: net = detail::make_distilbert(c, w, head); break;
      default: net = detail::make_bert(c, w, head); break;
    }
  }
  info.architecture = arch;
  return std::make_unique<TorchModel>(std::move(info), std::move(net), device);
}

}  // namespace

std::unique_ptr<Model> detail::wrap_network(ModelInfo info, std::unique_ptr<Network> net,
                                            const ::torch::Device& device) {
  return std::make_unique<TorchModel>(std::move(info), std::move(net), device);
}

Model::~Model() = default;

std::unique_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  const ::torch::Device device = parse_device(options.device);
  if (options.threads > 0) ::torch::set_num_threads(options.threads);
  std::string target = path;
  if (is_file(path) && ends_with(path, "config.json")) {
    target = path.substr(0, path.size() - std::string("config.json").size());
    if (target.empty()) target = ".";
    if (target.size() > 1 && target.back() == '/') target.pop_back();
  }
  if (is_dir(target)) {
    if (is_file(target + "/config.json")) {
      return load_native(target, device, options);
    }
    for (const char* name : {"model.pt", "model.torchscript.pt", "model.ts"}) {
      const std::string candidate = target + "/" + name;
      if (is_file(candidate)) return Model::load(candidate, options);
    }
    throw Error(target +
                ": neither config.json (a Hugging Face model) nor model.pt "
                "(TorchScript) in this directory");
  }
  if (!is_file(target)) throw Error(target + ": no such model file or directory");
  detail::check_script_dtype(options, target);
  ModelInfo info;
  info.path = target;
  info.family = ModelFamily::TorchScript;
  info.architecture = "TorchScript";
  info.device = device_name(device);
  auto model =
      std::make_unique<TorchModel>(std::move(info), detail::load_script(target, device), device);
  model->probe();
  return model;
}

}  // namespace attnflow::torch
