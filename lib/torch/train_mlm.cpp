// Masked-LM pretraining of a small BERT (BertForMaskedLM with Hugging Face's names and config
// keys), the masking of BERT's data collator, and the masked-LM metrics of a loaded model.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/torch/model.hpp"
#include "attnflow/torch/train_bert.hpp"
#include "model_internal.hpp"
#include "network.hpp"
#include "train_loop.hpp"
#include "weights.hpp"

namespace attnflow::torch {

namespace {

using ::torch::Tensor;

constexpr std::int64_t kIgnore = -100;  // transformers' ignore index

// A uniform double in [0, 1) from 53 random bits (platform-independent).
double uniform(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

struct Masker {
  const MaskingOptions& o;
  std::vector<std::int64_t> maskable;  // ids that may be drawn as random replacements
  std::set<std::int64_t> special;

  explicit Masker(const MaskingOptions& options) : o(options) {
    const auto share = [](double x, const char* name) {
      if (!(x >= 0.0 && x <= 1.0)) {
        throw Error(std::string("masking: ") + name + " " + std::to_string(x) + " outside [0, 1]");
      }
    };
    share(o.probability, "probability");
    share(o.mask_share, "mask share");
    share(o.random_share, "random share");
    if (o.mask_share + o.random_share > 1.0 + 1e-12) {
      throw Error("masking: mask share + random share = " +
                  std::to_string(o.mask_share + o.random_share) + ", above 1");
    }
    if (o.mask_id < 0 || o.mask_id >= o.vocab_size) {
      throw Error("masking: mask id " + std::to_string(o.mask_id) + " outside the vocabulary (" +
                  std::to_string(o.vocab_size) + " ids)");
    }
    special.insert(o.special_ids.begin(), o.special_ids.end());
    special.insert(o.mask_id);
    for (std::int64_t id = 0; id < o.vocab_size; ++id) {
      if (special.count(id) == 0) maskable.push_back(id);
    }
    if (maskable.empty()) throw Error("masking: no maskable id in the vocabulary");
  }

  MaskedExample operator()(const std::vector<std::int64_t>& ids, std::mt19937_64& rng) const {
    MaskedExample e{ids, std::vector<std::int64_t>(ids.size(), kIgnore)};
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (special.count(ids[i]) != 0) continue;
      if (uniform(rng) >= o.probability) continue;
      e.labels[i] = ids[i];
      const double r = uniform(rng);
      if (r < o.mask_share) {
        e.ids[i] = o.mask_id;
      } else if (r < o.mask_share + o.random_share) {
        e.ids[i] = maskable[detail::draw_below(rng, maskable.size())];
      }
    }
    return e;
  }
};

void check_sequences(const std::vector<std::vector<std::int64_t>>& data, const std::string& name,
                     const MaskedLmTrainOptions& o) {
  std::vector<TrainExample> as_examples;
  as_examples.reserve(data.size());
  for (const auto& ids : data) as_examples.push_back({ids, 0});
  detail::check_examples(as_examples, name, {o.max_positions, 1, o.vocab_size});
}

hf::ModelConfig make_config(const MaskedLmTrainOptions& o) {
  hf::ModelConfig c;
  c.path = "(training)";
  c.family = hf::ModelFamily::Bert;
  c.model_type = "bert";
  c.architectures = {"BertForMaskedLM"};
  c.hidden_size = o.hidden;
  c.num_layers = o.layers;
  c.num_heads = o.heads;
  c.intermediate_size = o.inner;
  c.max_positions = o.max_positions;
  c.vocab_size = o.vocab_size;
  c.type_vocab_size = 2;
  c.layer_norm_eps = 1e-12;
  c.activation_name = "gelu";
  c.activation = hf::Activation::Gelu;
  c.tie_word_embeddings = true;
  c.pad_token_id = o.pad_id;
  return c;
}

nlohmann::json config_json(const MaskedLmTrainOptions& o) {
  return {
      {"architectures", {"BertForMaskedLM"}},
      {"model_type", "bert"},
      {"hidden_size", o.hidden},
      {"num_hidden_layers", o.layers},
      {"num_attention_heads", o.heads},
      {"intermediate_size", o.inner},
      {"max_position_embeddings", o.max_positions},
      {"vocab_size", o.vocab_size},
      {"type_vocab_size", 2},
      {"layer_norm_eps", 1e-12},
      {"hidden_act", "gelu"},
      {"hidden_dropout_prob", 0.0},
      {"attention_probs_dropout_prob", 0.0},
      {"initializer_range", o.init_std},
      {"pad_token_id", o.pad_id},
      {"position_embedding_type", "absolute"},
      {"tie_word_embeddings", true},
      {"torch_dtype", to_string(o.save_dtype)},
  };
}

// Inputs and labels of masked examples, right-padded (labels -100 there).
detail::BatchTensors pack_masked(const std::vector<MaskedExample>& data, Tensor& labels) {
  std::vector<TrainExample> as_examples;
  std::vector<std::size_t> batch;
  for (std::size_t i = 0; i < data.size(); ++i) {
    as_examples.push_back({data[i].ids, 0});
    batch.push_back(i);
  }
  Tensor unused;
  detail::BatchTensors t =
      detail::pack_examples(as_examples, batch, ::torch::Device(::torch::kCPU), unused);
  labels = ::torch::full_like(t.ids, kIgnore);
  auto l = labels.accessor<std::int64_t, 2>();
  for (std::size_t b = 0; b < data.size(); ++b) {
    for (std::size_t i = 0; i < data[b].labels.size(); ++i) {
      l[static_cast<std::int64_t>(b)][static_cast<std::int64_t>(i)] = data[b].labels[i];
    }
  }
  return t;
}

}  // namespace

std::vector<MaskedExample> mask_tokens(const std::vector<std::vector<std::int64_t>>& sequences,
                                       const MaskingOptions& options, std::uint64_t seed) {
  const Masker masker(options);
  std::mt19937_64 rng(seed);
  std::vector<MaskedExample> out;
  out.reserve(sequences.size());
  for (const auto& ids : sequences) out.push_back(masker(ids, rng));
  return out;
}

MaskedLmMetrics masked_lm_metrics(Model& model, const std::vector<MaskedExample>& data,
                                  int batch_size) {
  if (model.info().head != HeadKind::LanguageModel) {
    throw Error("masked-LM metrics: " + model.info().path + " is a " + model.info().architecture +
                ", not a masked LM");
  }
  if (batch_size <= 0) throw Error("masked-LM metrics: batch size " + std::to_string(batch_size));
  RunOptions options;
  options.attention = false;
  options.logits = true;
  MaskedLmMetrics m;
  double loss = 0;
  std::int64_t correct = 0;
  const auto step = static_cast<std::size_t>(batch_size);
  for (std::size_t begin = 0; begin < data.size(); begin += step) {
    std::vector<Input> batch;
    const std::size_t end = std::min(data.size(), begin + step);
    for (std::size_t i = begin; i < end; ++i) batch.push_back({data[i].ids, {}, {}});
    const std::vector<Output> out = model.run(batch, options);
    for (std::size_t k = 0; k < out.size(); ++k) {
      const MaskedExample& e = data[begin + k];
      const auto V = static_cast<std::size_t>(out[k].logits_shape.at(1));
      for (std::size_t i = 0; i < e.labels.size(); ++i) {
        if (e.labels[i] == kIgnore) continue;
        const float* row = out[k].logits.data() + i * V;
        const double top = *std::max_element(row, row + V);
        double sum = 0;
        for (std::size_t v = 0; v < V; ++v) sum += std::exp(static_cast<double>(row[v]) - top);
        loss += top + std::log(sum) - row[e.labels[i]];
        correct += std::max_element(row, row + V) - row == e.labels[i] ? 1 : 0;
        ++m.predicted;
      }
    }
  }
  if (m.predicted == 0) throw Error("masked-LM metrics: no masked position in the data");
  m.loss = loss / static_cast<double>(m.predicted);
  m.accuracy = static_cast<double>(correct) / static_cast<double>(m.predicted);
  return m;
}

TrainResult train_masked_lm(const std::vector<std::vector<std::int64_t>>& train,
                            const std::vector<MaskedExample>& valid,
                            const MaskedLmTrainOptions& options, const std::string& dir) {
  MaskedLmTrainOptions o = options;
  o.masking.vocab_size = o.vocab_size;
  if (o.vocab_size <= 0) throw Error("train mlm: vocab_size must be positive");
  if (o.hidden % o.heads != 0) {
    throw Error("train mlm: hidden size " + std::to_string(o.hidden) + " is not divisible by " +
                std::to_string(o.heads) + " heads");
  }
  check_sequences(train, "training", o);
  if (valid.empty()) throw Error("train: the validation set is empty");
  const Masker masker(o.masking);
  if (o.threads > 0) ::torch::set_num_threads(o.threads);
  ::torch::manual_seed(o.seed);
  const ::torch::Device device(::torch::kCPU);
  detail::InitTensors params(o.init_std, device);
  const hf::ModelConfig config = make_config(o);
  std::unique_ptr<detail::Network> net =
      detail::make_bert(config, params, detail::BertHead::MaskedLM);
  std::vector<Tensor> all;
  std::int64_t parameters = 0;
  for (const auto& [name, t] : params.tensors()) {
    parameters += t.numel();
    all.push_back(t);
    if (name == "embeddings.word_embeddings.weight") {  // BertPreTrainedModel: padding row 0
      ::torch::NoGradGuard no_grad;
      t[o.pad_id].zero_();
    }
  }
  ModelInfo info;
  info.path = dir + " (in training)";
  info.family = ModelFamily::Bert;
  info.architecture = "BertForMaskedLM";
  info.layers = o.layers;
  info.heads = o.heads;
  info.hidden_size = o.hidden;
  info.head = HeadKind::LanguageModel;
  info.vocab_size = o.vocab_size;
  info.max_positions = o.max_positions;
  info.uses_type_ids = true;
  info.device = "cpu";
  detail::Network* network = net.get();
  std::unique_ptr<Model> model = detail::wrap_network(info, std::move(net), device);

  detail::LoopSettings loop = detail::loop_settings(o);
  std::mt19937_64 mask_rng(o.seed + 2);  // training masks, drawn afresh in every batch
  TrainResult result = detail::train_loop(
      all, train.size(), loop,
      [&](const std::vector<std::size_t>& batch) {
        std::vector<MaskedExample> masked;
        for (std::size_t i : batch) masked.push_back(masker(train[i], mask_rng));
        Tensor labels;
        const detail::BatchTensors t = pack_masked(masked, labels);
        const Tensor logits = network->forward(t, false).logits;
        if (labels.ne(kIgnore).sum().item<std::int64_t>() == 0) return logits.sum() * 0.0;
        return ::torch::nn::functional::cross_entropy(
            logits.reshape({-1, logits.size(-1)}), labels.reshape({-1}),
            ::torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnore));
      },
      [&](int) {
        const MaskedLmMetrics m = masked_lm_metrics(*model, valid);
        return detail::EpochEnd{m.loss, m.accuracy};
      });
  result.parameters = parameters;
  result.trainable_parameters = parameters;
  if (o.on_trained) o.on_trained(*model);

  std::vector<std::pair<std::string, Tensor>> named;
  for (const auto& [name, t] : params.tensors()) {
    if (name == "cls.predictions.decoder.bias") {
      named.emplace_back("cls.predictions.bias", t);  // HF's name of the (tied) decoder bias
    } else {
      named.emplace_back(name.rfind("cls.", 0) == 0 ? name : "bert." + name, t);
    }
  }
  detail::write_tensors(dir + "/model.safetensors", named, o.save_dtype);
  detail::write_json(dir + "/config.json", config_json(o));
  return result;
}

}  // namespace attnflow::torch
