// The character GPT of seed 004 at inference (Model::load dispatches AttnflowCharGPT here), and
// what any causal LM offers on top of Model::run: the windowed loss and sampling.
#include "char_gpt.hpp"

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/torch/char_gpt.hpp"
#include "attnflow/torch/model.hpp"
#include "encoder.hpp"
#include "random.hpp"
#include "weights.hpp"

namespace attnflow::torch {

using ::torch::Tensor;

namespace detail {

std::unique_ptr<Network> make_char_gpt(const hf::ModelConfig& c, TensorSource& weights) {
  hf::ModelConfig config = c;
  config.is_decoder = true;  // causal self-attention in the encoder's blocks
  const EncoderWeights w(config, weights);
  const std::int64_t d = c.hidden_size, dh = c.head_dim(), inner = c.intermediate_size;
  EncoderParts parts;
  parts.embeddings.word = w.matrix("token_embedding_table.weight", c.vocab_size,
                                   "vocab_size " + std::to_string(c.vocab_size));
  parts.embeddings.position = w.matrix("position_embedding_table.weight", c.max_positions,
                                       "n_positions " + std::to_string(c.max_positions));
  const std::string why = "config.json: n_embd " + std::to_string(d) + " / n_head " +
                          std::to_string(c.num_heads) + " = head size " + std::to_string(dh);
  for (std::int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "blocks." + std::to_string(l) + ".";
    // Head h's projection gives columns h*dh.. of the stacked one, as the concatenation does.
    const auto stacked = [&](const std::string& name) {
      std::vector<Tensor> rows;
      for (std::int64_t h = 0; h < c.num_heads; ++h) {
        rows.push_back(weights.get(p + "sa.heads." + std::to_string(h) + "." + name + ".weight",
                                   {dh, d}, why));
      }
      const Tensor weight = ::torch::cat(rows, 0);
      return Linear{weight, ::torch::zeros({d}, weight.options())};
    };
    EncoderLayer layer;
    layer.query = stacked("query");
    layer.key = stacked("key");
    layer.value = stacked("value");
    layer.attention_output = w.linear(p + "sa.proj", d, d);
    layer.attention_norm = w.norm(p + "ln1");
    layer.intermediate = w.linear(p + "ffwd.net.0", inner, d);
    layer.output = w.linear(p + "ffwd.net.2", d, inner);
    layer.output_norm = w.norm(p + "ln2");
    parts.layers.push_back(std::move(layer));
  }
  const Linear lm_head = w.linear("lm_head", c.vocab_size, d);
  parts.head = [lm_head](const Tensor& x) { return lm_head(x); };
  return make_encoder(config, std::move(parts));
}

}  // namespace detail

namespace {

void require_causal_lm(const Model& model, const std::string& what) {
  const ModelInfo& i = model.info();
  if (!i.causal || i.head != HeadKind::LanguageModel) {
    throw Error(what + ": " + i.path + " is a " + i.architecture +
                ", not a causal language model (GPT2LMHeadModel, *ForCausalLM, " +
                kCharGptArchitecture + ")");
  }
}

}  // namespace

double causal_lm_loss(Model& model, const std::vector<std::int64_t>& ids, std::int64_t window,
                      int batch_size) {
  require_causal_lm(model, "loss");
  const std::int64_t most = model.info().max_positions;
  if (most > 0 && window > most) {
    throw Error("loss: a window of " + std::to_string(window) + " tokens is longer than the " +
                std::to_string(most) + " positions of " + model.info().path);
  }
  RunOptions options;
  options.attention = false;
  options.logits = true;
  return detail::windowed_loss(ids, window, batch_size, [&](const Tensor& x) {
    std::vector<Input> batch(static_cast<std::size_t>(x.size(0)));
    for (std::int64_t b = 0; b < x.size(0); ++b) {
      const Tensor row = x[b].contiguous();
      batch[static_cast<std::size_t>(b)].ids.assign(row.data_ptr<std::int64_t>(),
                                                    row.data_ptr<std::int64_t>() + row.numel());
    }
    std::vector<Tensor> logits;
    for (Output& o : model.run(batch, options)) {
      logits.push_back(
          ::torch::from_blob(o.logits.data(), o.logits_shape, ::torch::kFloat32).clone());
    }
    return ::torch::stack(logits, 0);
  });
}

std::vector<std::int64_t> sample_causal_lm(Model& model, const std::vector<std::int64_t>& prompt,
                                           const SampleOptions& o) {
  require_causal_lm(model, "generate");
  if (prompt.empty()) throw Error("generate: the prompt has no tokens");
  if (!(o.temperature > 0) || !std::isfinite(o.temperature)) {
    throw Error("generate: --temperature must be a positive number");
  }
  if (o.count < 0) throw Error("generate: -n must be >= 0");
  std::mt19937_64 rng(o.seed);
  RunOptions options;
  options.attention = false;
  options.logits = true;
  std::vector<std::int64_t> context = prompt, out;
  const auto most = static_cast<std::size_t>(model.info().max_positions);
  for (int k = 0; k < o.count; ++k) {
    Input input;
    const std::size_t begin = most > 0 && context.size() > most ? context.size() - most : 0;
    input.ids.assign(context.begin() + static_cast<long>(begin), context.end());
    const Output r = model.run({input}, options).front();
    const std::int64_t V = r.logits_shape.back();
    const float* last = r.logits.data() + (r.n - 1) * V;
    const double top = *std::max_element(last, last + V);
    std::vector<double> weight(static_cast<std::size_t>(V));
    double sum = 0;
    for (std::int64_t v = 0; v < V; ++v) {
      sum += weight[static_cast<std::size_t>(v)] = std::exp((last[v] - top) / o.temperature);
    }
    const double u = detail::draw_unit(rng) * sum;
    std::int64_t chosen = V - 1;
    double cumulative = 0;
    for (std::int64_t v = 0; v < V; ++v) {
      cumulative += weight[static_cast<std::size_t>(v)];
      if (u < cumulative) {
        chosen = v;
        break;
      }
    }
    out.push_back(chosen);
    context.push_back(chosen);
  }
  return out;
}

}  // namespace attnflow::torch
