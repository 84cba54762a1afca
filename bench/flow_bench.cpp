// Google Benchmark: attention flow (and rollout for scale) on random
// row-stochastic stacks of the paper's and BERT-base's shapes.
//   attnflow_bench --benchmark_filter=Flow
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "attnflow/core/encdec_relevance.hpp"
#include "attnflow/core/flow.hpp"
#include "attnflow/core/grad_rollout.hpp"
#include "attnflow/core/residual.hpp"
#include "attnflow/core/rollout.hpp"

namespace {

attnflow::LayerMatrices random_layers(int layers, int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  attnflow::AttentionStack s(layers, 1, n);
  for (float& v : s.data()) v = std::exp(normal(rng));
  for (int l = 0; l < layers; ++l) {
    auto m = s.head(l, 0);
    for (int i = 0; i < n; ++i) m.row(i) /= m.row(i).sum();
  }
  return attnflow::prepare_layers(s);
}

// args: layers, tokens, scope (0 = all layers x all rows, 1 = top layer x all
// rows, 2 = CLS row 0 at every layer), algorithm, threads
void BM_Flow(benchmark::State& state) {
  const int layers = static_cast<int>(state.range(0));
  const int n = static_cast<int>(state.range(1));
  const auto scope = state.range(2);
  const auto l = random_layers(layers, n, 1);
  attnflow::FlowOptions o;
  if (scope == 1) o.layers = {layers};
  if (scope == 2) o.target_rows = {0};
  o.algorithm = static_cast<attnflow::FlowAlgorithm>(state.range(3));
  o.threads = static_cast<int>(state.range(4));
  for (auto _ : state) benchmark::DoNotOptimize(attnflow::attention_flow(l, o));
  const double pairs = double(n) * (scope == 2 ? layers : n * (scope == 1 ? 1 : layers));
  state.counters["pairs/s"] =
      benchmark::Counter(pairs, benchmark::Counter::kIsIterationInvariantRate);
  const char* scopes[] = {" all", " top", " cls"};
  state.SetLabel(std::string(attnflow::to_string(o.algorithm)) + scopes[scope]);
}

constexpr int kBK = static_cast<int>(attnflow::FlowAlgorithm::BoykovKolmogorov);
constexpr int kPR = static_cast<int>(attnflow::FlowAlgorithm::PushRelabel);
constexpr int kEK = static_cast<int>(attnflow::FlowAlgorithm::EdmondsKarp);
constexpr int kLY = static_cast<int>(attnflow::FlowAlgorithm::Layered);

BENCHMARK(BM_Flow)
    ->ArgNames({"L", "n", "scope", "alg", "threads"})
    ->Args({6, 32, 0, kLY, 1})
    ->Args({6, 32, 0, kBK, 1})
    ->Args({6, 32, 0, kPR, 1})
    ->Args({6, 32, 0, kEK, 1})
    ->Args({6, 32, 1, kBK, 1})
    ->Args({6, 32, 0, kLY, 2})
    ->Args({6, 32, 0, kPR, 2})
    ->Args({12, 64, 1, kLY, 1})
    ->Args({12, 64, 1, kLY, 2})
    ->Args({12, 64, 0, kLY, 1})
    ->Args({12, 64, 1, kPR, 1})
    ->Args({12, 64, 2, kLY, 1})
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_Flow)
    ->Name("BM_Flow_BertBase")
    ->ArgNames({"L", "n", "scope", "alg", "threads"})
    ->Args({12, 128, 1, kLY, 0})
    ->Args({12, 128, 1, kPR, 0})
    ->Args({12, 128, 1, kBK, 0})
    ->Args({12, 512, 2, kLY, 0})
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

void BM_Rollout(benchmark::State& state) {
  const auto l = random_layers(12, static_cast<int>(state.range(0)), 2);
  attnflow::RolloutOptions o;
  if (state.range(1)) o.target_rows = {0};
  for (auto _ : state) benchmark::DoNotOptimize(attnflow::rollout(l, o));
}
BENCHMARK(BM_Rollout)->ArgNames({"n", "cls_only"})->Args({128, 0})->Args({128, 1});

// Random [layers, heads, rows, columns] values: softmax rows for attention, N(0, 1) for
// gradients.
std::vector<float> random_blocks(int layers, int heads, int rows, int columns, bool softmax,
                                 unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, softmax ? 2.0f : 1.0f);
  std::vector<float> v(static_cast<std::size_t>(layers) * heads * rows * columns);
  for (float& x : v) x = softmax ? std::exp(normal(rng)) : normal(rng);
  if (softmax) {
    for (std::size_t r = 0; r < v.size(); r += static_cast<std::size_t>(columns)) {
      float sum = 0.0f;
      for (int j = 0; j < columns; ++j) sum += v[r + static_cast<std::size_t>(j)];
      for (int j = 0; j < columns; ++j) v[r + static_cast<std::size_t>(j)] /= sum;
    }
  }
  return v;
}

// Chefer et al.'s encoder-decoder rules (all of R^ee, R^dd, R^de) at T5 shapes; args:
// layers (encoder = decoder), heads, encoder tokens n, decoder tokens m.
void BM_EncDecRelevance(benchmark::State& state) {
  const int l = static_cast<int>(state.range(0));
  const int h = static_cast<int>(state.range(1));
  const int n = static_cast<int>(state.range(2));
  const int m = static_cast<int>(state.range(3));
  attnflow::EncoderDecoderAttention in;
  in.encoder = attnflow::AttentionStack(random_blocks(l, h, n, n, true, 1), l, h, n);
  in.encoder_gradient = attnflow::AttentionStack(random_blocks(l, h, n, n, false, 2), l, h, n);
  in.decoder = attnflow::AttentionStack(random_blocks(l, h, m, m, true, 3), l, h, m);
  in.decoder_gradient = attnflow::AttentionStack(random_blocks(l, h, m, m, false, 4), l, h, m);
  in.cross = attnflow::CrossAttentionStack(random_blocks(l, h, m, n, true, 5), l, h, m, n);
  in.cross_gradient =
      attnflow::CrossAttentionStack(random_blocks(l, h, m, n, false, 6), l, h, m, n);
  for (auto _ : state) benchmark::DoNotOptimize(attnflow::encdec_relevance(in));
}
BENCHMARK(BM_EncDecRelevance)
    ->ArgNames({"L", "H", "n", "m"})
    ->Args({6, 8, 64, 64})     // t5-small
    ->Args({12, 12, 128, 32})  // t5-base
    ->Unit(benchmark::kMillisecond);

// The single-stream rule on the encoder stack of the same shape, for the ratio.
void BM_GradRolloutEncoder(benchmark::State& state) {
  const int l = static_cast<int>(state.range(0));
  const int h = static_cast<int>(state.range(1));
  const int n = static_cast<int>(state.range(2));
  const attnflow::AttentionStack a(random_blocks(l, h, n, n, true, 1), l, h, n);
  const attnflow::AttentionStack g(random_blocks(l, h, n, n, false, 2), l, h, n);
  attnflow::GradRolloutOptions o;
  o.rollout.all_prefixes = false;
  for (auto _ : state) benchmark::DoNotOptimize(attnflow::grad_rollout(a, g, o));
}
BENCHMARK(BM_GradRolloutEncoder)
    ->ArgNames({"L", "H", "n"})
    ->Args({6, 8, 64})
    ->Args({12, 12, 128})
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
