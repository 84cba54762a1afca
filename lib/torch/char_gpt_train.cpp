// Seed 004's character GPT as torch::nn modules (Head, MultiHeadAttention, FeedForward, Block,
// CharGpt), its training loop (AdamW on random windows of the training split, the losses of
// both splits averaged over eval_iters random batches every eval_interval steps), saving, and
// the module's forward on saved weights (the cross-check of the inference implementation in
// char_gpt.cpp).
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "attnflow/core/error.hpp"
#include "attnflow/hf/config.hpp"
#include "attnflow/torch/char_gpt.hpp"
#include "char_gpt.hpp"
#include "random.hpp"
#include "weights.hpp"

namespace attnflow::torch {

namespace {

namespace nn = ::torch::nn;
using ::torch::Tensor;

struct HeadImpl : nn::Module {
  HeadImpl(std::int64_t n_embd, std::int64_t head_size, double dropout)
      : key(register_module("key", nn::Linear(nn::LinearOptions(n_embd, head_size).bias(false)))),
        query(
            register_module("query", nn::Linear(nn::LinearOptions(n_embd, head_size).bias(false)))),
        value(
            register_module("value", nn::Linear(nn::LinearOptions(n_embd, head_size).bias(false)))),
        drop(register_module("dropout", nn::Dropout(dropout))) {}

  /// The head's output [B, T, head_size]; `weights` gets its attention [B, T, T].
  Tensor forward(const Tensor& x, Tensor& weights) {
    const std::int64_t T = x.size(1);
    const Tensor k = key(x), q = query(x);
    Tensor wei =
        ::torch::matmul(q, k.transpose(-2, -1)) * std::pow(static_cast<double>(k.size(-1)), -0.5);
    const Tensor future =
        ::torch::ones({T, T}, ::torch::TensorOptions().dtype(::torch::kBool).device(x.device()))
            .triu(1);
    wei = ::torch::softmax(wei.masked_fill(future, -std::numeric_limits<double>::infinity()), -1);
    weights = wei;
    return ::torch::matmul(drop(wei), value(x));
  }

  nn::Linear key, query, value;
  nn::Dropout drop;
};
TORCH_MODULE(Head);

struct MultiHeadAttentionImpl : nn::Module {
  MultiHeadAttentionImpl(std::int64_t n_embd, int n_head, double dropout)
      : list(register_module("heads", nn::ModuleList())),
        proj(register_module("proj", nn::Linear(n_embd, n_embd))),
        drop(register_module("dropout", nn::Dropout(dropout))) {
    for (int h = 0; h < n_head; ++h) {
      heads.push_back(Head(n_embd, n_embd / n_head, dropout));
      list->push_back(heads.back());
    }
  }

  /// Appends the attention of every head, [B, H, T, T], to `attention`.
  Tensor forward(const Tensor& x, std::vector<Tensor>& attention) {
    std::vector<Tensor> outs, weights(heads.size());
    for (std::size_t h = 0; h < heads.size(); ++h) outs.push_back(heads[h]->forward(x, weights[h]));
    attention.push_back(::torch::stack(weights, 1));
    return drop(proj(::torch::cat(outs, -1)));
  }

  nn::ModuleList list;
  std::vector<Head> heads;
  nn::Linear proj;
  nn::Dropout drop;
};
TORCH_MODULE(MultiHeadAttention);

struct FeedForwardImpl : nn::Module {
  FeedForwardImpl(std::int64_t n_embd, double dropout)
      : net(register_module(
            "net", nn::Sequential(nn::Linear(n_embd, 4 * n_embd), nn::ReLU(),
                                  nn::Linear(4 * n_embd, n_embd), nn::Dropout(dropout)))) {}
  Tensor forward(const Tensor& x) { return net->forward(x); }
  nn::Sequential net;
};
TORCH_MODULE(FeedForward);

struct BlockImpl : nn::Module {
  BlockImpl(std::int64_t n_embd, int n_head, double dropout)
      : sa(register_module("sa", MultiHeadAttention(n_embd, n_head, dropout))),
        ffwd(register_module("ffwd", FeedForward(n_embd, dropout))),
        ln1(register_module("ln1", nn::LayerNorm(nn::LayerNormOptions({n_embd})))),
        ln2(register_module("ln2", nn::LayerNorm(nn::LayerNormOptions({n_embd})))) {}

  Tensor forward(Tensor x, std::vector<Tensor>& attention) {
    x = ln1(x + sa->forward(x, attention));
    return ln2(x + ffwd->forward(x));
  }

  MultiHeadAttention sa;
  FeedForward ffwd;
  nn::LayerNorm ln1, ln2;
};
TORCH_MODULE(Block);

struct CharGptImpl : nn::Module {
  CharGptImpl(const CharGptOptions& o, std::int64_t vocab_size)
      : token_embedding_table(
            register_module("token_embedding_table", nn::Embedding(vocab_size, o.n_embd))),
        position_embedding_table(
            register_module("position_embedding_table", nn::Embedding(o.n_ctx, o.n_embd))),
        list(register_module("blocks", nn::ModuleList())),
        lm_head(register_module("lm_head", nn::Linear(o.n_embd, vocab_size))) {
    for (int l = 0; l < o.n_layer; ++l) {
      blocks.push_back(Block(o.n_embd, o.n_head, o.dropout));
      list->push_back(blocks.back());
    }
  }

  /// Logits [B, T, V] of ids [B, T]; `attention` gets one [B, H, T, T] per layer.
  Tensor forward(const Tensor& ids, std::vector<Tensor>& attention) {
    const std::int64_t T = ids.size(1);
    Tensor x = token_embedding_table(ids) +
               position_embedding_table(::torch::arange(T, ids.options())).unsqueeze(0);
    for (Block& b : blocks) x = b->forward(x, attention);
    return lm_head(x);
  }

  nn::Embedding token_embedding_table, position_embedding_table;
  nn::ModuleList list;
  std::vector<Block> blocks;
  nn::Linear lm_head;
};
TORCH_MODULE(CharGpt);

void check_options(const CharGptOptions& o, std::int64_t vocab_size) {
  const auto positive = [](double v, const std::string& name) {
    if (!(v > 0)) throw Error("train lm: " + name + " must be positive");
  };
  positive(static_cast<double>(vocab_size), "the vocabulary size");
  positive(static_cast<double>(o.n_ctx), "--n-ctx");
  positive(static_cast<double>(o.n_embd), "--n-embd");
  positive(o.n_head, "--n-head");
  positive(o.n_layer, "--n-layer");
  positive(o.learning_rate, "--lr");
  positive(o.batch_size, "--batch-size");
  positive(o.max_iters, "--max-iters");
  positive(o.eval_interval, "--eval-interval");
  positive(o.eval_iters, "--eval-iters");
  if (o.n_embd % o.n_head != 0) {
    throw Error("train lm: --n-embd " + std::to_string(o.n_embd) + " is not divisible by " +
                "--n-head " + std::to_string(o.n_head));
  }
  if (!(o.dropout >= 0 && o.dropout < 1)) throw Error("train lm: --dropout must be in [0, 1)");
  if (!(o.train_fraction > 0 && o.train_fraction < 1)) {
    throw Error("train lm: --train-fraction must be in (0, 1)");
  }
}

// Random windows of a split: x [B, n_ctx] and the next tokens y.
std::pair<Tensor, Tensor> get_batch(const std::vector<std::int64_t>& data, const CharGptOptions& o,
                                    std::mt19937_64& rng, const ::torch::Device& device) {
  const auto opts = ::torch::TensorOptions().dtype(::torch::kInt64);
  Tensor x = ::torch::empty({o.batch_size, o.n_ctx}, opts), y = ::torch::empty_like(x);
  auto xa = x.accessor<std::int64_t, 2>();
  auto ya = y.accessor<std::int64_t, 2>();
  const auto starts = static_cast<std::uint64_t>(data.size()) - static_cast<std::uint64_t>(o.n_ctx);
  for (std::int64_t b = 0; b < o.batch_size; ++b) {
    const auto i = static_cast<std::size_t>(detail::draw_below(rng, starts));
    for (std::int64_t t = 0; t < o.n_ctx; ++t) {
      xa[b][t] = data[i + static_cast<std::size_t>(t)];
      ya[b][t] = data[i + static_cast<std::size_t>(t) + 1];
    }
  }
  return {x.to(device), y.to(device)};
}

Tensor loss_of(const Tensor& logits, const Tensor& targets) {
  return ::torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                                targets.reshape({-1}));
}

CharGptOptions options_from_config(const hf::ModelConfig& c) {
  CharGptOptions o;
  o.n_ctx = c.max_positions;
  o.n_embd = c.hidden_size;
  o.n_head = static_cast<int>(c.num_heads);
  o.n_layer = static_cast<int>(c.num_layers);
  return o;
}

void save(const std::string& dir, const CharGptOptions& o, std::int64_t vocab_size,
          CharGpt& model) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto& p : model->named_parameters()) tensors.emplace_back(p.key(), p.value());
  detail::write_float_tensors(dir + "/model.safetensors", tensors,
                              o.save_dtype == SaveDtype::Float16);
  const nlohmann::json config = {
      {"model_type", "gpt2"},
      {"architectures", {kCharGptArchitecture}},
      {"attnflow_causal", true},
      {"n_embd", o.n_embd},
      {"n_layer", o.n_layer},
      {"n_head", o.n_head},
      {"n_inner", 4 * o.n_embd},
      {"n_positions", o.n_ctx},
      {"n_ctx", o.n_ctx},
      {"vocab_size", vocab_size},
      {"layer_norm_epsilon", 1e-5},
      {"activation_function", "relu"},
      {"dropout", o.dropout},
      {"tie_word_embeddings", false},
      {"torch_dtype", to_string(o.save_dtype)},
  };
  std::ofstream f(dir + "/config.json");
  f << config.dump(2) << "\n";
  if (!f) throw Error(dir + "/config.json: cannot write");
}

}  // namespace

namespace detail {

double windowed_loss(const std::vector<std::int64_t>& ids, std::int64_t window, int batch_size,
                     const std::function<Tensor(const Tensor&)>& logits) {
  if (window <= 0 || static_cast<std::int64_t>(ids.size()) < window + 1) {
    throw Error("loss: " + std::to_string(ids.size()) + " tokens, fewer than a window of " +
                std::to_string(window) + " plus its next token");
  }
  const std::int64_t windows = (static_cast<std::int64_t>(ids.size()) - 1) / window;
  double sum = 0;
  for (std::int64_t w0 = 0; w0 < windows; w0 += batch_size) {
    const std::int64_t B = std::min<std::int64_t>(batch_size, windows - w0);
    Tensor x = ::torch::empty({B, window}, ::torch::kInt64), y = ::torch::empty_like(x);
    for (std::int64_t b = 0; b < B; ++b) {
      for (std::int64_t t = 0; t < window; ++t) {
        const auto i = static_cast<std::size_t>((w0 + b) * window + t);
        x[b][t] = ids[i];
        y[b][t] = ids[i + 1];
      }
    }
    const Tensor l = logits(x).to(::torch::kCPU, ::torch::kFloat64);
    sum += ::torch::nn::functional::cross_entropy(
               l.reshape({-1, l.size(-1)}), y.reshape({-1}),
               ::torch::nn::functional::CrossEntropyFuncOptions().reduction(::torch::kSum))
               .item<double>();
  }
  return sum / static_cast<double>(windows * window);
}

}  // namespace detail

CharGptResult train_char_gpt(const std::vector<std::int64_t>& text, std::int64_t vocab_size,
                             const CharGptOptions& o, const std::string& dir,
                             const std::function<void(const CharGptEvaluation&)>& progress) {
  check_options(o, vocab_size);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] < 0 || text[i] >= vocab_size) {
      throw Error("train lm: token " + std::to_string(i) + " has id " + std::to_string(text[i]) +
                  ", outside the vocabulary (" + std::to_string(vocab_size) + " ids)");
    }
  }
  const auto n = static_cast<std::size_t>(o.train_fraction * static_cast<double>(text.size()));
  const std::vector<std::int64_t> train(text.begin(), text.begin() + static_cast<long>(n));
  const std::vector<std::int64_t> val(text.begin() + static_cast<long>(n), text.end());
  for (const auto* split : {&train, &val}) {
    if (static_cast<std::int64_t>(split->size()) < o.n_ctx + 1) {
      throw Error("train lm: the " + std::string(split == &train ? "training" : "validation") +
                  " split has " + std::to_string(split->size()) + " tokens, fewer than --n-ctx " +
                  std::to_string(o.n_ctx) + " + 1 (a longer text, or a smaller --n-ctx)");
    }
  }
  const auto started = std::chrono::steady_clock::now();
  if (o.threads > 0) ::torch::set_num_threads(o.threads);
  ::torch::manual_seed(o.seed);
  const ::torch::Device device(o.device == "cpu" ? ::torch::kCPU : ::torch::kCUDA);
  CharGpt model(o, vocab_size);
  model->to(device);
  ::torch::optim::AdamW optimizer(model->parameters(),
                                  ::torch::optim::AdamWOptions(o.learning_rate));
  CharGptResult result;
  for (const Tensor& p : model->parameters()) result.parameters += p.numel();

  std::mt19937_64 batch_rng(o.seed), eval_rng(o.seed ^ 0x9E3779B97F4A7C15ULL);
  const auto evaluate = [&](int step) {
    ::torch::NoGradGuard no_grad;
    model->eval();
    CharGptEvaluation e;
    e.step = step;
    for (const auto* split : {&train, &val}) {
      double sum = 0;
      for (int k = 0; k < o.eval_iters; ++k) {
        const auto [x, y] = get_batch(*split, o, eval_rng, device);
        std::vector<Tensor> attention;
        sum += loss_of(model->forward(x, attention), y).item<double>();
      }
      (split == &train ? e.train_loss : e.val_loss) = sum / o.eval_iters;
    }
    model->train();
    result.curve.push_back(e);
    if (progress) progress(e);
  };
  for (int step = 0;; ++step) {
    if (step % o.eval_interval == 0 || step == o.max_iters) evaluate(step);
    if (step == o.max_iters) break;
    const auto [x, y] = get_batch(train, o, batch_rng, device);
    std::vector<Tensor> attention;
    const Tensor loss = loss_of(model->forward(x, attention), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  {
    ::torch::NoGradGuard no_grad;
    model->eval();
    result.val_loss_windows = detail::windowed_loss(val, o.n_ctx, 64, [&](const Tensor& x) {
      std::vector<Tensor> attention;
      return model->forward(x.to(device), attention);
    });
  }
  save(dir, o, vocab_size, model);
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

CharGptForward char_gpt_training_forward(const std::string& dir,
                                         const std::vector<std::int64_t>& ids) {
  hf::ConfigOptions copts;
  copts.extra_architectures = {kCharGptArchitecture};
  const hf::ModelConfig c = hf::read_model_config(dir + "/config.json", copts);
  CharGpt model(options_from_config(c), c.vocab_size);
  detail::Weights w(dir + "/model.safetensors", {}, ::torch::Device(::torch::kCPU));
  {
    ::torch::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      const std::vector<std::int64_t> shape(p.value().sizes().begin(), p.value().sizes().end());
      p.value().copy_(w.get(p.key(), shape, "the training module's parameter"));
    }
  }
  model->eval();
  ::torch::NoGradGuard no_grad;
  std::vector<Tensor> attention;
  const Tensor x = ::torch::tensor(ids, ::torch::kInt64).unsqueeze(0);
  const Tensor logits = model->forward(x, attention)[0].contiguous();
  const Tensor maps = ::torch::stack(attention, 0).select(1, 0).contiguous();
  CharGptForward out;
  out.logits.assign(logits.data_ptr<float>(), logits.data_ptr<float>() + logits.numel());
  out.attention.assign(maps.data_ptr<float>(), maps.data_ptr<float>() + maps.numel());
  return out;
}

}  // namespace attnflow::torch
